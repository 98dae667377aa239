#!/bin/sh
# run.sh -- the benchmark driver: install what the suite needs, then run bench/suite.py.
#
# Usage: bench/run.sh --service | --quick | --full
#   --service  filterd vs its echo baseline only (make bench-service)
#   --quick    every part, short runs, about a minute (make bench-quick)
#   --full     every part, interleaved rounds (make bench)
# Writes bench/results/<timestamp>[-mode]/report.md, results.json and PNG plots.
# Installs, when missing and run as root: gnuplot-nox, python3-ahocorasick,
# ripgrep, nodejs and npm (Debian), mint-filter and obscenity (npm, into
# build/bench/node: never into the source tree). The binaries come from make (the Makefile
# targets build them first).
set -eu

cd "$(dirname "$0")/.."
MODE=${1:---quick}
case "$MODE" in --service|--quick|--full) ;; *) sed -n 3,12p "$0" >&2; exit 2 ;; esac

# command:Debian package; node and npm may come from elsewhere (NodeSource's nodejs
# bundles npm and conflicts with Debian's npm), so they are looked up as commands.
NEEDS="gnuplot:gnuplot-nox rg:ripgrep node:nodejs npm:npm perf:linux-perf"
NODE_DIR=build/bench/node
MINT=mint-filter@4
OBSCENITY=obscenity@0.4   # the Latin-disguise comparison (bench/leet.py)

missing_debs() {
    for n in $NEEDS; do
        command -v "${n%%:*}" >/dev/null || printf ' %s' "${n#*:}"
    done
    /usr/bin/python3 -c 'import ahocorasick' 2>/dev/null || printf ' python3-ahocorasick'
}

install_debs() {
    miss=$(missing_debs)
    [ -z "$miss" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench: missing Debian packages:$miss (sudo apt-get install$miss)" >&2
        return 0    # the suite runs what it can; the report shows what is missing
    fi
    echo "bench: installing:$miss" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $miss >&2 || true
}

# npm_peer DIR PACKAGE@VERSION: install one npm peer into build/bench/node when missing.
npm_peer() {
    [ -f "$NODE_DIR/node_modules/$1/package.json" ] && return 0
    command -v npm >/dev/null || { echo "bench: npm missing, no $1" >&2; return 0; }
    mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent "$2" >&2)
}

if [ "$MODE" != --service ]; then
    install_debs
    npm_peer mint-filter "$MINT"
    npm_peer obscenity "$OBSCENITY"
fi
exec python3 bench/suite.py "$MODE"
