#!/bin/sh
# cli_test.sh -- drive filterctl scan, explain and lint on small lists made here.
#
# Usage: sh tests/cli_test.sh BIN     (make unit-test runs it from the repo root)
# Only sh, grep and sed. Prints "N passed, M failed"; exits 1 on any failure.
set -u

BIN=${1:?usage: sh tests/cli_test.sh path/to/filterctl}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/filterctl-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

. "$(dirname "$0")/testlib.sh"

# ---- fixtures ---------------------------------------------------------------

mkdir -p "$T/lists/zh" "$T/bad/zh" "$T/conf/l"
cat > "$T/lists/zh/porn.txt" <<'EOF'
# test list
色情网站
cunt
[word] fuck
EOF
cat > "$T/lists/zh/ad.txt" <<'EOF'
加微信
EOF
cat > "$T/lists/allow.txt" <<'EOF'
scunthorpe
EOF
cat > "$T/bad/zh/porn.txt" <<'EOF'
fine
[bogus] x
@action maybe
EOF
printf 'nolabel\n' > "$T/bad/misc.txt"
printf '# none of these has a label\none\ntwo\nthree\n' > "$T/bad/more.txt"
printf '@label porn\n[re] 炸[药弹\n' > "$T/bad/re.txt"
printf '@label abuse\n**子\n' > "$T/bad/short.txt"
cp "$T/lists/zh/ad.txt" "$T/conf/l/ad.txt"
cat > "$T/conf/f.conf" <<'EOF'
lists l
max-text-bytes 16
policy nickname ad block
EOF

# ---- lint ---------------------------------------------------------------------

"$BIN" lint "$T/lists" > "$T/out" 2>&1
check "lint: good lists exit 0" is $? 0
check "lint: good lists say OK" has "$T/out" "$T/lists: 5 entries OK (version wl-"

"$BIN" lint "$T/bad" > "$T/out" 2>&1
check "lint: broken lists exit 1" is $? 1
check "lint: unknown option reported at file:line" has "$T/out" "zh/porn.txt:2: unknown option 'bogus'"
check "lint: unknown action reported at file:line" has "$T/out" "zh/porn.txt:3: unknown action 'maybe'"
check "lint: missing label reported at file:line" has "$T/out" "misc.txt:1: no label"
check "lint: a file without a label is one error, with the count" \
    has "$T/out" "more.txt:2: no label for 3 entries, from this line on"
check "lint: ... and its other lines are not repeated" lacks "$T/out" "more.txt:3"
check "lint: regex error position in characters, the character shown" has "$T/out" \
    "re.txt:2: regex refused by Hyperscan: Unterminated character class starting at character 2 ('[')"
check "lint: an entry that normalises to one character is refused (issue 10)" has "$T/out" \
    "short.txt:2: '**子' normalises to one character, '子'"
check "lint: every line is file:line: reason" \
    is "$(grep -c -v '^[^:][^:]*:[0-9][0-9]*: ' "$T/out")" 0
check "lint: no OK line on failure" lacks "$T/out" "entries OK"

"$BIN" lint "$T/nosuchdir" > "$T/out" 2>&1
check "lint: missing folder exits 1" is $? 1

# ---- scan ---------------------------------------------------------------------

cat > "$T/in" <<'EOF'
{"id":1,"text":"hello world"}
{"id":"b","text":"看色情網站"}
this is not json
{"id":4,"text":"f.u.c.k"}
{"id":5}
{"id":6,"text":"x","scene":"nope"}
{"id":7,"text":"加 微 信"}
{"id":8,"text":"scunthorpe"}
{"id":9,"text":5}
["not", "an object"]

{"id":12,"text":"a\u0000cunt"}
{"id":13,"text":"cunt"} trailing
{"id":14,"text":"fuckinghamshire"}
EOF
printf '{"id":15,"text":"CUNT"}\r\n' >> "$T/in"

"$BIN" scan --lists "$T/lists" < "$T/in" > "$T/out" 2> "$T/err"
check "scan: exit 0 with per-line errors" is $? 0
check "scan: one output line per input line" is "$(sed -n '$=' "$T/out")" "$(sed -n '$=' "$T/in")"
check "scan: answers in input order" \
    is "$(sed -n 's/^{"id":\([^,]*\),.*/\1/p' "$T/out" | tr '\n' ' ')" \
    '1 "b" 4 5 6 7 8 9 12 14 15 '
check "scan: allowed text" line_has "$T/out" 1 \
    '{"id":1,"decision":"allow","suggest":"pass","label":100,"labels":[],"matches":[],"version":"wl-'
check "scan: traditional text blocked with byte offsets" line_has "$T/out" 2 \
    '{"id":"b","decision":"block","suggest":"risky","label":20002,"labels":["porn"],"matches":[{"start":3,"end":15,"term":"色情网站","label":"porn","action":"block","list":"zh/porn.txt","line":2,"via":"compact"}],"version":"wl-'
