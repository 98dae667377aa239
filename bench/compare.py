#!/usr/bin/env python3
"""compare.py -- two suite runs side by side: the headline figures and their ratio.

Usage: bench/compare.py OLD_DIR NEW_DIR   (bench/results/<timestamp>[-mode] folders)

Only figures both runs measured are shown. new/old above 1 is better for
throughput rows and worse for latency rows (marked 'lower is better').
Compare ratios (filterd/echo, engine/raw, engine/peer) before absolute
figures: they were measured side by side within each run, so they carry
less of the machine's noise."""
import json, os, sys


def figures(r):
    """(name, value, lower_is_better) of one results.json."""
    s, out = r['service'], []
    out += [('service filterd req/s', s['closed']['filterd']['rps'], 0),
            ('service echo req/s', s['closed']['echo']['rps'], 0),
            ('service echod req/s', s['closed']['echod']['rps'], 0),
            ('service filterd/echo', s['echo_ratio'], 0),
            ('service filterd/echod', s.get('echod_ratio', 0), 0),
            ('service one-in-flight p50 ms', s.get('one', {}).get('filterd', {}).get(
                'latency_ms', {}).get('p50', 0), 1),
            ('service bulk posts/s', s.get('bulk_posts_s', 0), 0),
            ('service p50 ms at half max', s['open_half']['filterd']['latency_ms']['p50'], 1),
            ('service p99 ms at half max', s['p99_half_ms'], 1),
            ('service p99.9 ms at half max', s['open_half']['filterd']['latency_ms']['p999'], 1)]
    if 'engine' in r:
        e = r['engine']
        out += [('engine full MB/s', e['full']['mb_s'], 0), ('engine raw MB/s', e['raw']['mb_s'], 0),
                ('engine full/raw', e['ratio'], 0), ('engine compile s', e['compile_s'], 1)]
    if 'peers' in r:
        for k in ('raw', 'rg', 'mint', 'python'):
            out.append(('engine / %s (posts/s)' % k, r['peers'][k].get('engine_ratio', 0), 0))
    for w in r.get('workers', []):
        out.append(('%d workers req/s' % w['workers'], w['rps'], 0))
    for l in r.get('lists', []):
        out.append(('%d terms full MB/s' % l['terms'], l['full_mb_s'], 0))
        out.append(('%d terms compile s' % l['terms'], l['compile_s'], 1))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split('\n\n')[1])
    old, new = (json.load(open(os.path.join(d, 'results.json'))) for d in sys.argv[1:])
    newf = {n: v for n, v, _ in figures(new)}
    print('%-34s %12s %12s %8s' % ('figure', 'old', 'new', 'new/old'))
    for name, v, lower in figures(old):
        if name not in newf:
            continue
        ratio = newf[name] / v if v else float('nan')
        print('%-34s %12.3f %12.3f %8.2f%s' % (name, v, newf[name], ratio,
                                                '  (lower is better)' if lower else ''))


if __name__ == '__main__':
    main()
