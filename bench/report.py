#!/usr/bin/env python3
"""report.py -- results.json of a suite run into report.md, summary.txt and PNG plots.

Usage: bench/report.py RESULTS_DIR   (suite.py calls write() itself; run this to
redo a report, e.g. after changing the text, without measuring again).
Plots need gnuplot (pngcairo); without it the report says they are missing."""
import json, os, shutil, subprocess, sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import clientbench                # noqa: E402  (the clients' table)
import httpbench                  # noqa: E402  (the HTTP front door's table)
from suite import (T_ECHO_RATIO, T_ECHOD_RATIO, T_BASE_RATIO, T_ONE_US, T_BULK_POSTS, T_P99_MS,
                   T_RAW_RATIO, T_MINT, T_PY, CLOSED_INFLIGHT, BULK_ITEMS, BULK_INFLIGHT)


def verdict(ok):
    return 'PASS' if ok else 'MISS'


def targets(r):
    """(name, figure, target, PASS/MISS) for every target measured in this run."""
    out = []
    s = r['service']
    c = s['closed']
    out.append(('service req/s vs echod, closed loop (200-byte posts)',
                '%.1f%% (%.0f / %.0f req/s)' % (100 * s['echod_ratio'], c['filterd']['rps'],
                                                c['echod']['rps']),
                '>= %.0f%%' % (100 * T_ECHOD_RATIO), verdict(s['echod_ratio'] >= T_ECHOD_RATIO)))
    if s.get('base_ratio') is not None:
        out.append(('service req/s vs the baseline filterd (%s)' % s['base_rev'],
                    '%.2fx (%.0f / %.0f req/s)' % (s['base_ratio'], c['filterd']['rps'],
                                                   c['base']['rps']),
                    '>= %.0fx' % T_BASE_RATIO, verdict(s['base_ratio'] >= T_BASE_RATIO)))
    out.append(('service req/s vs echo baseline (200-byte posts)',
                '%.1f%% (%.0f / %.0f req/s)' % (100 * s['echo_ratio'], c['filterd']['rps'],
                                                c['echo']['rps']),
                '>= %.0f%%' % (100 * T_ECHO_RATIO), verdict(s['echo_ratio'] >= T_ECHO_RATIO)))
    out.append(('service p99 at half of max (open loop, %.0f req/s)' % s['half_rate'],
                '%.3f ms' % s['p99_half_ms'], '< %.0f ms' % T_P99_MS,
                verdict(s['p99_half_ms'] < T_P99_MS)))
    o = s['one']
    out.append(('one in flight: filterd p50 - echod p50',
                '%+.0f us (%.3f / %.3f ms)' % (s['one_extra_us'], o['filterd']['latency_ms']['p50'],
                                               o['echod']['latency_ms']['p50']),
                '<= %d us' % T_ONE_US, verdict(s['one_extra_us'] <= T_ONE_US)))
    out.append(('bulk checks of %d posts, posts/s' % s['bulk_items'],
                '%.0f' % s['bulk_posts_s'], '>= %.0f' % T_BULK_POSTS,
                verdict(s['bulk_posts_s'] >= T_BULK_POSTS)))
    if 'http' in r:
        out += httpbench.http_targets(r, verdict)
    if 'engine' in r:
        e = r['engine']
        out.append(('engine vs raw hs_scan, full normalisation (%d entries)' % e['entries'],
                    '%.1f%% (%.1f / %.1f MB/s)' % (100 * e['ratio'], e['full']['mb_s'], e['raw']['mb_s']),
                    '>= %.0f%%' % (100 * T_RAW_RATIO), verdict(e['ratio'] >= T_RAW_RATIO)))
    if 'peers' in r:
        p = r['peers']
        out.append(('engine vs mint-filter, posts/s (exact matching, as the peer)',
                    '%.1fx' % p['mint']['engine_ratio'], '>= %.0fx' % T_MINT,
                    verdict(p['mint']['engine_ratio'] >= T_MINT)))
        out.append(('engine vs python3-ahocorasick, posts/s (exact matching, as the peer)',
                    '%.1fx' % p['python']['engine_ratio'], '>= %.0fx' % T_PY,
                    verdict(p['python']['engine_ratio'] >= T_PY)))
        if 'engine_views' in p:
            out.append(('... with every disguise view on (no peer reads disguises)',
                        '%.1fx, %.1fx' % (p['mint'].get('views_ratio', 0),
                                          p['python'].get('views_ratio', 0)), '', ''))
    if 'leet' in r and 'error' not in r['leet']:
        l = r['leet']
        out.append(('Latin disguises caught, filterd vs obscenity (%d spellings)' % l['spellings'],
                    '%d vs %d; clean flagged %s' % (l['filterd_caught'], l['obscenity_caught'],
                    ', '.join('%d vs %d' % (c['filterd'], c['obscenity']) for c in l['clean'])),
                    'caught >=, clean flagged <=', verdict(l['pass'])))
    return out


