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


def report(path, slow_ms, gap_ms):
    ev = load(path)
    if not ev:
        print('%s: no requests' % path)
        return
    span = (ev[-1][0] - ev[0][0]) / 1e6
    lat = [d - u for u, s, d, v in ev]
    lag = [s - u for u, s, d, v in ev]
    srv = [v for u, s, d, v in ev]
    rest = [d - s - v for u, s, d, v in ev]
    print('%s: %d requests over %.2f s (%.0f/s)' % (path, len(ev), span, len(ev) / max(span, 1e-9)))
    for name, xs in (('latency', lat), ('send lag', lag), ('broker', srv),
                     ('transport + client', rest)):
        print('  %-20s p50 %8.1f  p99 %8.1f  p99.9 %8.1f  max %8.1f us' % (
            name, pct(xs, .5), pct(xs, .99), pct(xs, .999), max(xs)))
    slow = [i for i, x in enumerate(lat) if x > slow_ms * 1000]
    print('  slow (> %.2f ms): %d (%.2f%%)' % (slow_ms, len(slow), 100.0 * len(slow) / len(ev)))
    if not slow:
        return
    print('  of the slow ones, mean us: send lag %.0f, broker %.0f, transport + client %.0f' % (
        statistics.mean(lag[i] for i in slow), statistics.mean(srv[i] for i in slow),
        statistics.mean(rest[i] for i in slow)))
    stalls = []                           # [first due, last due, count, worst latency]
    for i in slow:
        u = ev[i][0]
        if stalls and u - stalls[-1][1] <= gap_ms * 1000:
            st = stalls[-1]
            st[1], st[2], st[3] = u, st[2] + 1, max(st[3], lat[i])
        else:
            stalls.append([u, u, 1, lat[i]])
    sizes = [s[2] for s in stalls]
    lens = [(s[1] - s[0]) / 1000 for s in stalls]
    gaps = [(b[0] - a[0]) / 1000 for a, b in zip(stalls, stalls[1:])]
    print('  stalls (slow requests < %.1f ms apart): %d; requests each p50 %d max %d; '
          'length ms p50 %.2f max %.2f; %.1f%% of the slow requests in stalls of 10 or more' % (
              gap_ms, len(stalls), pct(sizes, .5), max(sizes), pct(lens, .5), max(lens),
              100.0 * sum(n for n in sizes if n >= 10) / len(slow)))
    if gaps:
        print('  time between stalls ms: p10 %.1f p50 %.1f p90 %.1f' % (
            pct(gaps, .1), pct(gaps, .5), pct(gaps, .9)))
        hist = {}
        for g in gaps:                    # a period shows as a peak at its multiple of 10 ms
            hist[int(g // 10) * 10] = hist.get(int(g // 10) * 10, 0) + 1
        top = sorted(hist.items(), key=lambda kv: -kv[1])[:5]
        print('  most common intervals (10 ms bins): %s' % ', '.join(
            '%d-%d ms x%d' % (k, k + 10, n) for k, n in top))
    worst = sorted(stalls, key=lambda s: -s[3])[:5]
    print('  worst stalls: %s' % '; '.join(
        'at %.1f ms, %d requests over %.2f ms, worst %.2f ms' % (
            s[0] / 1000, s[2], (s[1] - s[0]) / 1000, s[3] / 1000) for s in worst))


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
