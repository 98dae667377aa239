#!/usr/bin/env python3
"""suite.py -- the benchmark suite: runs every part side by side, writes the report.

Usage: bench/suite.py --service | --quick | --full   (bench/run.sh installs what it needs first)

Parts (bench/README.md says what each figure means):
  service  filterd vs filterd --echo vs echod (no broker) vs the baseline
           filterd (built from BENCH_BASE, today's main before issue 11),
           closed loop in interleaved rounds, one request in flight, open
           loop at half of filterd's maximum, bulk checks of 32 posts, and an
           open-loop sweep of rates up to saturation;
  transport the broker-to-worker hop alone (linkbench): ZeroMQ ipc against
           a unix socket, round trips of 1, 8 and 32 messages;
  http     the HTTP front door (wrk) against the ZeroMQ path of the same
           daemon, closed loop and at half load (httpbench.py);
  scaling  filterd requests/s with 1, 2, 4 workers and with worker-window
           1, 8, 32, 64 (single and bulk checks); engine MB/s, compile
           time, database size and memory against list size;
  peers    python3-ahocorasick, mint-filter, ripgrep -F -f, raw hs_scan and
           filterd's engine on the same posts and the same literal list,
           interleaved in rounds;
  clients  the C, Node.js and Python clients on one filterd (clientbench.py);
and writes bench/results/<timestamp>/ report.md, results.json, *.png.
Every figure is a median of rounds run interleaved, so that the rounds share
the shared machine's noise; ratios are taken within the same run."""
import json, os, platform, re, shutil, statistics, subprocess, sys, time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clientbench                                # noqa: E402  (the clients part)
import timeline as timeline_mod                   # noqa: E402  (the half load's stalls)
from servers import Server, sh                    # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build')
BIN = os.path.join(BUILD, 'bench')
WORK = os.path.join(BUILD, 'bench', 'work')     # configs, sockets, lists, logs
POSTS = os.path.join(ROOT, 'bench', 'data', 'posts.txt')
POSTS200 = os.path.join(WORK, 'posts200.txt')
NODE_MODULES = os.path.join(BUILD, 'bench', 'node', 'node_modules')
DEBIAN_PY = '/usr/bin/python3'                   # python3-ahocorasick lives there
POST_BYTES = 200                                 # service corpus: every post this long

# Targets (issue 3 "Benchmark", issue 5 section 3, issue 11).
T_ECHO_RATIO = 0.70        # filterd req/s / echo req/s, at least
T_ECHOD_RATIO = 0.35       # filterd req/s / echod req/s, closed loop, at least (issue 11)
T_BASE_RATIO = 4.0         # filterd req/s / the baseline's, same run, at least (issue 11)
T_ONE_US = 80              # one in flight: filterd p50 - echod p50, at most, us (issue 11)
T_BULK_POSTS = 150000      # bulk checks of BULK_ITEMS posts: posts/s, at least (issue 11)
T_P99_MS = 1.0             # p99 at half of the maximum throughput, below
T_RAW_RATIO = 0.40         # engine (full normalisation, every view) / raw hs_scan of every view, at least (issue 9)
T_MINT = 5.0               # engine posts/s / mint-filter posts/s, at least
T_PY = 25.0                # engine posts/s / python3-ahocorasick posts/s, at least