def md_table(head, rows):
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


# ---- plots -----------------------------------------------------------------

def gnuplot(script, out_dir):
    if not shutil.which('gnuplot'):
        return False
    p = subprocess.run(['gnuplot'], input=script, text=True, cwd=out_dir, capture_output=True)
    return p.returncode == 0


def write_dat(out_dir, name, rows):
    with open(os.path.join(out_dir, name), 'w') as f:
        for row in rows:
            f.write(' '.join(str(x) for x in row) + '\n')


PNG = "set terminal pngcairo size 900,540 font ',10'\nset grid\nset key top left\n"


def plot_latency(r, out_dir):
    sweep = r['service'].get('sweep') or []
    if not sweep:
        return None
    for srv in ('filterd', 'echo', 'echod'):
        rows = sorted((x['rate'], x['rps'], x['latency_ms']['p50'], x['latency_ms']['p99'],
                       x['latency_ms']['p999']) for x in sweep if x['server'] == srv)
        write_dat(out_dir, 'sweep-%s.dat' % srv, rows)
    ok = gnuplot(PNG + """set output 'latency-vs-load.png'
set title 'Round-trip latency against offered load (open loop, 200-byte posts)'
set xlabel 'offered load, requests/s'
set ylabel 'latency, ms (log)'
set logscale y
plot 'sweep-filterd.dat' u 1:3 w lp t 'filterd p50', '' u 1:4 w lp t 'filterd p99', \
     '' u 1:5 w lp t 'filterd p99.9', 'sweep-echo.dat' u 1:4 w lp dt 2 t 'echo p99', \
     'sweep-echod.dat' u 1:4 w lp dt 3 lc 'black' t 'no broker (echod) p99', %g w l lc 'red' t '1 ms'
""" % T_P99_MS, out_dir)
    return 'latency-vs-load.png' if ok else None


def plot_workers(r, out_dir):
    if not r.get('workers'):
        return None
    write_dat(out_dir, 'workers.dat', [(w['workers'], w['rps']) for w in r['workers']])
    ok = gnuplot(PNG + """set output 'workers.png'
set title 'filterd requests/s against worker processes (closed loop, 2 cores)'
set xlabel 'workers'
set ylabel 'requests/s'
set yrange [0:*]
set xtics (1, 2, 4)
plot 'workers.dat' u 1:2 w lp lw 2 t 'filterd'
""", out_dir)
    return 'workers.png' if ok else None


def plot_lists(r, out_dir):
    if not r.get('lists'):
        return None
    write_dat(out_dir, 'lists.dat', [(l['entries'], l['full_mb_s'], l['raw_mb_s'], l['compile_s'],
                                      l['db_mb'], l['ruleset_mb'], l['maxrss_mb'])
                                     for l in r['lists']])
    ok = gnuplot(PNG + """set output 'lists.png'
set multiplot layout 1,3 title 'Engine against list size (entries, log)'
set logscale x
set xlabel 'entries'
set title 'throughput, MB/s'
set yrange [0:*]
plot 'lists.dat' u 1:2 w lp t 'full engine', '' u 1:3 w lp t 'raw hs\\_scan'
set title 'compile, s'
plot 'lists.dat' u 1:4 w lp t 'load + compile'
set title 'memory, MB'
plot 'lists.dat' u 1:5 w lp t 'database', '' u 1:6 w lp t 'rule set', '' u 1:7 w lp t 'peak RSS'
unset multiplot
""", out_dir)
    return 'lists.png' if ok else None


