#!/bin/sh
# install-conf.sh -- the installed filterd.conf: the repository's, with the installed paths.
#
# Usage: scripts/install-conf.sh config/filterd.conf LOCALSTATEDIR RUNSTATEDIR > filterd.conf
# One source for the settings' documentation: this only rewrites the lines of
# lists, cache-dir, run-dir, user, admin-group and console-state (and comments
# out the source tree's console-corpus samples), and fails when one of them is
# not found exactly once (the repository file changed shape).
set -eu
src=$1 var=$2 run=$3

for pat in '^lists ' '^cache-dir ' '^#run-dir ' '^#user ' '^#admin-group' '^console-state '; do
    n=$(grep -c -e "$pat" "$src" || true)
    if [ "$n" != 1 ]; then
        echo "install-conf.sh: $src: expected one line matching '$pat', found $n" >&2
        exit 1
    fi
done
sed -e "1a\\
# Installed by make install: the source tree's config/filterd.conf with the\\
# installed lists, cache-dir, run-dir, user, admin-group and console-state." \
    -e "s|^lists .*|lists $var/lib/filterd/wordlists|" \
    -e "s|^cache-dir .*|cache-dir $var/cache/filterd|" \
    -e "s|^#run-dir .*|run-dir $run/filterd|" \
    -e "s|^#user .*|user filterd|" \
    -e "s|^#admin-group.*|admin-group filterd-admin|" \
    -e "s|^console-state .*|console-state $var/lib/filterd/console|" \
    -e "s|^console-corpus |#console-corpus |" "$src"
