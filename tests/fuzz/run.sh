#!/bin/sh
# run.sh -- run the libFuzzer harnesses of tests/fuzz, each for a while, and sum up.
#
# Usage: [FUZZ_RUNS=N] tests/fuzz/run.sh BUILD SECONDS TARGET...
# With FUZZ_RUNS a target also stops after N executions (whichever comes first).
# Each target runs from its seed corpus (tests/fuzz/corpus/TARGET, read only)
# with its dictionary (tests/fuzz/TARGET.dict) when there is one; inputs that
# reach new code go to BUILD/fuzz/corpus/TARGET, kept between runs. A crash,
# leak, timeout or sanitizer report stops the run: the input is saved as
# BUILD/fuzz/crashes/TARGET-*, the log is BUILD/fuzz/TARGET.log, and the
# script exits 1. Reproduce with: BUILD/fuzz/fuzz_TARGET FILE
set -eu

build=$1 secs=$2
shift 2
here=$(dirname "$0")
mkdir -p "$build/fuzz/crashes"

# A unit that runs 60 s is a hang (-timeout): far above any real input (milliseconds),
# so that a machine busy with other work never fails a run with a false one.
# Longest input per target, in bytes: past a few kB inputs only slow a target down.
max_len() {
    case $1 in
    reply|wordlist) echo 8192 ;;
    scan) echo 4097 ;;
    *) echo 4096 ;;
    esac
}

status=0
for t in "$@"; do
    bin=$build/fuzz/fuzz_$t
    corpus=$build/fuzz/corpus/$t
    log=$build/fuzz/$t.log
    mkdir -p "$corpus"
    dict= runs=
    [ -n "${FUZZ_RUNS:-}" ] && runs=-runs=$FUZZ_RUNS
    [ -f "$here/$t.dict" ] && dict=-dict=$here/$t.dict
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -print_final_stats=1 -artifact_prefix="$build/fuzz/crashes/$t-" $dict $runs \
        "$corpus" "$here/corpus/$t" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        echo "fuzz $t: ${runs:-?} runs (${rate:-?}/s; at most ${secs}s), $cov, corpus $(ls "$corpus" | wc -l), nothing found"
    else
        echo "fuzz $t: FAILED -- $log; inputs in $build/fuzz/crashes/" >&2
        grep -E 'ERROR|SUMMARY|fuzz_|==[0-9]+==' "$log" | head -n 20 >&2 || true
        status=1
    fi
done
exit $status
