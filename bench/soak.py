#!/usr/bin/env python3
"""soak.py -- filterd under steady load while its lists reload and its workers are killed.

Usage: bench/soak.py [--seconds 60] [--load 0.8] [--reload-every 5] [--kill-every 10]
(`make bench-soak` builds filterd, filterctl and filterbench first.)

Starts filterd as the suite does (2 workers, the 60,000-term list, ipc), then
  1. reloads twice before the load, so that both contents of the file that
     alternates (below) are compiled and in the cache: a reload under load
     then loads its databases from the cache, as a reload of lists seen
     before does;
  2. measures its maximum: closed loop, 1 connection x 16 in flight, 3 s;
  3. runs filterbench in open loop at --load x that maximum for --seconds;
  4. meanwhile reloads the lists every --reload-every s (`filterctl reload`
     in a thread of its own; one small file alternates between two
     contents, so every reload switches to another version and replaces
     every worker; a reload still running when the next is due makes that
     one wait), and SIGKILLs one worker every --kill-every s;
  5. samples the resident memory (VmRSS) of the supervisor, the broker and
     every worker once a second.
Writes bench/results/<timestamp>-soak/soak.json and soak.md, prints the
summary, and exits 1 when a check fails:
  lost      no request unanswered and none answered by the client's own
            fallback ("unavailable");
  errors    no error reply;
  reloads   every reload answered ok;
  memory    the supervisor's and the broker's RSS, and the median worker's,
            grow by less than 10% (or 2 MB) from the third tenth of the run
            (pools and caches grown, the first reloads done) to its last,
            each tenth taken at its floor (its least sample: a reload's
            transient second rule set is not growth) -- the workers' at
            their ceiling (each reload and kill replaces them, and a new
            worker grows from its load to its working set: a tenth's least
            sample is the one just started; a leak raises the ceiling).
Degraded replies (deadline: a text whose worker was killed and whose retry
did not fit in its budget) are counted and reported, not failed."""
import argparse, json, os, signal, statistics, subprocess, sys, threading, time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite                                  # noqa: E402  (the suite's servers and inputs)

FILTERCTL = os.path.join(suite.BUILD, 'filterctl')
GROWTH = 0.10              # fraction: allowed RSS growth, first tenth to last tenth
GROWTH_KB = 2048           # kB: growth below this passes whatever the fraction
ALT = ('zqsoakalphax\n', 'zqsoakbetax\n')   # the file that alternates on each reload


def rss_kb(pid):
    try:
        for line in open('/proc/%d/status' % pid):
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def children(pid):
    out = suite.sh('pgrep -P %d' % pid).split()
    return [int(p) for p in out]


def admin(server, op):
    out = subprocess.run([FILTERCTL, op, '--admin', 'ipc://%s/run-%s/admin.sock'
                          % (suite.WORK, server.name)], capture_output=True, text=True,
                         timeout=60)
    return out.returncode, out.stdout, out.stderr


def worker_pids(server):
    rc, out, _ = admin(server, 'workers')
    if rc:
        return []
    return [w['pid'] for w in json.loads(out).get('workers', [])]