def plot_peers(r, out_dir):
    p = r.get('peers')
    if not p:
        return None
    rows = [('"filterd engine"', p['engine']['posts_s']), ('"raw hs\\_scan"', p['raw']['posts_s']),
            ('"ripgrep -F -f"', p['rg']['posts_s']), ('"mint-filter"', p['mint']['posts_s']),
            ('"python3-ahocorasick"', p['python']['posts_s'])]
    write_dat(out_dir, 'peers.dat', rows)
    ok = gnuplot(PNG + """set output 'peers.png'
set title 'Posts/s on the same posts and literal list (log)'
set style data histograms
set style fill solid 0.6
set logscale y
set ylabel 'posts/s'
set key off
plot 'peers.dat' u 2:xtic(1)
""", out_dir)
    return 'peers.png' if ok else None


# ---- the report ------------------------------------------------------------

def sec_machine(r):
    mc = r['machine']
    pk = ', '.join('%s %s' % kv for kv in sorted(mc['packages'].items()))
    return ('Machine: %s, %d cores, %.1f GB, Linux %s; load average before %.2f, after %.2f.  \n'
            'Libraries: Hyperscan %s, ICU %s, ZeroMQ %s, Node %s; %s.  \n'
            'Commit %s%s; mode `%s`, %s, %.0f s in all.\n'
            % (mc['cpu'], mc['cores'], mc['memory_gb'], mc['kernel'], mc['load_before'][0],
               mc['load_after'][0], mc['hyperscan'], mc['icu'], mc['zmq'], mc['node'], pk,
               mc['commit'], ' (uncommitted changes)' if mc['dirty'] else '', r['mode'],
               r['started'], r['elapsed_s']))


def lat_row(name, x):
    l = x['latency_ms']
    return [name, '%.0f' % x['rps'], '%.3f' % l['p50'], '%.3f' % l['p90'], '%.3f' % l['p99'],
            '%.3f' % l['p999'], '%.3f' % l['max'], x['errors'], deg(x['degraded'])]


def deg(d):
    """Degraded replies by kind, e.g. '12 deadline'; '0' when none."""
    return ', '.join('%d %s' % (n, k) for k, n in d.items() if n) or '0'


def stalls_table(runs):
    """Where the half load's slow requests came from (filterbench --timeline,
    bench/timeline.py), for the round of each server with the median p99."""
    rows = []
    for k, n in (('filterd', 'filterd (scan)'), ('echo', 'filterd --echo'),
                 ('echod', 'echod (no broker)')):
        t = runs.get(k, {}).get('timeline')
        if not t:
            continue
        p, m = t['parts_us'], t.get('slow_mean_us')
        rows.append([n, '%.0f / %.0f / %.0f' % (p['send lag']['p99'], p['broker']['p99'],
                                               p['transport + client']['p99']),
                     '%.2f%%' % (100.0 * t['slow'] / t['requests']),
                     '%.0f / %.0f / %.0f' % (m['send lag'], m['broker'], m['transport + client'])
                     if m else '-',
                     '%d' % t.get('stalls', 0),
                     '%.0f%%' % (100 * t['in_big_stalls']) if m else '-',
                     ', '.join('%d-%d ms x%d' % (a, a + 10, c) for a, c in t['intervals'][:3])
                     if t.get('intervals') else '-'])
    if not rows:
        return ''
    return ('\nWhere the slow requests (over 1 ms) came from, the round with the median p99 '
            '(`filterbench --timeline`, `bench/timeline.py`): the p99 of each part of the '
            'latency (the generator\'s send lag, the broker\'s elapsed_us, the rest: transport '
            'both ways and the client), and of the slow requests their share, the mean of each '
            'part, how many stalls they formed (slow requests under 2 ms apart), the share in '
            'stalls of 10 or more, and the commonest times between stalls (a periodic stall '
            'shows as one).\n\n' +
            md_table(['server', 'p99 us: lag / broker / rest', 'slow', 'slow mean us: lag / '
                      'broker / rest', 'stalls', 'in stalls >= 10', 'between stalls'], rows))


