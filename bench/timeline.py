#!/usr/bin/env python3
"""timeline.py -- where an open-loop run's slow requests come from (filterbench --timeline).

Usage: bench/timeline.py [--slow MS] [--gap MS] FILE [FILE...]

Each FILE is written by `filterbench --open RATE --timeline FILE`: one line
per request of the measured window, "conn due_us sent_us done_us server_us"
(server_us: the broker's elapsed_us, arrival to reply; 0 for bulk checks).
For each file: the latency (done - due) split into its parts -- the
generator's send lag (sent - due), the broker's own time (server_us) and the
rest (the transport both ways and the client: done - sent - server_us) --
at p50/p99/p99.9 of all requests and on average over the slow ones (latency
over --slow, default 1 ms); then whether the slow requests cluster: runs of
slow requests less than --gap (default 2 ms) apart are one stall, and the
stalls are counted with their length, the requests each caught and the time
between them (a periodic stall -- a timer, heartbeats, stats -- shows as one
interval again and again; spread slowness as many one-request stalls)."""
import statistics, sys


def pct(xs, q):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def load(path):
    ev = []
    for line in open(path):
        if line.startswith('#') or not line.strip():
            continue
        c, due, sent, done, srv = line.split()
        ev.append((float(due), float(sent), float(done), float(srv)))
    ev.sort()
    return ev


def summary(path, slow_ms=1.0, gap_ms=2.0):
    """The figures of one timeline file, as a dict (None when it holds no request)."""
    ev = load(path)
    if not ev:
        return None
    span = (ev[-1][0] - ev[0][0]) / 1e6
    parts = {'latency': [d - u for u, s, d, v in ev], 'send lag': [s - u for u, s, d, v in ev],
             'broker': [v for u, s, d, v in ev],
             'transport + client': [d - s - v for u, s, d, v in ev]}
    res = {'requests': len(ev), 'seconds': span, 'slow_ms': slow_ms, 'gap_ms': gap_ms,
           'parts_us': {k: {'p50': pct(xs, .5), 'p99': pct(xs, .99), 'p999': pct(xs, .999),
                            'max': max(xs)} for k, xs in parts.items()}}
    lat = parts['latency']
    slow = [i for i, x in enumerate(lat) if x > slow_ms * 1000]
    res['slow'] = len(slow)
    if not slow:
        return res
    res['slow_mean_us'] = {k: statistics.mean(parts[k][i] for i in slow)
                           for k in ('send lag', 'broker', 'transport + client')}
    stalls = []                           # [first due, last due, count, worst latency]
    for i in slow:
        u = ev[i][0]
        if stalls and u - stalls[-1][1] <= gap_ms * 1000:
            st = stalls[-1]
            st[1], st[2], st[3] = u, st[2] + 1, max(st[3], lat[i])
        else:
            stalls.append([u, u, 1, lat[i]])
    sizes = [x[2] for x in stalls]
    lens = [(x[1] - x[0]) / 1000 for x in stalls]
    gaps = [(b[0] - a[0]) / 1000 for a, b in zip(stalls, stalls[1:])]
    hist = {}
    for g in gaps:                        # a period shows as a peak at its multiple of 10 ms
        hist[int(g // 10) * 10] = hist.get(int(g // 10) * 10, 0) + 1
    res.update({'stalls': len(stalls), 'stall_requests_p50': pct(sizes, .5),
                'stall_requests_max': max(sizes), 'stall_ms_p50': pct(lens, .5),
                'stall_ms_max': max(lens),
                'in_big_stalls': sum(n for n in sizes if n >= 10) / len(slow),
                'between_ms': {'p10': pct(gaps, .1), 'p50': pct(gaps, .5), 'p90': pct(gaps, .9)}
                if gaps else None,
                'intervals': sorted(hist.items(), key=lambda kv: -kv[1])[:5],
                'worst': [{'at_ms': x[0] / 1000, 'requests': x[2], 'ms': (x[1] - x[0]) / 1000,
                           'worst_ms': x[3] / 1000}
                          for x in sorted(stalls, key=lambda x: -x[3])[:5]]})
    return res


def report(path, slow_ms, gap_ms):
    r = summary(path, slow_ms, gap_ms)
    if not r:
        print('%s: no requests' % path)
        return
    print('%s: %d requests over %.2f s (%.0f/s)' % (path, r['requests'], r['seconds'],
                                                   r['requests'] / max(r['seconds'], 1e-9)))
    for name, q in r['parts_us'].items():
        print('  %-20s p50 %8.1f  p99 %8.1f  p99.9 %8.1f  max %8.1f us' % (
            name, q['p50'], q['p99'], q['p999'], q['max']))
    print('  slow (> %.2f ms): %d (%.2f%%)' % (slow_ms, r['slow'], 100.0 * r['slow'] / r['requests']))
    if not r['slow']:
        return
    m = r['slow_mean_us']
    print('  of the slow ones, mean us: send lag %.0f, broker %.0f, transport + client %.0f' % (
        m['send lag'], m['broker'], m['transport + client']))
    print('  stalls (slow requests < %.1f ms apart): %d; requests each p50 %d max %d; '
          'length ms p50 %.2f max %.2f; %.1f%% of the slow requests in stalls of 10 or more' % (
              gap_ms, r['stalls'], r['stall_requests_p50'], r['stall_requests_max'],
              r['stall_ms_p50'], r['stall_ms_max'], 100.0 * r['in_big_stalls']))
    if r['between_ms']:
        b = r['between_ms']
        print('  time between stalls ms: p10 %.1f p50 %.1f p90 %.1f' % (b['p10'], b['p50'], b['p90']))
        print('  most common intervals (10 ms bins): %s' % ', '.join(
            '%d-%d ms x%d' % (k, k + 10, n) for k, n in r['intervals']))
    print('  worst stalls: %s' % '; '.join(
        'at %.1f ms, %d requests over %.2f ms, worst %.2f ms' % (
            x['at_ms'], x['requests'], x['ms'], x['worst_ms']) for x in r['worst']))


def main(argv):
    slow_ms, gap_ms, files = 1.0, 2.0, []
    i = 0
    while i < len(argv):
        if argv[i] == '--slow':
            slow_ms, i = float(argv[i + 1]), i + 2
        elif argv[i] == '--gap':
            gap_ms, i = float(argv[i + 1]), i + 2
        else:
            files.append(argv[i])
            i += 1
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    for f in files:
        report(f, slow_ms, gap_ms)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
