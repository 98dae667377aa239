#!/bin/sh
# install_test.sh -- make install into a staging tree, then use what it installed.
#
# Usage: sh tests/install_test.sh [BUILD]     (make install-test; run from the repo root)
# Installs with DESTDIR into a temporary folder (nothing outside it is
# touched), then checks: the files and the installed configuration (the
# repository's with the installed paths); --version; the man pages render
# without warnings and filterd.conf(5) documents every setting of the file;
# systemd-analyze verify on the unit (its paths pointed into the staging
# tree); systemd-sysusers and systemd-tmpfiles applied with --root to the
# staging tree; then starts the installed filterd on the installed config
# (the host-specific paths and accounts overridden on the command line) and
# talks to it with the installed filterctl and with a program built against
# the installed headers and libraries. As root, the daemon and filterctl
# reload run inside the unit's CapabilityBoundingSet and NoNewPrivileges
# (setpriv), with the broker and workers as 'nobody'.
# Prints "N passed, M failed"; exits 1 on any failure.
set -u

BUILD=${1:-build}
ROOT=$(pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/filterd-install.XXXXXX") || exit 1
chmod 755 "$T"            # the run folder is in there: the workers ('nobody') must reach it
D=$T/dest                 # DESTDIR
P=$D/usr/local            # PREFIX inside it
DPID=
cleanup() {
    if [ -n "$DPID" ]; then kill -KILL "$DPID" 2>/dev/null; fi
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$(dirname "$0")/testlib.sh"

# ---- make install ---------------------------------------------------------

make -s install DESTDIR="$D" BUILD="$BUILD" > "$T/install.log" 2>&1
check "make install DESTDIR: exit 0" is $? 0
check "make install DESTDIR: the system is left alone" \
    eval '! grep -q -e systemd-sysusers -e daemon-reload "$T/install.log"'
for f in sbin/filterd bin/filterctl lib/libfilterclient.a lib/libfilterwire.a \
         lib/libfilterengine.a include/filterd/fclient.h include/filterd/wire.h \
         include/filterd/engine.h lib/pkgconfig/filterd.pc lib/pkgconfig/filterd-engine.pc share/filterd/wordlists/README.md \
         share/man/man1/filterctl.1 share/man/man5/filterd.conf.5 share/man/man8/filterd.8 \
         lib/systemd/system/filterd.service lib/sysusers.d/filterd.conf \
         lib/tmpfiles.d/filterd.conf; do
    check "installed: $f" test -e "$P/$f"
done
check "installed: the default lists" \
    is "$(cd "$ROOT/wordlists" && find . -name '*.txt' | sort)" \
       "$(cd "$P/share/filterd/wordlists" && find . -name '*.txt' | sort)"
C=$D/etc/filterd/filterd.conf
check "installed: $C" test -e "$C"
diff "$ROOT/config/filterd.conf" "$C" | grep '^[<>]' > "$T/confdiff"
cat > "$T/want" <<'EOF2'
< lists ../wordlists
< #admin-group
< #run-dir /tmp/filterd
< #user nobody
< console-state ../build/console
< console-corpus clean ../tests/data/fortunes-sample.txt
< console-corpus labelled ../tests/data/cold-dev-sample.csv
> # Installed by make install: the source tree's config/filterd.conf with the
> # installed lists, cache-dir, run-dir, user, admin-group and console-state.
> console-state /var/lib/filterd/console
> #console-corpus clean ../tests/data/fortunes-sample.txt
> #console-corpus labelled ../tests/data/cold-dev-sample.csv
> lists /var/lib/filterd/wordlists
> admin-group filterd-admin
> run-dir /run/filterd
> user filterd
EOF2
check "the installed config is the repository's with the installed paths" \
    is "$(sort "$T/confdiff")" "$(sort "$T/want")"

# an edited configuration survives a second make install
echo "# edited by the operator" >> "$C"
make -s install DESTDIR="$D" BUILD="$BUILD" > "$T/install.log" 2>&1
check "make install again: exit 0" is $? 0
check "make install again: the edited config is kept" has "$C" "# edited by the operator"
check "make install again: the new one beside it" test -e "$C.new"

# ---- --version, man pages ------------------------------------------------------

V=$(cat "$ROOT/VERSION")
"$P/sbin/filterd" --version > "$T/out" 2>&1
check "filterd --version: exit 0" is $? 0
check "filterd --version: version, engine, Hyperscan, ICU" \
    grep -q "^filterd $V (engine filterd-engine-.*Hyperscan .*ICU .*protocol 1)" "$T/out"
"$P/bin/filterctl" --version > "$T/out" 2>&1
check "filterctl --version" grep -q "^filterctl $V (engine " "$T/out"
if [ ! -e /etc/filterd/filterd.conf ]; then      # (this host may have filterd installed)
    (cd "$T" && "$P/sbin/filterd") > "$T/out" 2>&1
    check "filterd without a configuration: exit 2" is $? 2
    check "filterd without a configuration: says where it looked" has "$T/out" \
        "filterd: no configuration: neither ./config/filterd.conf nor /etc/filterd/filterd.conf exists"
fi

for page in man1/filterctl.1 man5/filterd.conf.5 man8/filterd.8; do
    MANWIDTH=80 man --warnings -l "$P/share/man/$page" > "$T/man.out" 2> "$T/man.err"
    check "man -l $page: renders" is $? 0
    check "man -l $page: no warnings" empty "$T/man.err"
    check "man -l $page: NAME and SEE ALSO" \
        eval 'grep -q "^NAME" "$T/man.out" && grep -q "^SEE ALSO" "$T/man.out"'
done
MANWIDTH=200 man -l "$P/share/man/man5/filterd.conf.5" > "$T/man.out" 2>/dev/null
for s in $(sed -n 's/^#\{0,1\}\([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' "$ROOT/config/filterd.conf" | sort -u); do
    check "filterd.conf(5) documents $s" grep -q "^       \(.*, \)\{0,1\}$s\( \|,\|$\)" "$T/man.out"
done
check "filterd.conf(5): the installed paths" has "$T/man.out" "/var/lib/filterd/wordlists"

# ---- the unit, users and folders ------------------------------------------------

if command -v systemd-analyze > /dev/null; then
    sed "s|/usr/local/|$P/|g" "$P/lib/systemd/system/filterd.service" > "$T/filterd.service"
    MANPATH=$P/share/man systemd-analyze verify "$T/filterd.service" > "$T/verify" 2>&1
    check "systemd-analyze verify filterd.service: exit 0" is $? 0
    check "systemd-analyze verify filterd.service: nothing to say" empty "$T/verify"
    [ -s "$T/verify" ] && cat "$T/verify" >&2
else
    check "systemd-analyze is installed (scripts/deps.sh)" false
fi
check "the unit: Type=notify" has "$P/lib/systemd/system/filterd.service" "Type=notify"
check "the unit: the installed config" has "$P/lib/systemd/system/filterd.service" \
    "ExecStart=/usr/local/sbin/filterd --config /etc/filterd/filterd.conf"
check "the unit: reload through filterctl" has "$P/lib/systemd/system/filterd.service" \
    "ExecReload=/usr/local/bin/filterctl reload --config /etc/filterd/filterd.conf"

root=0
[ "$(id -u)" -eq 0 ] && root=1
if [ $root -eq 1 ]; then
    systemd-sysusers --root="$D" "$P/lib/sysusers.d/filterd.conf" > "$T/out" 2>&1
    check "systemd-sysusers --root: exit 0" is $? 0
    check "sysusers: the filterd user" grep -q '^filterd:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' "$D/etc/passwd"
    check "sysusers: the filterd-admin group" grep -q '^filterd-admin:x:' "$D/etc/group"
    systemd-tmpfiles --root="$D" --create "$P/lib/tmpfiles.d/filterd.conf" > "$T/out" 2>&1
    check "systemd-tmpfiles --root --create: exit 0" is $? 0
    W=$D/var/lib/filterd/wordlists
    check "tmpfiles: the lists seeded from the defaults" \
        is "$(cd "$P/share/filterd/wordlists" && find . -name '*.txt' | sort)" \
           "$(cd "$W" && find . -name '*.txt' | sort)"
    gid=$(sed -n 's/^filterd-admin:x:\([0-9]*\):.*/\1/p' "$D/etc/group")
    check "tmpfiles: lists editable by filterd-admin (files 664)" \
        is "$(stat -c '%a %g' "$W/zh/porn.txt")" "664 $gid"
    check "tmpfiles: ... (folders 775)" is "$(stat -c '%a %g' "$W/zh")" "775 $gid"
    check "tmpfiles: the cache folder" test -d "$D/var/cache/filterd"
    check "tmpfiles: the console's folder, the filterd user's (750)" \
        is "$(stat -c '%a %u' "$D/var/lib/filterd/console")" "750 $(sed -n 's/^filterd:x:\([0-9]*\):.*/\1/p' "$D/etc/passwd")"
else
    # not root: seed the folders by hand as tmpfiles would
    mkdir -p "$D/var/lib/filterd" "$D/var/cache/filterd"
    cp -R "$P/share/filterd/wordlists" "$D/var/lib/filterd/wordlists"
fi

# ---- the installed daemon, on the installed config -----------------------------

R=$T/run
# The staging tree's folders and this host's accounts in place of the installed ones.
set -- --config "$C" --set "lists $D/var/lib/filterd/wordlists" \
       --set "cache-dir $D/var/cache/filterd" --run-dir "$R" --listen "ipc://$R/req.sock" \
       --workers 2
"$P/sbin/filterd" "$@" --set "user" --set "admin-group" --check-config > "$T/out" 2>&1
check "filterd --check-config on the installed config: OK" \
    grep -q "^configuration OK (.*: [0-9]* entries, version wl-" "$T/out"
"$P/sbin/filterd" "$@" --set "user" --set "admin-group no-such-group" --check-config \
    > "$T/out" 2>&1
check "filterd --check-config: an admin-group that does not exist is refused" \
    has "$T/out" "admin-group 'no-such-group' does not exist"
WRAP=
if [ $root -eq 1 ] && command -v setpriv > /dev/null; then
    # the unit's CapabilityBoundingSet and NoNewPrivileges, for the daemon and ExecReload
    caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$P/lib/systemd/system/filterd.service" |
           tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
    WRAP="setpriv --bounding-set=-all,$caps --no-new-privs"
    set -- "$@" --set "user nobody" --set "admin-group nogroup"
else
    set -- "$@" --set "user" --set "admin-group"
fi
$WRAP "$P/sbin/filterd" "$@" > "$T/daemon.log" 2>&1 &
DPID=$!
for i in $(seq 600); do
    [ -e "$R/filterd.ready" ] && break
    kill -0 "$DPID" 2> /dev/null || break
    sleep 0.2
done
check "the installed filterd starts on the installed config" test -e "$R/filterd.ready"
[ -e "$R/filterd.ready" ] || tail -20 "$T/daemon.log" >&2
check "... and logs which config" has "$T/daemon.log" "config=$C"

F=$P/bin/filterctl
"$F" check --endpoint "ipc://$R/req.sock" "加我微信 abc12345 领红包" > "$T/out" 2>&1
check "filterctl check through the installed daemon" has "$T/out" '"decision":"flag"'
"$F" check --endpoint "ipc://$R/req.sock" --scene profile "tencent官方客服" > "$T/out" 2>&1
check "the daemon applies the installed config's scene policy" has "$T/out" '"decision":"block"'
"$F" explain --config "$C" --lists "$D/var/lib/filterd/wordlists" --scene profile \
    "tencent官方客服" > "$T/out" 2>&1
check "filterctl explain agrees, on the same config" has "$T/out" "decision: block: trademark"
check "filterctl explain names the config" has "$T/out" "config:   $C"
$WRAP "$F" reload --admin "ipc://$R/admin.sock" > "$T/out" 2>&1
check "filterctl reload (as ExecReload runs it): exit 0" is $? 0
check "filterctl reload: old -> new" grep -q "^wl-[0-9a-f]* → wl-[0-9a-f]*: [0-9]* entries" "$T/out"
check "filterd.ready follows: still the version" \
    is "$(cut -d' ' -f2 "$R/filterd.ready")" "$(sed -n 's/.* → \(wl-[0-9a-f]*\):.*/\1/p' "$T/out")"

# a program built against the installed headers and libraries
cat > "$T/client.c" <<'EOF2'
#include <stdio.h>
#include <string.h>
#include <fclient.h>
int main(int argc, char **argv)
{
    char err[256];
    fc_result r;
    const char *eps[1] = {argv[1]};
    fc_client *c = argc > 2 ? fc_connect(eps, 1, NULL, err, sizeof err) : NULL;
    if (!c || fc_check(c, argv[2], strlen(argv[2]), "nickname", 0, &r, err, sizeof err) < 0) {
        fprintf(stderr, "client: %s\n", err);
        return 1;
    }
    printf("%s %d %s\n", fc_decision_name(r.decision), r.label, r.version);
    fc_result_free(&r);
    fc_close(c);
    return 0;
}
EOF2
PC="pkg-config --define-variable=libdir=$P/lib --define-variable=includedir=$P/include"
PKG_CONFIG_PATH=$P/lib/pkgconfig cc -o "$T/client" "$T/client.c" \
    $(PKG_CONFIG_PATH=$P/lib/pkgconfig $PC --cflags --libs filterd) > "$T/out" 2>&1
check "a client builds against the installed headers and libraries (pkg-config filterd)" is $? 0
[ -x "$T/client" ] && "$T/client" "ipc://$R/req.sock" "微信号 abc12345" > "$T/out" 2>&1
check "... and gets its answer from the installed daemon" grep -q '^block 21000 wl-' "$T/out"

kill -TERM "$DPID" 2> /dev/null
wait "$DPID"
check "the installed filterd stops cleanly on SIGTERM" is $? 0
DPID=
check "... and removes filterd.ready" test ! -e "$R/filterd.ready"

summary install
