#!/usr/bin/env python3
"""tailab.py -- A/B of the open loop's tail: several filterd binaries, interleaved.

Usage: bench/tailab.py [--echod] [--stall MS/EVERY] NAME=FILTERD[,NAME=...] RATES [ROUNDS [SECS]]
       e.g. bench/tailab.py main=/work/main/build/filterd,new=build/filterd 21700,26000,31000 3 4

Needs a tree where `make bench-quick` ran (the 60,000-term list and the
200-byte posts under build/bench/work). Every daemon is up at once (scan, 2
workers, the same list; --echod adds echod as the machine's floor); in each
of ROUNDS (3) rounds, for each rate in RATES (req/s, comma-separated) and
each daemon in turn, one open-loop run of SECS (4) seconds with this tree's
filterbench and its timeline (bench/timeline.py); a rate of 0 is the closed
loop, 1 x 16 (req/s, p50, p99). Each run prints p50 / p99 /
p99.9, the p99 of the broker's elapsed_us (its time from a request's arrival
to its answer: the queue at the workers, their wake-ups and scans), the
share of requests over 1 ms, the stalls they formed, the share in stalls of
10 or more, and from /proc the CPU time and the context switches per
request of the broker and the workers over the run, and the time they
waited on a run queue per request (/proc/PID/schedstat: woken, not yet
running; the wake-up delays the machine's load adds, summed). Then the medians per
daemon and rate. The runs of one round share their minutes, so the
machine's noise falls on every binary alike. --stall MS/EVERY stops one
worker of the daemon under test (SIGSTOP, SIGCONT) for MS milliseconds
every EVERY during each open-loop run: a worker descheduled by the
machine, made regular, to see what the dispatch does with the texts that
come meanwhile: those it gives the stopped worker wait out the stop (with
the stop and the machine's own stalls together longer than the budget,
for the deadline fallback: the run's `deadline` count)."""
import json, os, signal, statistics, subprocess, sys, threading, time
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bulkab, suite, timeline           # noqa: E402
from servers import Server               # noqa: E402


def ctxsw(pid):
    """(voluntary, involuntary) context switches of a process so far."""
    v = {}
    for line in open('/proc/%d/status' % pid):
        if 'ctxt_switches:' in line:
            v[line.split(':')[0]] = int(line.split()[-1])
    return v.get('voluntary_ctxt_switches', 0), v.get('nonvoluntary_ctxt_switches', 0)


def rq_wait_us(pid):
    """Microseconds the process has waited on a run queue (woken, not yet running)."""
    return int(open('/proc/%d/schedstat' % pid).read().split()[1]) / 1000.0


def sample(ps):
    out = {}
    for p in ps:
        try:
            out[p] = (bulkab.cpu_us(p), ctxsw(p), rq_wait_us(p))
        except OSError:
            pass
    return out


def closed(s, secs):
    """One closed-loop run, 1 x 16 as the suite's: its figures as a dict."""
    r = json.loads(subprocess.run(
        [os.path.join(suite.BIN, 'filterbench'), '--endpoint', s.ep, '--json', '--seconds',
         str(secs), '--warmup', '0.5', '--conns', '1', '--inflight', str(suite.CLOSED_INFLIGHT),
         suite.POSTS200], capture_output=True, text=True, check=True).stdout)
    return {'rps': r['rps'], 'p50': r['latency_ms']['p50'], 'p99': r['latency_ms']['p99'],
            'lost': r['degraded'].get('unavailable', 0) + r['unanswered'] + r['errors'],
            'deadline': r['degraded'].get('deadline', 0)}


class Staller(threading.Thread):
    """Stops one worker (SIGSTOP) for ms milliseconds every `every` ms until
    told to end: a worker descheduled by the machine, made regular."""

    def __init__(self, pid, ms, every):
        super().__init__(daemon=True)
        self.pid, self.ms, self.every, self.end = pid, ms / 1000.0, every / 1000.0, threading.Event()
        self.stops = 0

    def run(self):
        try:
            while not self.end.wait(self.every - self.ms):
                os.kill(self.pid, signal.SIGSTOP)
                time.sleep(self.ms)
                os.kill(self.pid, signal.SIGCONT)
                self.stops += 1
        finally:
            os.kill(self.pid, signal.SIGCONT)


STALL = None                              # (ms, every ms) with --stall


