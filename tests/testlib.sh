# testlib.sh -- what the shell tests share (sourced): one check per test, and its predicates.
#
#   check DESCRIPTION COMMAND...   one test; the command's status decides
#   summary NAME                   "NAME: N passed, M failed"; status 1 on any failure

passed=0
failed=0

check() {
    desc=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $desc" >&2
    fi
}

summary() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

has() { grep -q -F -e "$2" "$1"; }                        # FILE holds the fixed string
lacks() { ! grep -q -F -e "$2" "$1"; }
line_has() { sed -n "$2p" "$1" | grep -q -F -e "$3"; }   # FILE LINE STRING
is() { [ "$1" = "$2" ]; }
empty() { [ ! -s "$1" ]; }                                # FILE is empty or missing
