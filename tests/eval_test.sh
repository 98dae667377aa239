#!/bin/sh
# eval_test.sh -- filterctl eval on tiny corpora: flag share, top entries, precision and
# recall per topic, CSV quoting and BOM, JSON Lines, baseline changes; and the COLD sample
# precision floor documented in wordlists/README.md.
#
# Usage: sh tests/eval_test.sh BIN     (make unit-test runs it from the repo root)
set -u

BIN=${1:?usage: sh tests/eval_test.sh path/to/filterctl}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
# precision floor of the default lists on tests/data/cold-dev-sample.csv (wordlists/README.md)
COLD_SAMPLE_MIN_PRECISION=0.75
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

"$BIN" eval --lists "$T/new" > "$T/out" 2>&1
check "no corpus: usage error" [ $? -eq 2 ]
"$BIN" eval --lists "$T/new" --clean "$T/missing.txt" > "$T/out" 2>&1
check "missing corpus: failure" [ $? -eq 1 ]

# the default lists on the COLD sample: precision at or above the documented floor
"$BIN" eval --lists wordlists --labelled tests/data/cold-dev-sample.csv > "$T/out" 2>&1
p=$(sed -n 's/.*label-1 texts; precision \([0-9.]*\),.*/\1/p' "$T/out")
check "cold sample precision $p >= $COLD_SAMPLE_MIN_PRECISION" \
    awk -v p="${p:-0}" -v m="$COLD_SAMPLE_MIN_PRECISION" 'BEGIN { exit !(p >= m) }'

summary eval