class Chaos(threading.Thread):
    """Kills on schedule and samples memory every second; reloads run in a
    thread of their own (a reload takes a second or more)."""

    def __init__(self, server, a, alt_path):
        super().__init__(daemon=True)
        self.server, self.a, self.alt_path = server, a, alt_path
        self.stop = threading.Event()
        self.reloads, self.kills, self.samples = [], [], []
        self.t0 = time.time()
        self.reloader = threading.Thread(target=self.reload_loop, daemon=True)

    def reload(self):
        with open(self.alt_path, 'w') as f:
            f.write(ALT[len(self.reloads) % 2])
        start = time.time()
        rc, out, err = admin(self.server, 'reload')
        self.reloads.append({'t': start - self.t0, 'seconds': time.time() - start,
                             'ok': rc == 0, 'version': out.strip(), 'error': err.strip()})

    def reload_loop(self):
        k = 1
        while not self.stop.wait(max(0.0, self.t0 + k * self.a.reload_every - time.time())):
            self.reload()
            k = max(k + 1, int((time.time() - self.t0) / self.a.reload_every) + 1)

    def run(self):
        sup = self.server.proc.pid
        broker = [p for p in children(sup) if p not in worker_pids(self.server)]
        self.t0 = time.time()
        self.reloader.start()
        next_kill, k = self.t0 + self.a.kill_every, 0
        while not self.stop.is_set():
            now = time.time()
            workers = worker_pids(self.server)
            self.samples.append({'t': now - self.t0, 'supervisor': rss_kb(sup),
                                 'broker': rss_kb(broker[0]) if broker else None,
                                 'workers': [x for x in (rss_kb(p) for p in workers) if x]})
            if now >= next_kill and workers:
                victim = workers[k % len(workers)]
                os.kill(victim, signal.SIGKILL)
                self.kills.append({'t': now - self.t0, 'pid': victim})
                k += 1
                next_kill += self.a.kill_every
            self.stop.wait(max(0.0, 1.0 - (time.time() - now)))
        self.reloader.join()


def part(samples, key, lo, hi, how=statistics.mean):
    """RSS of key (the median worker's for workers) over the samples from
    fraction lo to hi of the run: their mean, or how (min: the floor)."""
    n = len(samples)
    vals = []
    for s in samples[int(lo * n):max(int(lo * n) + 1, int(hi * n))]:
        v = statistics.median(s[key]) if key == 'workers' and s[key] else s[key]
        if v:
            vals.append(v)
    return how(vals) if vals else 0


def memory(samples):
    """Growth of each process's floor (its least RSS in a window): the
    supervisor holds two rule sets while it reloads and gives one back after
    (malloc_trim), so its RSS is a saw and a window's mean depends on how many
    samples fall inside a reload; a leak raises the floor. The workers are
    replaced at every reload and kill and grow from their start to their
    working set, so theirs is the ceiling (the most in a window)."""
    out = {}
    for key in ('supervisor', 'broker', 'workers'):
        how = max if key == 'workers' else min
        first, last = part(samples, key, 0.2, 0.3, how), part(samples, key, 0.9, 1.0, how)
        allv = [v for v in (part([s], key, 0, 1) for s in samples) if v]
        out[key] = {'start_kb': part(samples, key, 0, 0.1), 'first_kb': first, 'last_kb': last,
                    'first_mean_kb': part(samples, key, 0.2, 0.3),
                    'last_mean_kb': part(samples, key, 0.9, 1.0),
                    'max_kb': max(allv) if allv else 0,
                    'growth': (last - first) / first if first else 0,
                    'ok': last - first < max(GROWTH * first, GROWTH_KB)}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--seconds', type=float, default=60)
    p.add_argument('--load', type=float, default=0.8)
    p.add_argument('--reload-every', type=float, default=5)
    p.add_argument('--kill-every', type=float, default=10)
    a = p.parse_args()
    os.makedirs(suite.WORK, exist_ok=True)
    lists = suite.make_list(suite.LIST_TERMS, os.path.join(suite.WORK, 'list-soak'))
    os.makedirs(os.path.join(lists, 'soak'), exist_ok=True)
    alt = os.path.join(lists, 'soak', 'other.txt')
    with open(alt, 'w') as f:
        f.write(ALT[1])
    suite.make_posts200()
    m = dict(suite.MODES['service'], secs=3.0, warm=0.5)
    server = suite.Server('soak', 'scan', lists)
    stamp = time.strftime('%Y%m%d-%H%M%S')
    out_dir = os.path.join(suite.ROOT, 'bench', 'results', stamp + '-soak')
    os.makedirs(out_dir, exist_ok=True)
    res = {'started': time.strftime('%Y-%m-%d %H:%M:%S %z'), 'settings': vars(a),
           'machine': suite.machine()}
    try:
        server.start()
        for k in (0, 1):                      # both contents compiled and cached first
            with open(alt, 'w') as f:
                f.write(ALT[k])
            if admin(server, 'reload')[0]:
                raise RuntimeError('the warm-up reload failed: see %s' % server.log)
        top = suite.bench(server, m)['rps']
        rate = a.load * top
        res.update(max_rps=top, rate=rate)
        suite.log('soak: maximum %.0f req/s; %.0f s at %.0f req/s' % (top, a.seconds, rate))
        chaos = Chaos(server, a, alt)
        chaos.start()
        load = suite.bench(server, dict(m, secs=a.seconds, warm=0.0), open_rate=rate,
                           tag='soak')
        chaos.stop.set()
        chaos.join()
        res.update(load=load, reloads=chaos.reloads, kills=chaos.kills, samples=chaos.samples)
        rc, out, _ = admin(server, 'stats')   # the broker's side: paused reads, drops
        st = json.loads(out) if rc == 0 else {}
        res['broker'] = {k: st.get(k) for k in ('reads_paused', 'reply_queue_full', 'dropped',
                                                 'deadline', 'overload')}
        res['log_warnings'] = suite.sh("grep -c 'level=warn' %s" % server.log)
    finally:
        server.stop()
    res['memory'] = memory(res.get('samples', []))
    write(res, out_dir)


