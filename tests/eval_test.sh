#!/bin/sh
# eval_test.sh -- filterctl eval on tiny corpora: flag share, top entries, precision and
# recall per topic, per action and per label, CSV quoting and BOM, JSON Lines, baseline
# changes; and the COLD sample precision floor documented in wordlists/README.md.
#
# Usage: sh tests/eval_test.sh BIN     (make unit-test runs it from the repo root)
set -u

BIN=${1:?usage: sh tests/eval_test.sh path/to/filterctl}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
# precision floor of the default lists on tests/data/cold-dev-sample.csv (wordlists/README.md)
COLD_SAMPLE_MIN_PRECISION=0.75
COLD_SAMPLE_MIN_BLOCK_PRECISION=0.95   # measured 1.000 (20 texts blocked, all offensive)
T=$(mktemp -d "${TMPDIR:-/tmp}/eval-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

. "$(dirname "$0")/testlib.sh"

mkdir -p "$T/new" "$T/old"
printf '色情网站\n[action=block] 炸学校\n' > "$T/old/porn.txt"
printf '色情网站\n[action=block] 炸学校\n毛片\n' > "$T/new/porn.txt"
printf 'hello world\n看色情网站\n\n毛片一部\n毛片两部\n春眠不觉晓\n' > "$T/clean.txt"
# CSV: BOM, empty first column name, quoted field with comma, newline and doubled quotes
printf '\357\273\277,split,topic,label,TEXT\n1,dev,race,1,"色情网站, 快看"\n2,dev,race,0,"他说""毛片""\n真的"\n3,dev,gender,1,没有命中\n4,dev,gender,0,普通的话\n' > "$T/lab.csv"
printf '{"text":"色情网站","label":1,"topic":"a"}\n{"content":"好天气","label":"0"}\n{"text":"x"}\n' > "$T/lab.jsonl"

"$BIN" eval --lists "$T/new" --clean "$T/clean.txt" > "$T/out" 2>&1
check "clean: exit 0" [ $? -eq 0 ]
check "clean: 5 texts, 3 not allowed" has "$T/out" "5 texts, 60.00% not allowed"
check "clean: top entry with file:line and count" has "$T/out" "2  porn.txt:3 毛片 (porn, block)"
check "clean: example text" has "$T/out" "| 毛片一部"

"$BIN" eval --lists "$T/new" --labelled "$T/lab.csv" > "$T/out" 2>&1
check "csv: precision and recall" has "$T/out" "precision 0.500, recall 0.500 (tp 1, fp 1, fn 1, tn 1)"
check "csv: topic race" has "$T/out" "topic race            2 texts, precision 0.500, recall 1.000"
check "csv: topic gender" has "$T/out" "topic gender          2 texts, precision n/a, recall 0.000"
check "csv: quoted newline kept in one field" has "$T/out" "| 他说\"毛片\" 真的"

# block and flag apart, and per label (issue 10)
mkdir -p "$T/act"
printf '色情网站\n[action=flag] 毛片\n' > "$T/act/porn.txt"
printf '[action=flag] 他妈的\n' > "$T/act/vulgar.txt"
printf 'text,label\n色情网站,1\n毛片,1\n毛片和他妈的,0\n没有命中,1\n普通的话,0\n' > "$T/act.csv"
"$BIN" eval --lists "$T/act" --labelled "$T/act.csv" > "$T/out" 2>&1
check "per action: block and flag apart" has "$T/out" \
    "by action: block precision 1.000, recall 0.333 (tp 1, fp 0); flag precision 0.500, recall 0.333 (tp 1, fp 1)"
check "per label: porn" has "$T/out" "porn        precision 0.667, recall 0.667 (tp 2, fp 1)"
check "per label: vulgar" has "$T/out" "vulgar      precision 0.000, recall 0.000 (tp 0, fp 1)"
check "per label: labels that caught nothing are left out" lacks "$T/out" "abuse     "
"$BIN" eval --lists "$T/act" --labelled "$T/act.csv" --json > "$T/out" 2>&1
check "json per action" has "$T/out" '"block":{"tp":1,"fp":0,"precision":1,"recall":0.33'
check "json per label" has "$T/out" '"labels":[{"tp":2,"fp":1,"precision":0.66'

"$BIN" eval --lists "$T/new" --labelled "$T/lab.jsonl" --json > "$T/out" 2>&1
check "jsonl: 2 texts, 1 skipped" has "$T/out" '"texts":2'
check "jsonl: unlabelled counted" has "$T/out" '"unlabelled":1'
check "jsonl: precision 1" has "$T/out" '"precision":1'

"$BIN" eval --lists "$T/new" --baseline "$T/old" --clean "$T/clean.txt" > "$T/out" 2>&1
check "baseline: 2 changes, allow->block" has "$T/out" "2 decisions changed from the baseline: allow->block 2"
check "baseline: changed text with line" has "$T/out" "clean.txt:4 allow -> block | 毛片一部"
check "baseline: responsible entry" has "$T/out" "+ porn.txt:3 毛片 (porn, block)"
check "baseline: unchanged text not listed" lacks "$T/out" "allow -> block | 看色情网站"

"$BIN" eval --lists "$T/new" --baseline "$T/old" --clean "$T/clean.txt" --json > "$T/out" 2>&1
check "json baseline kinds" has "$T/out" '"allow->block":2'
check "json new_entries" has "$T/out" '"new_entries":[{"entry":"porn.txt:3"'

# --html (issue 16): one self-contained page, every corpus string escaped, the JSON's counts
printf '毛片 <script>alert(1)</script>\n毛片 "><img src=x onerror=alert(1)> &amp; '"'"'q'"'"'\n春眠不觉晓\n看色情网站\n' > "$T/hostile.txt"
"$BIN" eval --lists "$T/new" --baseline "$T/old" --clean "$T/hostile.txt" --labelled "$T/lab.csv" \
    --json --html "$T/page.html" > "$T/out.json" 2>"$T/err"
check "html: exit 0 with --json" is $? 0
check "html: the JSON still on stdout" has "$T/out.json" '"baseline_version"'
check "html: a whole page" line_has "$T/page.html" 1 "<!DOCTYPE html>"
check "html: ends the page" has "$T/page.html" "</main></body></html>"
check "html: no temporary file left" [ ! -e "$T/page.html.tmp" ]
check "html: a chart per corpus (SVG)" [ "$(grep -o '<svg ' "$T/page.html" | wc -l)" -eq 2 ]
check "html: the label colour" has "$T/page.html" 'fill="#8e44ad"'
check "html: the hostile text escaped" has "$T/page.html" "毛片</mark> &lt;script&gt;alert(1)&lt;/script&gt;"
check "html: quotes and ampersands escaped" has "$T/page.html" "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp;amp; &#39;q&#39;"
grep -o '<[^>]*>' "$T/page.html" > "$T/tags"          # the markup, without the text
check "html: markup found" [ "$(wc -l < "$T/tags")" -gt 100 ]
check "html: no url( or @import in the style" sh -c "! grep -q -e 'url(' -e '@import' '$T/page.html'"
for bad in '<script' '<img' '<iframe' '<link' '<object' 'src=' 'href=' 'http:' 'https:' ' on[a-z]*='; do
    check "html: no '$bad' in the markup (no script, no external resource)" \
        sh -c "! grep -q -i -e '$bad' '$T/tags'"
done
check "html: the deciding match outlined" has "$T/page.html" '<mark class="d" style="border-color:#8e44ad'
check "html: its entry" has "$T/page.html" 'title="porn porn.txt:3"'
check "html: the entries added" has "$T/page.html" '<code>porn.txt:3</code> 毛片 <span class="chip" style="background:#8e44ad">porn</span> block'
cat > "$T/counts.py" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1], encoding='utf-8'))
page = open(sys.argv[2], encoding='utf-8').read()
sections = re.findall(r'<section class="corpus" data-texts="(\d+)" data-changes="(\d+)">(.*?)</section>',
                      page, re.S)