def run(s, rate, secs):
    """One open-loop run (rate 0: the closed loop): its figures as a dict."""
    if not rate:
        return closed(s, secs)
    ps = bulkab.procs(s) if s.kind != 'echod' else {s.proc.pid: 'echod'}
    st = None
    if STALL and s.kind != 'echod':
        st = Staller(min(p for p, r in ps.items() if r == 'worker'), *STALL)
        st.start()
    tl = os.path.join(suite.WORK, 'tailab-%s.txt' % s.name)
    cmd = [os.path.join(suite.BIN, 'filterbench'), '--endpoint', s.ep, '--json', '--seconds',
           str(secs), '--warmup', '0.5', '--tag', s.name, '--open', '%d' % rate,
           '--timeline', tl, suite.POSTS200]
    a = sample(ps)
    r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    b = sample(ps)
    if st:
        st.end.set()
        st.join()
    t = timeline.summary(tl) or {}
    os.unlink(tl)
    reqs = max(1, t.get('requests', 1)) * (secs + 0.5) / secs   # the warm-up's requests too
    f = {'p50': r['latency_ms']['p50'], 'p99': r['latency_ms']['p99'],
         'p999': r['latency_ms']['p999'], 'rps': r['rps'],
         'broker p99': t.get('parts_us', {}).get('broker', {}).get('p99', 0) / 1000,
         'lag p99': t.get('parts_us', {}).get('send lag', {}).get('p99', 0) / 1000,
         'slow %': 100.0 * t.get('slow', 0) / max(1, t.get('requests', 1)),
         'stalls': t.get('stalls', 0), 'in big %': 100.0 * t.get('in_big_stalls', 0),
         'lost': r['degraded'].get('unavailable', 0) + r['unanswered'] + r['errors'],
         'deadline': r['degraded'].get('deadline', 0)}
    for role in ('broker', 'worker', 'echod'):
        ids = [p for p in ps if ps[p] == role and p in a and p in b]
        if ids:
            f['cpu us ' + role] = sum(b[p][0] - a[p][0] for p in ids) / reqs
            f['csw ' + role] = sum(b[p][1][0] - a[p][1][0] for p in ids) / reqs
            f['preempt ' + role] = sum(b[p][1][1] - a[p][1][1] for p in ids) / reqs
            f['rq wait us ' + role] = sum(b[p][2] - a[p][2] for p in ids) / reqs
    if st:
        f['stops'] = st.stops
    return f


SHOW = ['rps', 'p50', 'p99', 'p999', 'broker p99', 'lag p99', 'slow %', 'stalls', 'in big %',
        'cpu us broker', 'cpu us worker', 'csw broker', 'csw worker', 'preempt worker',
        'rq wait us broker', 'rq wait us worker', 'lost', 'deadline', 'stops']


def line(f):
    return ' '.join('%s=%.3g' % (k.replace(' ', '_'), f[k]) for k in SHOW if k in f)


def main(argv):
    global STALL
    echod = '--echod' in argv
    if echod:
        argv.remove('--echod')
    if '--stall' in argv:
        i = argv.index('--stall')
        STALL = tuple(float(x) for x in argv[i + 1].split('/'))
        del argv[i:i + 2]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    bins = dict(a.split('=', 1) for a in argv[1].split(','))
    rates = [int(x) for x in argv[2].split(',')]
    rounds = int(argv[3]) if len(argv) > 3 else 3
    secs = float(argv[4]) if len(argv) > 4 else 4.0
    biglist = os.path.join(suite.WORK, 'list-%d' % suite.LIST_TERMS)
    srv = {n: Server('tail-' + n, 'scan', biglist, binary=os.path.abspath(b))
           for n, b in bins.items()}
    if echod:
        srv['echod'] = Server('tail-echod', 'echod')
    res = {(n, r): [] for n in srv for r in rates}
    try:
        for s in srv.values():
            s.start()
        for s in srv.values():                 # warm up each once, unmeasured
            run(s, rates[-1], 1)
        for k in range(rounds):
            for rate in rates:
                for n, s in srv.items():
                    f = run(s, rate, secs)
                    res[(n, rate)].append(f)
                    print('round %d %d/s %-6s (load %.1f, %s): %s' % (
                        k + 1, rate, n, os.getloadavg()[0], time.strftime('%H:%M:%S'),
                        line(f)), flush=True)
    finally:
        for s in srv.values():
            s.stop()
    print('medians of %d rounds of %.0f s:' % (rounds, secs))
    for rate in rates:
        for n in srv:
            fs = res[(n, rate)]
            print('  %d/s %-6s %s' % (rate, n, line(
                {k: statistics.median(f[k] for f in fs) for k in fs[0]})))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