def sec_service(r, plots):
    s = r['service']
    m = r['settings']
    c, o = s['closed'], s['one']
    rows = [lat_row('filterd (scan)', c['filterd']), lat_row('filterd --echo', c['echo']),
            lat_row('echod (no broker)', c['echod'])]
    if 'base' in c:
        rows.append(lat_row('baseline filterd (%s)' % s['base_rev'], c['base']))
    one = [lat_row(n, o[k]) for k, n in (('filterd', 'filterd (scan)'), ('echod', 'echod'),
                                         ('base', 'baseline filterd')) if k in o]
    bulk = [lat_row(n, s['bulk'][k]) + ['%.0f' % s['bulk'][k]['texts_s']]
            for k, n in (('filterd', 'filterd (scan)'), ('echo', 'filterd --echo'))
            if k in s['bulk']]
    head = ['server', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors',
            'degraded']
    t = ['## Service\n',
         '200-byte posts (`bench/data/posts.txt` run together and cut), the %d-term list, '
         '2 workers, ipc endpoints, all servers up side by side; %d interleaved '
         'round(s) of %.1f s (after %.1f s warm-up) each, medians. Closed loop: %d connection '
         'x %d requests in flight. The baseline is filterd built from commit %s (today\'s main '
         'before the batched request path), measured in the same rounds.\n'
         % (60000, m['rounds'], m['secs'], m['warm'], s['conns'], s['inflight'],
            s.get('base_rev') or '(none: BENCH_BASE was empty or the build failed)'),
         '### Closed loop (maximum throughput)\n',
         md_table(head, rows),
         '\nfilterd / echod: **%.1f%%**; filterd / echo: %.1f%%; echo / echod: %.1f%%%s.\n'
         % (100 * s['echod_ratio'], 100 * s['echo_ratio'], 100 * s['broker_ratio'],
            '; filterd / baseline: **%.2fx**' % s['base_ratio'] if s.get('base_ratio') else ''),
         '### One request in flight (closed loop, 1 x 1)\n',
         md_table(head, one),
         '\nfilterd p50 - echod p50: **%+.0f us** (the broker -> worker -> broker round trip '
         'and the scan).\n' % s['one_extra_us'],
         '### Bulk checks (%d posts per request, %d requests in flight)\n'
         % (s['bulk_items'], s['bulk_inflight']),
         md_table(head + ['posts/s'], bulk),
         '\n### Open loop at half of the maximum (%.0f req/s)\n' % s['half_rate'],
         'Latency from each request\'s intended send time.\n\n',
         md_table(head, [lat_row(n, s['open_half'][k]) for k, n in
                         (('filterd', 'filterd (scan)'), ('echo', 'filterd --echo'),
                          ('echod', 'echod (no broker)')) if k in s['open_half']]),
         stalls_table(s['open_half'])]
    if s.get('sweep'):
        rows = [[x['server'], '%.2f' % x['fraction'], '%.0f' % x['rate'], '%.0f' % x['rps'],
                 '%.3f' % x['latency_ms']['p50'], '%.3f' % x['latency_ms']['p99'],
                 '%.3f' % x['latency_ms']['p999'], '%.3f' % x['send_lag_ms']['p99'],
                 deg(x['degraded'])] for x in s['sweep']]
        t += ['\n### Open-loop sweep\n',
              'Rates as fractions of filterd\'s closed-loop maximum; medians of %d interleaved '
              'round(s) of %.1f s. `lag p99` is the load generator\'s own lateness in sending '
              '(counted in the latency). The open-loop generator costs CPU on the same 2 cores '
              '(it polls for replies every 50 us: ~40%% of a core at 7,000 req/s), so filterd '
              'saturates in open loop below its closed-loop maximum.\n\n'
              % (m['rounds'], m.get('sweep_secs', m['secs'])),
              md_table(['server', 'x max', 'offered', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms',
                        'lag p99 ms', 'degraded'], rows)]
    if plots.get('latency'):
        t.append('\n![latency against offered load](%s)\n' % plots['latency'])
    if s.get('profile'):
        t += ['\n### Profile (perf record of filterd\'s processes, 3 s of closed loop)\n',
              'By process and library:\n\n```\n%s\n```\nBy symbol:\n\n```\n%s\n```\n'
              % (s['profile']['by_process'], s['profile']['by_symbol'])]
    return ''.join(t)