assert len(sections) == len(j['corpora']), (len(sections), len(j['corpora']))
for (texts, changes, body), c in zip(sections, j['corpora']):
    assert int(texts) == c['texts'], (texts, c['texts'])
    total = c['changes']['total'] if 'changes' in c else 0
    assert int(changes) == total and body.count('<li>') == total, (changes, total)
    bars = {l: (int(a), b) for l, a, b in
            re.findall(r'<g data-label="(\w+)" data-after="(\d+)"(?: data-before="(\d+)")?>', body)}
    want = {l: x['texts'] for l, x in c['by_label'].items()}
    want['all'] = c['flagged'] + c['blocked']
    assert {l: a for l, (a, b) in bars.items()} == want, (bars, want)
    if 'baseline' in c:
        old = {l: x['texts'] for l, x in c['baseline']['by_label'].items()}
        old['all'] = c['baseline']['flagged'] + c['baseline']['blocked']
        assert {l: int(b) for l, (a, b) in bars.items() if int(b)} == \
            {l: n for l, n in old.items() if n}, (bars, old)
    assert body.count('<mark class="d"') == sum(
        any(s['decides'] for s in (x['new_spans'] if x['new'] != 'allow' or not x['old_spans']
                                   else x['old_spans'])) for x in c.get('changes', {}).get('texts', []))