check "scan: malformed line gets an error line" line_has "$T/out" 3 '{"error":"not JSON'
check "scan: the line after a malformed one is answered" line_has "$T/out" 4 \
    '"matches":[{"start":0,"end":7,"term":"fuck","label":"porn","action":"block","list":"zh/porn.txt","line":4,"via":"folded"}]'
check "scan: missing text" line_has "$T/out" 5 '{"id":5,"error":"\"text\" is missing"}'
check "scan: unknown scene" line_has "$T/out" 6 '{"id":6,"error":"unknown scene'
check "scan: flag decision" line_has "$T/out" 7 \
    '"decision":"flag","suggest":"review","label":10001,"labels":["ad"],"matches":[{"start":0,"end":11,'
check "scan: allow-list suppresses, no matches listed" line_has "$T/out" 8 \
    '{"id":8,"decision":"allow","suggest":"pass","label":100,"labels":[],"matches":[],'
check "scan: text not a string" line_has "$T/out" 9 '{"id":9,"error":"\"text\" is not a string"}'
check "scan: not an object" line_has "$T/out" 10 '{"error":"not a JSON object"}'
check "scan: empty line" line_has "$T/out" 11 '{"error":"empty line"}'
check "scan: NUL does not hide the rest of the text" line_has "$T/out" 12 \
    '"matches":[{"start":2,"end":6,"term":"cunt",'
check "scan: NUL warning" line_has "$T/out" 12 '"warnings":["nul"]'
check "scan: trailing garbage is an error" line_has "$T/out" 13 '{"error":"not JSON'
check "scan: whole-word term inside a word does not match" line_has "$T/out" 14 \
    '{"id":14,"decision":"allow"'
check "scan: CRLF line, case folded" line_has "$T/out" 15 \
    '{"id":15,"decision":"block","suggest":"risky","label":20002,"labels":["porn"],"matches":[{"start":0,"end":4,'
check "scan: no warnings member when none" lacks "$T/out" '"id":1,"decision":"allow","suggest":"pass","label":100,"labels":[],"matches":[],"warnings"'
check "scan: stderr says only which config and lists" is "$(sed -n '$=' "$T/err")" 1
check "scan: the source tree's config, found as filterd finds it" \
    has "$T/err" "filterctl scan: config $(pwd)/config/filterd.conf; lists $T/lists (wl-"

# cJSON reads a \u without four hex digits as NUL: the text would be cut there
printf '%s\n' '{"id":16,"text":"clean\uZZZZ cunt"}' | "$BIN" scan --lists "$T/lists" > "$T/out16" 2>/dev/null
check "scan: a \\u escape without four hex digits is an error, not a cut text" \
    line_has "$T/out16" 1 '{"error":"a \\u escape needs four hex digits"}'


printf '{"id":1,"text":"加微信"}\n{"id":2,"text":"加微信","scene":"nickname"}\n{"id":3,"text":"01234567890123456789"}\n' > "$T/in"
"$BIN" scan --config "$T/conf/f.conf" < "$T/in" > "$T/out" 2> "$T/err"
check "scan --config: exit 0" is $? 0
check "scan --config: lists from the config's folder" line_has "$T/out" 1 '"decision":"flag"'
check "scan --config: scene policy" line_has "$T/out" 2 \
    '"decision":"block","suggest":"risky","label":10001,"labels":["ad"],"matches":[{"start":0,"end":9,"term":"加微信","label":"ad","action":"block"'
check "scan --config: text over max-text-bytes" line_has "$T/out" 3 '{"id":3,"error":"text is 20 bytes'
"$BIN" scan --config "$T/conf/f.conf" --scene nickname --lists "$T/lists" < "$T/in" > "$T/out" 2> "$T/err"
check "scan: --lists overrides the config, --scene sets the default" line_has "$T/out" 1 \
    '"action":"block","list":"zh/ad.txt","line":1,'

"$BIN" scan --lists "$T/bad" < "$T/in" > "$T/out" 2> "$T/err"
check "scan: broken lists exit 2" is $? 2
check "scan: load errors on stderr" has "$T/err" "zh/porn.txt:2: unknown option 'bogus'"
check "scan: no output on load failure" is "$(sed -n '$=' "$T/out")" ""
"$BIN" scan --lists "$T/lists" --scene nope < "$T/in" > /dev/null 2>&1
check "scan: unknown --scene exits 2" is $? 2

# ---- explain ------------------------------------------------------------------

"$BIN" explain --lists "$T/lists" "看色情網站 ｆ.u.c.k" > "$T/out" 2>&1
check "explain: exit 0" is $? 0
check "explain: decision with label and code" has "$T/out" "decision: block: porn (code 20002"
check "explain: spans bracketed when not a tty" has "$T/out" "看[[色情網站]] [[ｆ.u.c.k]]"
check "explain: list file:line" has "$T/out" "zh/porn.txt:2"
check "explain: second match file:line" has "$T/out" "zh/porn.txt:4"
check "explain: folded view" has "$T/out" "folded    看色情网站 fuck"
check "explain: compact view" has "$T/out" "compact   看色情网站fuck"
check "explain: traditional->simplified named" has "$T/out" "traditional->simplified"
check "explain: full-width named" has "$T/out" "full-width/compatibility forms"
check "explain: joined letters named" has "$T/out" "separators between single letters joined"