def sec_engine(r):
    e = r.get('engine')
    if not e:
        return ''
    t = ['## Engine against raw hs_scan\n',
         '`bench_engine` on the %d-entry list (regex entries included) over `posts.txt`: '
         'full = `fe_scan` (fold, scan of every view, callback, decision); raw = `hs_scan` '
         'of the same databases over views folded beforehand.\n\n' % e['entries'],
         md_table(['pass', 'posts/s', 'MB/s', 'us/post'],
                  [[k, '%.0f' % e[k]['posts_s'], '%.1f' % e[k]['mb_s'], '%.2f' % e[k]['us_post']]
                   for k in ('full', 'raw', 'fold', 'base') if k in e]),
         '\nfull/raw **%.1f%%** (target >= %.0f%%).\n' % (100 * e['ratio'], 100 * T_RAW_RATIO)]
    if 'base_ratio' in e:
        t.append('\nbase = the same lists with the disguise views off: with them the engine runs at '
                 '%.1f%% of its speed without them. Raw hs_scan of each view\'s database alone '
                 'over its view (MB/s of input): %s.\n'
                 % (100 * e['base_ratio'], ', '.join('%s %.0f' % kv for kv in e['views'].items())))
    if e.get('profile'):
        t += ['\nProfile of bench_engine (perf record; all three passes, full takes the most):\n',
              '```\n%s\n```\n' % e['profile']['by_symbol']]
    return ''.join(t)


def sec_leet(r):
    l = r.get('leet')
    if not l:
        return ''
    if 'error' in l:
        return '## Latin disguises\n\n%s\n' % l['error']
    rows = [['spellings caught (of %d)' % l['spellings'], l['filterd_caught'], l['obscenity_caught']],
            ['clean lines of the table flagged (of %d)' % l['clean_lines'], len(l['filterd_false']),
             len(l['obscenity_false'])]]
    rows += [['%s flagged (of %d)' % (c['file'], c['texts']), c['filterd'], c['obscenity']]
             for c in l['clean']]
    return ''.join(['## Latin disguises: filterd against obscenity %s\n\n' % l['obscenity_version'],
                    '`bench/leet.py`: tests/data/leet-spellings.tsv through filterd (shipped lists) '
                    'and obscenity (englishDataset, englishRecommendedTransformers).\n\n',
                    md_table(['', 'filterd', 'obscenity'], rows),
                    '\nMissed by filterd: %s. Missed by obscenity: %s.\n'
                    % (', '.join(l['filterd_missed']) or 'none', ', '.join(l['obscenity_missed']) or 'none')])


def sec_peers(r, plots):
    p = r.get('peers')
    if not p:
        return ''
    names = [('engine', 'filterd engine (fe_scan per post, disguise views off)'),
             ('engine_views', 'filterd engine, every disguise view on'), ('raw', 'raw hs_scan (C)'),
             ('rg', 'ripgrep -F -f, whole file'), ('mint', 'mint-filter (Node.js)'),
             ('python', 'python3-ahocorasick')]
    rows = []
    for k, label in names:
        if k not in p:
            continue
        x = p[k]
        if k in p.get('missing', []):
            rows.append([label, 'not run (not installed)', '', '', '', ''])
            continue
        ratio = '1' if k == 'engine' else '%.2fx' % (
            x['posts_s'] / p['engine']['posts_s'] if k == 'engine_views' and p['engine']['posts_s']
            else x.get('engine_ratio', 0))
        rows.append([label, '%.0f' % x['posts_s'], '%.1f' % x['mb_s'], ratio,
                     x['matches'], '%.3f' % x['build_s']])
    t = ['## Peers\n',
         'The same %d literal terms (every non-regex, non-allow entry of the list, one '
         'automaton) and the same %s posts, %d interleaved round(s), medians. filterd\'s '
         'engine folds (width, case, traditional->simplified, separators) before matching; '
         'the peers match the raw text, so they do less work. The targets compare the engine '
         'doing the peers\' job (exact matching, the disguise views off); with every disguise '
         'view on it also reads each text by sound, leet, split characters and look-alikes, '
         'which no peer does (its row). ripgrep\'s automaton build is '
         'timed apart and taken out.\n\n' % (p['terms'], '14,270', p['rounds']),
         md_table(['implementation', 'posts/s', 'MB/s', 'filterd engine / it', 'matches',
                   'build s'], rows)]
    if plots.get('peers'):
        t.append('\n![peers](%s)\n' % plots['peers'])
    return ''.join(t)


