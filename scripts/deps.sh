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
# clang and its runtime (libFuzzer, the sanitizers) build the fuzzers of
# tests/fuzz; Debian 12's clang is clang-14, whose runtime is libclang-rt-14-dev.
PKGS="build-essential pkg-config libhyperscan-dev libicu-dev libzmq3-dev \
libmsgpack-dev libcjson-dev libcmocka-dev python3 systemd man-db \
rime-data-luna-pinyin rime-essay rime-data-emoji clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "${1:-}" = "--check" ]; then
    echo "filterd: missing Debian packages:$missing" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "filterd: missing Debian packages:$missing" >&2
    echo "filterd: install them with: sudo apt-get install$missing" >&2
    exit 1
fi

echo "filterd: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
