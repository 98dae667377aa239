#!/usr/bin/env python3
"""bulkab.py -- A/B of bulk checks: posts/s and the CPU each process spends per post.

Usage: bench/bulkab.py [--syscalls] NAME=FILTERD[:FILTERBENCH][,NAME=...] [ROUNDS [SECS]]

Needs a built tree (make bench-quick once: the 60,000-term list and the
200-byte posts under build/bench/work). One daemon per binary and mode (scan
and --echo, 2 workers), all up at once; in each of ROUNDS (3) rounds, for
each daemon in turn, the suite's bulk run (bulk checks of 32 posts, 8 in
flight, SECS (4) seconds, the given filterbench or build/bench/filterbench),
and from /proc the CPU time (utime + stime) of every process of the daemon
(supervisor, broker, each worker, http) and of the load generator over the
run, per post answered. Prints each run and the medians: posts/s, and us of
CPU per post by process, which on 2 cores that the run fills tell what a
post costs where (a loaded machine moves posts/s much more than these)."""
import os, statistics, subprocess, sys, time
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpab, suite                     # noqa: E402
from servers import Server               # noqa: E402

TICK_US = 1e6 / os.sysconf('SC_CLK_TCK')


def cpu_us(pid):
    f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) * TICK_US


def procs(s):
    """The daemon's processes by role: pid -> name (from its log)."""
    out = {s.proc.pid: 'supervisor'}
    kids = subprocess.run(['pgrep', '-P', str(s.proc.pid)], capture_output=True,
                          text=True).stdout.split()
    log = open(s.log).read()
    for k in map(int, kids):
        role = 'worker'
        for r in ('broker', 'http', 'helper'):
            if 'proc=%s pid=%d ' % (r, k) in log:
                role = r
        out[k] = role
    return out


def run(s, gen, secs, count=False, extra=()):
    """One bulk run of generator gen (extra: more of its options) on server s:
    (posts/s, us of CPU per post by process, wall secs)."""
    ps = procs(s)
    perf = {p: subprocess.Popen(['perf', 'stat', '-x,', '-e', 'raw_syscalls:sys_enter', '-p',
                                 str(p), '--', 'sleep', str(secs)], stderr=subprocess.PIPE,
                                text=True)
            for p, role in ps.items() if count and role in ('broker', 'worker')}
    t0 = {p: cpu_us(p) for p in ps}
    cmd = [gen, '--endpoint', s.ep, '--json', '--seconds', str(secs), '--warmup', '0',
           '--tag', s.name, '--bulk', str(suite.BULK_ITEMS), '--conns', '1',
           '--inflight', str(suite.BULK_INFLIGHT)] + list(extra) + [suite.POSTS200]
    c0 = httpab.children_cpu_us()
    t = time.time()
    r = __import__('json').loads(subprocess.run(cmd, capture_output=True, text=True,
                                                check=True).stdout)
    wall = time.time() - t
    gen_us = httpab.children_cpu_us() - c0
    posts = r['texts_s'] * secs
    per = {'generator': gen_us / posts}
    for p, role in ps.items():
        try:
            d = cpu_us(p) - t0[p]
        except OSError:
            continue
        per[role] = per.get(role, 0) + d / posts
    per['all'] = sum(v for k, v in per.items())
    for p, q in perf.items():             # system calls per bulk check, by role
        n = int(q.communicate()[1].strip().splitlines()[-1].split(',')[0])
        key = 'calls/req ' + ps[p]
        per[key] = per.get(key, 0) + n / (posts / suite.BULK_ITEMS)
    return r['texts_s'], per, wall


def main():
    count = '--syscalls' in sys.argv
    if count:
        sys.argv.remove('--syscalls')
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    bins = {}
    for a in sys.argv[1].split(','):
        n, b = a.split('=', 1)
        d, g = (b.split(':', 1) + [os.path.join(suite.BIN, 'filterbench')])[:2]
        bins[n] = (os.path.abspath(d), os.path.abspath(g))
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
    biglist = os.path.join(suite.WORK, 'list-%d' % suite.LIST_TERMS)
    srv = {}
    for n, (d, g) in bins.items():
        for mode in ('scan', 'echo'):
            srv[(n, mode)] = Server('bulk-%s-%s' % (n, mode), mode, biglist, binary=d)
    res = {k: [] for k in srv}
    try:
        for s in srv.values():
            s.start()
        for k, s in srv.items():             # warm up each once, unmeasured
            run(s, bins[k[0]][1], 1)
        for r in range(rounds):
            for k, s in srv.items():
                pps, per, wall = run(s, bins[k[0]][1], secs, count)
                res[k].append((pps, per))
                print('round %d %s %s (load %.1f): %.0f posts/s; us/post %s' % (
                    r + 1, k[0], k[1], os.getloadavg()[0], pps,
                    ' '.join('%s %.2f' % (p, v) for p, v in sorted(per.items()))), flush=True)
    finally:
        for s in srv.values():
            s.stop()
    print('medians:')
    for k, rs in res.items():
        roles = sorted({p for _, per in rs for p in per})
        print('  %s %s: %.0f posts/s; us/post %s' % (
            k[0], k[1], statistics.median(x for x, _ in rs),
            ' '.join('%s %.2f' % (p, statistics.median(per.get(p, 0) for _, per in rs))
                     for p in roles)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