def sec_transport(r):
    tr = r.get('transport')
    if not tr:
        return ''
    rows = [[x['batch'], '%.1f' % x['zmq']['p50_us'], '%.1f' % x['zmq']['p99_us'],
             '%.2f' % x['zmq']['per_message_us'], '%.1f' % x['unix']['p50_us'],
             '%.1f' % x['unix']['p99_us'], '%.2f' % x['unix']['per_message_us']] for x in tr]
    return ''.join(['## Transport: the broker-to-worker hop alone\n',
                    '`linkbench`: two processes, %d round trips of %d-byte messages over each '
                    'transport in alternating blocks; a round of K messages writes them '
                    'together and waits for their K echoes. ZeroMQ ipc (ROUTER <-> DEALER, '
                    'what the old path used) against a unix stream socket read and written in '
                    'batches (filterd/link.c).\n\n' % (tr[0]['rounds'], tr[0]['bytes']),
                    md_table(['messages a round', 'zmq p50 us', 'zmq p99 us', 'zmq us a message',
                              'unix p50 us', 'unix p99 us', 'unix us a message'], rows)])


def sec_scaling(r, plots):
    t = []
    if r.get('workers'):
        t += ['## Scaling\n', '### Workers (closed loop, 200-byte posts, 2 cores)\n',
              md_table(['workers', 'req/s', 'p99 ms'],
                       [[w['workers'], '%.0f' % w['rps'], '%.3f' % w['p99_ms']]
                        for w in r['workers']])]
        if plots.get('workers'):
            t.append('\n![workers](%s)\n' % plots['workers'])
    if r.get('windows'):
        t += ['\n### Worker credit (worker-window; closed loop, 2 workers)\n',
              'Single checks: 1 connection x %d in flight; bulk checks: %d posts x %d in flight. '
              'Window 1 is the old rule (one text at a time), over the new socket.\n\n'
              % (CLOSED_INFLIGHT, BULK_ITEMS, BULK_INFLIGHT),
              md_table(['worker-window', 'single req/s', 'single p99 ms', 'bulk posts/s'],
                       [[w['window'], '%.0f' % w['rps'], '%.3f' % w['p99_ms'],
                         '%.0f' % w['bulk_posts_s']] for w in r['windows']])]
    if r.get('lists'):
        t += ['\n### List size (bench_engine over posts.txt)\n',
              md_table(['terms asked', 'entries', 'compile s', 'database MB', 'rule set MB',
                        'peak RSS MB', 'full MB/s', 'raw MB/s', 'full/raw'],
                       [[l['terms'], l['entries'], '%.2f' % l['compile_s'], '%.1f' % l['db_mb'],
                         '%.1f' % l['ruleset_mb'], '%.0f' % l['maxrss_mb'],
                         '%.1f' % l['full_mb_s'], '%.1f' % l['raw_mb_s'],
                         '%.0f%%' % (100 * l['ratio'])] for l in r['lists']])]
        if plots.get('lists'):
            t.append('\n![list size](%s)\n' % plots['lists'])
    return ''.join(t)


def kernel_share(prof):
    """Percent of the profile in the kernel, from the by-process lines."""
    total = 0.0
    for line in (prof or {}).get('by_process', '').splitlines():
        f = line.split()
        if len(f) >= 3 and f[-1] == '[kernel.kallsyms]':
            total += float(f[0].rstrip('%'))
    return total