"$BIN" explain --lists "$T/lists" "scunthorpe" > "$T/out" 2>&1
check "explain: allowed decision" has "$T/out" "decision: allow (code 100"
check "explain: allow-list match shown" has "$T/out" "allow.txt:1"
check "explain: suppressed match marked" has "$T/out" 'SUPPRESSED by the allow-list entry allow.txt:1 "scunthorpe"'

"$BIN" explain --config "$T/conf/f.conf" --scene nickname "加 微 信" > "$T/out" 2>&1
check "explain: scene policy noted" has "$T/out" "action block (scene 'nickname' policy; the list says flag)"
check "explain: compact view skips separators" has "$T/out" "separators skipped"

# ---- the daemon's configuration, found as filterd finds it ---------------------

# From the source tree: config/filterd.conf and its scene policies (a trademark
# in a profile is blocked there; the list alone says flag).
"$BIN" explain --scene profile "tencent官方客服" > "$T/out" 2>&1
check "explain: exit 0 with the tree's config" is $? 0
check "explain: the config's scene policy applies" has "$T/out" "decision: block: trademark"
check "explain: says which config" has "$T/out" "config:   $(pwd)/config/filterd.conf"
check "explain: says which lists" has "$T/out" "lists:    $(pwd)/config/../wordlists (wl-"
"$BIN" explain --config '' --lists wordlists --scene profile "tencent官方客服" > "$T/out" 2>&1
check "explain --config '': the built-in defaults, no policy" has "$T/out" "decision: flag: trademark"
check "explain --config '': says so" has "$T/out" "config:   none (built-in defaults"
# Elsewhere: the installed config, when there is one (this machine may have none).
if [ ! -e /etc/filterd/filterd.conf ]; then
    (cd "$T" && "$BIN" explain --lists "$T/lists" "x") > "$T/out" 2>&1
    check "explain outside a tree, nothing installed: built-in defaults" \
        has "$T/out" "config:   none (built-in defaults"
fi
"$BIN" eval --lists "$T/lists" --clean "$T/in" > "$T/out" 2>&1
check "eval: says which config" has "$T/out" "config $(pwd)/config/filterd.conf"

# ---- disguise views (issue 9) ---------------------------------------------------

mkdir -p "$T/dis"
printf '@sound\n@action block\n女拳\n你妈死了\n' > "$T/dis/abuse.txt"
printf 'shit\n' > "$T/dis/vulgar.txt"
printf '{"id":1,"text":"怼女全的角度"}\n{"id":2,"text":"5h1t"}\n{"id":3,"text":"nmsl"}\n' |
    "$BIN" scan --lists "$T/dis" > "$T/out" 2> "$T/err"
check "scan: via phonetic" line_has "$T/out" 1 '"via":"phonetic"'
check "scan: sound match spans the disguise" line_has "$T/out" 1 '"start":3,"end":9'
check "scan: via leet" line_has "$T/out" 2 '"via":"leet"'
check "scan: via initials" line_has "$T/out" 3 '"via":"initials"'
"$BIN" explain --lists "$T/dis" "怼女全的角度" > "$T/out" 2>&1
check "explain: phonetic view as syllables" has "$T/out" "phonetic  dui nv quan de jiao du"
check "explain: the chain" has "$T/out" "disguise: 女全 -> nv quan = 女拳 (read by sound)"
check "explain: view-action noted" has "$T/out" "view-action: found only in the phonetic view"
printf '怼女全的角度\n今天天气很好\n' > "$T/dis-clean.txt"
"$BIN" eval --lists "$T/dis" --clean "$T/dis-clean.txt" > "$T/out" 2>&1
check "eval: what the disguise views alone add" has "$T/out" "disguise views alone: 1  texts (50.00%)"
check "eval: the entry behind it" has "$T/out" "abuse.txt:3 女拳 | 怼女全的角度"

# ---- the command table --------------------------------------------------------

"$BIN" --version > "$T/out" 2>&1
check "--version: exit 0" is $? 0
check "--version: names the version, engine, Hyperscan and ICU" \
    has "$T/out" "filterctl $(cat VERSION) (engine filterd-engine-"
check "--version: ... Hyperscan and ICU" grep -q 'Hyperscan [0-9].*ICU [0-9]' "$T/out"


"$BIN" help > "$T/out" 2>&1
check "help: exit 0" is $? 0
check "help: lists scan, explain, lint" \
    is "$(grep -c -e '^  scan ' -e '^  explain ' -e '^  lint ' "$T/out")" 3
"$BIN" frobnicate > "$T/out" 2>&1
check "unknown command exits 2" is $? 2
"$BIN" > /dev/null 2>&1
check "no command exits 2" is $? 2

summary cli