if 'diff' in j:
    m = re.search(r'data-added="(\d+)" data-removed="(\d+)"', page)
    assert (int(m.group(1)), int(m.group(2))) == (j['diff']['added'], j['diff']['removed'])
print('ok')
PY
python3 "$T/counts.py" "$T/out.json" "$T/page.html" > "$T/out" 2>&1
check "html: its counts are the JSON's (texts, per label, changes, entries)" has "$T/out" ok

"$BIN" eval --lists "$T/new" --clean "$T/hostile.txt" --json --html "$T/page.html" > "$T/out.json" 2>&1
check "html without a baseline: exit 0" is $? 0
check "html without a baseline: no before" lacks "$T/page.html" "data-before"
check "html without a baseline: no changes" lacks "$T/page.html" "decisions changed"
python3 "$T/counts.py" "$T/out.json" "$T/page.html" > "$T/out" 2>&1
check "html without a baseline: the JSON's counts" has "$T/out" ok
"$BIN" eval --lists "$T/new" --clean "$T/hostile.txt" --html "$T/page2.html" > "$T/out" 2>&1
check "html with the text report: both written" sh -c "grep -q 'not allowed' '$T/out' && [ -s '$T/page2.html' ]"
"$BIN" eval --lists "$T/new" --clean "$T/hostile.txt" --html "$T/nodir/page.html" > "$T/out" 2>&1
check "html: an unwritable path fails" is $? 1
check "html: and says so" has "$T/out" "$T/nodir/page.html.tmp"

"$BIN" eval --lists "$T/new" > "$T/out" 2>&1
check "no corpus: usage error" [ $? -eq 2 ]
"$BIN" eval --lists "$T/new" --clean "$T/missing.txt" > "$T/out" 2>&1
check "missing corpus: failure" [ $? -eq 1 ]

# the default lists on the COLD sample: precision at or above the documented floor
"$BIN" eval --lists wordlists --labelled tests/data/cold-dev-sample.csv > "$T/out" 2>&1
p=$(sed -n 's/.*label-1 texts; precision \([0-9.]*\),.*/\1/p' "$T/out")
check "cold sample precision $p >= $COLD_SAMPLE_MIN_PRECISION" \
    awk -v p="${p:-0}" -v m="$COLD_SAMPLE_MIN_PRECISION" 'BEGIN { exit !(p >= m) }'
# ... and block, which acts without a person, stays near certain (issue 10)
b=$(sed -n 's/.*by action: block precision \([0-9.]*\),.*/\1/p' "$T/out")
check "cold sample block precision $b >= $COLD_SAMPLE_MIN_BLOCK_PRECISION" \
    awk -v p="${b:-0}" -v m="$COLD_SAMPLE_MIN_BLOCK_PRECISION" 'BEGIN { exit !(p >= m) }'

summary eval
