#!/usr/bin/env python3
"""transportab.py -- the C client library's two DEALERs, interleaved: its own ZMTP one and libzmq's.

Usage: bench/transportab.py [ROUNDS [SECS]]   (defaults 3 and 5)

The same filterbench binary, once as it comes (ipc://: the library's own
DEALER, client/zdealer.c) and once with --libzmq, against the same servers
(filterd with the 60,000-term list and 2 workers, and echod), in ROUNDS
rounds, each transport in turn within a round, so both share the machine's
noise. Each round and transport: closed loop 1 x 16 against filterd and
echod, one request in flight against both, bulk checks of 32 posts (8 in
flight) against filterd with the CPU each process spends per post (from
/proc, as bulkab.py), and the open loop at half of filterd's maximum (the
first round's own-DEALER figure, the same rate for both) with its timeline
(timeline.py: the p99 and the stalls). Prints each run, then the medians;
--json FILE also writes them. Builds the list and the posts under
build/bench/work when missing (make all first)."""
import json, os, statistics, sys
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bulkab, suite                       # noqa: E402
from servers import Server                 # noqa: E402

LINKS = [('own', ()), ('libzmq', ('--libzmq',))]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else 0.0


def one_round(srv, m, extra, half):
    """Every figure of one transport in one round."""
    f = {}
    for n in ('filterd', 'echod'):
        r = suite.bench(srv[n], m, extra=extra)
        f['closed ' + n] = r['rps']
        r = suite.bench(srv[n], m, inflight=1, extra=extra)
        f['one p50 us ' + n] = 1000 * r['latency_ms']['p50']
    f['ratio filterd/echod'] = f['closed filterd'] / f['closed echod']
    pps, per, _ = bulkab.run(srv['filterd'], os.path.join(suite.BIN, 'filterbench'),
                             m['secs'], extra=extra)
    f['bulk posts/s'] = pps
    for k, v in per.items():
        f['bulk us/post ' + k] = v
    r = suite.bench(srv['filterd'], m, open_rate=half or f['closed filterd'] / 2, timeline=True,
                    extra=extra)
    f['half rate'] = half or f['closed filterd'] / 2
    f['half p50 ms'] = r['latency_ms']['p50']
    f['half p99 ms'] = r['latency_ms']['p99']
    f['half p999 ms'] = r['latency_ms']['p999']
    f['half unavailable'] = r['degraded'].get('unavailable', 0)   # lost: no reply in 10 s
    f['half unanswered'] = r['unanswered']
    f['half errors'] = r['errors']
    t = r.get('timeline') or {}
    f['half slow'] = t.get('slow', 0)
    f['half stalls'] = t.get('stalls', 0)
    f['half in stalls >= 10'] = t.get('in_big_stalls', 0)
    for part in ('send lag', 'broker', 'transport + client'):
        f['half p99 us ' + part] = t.get('parts_us', {}).get(part, {}).get('p99', 0)
    return f


def main(argv):
    out = None
    if '--json' in argv:
        i = argv.index('--json')
        out = argv[i + 1]
        del argv[i:i + 2]
    rounds = int(argv[1]) if len(argv) > 1 else 3
    secs = float(argv[2]) if len(argv) > 2 else 5.0
    m = dict(suite.MODES['service'], secs=secs, warm=1.0)
    os.makedirs(suite.WORK, exist_ok=True)
    biglist = os.path.join(suite.WORK, 'list-%d' % suite.LIST_TERMS)
    if not os.path.isdir(biglist):
        suite.make_list(suite.LIST_TERMS, biglist)
    if not os.path.exists(suite.POSTS200):
        suite.make_posts200()
    srv = {'filterd': Server('tab-filterd', 'scan', biglist),
           'echod': Server('tab-echod', 'echod')}
    res = {n: [] for n, _ in LINKS}
    half = None
    try:
        for s in srv.values():
            s.start()
        for n, extra in LINKS:                 # warm up each once, unmeasured
            suite.bench(srv['filterd'], m, secs=1, extra=extra)
        for r in range(rounds):
            for n, extra in LINKS:
                f = one_round(srv, m, extra, half)
                half = half or f['half rate']
                res[n].append(f)
                print('round %d %s (load %.1f): %s' % (
                    r + 1, n, os.getloadavg()[0],
                    ' '.join('%s=%.4g' % kv for kv in sorted(f.items()))), flush=True)
    finally:
        for s in srv.values():
            s.stop()
    keys = sorted({k for rs in res.values() for f in rs for k in f})
    meds = {n: {k: med(f.get(k) for f in rs) for k in keys} for n, rs in res.items()}
    print('medians of %d rounds of %.0f s (own / libzmq):' % (rounds, secs))
    for k in keys:
        a, b = meds['own'][k], meds['libzmq'][k]
        print('  %-34s %12.4g %12.4g  %s' % (k, a, b, '%.3f' % (a / b) if b else '-'))
    if out:
        with open(out, 'w') as f:
            json.dump({'rounds': rounds, 'secs': secs, 'runs': res, 'medians': meds}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