def write(res, out_dir):
    ld = res['load']
    lost = ld['unanswered'] + ld['degraded'].get('unavailable', 0)
    checks = [('lost', lost == 0, '%d (unanswered %d, unavailable %d)'
               % (lost, ld['unanswered'], ld['degraded'].get('unavailable', 0))),
              ('errors', ld['errors'] == 0, '%d' % ld['errors']),
              ('reloads', all(r['ok'] for r in res['reloads']),
               '%d of %d ok' % (sum(r['ok'] for r in res['reloads']), len(res['reloads'])))]
    for k, v in res['memory'].items():
        checks.append(('memory %s' % k, v['ok'], '%.1f MB at the start, %s %.1f -> %.1f MB '
                       '(%+.1f%%), mean %.1f -> %.1f, max %.1f MB'
                       % (v['start_kb'] / 1024, 'ceiling' if k == 'workers' else 'floor',
                          v['first_kb'] / 1024, v['last_kb'] / 1024,
                          100 * v['growth'], v.get('first_mean_kb', 0) / 1024,
                          v.get('last_mean_kb', 0) / 1024, v['max_kb'] / 1024)))
    lines = ['filterd soak, %s: %.0f s at %.0f req/s (%.0f%% of %.0f), reload every %g s, '
             'a worker killed every %g s' % (res['started'], res['settings']['seconds'],
                                             res['rate'], 100 * res['settings']['load'],
                                             res['max_rps'], res['settings']['reload_every'],
                                             res['settings']['kill_every']),
             '  requests %d sent, %.0f req/s answered; latency p50 %.3f p99 %.3f p99.9 %.3f '
             'max %.3f ms' % (ld['sent'], ld['rps'], ld['latency_ms']['p50'],
                              ld['latency_ms']['p99'], ld['latency_ms']['p999'],
                              ld['latency_ms']['max']),
             '  degraded: %s; workers killed %d; reloads %d (%.1f s each at most)'
             % (', '.join('%s %d' % kv for kv in ld['degraded'].items()), len(res['kills']),
                len(res['reloads']), max([r['seconds'] for r in res['reloads']] or [0])),
             '  broker: %s' % ', '.join('%s %s' % kv for kv in res.get('broker', {}).items())]
    lines += ['  %-18s %-5s %s' % (n, 'PASS' if ok else 'FAIL', what) for n, ok, what in checks]
    summary = '\n'.join(lines) + '\n'
    res['checks'] = [{'name': n, 'ok': ok, 'figure': w} for n, ok, w in checks]
    with open(os.path.join(out_dir, 'soak.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out_dir, 'soak.md'), 'w') as f:
        f.write('# filterd soak\n\n```\n%s```\n' % summary)
    print(summary, end='')
    suite.log('soak: %s' % os.path.relpath(os.path.join(out_dir, 'soak.md'), suite.ROOT))
    sys.exit(0 if all(ok for _, ok, _ in checks) else 1)


if __name__ == '__main__':
    main()