# Run sizes per mode: seconds measured per run, warm-up, interleaved rounds.
MODES = {
    'quick':   dict(secs=1.0, warm=0.3, rounds=1, sweep=[0.25, 0.5, 0.9, 1.2], sweep_secs=1.0,
                    sizes=[1000, 10000], workers=[1, 2, 4], windows=[1, 32], peer_secs=1.0,
                    peer_rounds=1, engine_secs=1.0, lists_secs=1.0, link_rounds=5000,
                    profile=False),
    'service': dict(secs=5.0, warm=1.0, rounds=3, sweep=[], sweep_secs=0, sizes=[], workers=[],
                    windows=[], peer_secs=0, peer_rounds=0, engine_secs=0, lists_secs=0,
                    link_rounds=20000, profile=True),
    'full':    dict(secs=5.0, warm=1.0, rounds=3,
                    sweep=[0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.2], sweep_secs=3.0,
                    sizes=[1000, 10000, 50000, 100000], workers=[1, 2, 4],
                    windows=[1, 8, 32, 64], peer_secs=3.0, peer_rounds=3, engine_secs=3.0,
                    lists_secs=3.0, link_rounds=20000, profile=True),
}
CLOSED_INFLIGHT = 16       # requests in flight per connection, closed loop
CLOSED_CONNS = 1           # the load generator shares the 2 cores: keep it one thread
BULK_ITEMS = 32            # posts per bulk check
BULK_INFLIGHT = 8          # bulk checks in flight (256 posts)
# The baseline: filterd as it was before the batched request path (issue 11),
# built from this commit into build/bench/base-<rev>; BENCH_BASE= (empty) skips it.
BASE_REV = os.environ.get('BENCH_BASE', '5db5c22')
LIST_TERMS = 60000         # the service and peers list (bench/mklist.sh default)