def sec_notes(r):
    """What limits performance, from this run's own figures."""
    s, n = r['service'], []
    n.append('- **Service throughput.** filterd gives %.0f%% of echod (the same client and '
             'transport, answered in place) and %.0f%% of its own echo mode, so the scan costs '
             'little of a request. What is left is the transport the three share -- the '
             'client\'s encode and decode and its ZeroMQ I/O thread, the broker\'s ZMTP '
             'framing, envelope and decode -- plus one unix-socket round trip to a worker per '
             'batch of texts; on 2 cores the load generator (two threads), the broker and 2 '
             'workers share the CPU.' % (100 * s['echod_ratio'], 100 * s['echo_ratio']))
    ks = kernel_share(s.get('profile'))
    if ks:
        n.append('- **Biggest cost:** the kernel: %.0f%% of the samples of filterd\'s processes '
                 '(wake-ups, poll, socket send/receive).' % ks)
    w = {x['workers']: x['rps'] for x in r.get('workers', [])}
    if w:
        n.append('- **Workers.** %s req/s with %s workers on %d cores.'
                 % (' / '.join('%.0f' % w[k] for k in sorted(w)),
                    ' / '.join(str(k) for k in sorted(w)), r['machine']['cores']))
    o = s['open_half']
    n.append('- **Latency at half load** (%.0f req/s): filterd p50 %.3f ms, p99 %.3f ms; the echo '
             'baseline at the same rate: p50 %.3f ms, p99 %.3f ms%s.'
             % (s['half_rate'], o['filterd']['latency_ms']['p50'], s['p99_half_ms'],
                o['echo']['latency_ms']['p50'], o['echo']['latency_ms']['p99'],
                '; echod: p50 %.3f ms, p99 %.3f ms' % (o['echod']['latency_ms']['p50'],
                                                        o['echod']['latency_ms']['p99'])
                if 'echod' in o else ''))
    e = r.get('engine')
    if e:
        n.append('- **Engine.** full %.2f us/post = fold %.2f + raw scan %.2f (+ %.2f for the '
                 'callback and decision): the fold is %.0f%% of the full cost, which is why '
                 'full/raw is %.0f%%.' % (e['full']['us_post'], e['fold']['us_post'],
                                          e['raw']['us_post'],
                                          max(0, e['full']['us_post'] - e['fold']['us_post'] -
                                              e['raw']['us_post']),
                                          100 * e['fold']['us_post'] / e['full']['us_post'],
                                          100 * e['ratio']))
    mc = r['machine']
    n.append('- **Noise.** Load average %.1f before and %.1f after the run on %d cores shared '
             'with other work: single runs vary; compare medians of interleaved rounds, and '
             'ratios within one run.' % (mc['load_before'][0], mc['load_after'][0], mc['cores']))
    return '## What limits performance\n' + '\n'.join(n) + '\n'


def write(r, out_dir):
    plots = {'latency': plot_latency(r, out_dir), 'workers': plot_workers(r, out_dir),
             'lists': plot_lists(r, out_dir), 'peers': plot_peers(r, out_dir)}
    tg = targets(r)
    summary = ['filterd benchmark, mode %s, %s' % (r['mode'], r['started'])]
    summary += ['  %-62s %-28s %-8s %s' % row for row in tg]
    misses = [row for row in tg if row[3] == 'MISS']
    body = ['# filterd benchmark report\n', sec_machine(r), '\n## Targets\n',
            md_table(['target', 'measured', 'goal', ''], tg),
            '\n%s\n' % ('Every target is met.' if not misses else
                        'Missed: %s. See the profile below each part, and the notes.'
                        % '; '.join(m[0] for m in misses)),
            sec_service(r, plots), '\n', httpbench.sec_http(r, md_table), '\n',
            sec_transport(r), '\n', sec_engine(r), '\n',
            sec_peers(r, plots), '\n', sec_leet(r), '\n',
            sec_scaling(r, plots), '\n', clientbench.section(r, md_table), '\n', sec_notes(r)]
    with open(os.path.join(out_dir, 'report.md'), 'w') as f:
        f.write(''.join(body))
    with open(os.path.join(out_dir, 'summary.txt'), 'w') as f:
        f.write('\n'.join(summary) + '\n')
    for name in os.listdir(out_dir):
        if name.endswith('.dat'):
            os.unlink(os.path.join(out_dir, name))


if __name__ == '__main__':
    d = sys.argv[1]
    write(json.load(open(os.path.join(d, 'results.json'))), d)
    print(open(os.path.join(d, 'summary.txt')).read())