def log(*a):
    print('[bench]', *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def median(xs):
    return statistics.median(xs) if xs else 0.0


# ---- inputs ---------------------------------------------------------------

def make_list(terms, out, repo=True, tree=ROOT):
    """bench/mklist.sh into out (under a second; always redone, so that the
    list follows the repository's wordlists/). repo=False: generated terms
    only, exactly that many. tree: the source tree whose mklist.sh and
    wordlists/ to use (the baseline's, whose parser may not read today's
    list format)."""
    run(['sh', os.path.join(tree, 'bench', 'mklist.sh'), '--terms', str(terms)] +
        ([] if repo else ['--no-repo']) + [out])
    return out


def make_posts200(src=POSTS, out=POSTS200):
    """The corpus cut into posts of exactly POST_BYTES bytes: the text runs on
    from post to post, is cut on UTF-8 character boundaries and padded with
    spaces to the size."""
    text = ' '.join(l.strip() for l in open(src, encoding='utf-8') if l.strip())
    res, cur, n = [], [], 0
    for ch in text:
        b = len(ch.encode('utf-8'))
        if n + b > POST_BYTES:
            res.append(''.join(cur) + ' ' * (POST_BYTES - n))
            cur, n = [], 0
            if ch == ' ':
                continue
        cur.append(ch)
        n += b
    with open(out, 'w', encoding='utf-8') as f:
        f.writelines(p + '\n' for p in res)
    return out


def literal_terms(list_dir):
    """Every literal, non-allow term of a list folder (regex entries dropped)."""
    terms = set()
    for d, _, files in os.walk(list_dir):
        for name in sorted(files):
            if not name.endswith('.txt'):
                continue
            lines = open(os.path.join(d, name), encoding='utf-8-sig').read().splitlines()
            if any(l.strip() == '@allow' for l in lines):
                continue
            for l in lines:
                t = l.strip()
                if not t or t[0] in '#@':
                    continue
                if t[0] == '[':
                    opts, _, rest = t[1:].partition(']')
                    if 're' in [o.strip() for o in opts.split(',')]:
                        continue
                    t = rest.strip()
                elif t[0] == '\\':
                    t = t[1:]
                if t:
                    terms.add(t)
    return sorted(terms)


def make_literal_list(list_dir, out):
    """terms.txt (one per line, for the peers) and lit/ (the same terms as one
    filterd list file, flag action, no @word) from list_dir."""
    terms = literal_terms(list_dir)
    os.makedirs(os.path.join(out, 'lit'), exist_ok=True)
    with open(os.path.join(out, 'terms.txt'), 'w', encoding='utf-8') as f:
        f.writelines(t + '\n' for t in terms)
    with open(os.path.join(out, 'lit', 'other.txt'), 'w', encoding='utf-8') as f:
        f.write('# literal terms for the peers benchmark (bench/suite.py)\n@action flag\n')
        f.writelines(('\\' + t if t[0] in '[@#' else t) + '\n' for t in terms)
    return os.path.join(out, 'terms.txt'), os.path.join(out, 'lit'), len(terms)


# ---- servers ---------------------------------------------------------------

def baseline_filterd(rev=BASE_REV):
    """The filterd of commit rev (git archive, then make build/filterd there),
    or None when it cannot be had (no rev, a shallow clone, a failed build)."""
    if not rev:
        return None
    d = os.path.join(BUILD, 'bench', 'base-' + rev)
    binp = os.path.join(d, 'build', 'filterd')
    if os.path.exists(binp):
        return binp
    log('baseline: building filterd of %s in %s' % (rev, os.path.relpath(d, ROOT)))
    try:
        os.makedirs(d, exist_ok=True)
        run(['sh', '-c', 'git -C "$0" archive "$1" | tar -x -C "$2"', ROOT, rev, d])
        run(['make', '-C', d, '-j2', 'build/filterd'])
        return binp
    except (OSError, subprocess.CalledProcessError) as e:
        log('baseline: not built (%s); the run goes on without it' % e)
        return None


def bench(server, m, open_rate=None, tag='', posts=None, secs=None, inflight=CLOSED_INFLIGHT,
          bulk=1, timeline=False, extra=()):
    """One filterbench run (extra: more of its options, e.g. --libzmq)."""
    cmd = [os.path.join(BIN, 'filterbench'), '--endpoint', server.ep, '--json',
           '--seconds', str(secs or m['secs']), '--warmup', str(m['warm']), '--tag', tag or server.name,
           '--bulk', str(bulk)] + list(extra)
    if open_rate:
        cmd += ['--open', '%.0f' % open_rate]
    else:
        cmd += ['--conns', str(CLOSED_CONNS), '--inflight', str(inflight)]
    tl = os.path.join(WORK, 'timeline-%s.txt' % server.name)
    if timeline:                  # where the slow requests come from (bench/timeline.py)
        cmd += ['--timeline', tl]
    r = json.loads(run(cmd + [posts or POSTS200]))
    r['server'] = server.name
    if timeline:
        r['timeline'] = timeline_mod.summary(tl)
        os.unlink(tl)
    return r


def median_timeline(tls):
    """The round whose p99 is the median's: its timeline summary (None without any)."""
    tls = [t for t in tls if t]
    if not tls:
        return None
    tls.sort(key=lambda t: t['parts_us']['latency']['p99'])
    return tls[len(tls) // 2]


def summarise(runs):
    """Median over rounds of each figure of interest."""
    keys = ['p50', 'p90', 'p99', 'p999', 'max', 'mean']
    return {'rps': median([r['rps'] for r in runs]),
            'texts_s': median([r.get('texts_s', r['rps']) for r in runs]),
            'latency_ms': {k: median([r['latency_ms'][k] for r in runs]) for k in keys},
            'errors': sum(r['errors'] for r in runs),
            'unanswered': sum(r['unanswered'] for r in runs),
            'degraded': {k: sum(r['degraded'][k] for r in runs) for k in runs[0]['degraded']},
            'timeline': median_timeline([r.get('timeline') for r in runs]),
            'decisions': {k: sum(r['decisions'][k] for r in runs) for k in runs[0]['decisions']},
            'rounds': len(runs), 'runs': runs}


# ---- profile ---------------------------------------------------------------

PERF_DATA = os.path.join(WORK, 'perf.data')


def perf_top(sort, limit, lines):
    """perf report of PERF_DATA: lines of 'pct comm dso symbol', trimmed."""
    out = sh('perf report -i %s --stdio --sort %s --percent-limit %g 2>/dev/null'
             % (PERF_DATA, sort, limit))
    rows = [re.sub(r'( -)+$', '', ' '.join(l.split())) for l in out.splitlines()
            if l.strip() and not l.startswith('#')]
    return '\n'.join(rows[:lines])


def perf_report():
    if not os.path.exists(PERF_DATA):
        return None
    res = {'by_process': perf_top('comm,dso', 1.0, 15), 'by_symbol': perf_top('comm,dso,symbol', 1.5, 20)}
    os.unlink(PERF_DATA)
    return res


def profile_pids(pids, fn, seconds):
    """perf record of these processes (all their threads) while fn runs."""
    if not shutil.which('perf') or not pids:
        return None
    rec = subprocess.Popen(['perf', 'record', '-q', '-o', PERF_DATA, '-p',
                            ','.join(str(p) for p in pids), '--', 'sleep', str(seconds)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        fn()
    finally:
        rec.wait()
    return perf_report()


def profile_cmd(cmd):
    """perf record of one command."""
    if not shutil.which('perf'):
        return None
    subprocess.run(['perf', 'record', '-q', '-o', PERF_DATA, '--'] + cmd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return perf_report()


# ---- the parts -------------------------------------------------------------

def rounds_of(servers, names, m, what, **kw):
    """Interleaved rounds of one kind of run over the named servers: medians."""
    runs = {n: [] for n in names}
    for r in range(m['rounds']):
        for n in names:
            log('service %s round %d: %s' % (what, r + 1, n))
            runs[n].append(bench(servers[n], m, **kw))
    return {n: summarise(v) for n, v in runs.items()}


def part_service(m, lists):
    kinds = [('filterd', 'scan', None), ('echo', 'echo', None), ('echod', 'echod', None)]
    base = baseline_filterd()
    if base:
        kinds.append(('base', 'scan', base))
    # The baseline reads the big list built from its own tree: the list format
    # grew since (disguise-view directives), and the same number of terms
    # keeps the comparison about the request path.
    base_lists = make_list(LIST_TERMS, os.path.join(WORK, 'list-base'),
                           tree=os.path.dirname(os.path.dirname(base))) if base else None
    servers = {n: Server(n, k, base_lists if n == 'base' else lists, binary=b)
               for n, k, b in kinds}
    res = {'post_bytes': POST_BYTES, 'inflight': CLOSED_INFLIGHT, 'conns': CLOSED_CONNS,
           'base_rev': BASE_REV if base else None, 'bulk_items': BULK_ITEMS,
           'bulk_inflight': BULK_INFLIGHT}
    try:
        for s in servers.values():
            s.start()
        res['closed'] = rounds_of(servers, list(servers), m, 'closed loop')
        one = [n for n in ('filterd', 'echod', 'base') if n in servers]
        res['one'] = rounds_of(servers, one, m, 'one in flight', inflight=1)
        top = res['closed']['filterd']['rps']
        half = top / 2
        res['half_rate'] = half
        res['open_half'] = rounds_of(servers, ['filterd', 'echo', 'echod'], m,
                                     'open loop at %.0f req/s' % half, open_rate=half,
                                     timeline=True)
        bulk = [n for n in ('filterd', 'echo') if n in servers]
        res['bulk'] = rounds_of(servers, bulk, m, 'bulk checks of %d' % BULK_ITEMS,
                                inflight=BULK_INFLIGHT, bulk=BULK_ITEMS)
        res['sweep'] = sweep(servers, m, top)
        if m['profile']:
            log('service profile (perf record) under closed loop on filterd')
            res['profile'] = profile_pids(servers['filterd'].pids(),
                                          lambda: bench(servers['filterd'], m, secs=3), 3.5)
    finally:
        for s in servers.values():
            s.stop()
    c = res['closed']
    ratio = lambda a, b: a / b if b else 0
    res['echo_ratio'] = ratio(c['filterd']['rps'], c['echo']['rps'])
    res['broker_ratio'] = ratio(c['echo']['rps'], c['echod']['rps'])
    res['echod_ratio'] = ratio(c['filterd']['rps'], c['echod']['rps'])
    res['base_ratio'] = ratio(c['filterd']['rps'], c['base']['rps']) if 'base' in c else None
    o = res['one']
    res['one_extra_us'] = 1000 * (o['filterd']['latency_ms']['p50'] - o['echod']['latency_ms']['p50'])
    res['bulk_posts_s'] = res['bulk']['filterd']['texts_s']
    res['p99_half_ms'] = res['open_half']['filterd']['latency_ms']['p99']
    return res


def sweep(servers, m, top):
    """Open loop at fractions of filterd's maximum, on every server, in
    interleaved rounds; the median of each figure per (server, rate)."""
    runs = {}
    for r in range(m['rounds']):
        for f in m['sweep']:
            for n in ('filterd', 'echo', 'echod'):
                log('service sweep round %d, %.2f x max: %s' % (r + 1, f, n))
                runs.setdefault((f, n), []).append(
                    bench(servers[n], m, open_rate=f * top, secs=m['sweep_secs']))
    out = []
    for (f, n), v in sorted(runs.items()):
        x = summarise(v)
        x.update(server=n, fraction=f, rate=f * top,
                 send_lag_ms={'p99': median([r['send_lag_ms']['p99'] for r in v])})
        del x['runs']
        out.append(x)
    return out


def part_workers(m, lists):
    res = []
    for w in m['workers']:
        s = Server('filterd-w%d' % w, 'scan', lists, workers=w)
        try:
            s.start()
            log('scaling: %d workers' % w)
            runs = [bench(s, m) for _ in range(max(1, m['rounds'] - 1))]
            res.append({'workers': w, 'rps': median([r['rps'] for r in runs]),
                        'p99_ms': median([r['latency_ms']['p99'] for r in runs])})
        finally:
            s.stop()
    return res


def part_windows(m, lists):
    """filterd with each worker-window (credit) side by side: closed loop of
    single checks and of bulk checks, interleaved rounds, medians."""
    if not m['windows']:
        return []
    servers = {w: Server('filterd-win%d' % w, 'scan', lists) for w in m['windows']}
    for w, s in servers.items():
        with open(s.cmd[2], 'a') as f:
            f.write('worker-window %d\n' % w)
    runs = {}
    try:
        for s in servers.values():
            s.start()
        for r in range(m['rounds']):
            for w, s in servers.items():
                log('scaling: worker-window %d, round %d' % (w, r + 1))
                runs.setdefault((w, 'one'), []).append(bench(s, m))
                runs.setdefault((w, 'bulk'), []).append(
                    bench(s, m, inflight=BULK_INFLIGHT, bulk=BULK_ITEMS))
    finally:
        for s in servers.values():
            s.stop()
    return [{'window': w, 'rps': median([x['rps'] for x in runs[(w, 'one')]]),
             'p99_ms': median([x['latency_ms']['p99'] for x in runs[(w, 'one')]]),
             'bulk_posts_s': median([x['texts_s'] for x in runs[(w, 'bulk')]])}
            for w in m['windows']]


def part_transport(m):
    """linkbench: the broker-to-worker hop alone, ZeroMQ ipc against a unix socket."""
    res = []
    for batch in (1, 8, 32):
        log('transport: round trips of %d message(s)' % batch)
        try:
            res.append(json.loads(run([os.path.join(BIN, 'linkbench'), '--json', '--rounds',
                                       str(m['link_rounds']), '--batch', str(batch), WORK])))
        except (OSError, subprocess.CalledProcessError, ValueError) as e:
            log('transport: linkbench failed (%s)' % e)
    return res


def bench_engine(lists, secs, rounds=3, posts=POSTS):
    out = run([os.path.join(BIN, 'bench_engine'), '--lists', lists, '--seconds', str(secs),
               '--rounds', str(rounds), '--json', posts])
    return json.loads(out)


def part_lists(m):
    res = []
    for n in m['sizes']:
        d = make_list(n, os.path.join(WORK, 'list-gen-%d' % n), repo=False)
        log('scaling: list of %d terms' % n)
        e = bench_engine(d, m['lists_secs'])
        res.append({'terms': n, 'entries': e['entries'], 'compile_s': e['compile_s'],
                    'db_mb': e['db_bytes'] / 1e6, 'ruleset_mb': e['ruleset_bytes'] / 1e6,
                    'maxrss_mb': e['maxrss_mb'], 'full_mb_s': e['full']['mb_s'],
                    'raw_mb_s': e['raw']['mb_s'], 'ratio': e['ratio']})
    return res


def peer_python(terms, secs):
    return json.loads(run([DEBIAN_PY, os.path.join(ROOT, 'bench', 'peers', 'aho.py'), terms,
                           POSTS, str(secs)]))


def peer_mint(terms, secs):
    return json.loads(run(['node', os.path.join(ROOT, 'bench', 'peers', 'mint.js'), NODE_MODULES,
                           terms, POSTS, str(secs)]))


def peer_rg(terms, secs):
    """rg -F -f over the whole file, repeated for secs; the automaton build is
    measured apart (the same run over an empty file) and taken out."""
    empty = os.path.join(WORK, 'empty.txt')
    open(empty, 'w').close()
    nposts = sum(1 for l in open(POSTS, encoding='utf-8') if l.strip())
    nbytes = sum(len(l.rstrip('\n').encode()) for l in open(POSTS, encoding='utf-8') if l.strip())

    def timed(path):
        t0 = time.perf_counter()
        p = subprocess.run(['rg', '-F', '-c', '-f', terms, path], capture_output=True, text=True)
        return time.perf_counter() - t0, p.stdout.strip()
    build = median([timed(empty)[0] for _ in range(3)])
    times, count, stop = [], '', time.time() + secs
    while time.time() < stop or not times:
        t, count = timed(POSTS)
        times.append(t)
    whole = median(times)
    scan = max(whole - build, 1e-6)
    return {'peer': 'ripgrep', 'build_s': build, 'whole_s': whole, 'posts_s': nposts / scan,
            'mb_s': nbytes / 1e6 / scan, 'whole_mb_s': nbytes / 1e6 / whole,
            'matches': int(count or 0), 'passes': len(times)}


def part_peers(m, list_dir):
    terms, lit, nterms = make_literal_list(list_dir, os.path.join(WORK, 'peers'))
    # The peers do exact matching of the raw text: filterd's engine doing that job
    # (normalisation and exact matching, the disguise views off: bench_engine's base
    # pass) is what the targets compare; with every disguise view on (the full
    # pass) it also reads each text by sound, leet, split characters ..., which no
    # peer does: reported beside it.
    runs = {k: [] for k in ('engine', 'engine_views', 'raw', 'python', 'mint', 'rg')}
    for r in range(m['peer_rounds']):
        log('peers round %d: filterd engine + raw hs_scan' % (r + 1))
        e = bench_engine(lit, m['peer_secs'] * 2, rounds=1)
        runs['engine'].append({'posts_s': e['base']['posts_s'], 'mb_s': e['base']['mb_s'],
                               'matches': None, 'compile_s': e['compile_s']})
        runs['engine_views'].append({'posts_s': e['full']['posts_s'], 'mb_s': e['full']['mb_s'],
                                     'matches': e['matches'], 'compile_s': e['compile_s']})
        runs['raw'].append({'posts_s': e['raw']['posts_s'], 'mb_s': e['raw']['mb_s'],
                            'matches': e['raw_matches']})
        for k, fn in (('python', peer_python), ('mint', peer_mint), ('rg', peer_rg)):
            log('peers round %d: %s' % (r + 1, k))
            try:
                runs[k].append(fn(terms, m['peer_secs']))
            except (OSError, subprocess.CalledProcessError, ValueError) as e:
                log('peers: %s could not run (%s); run bench/run.sh to install it' % (k, e))
    res = {'terms': nterms, 'rounds': m['peer_rounds'], 'missing': []}
    for k, v in runs.items():
        if not v:
            res['missing'].append(k)
            v.append({'posts_s': 0, 'mb_s': 0, 'matches': None})
        res[k] = {'posts_s': median([x['posts_s'] for x in v]), 'mb_s': median([x['mb_s'] for x in v]),
                  'matches': v[-1].get('matches'), 'build_s': median([x.get('build_s', x.get(
                      'compile_s', 0)) or 0 for x in v]), 'runs': v}
    eng, views = res['engine']['posts_s'], res['engine_views']['posts_s']
    for k in ('raw', 'python', 'mint', 'rg'):
        res[k]['engine_ratio'] = eng / res[k]['posts_s'] if res[k]['posts_s'] else 0
        res[k]['views_ratio'] = views / res[k]['posts_s'] if res[k]['posts_s'] else 0
    return res


def part_engine(m, list_dir):
    """The 60% target: the service list (with its regexes), full vs raw."""
    log('engine: full normalisation vs raw hs_scan on the %d-term list' % LIST_TERMS)
    e = bench_engine(list_dir, m['engine_secs'] * 2, rounds=3)
    e['target_ratio'] = T_RAW_RATIO
    if m['profile'] and e['ratio'] < T_RAW_RATIO:
        log('engine: profile (the target is missed)')
        e['profile'] = profile_cmd([os.path.join(BIN, 'bench_engine'), '--lists', list_dir,
                                    '--seconds', '4', '--rounds', '1', POSTS])
    return e


# ---- machine ---------------------------------------------------------------

def part_leet():
    """Latin disguises, filterd against obscenity (bench/leet.py; issue 9)."""
    log('leet: filterd and obscenity on tests/data/leet-spellings.tsv and clean English')
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import leet
    return leet.compare()


def machine():
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    pkgs = {}
    for p in ('libhyperscan5', 'libicu72', 'libzmq5', 'libmsgpackc2', 'python3-ahocorasick',
              'ripgrep', 'gnuplot-nox', 'nodejs', 'gcc'):
        v = sh("dpkg-query -W -f='${Version}' %s 2>/dev/null" % p)
        if v:
            pkgs[p] = v
    mint = os.path.join(NODE_MODULES, 'mint-filter', 'package.json')
    if os.path.exists(mint):
        pkgs['mint-filter (npm)'] = json.load(open(mint))['version']
    return {'cpu': cpu, 'cores': os.cpu_count(), 'kernel': platform.release(),
            'memory_gb': round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30, 1),
            'load_before': os.getloadavg(), 'packages': pkgs,
            'hyperscan': sh('pkg-config --modversion libhs'), 'icu': sh('pkg-config --modversion icu-uc'),
            'zmq': sh('pkg-config --modversion libzmq'), 'node': sh('node --version'),
            'commit': sh('cd %s && git rev-parse --short HEAD' % ROOT),
            'dirty': bool(sh('cd %s && git status --porcelain -uno' % ROOT))}


# ---- main ------------------------------------------------------------------

def main():
    mode = {'--service': 'service', '--quick': 'quick', '--full': 'full'}.get(
        sys.argv[1] if len(sys.argv) > 1 else '')
    if not mode:
        sys.exit('usage: bench/suite.py --service | --quick | --full')
    m = MODES[mode]
    stamp = time.strftime('%Y%m%d-%H%M%S')
    out_dir = os.path.join(ROOT, 'bench', 'results', stamp + ('-' + mode if mode != 'full' else ''))
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(WORK, exist_ok=True)
    res = {'mode': mode, 'started': time.strftime('%Y-%m-%d %H:%M:%S %z'), 'machine': machine(),
           'settings': m}
    t0 = time.time()
    biglist = make_list(LIST_TERMS, os.path.join(WORK, 'list-%d' % LIST_TERMS))
    make_posts200()
    res['service'] = part_service(m, biglist)
    res['transport'] = part_transport(m)
    import httpbench              # the HTTP front door against the ZeroMQ path (issue 13)
    res['http'] = httpbench.part_http(m, biglist, Server, bench, log, WORK, POSTS200)
    if mode != 'service':
        res['engine'] = part_engine(m, biglist)
        res['peers'] = part_peers(m, biglist)
        res['workers'] = part_workers(m, biglist)
        res['windows'] = part_windows(m, biglist)
        res['lists'] = part_lists(m)
        res['leet'] = part_leet()
        res['clients'] = clientbench.part(m, biglist, Server, bench, log, median, POSTS200)
    res['machine']['load_after'] = os.getloadavg()
    res['elapsed_s'] = time.time() - t0
    with open(os.path.join(out_dir, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1)
    import report
    report.write(res, out_dir)
    print(open(os.path.join(out_dir, 'summary.txt')).read())
    log('report: %s' % os.path.relpath(os.path.join(out_dir, 'report.md'), ROOT))


if __name__ == '__main__':
    main()
