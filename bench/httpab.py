#!/usr/bin/env python3
"""httpab.py -- A/B of the HTTP front door: two (or more) filterd binaries side by side, same run.

Usage: bench/httpab.py NAME=FILTERD[,NAME=FILTERD...] [ROUNDS [SECS]]
       bench/httpab.py --syscalls NAME=FILTERD[,...]
       bench/httpab.py --service NAME=FILTERD[,...] [RUNS]
       bench/httpab.py --cpu NAME=FILTERD[,...] [ROUNDS]

Needs a built tree (make bench-quick once: build/bench/filterbench, the
60,000-term list and the 200-byte posts under build/bench/work) and wrk.
Default: one daemon per binary (2 workers, HTTP on a free port), all up at
once; in each of ROUNDS (3) rounds, for each daemon in turn, the ZeroMQ
closed loop (filterbench 1 x 16) then wrk on /v1/check (16 keep-alive
connections), SECS (3) seconds each, as bench/httpbench.py; prints each
round's HTTP / ZeroMQ ratio and the medians. --syscalls: for each binary in
turn, 4 s of wrk with `perf stat -e raw_syscalls:sys_enter` on the http
process and on the broker, and their CPU time from /proc: system calls and
CPU microseconds per HTTP request (the measure of issue 13d, steadier than
req/s on a loaded machine). --service: the HTTP part of make bench-service
(httpbench.part_http, its settings) for each binary in turn, RUNS (1) times
over, alternating: the target's ratio as the suite measures it, with the
load average before and after each. --cpu: the CPU time of every process
on each path (the load generator, filterd's processes) per request, for the
ZeroMQ closed loop and for wrk on /v1/check, and their quotient: the ratio
the two paths would reach when they have the 2 cores to themselves (each
path's throughput is then the cores over its CPU per request), an estimate
that a loaded machine moves much less than req/s."""
import functools, os, re, resource, statistics, subprocess, sys
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpbench, suite                  # noqa: E402
from servers import Server               # noqa: E402


def daemon(name, binary, biglist, tokens):
    port = httpbench.free_port()
    s = Server('ab-' + name, 'scan', biglist, binary=binary,
               extra='http-listen 127.0.0.1:%d\nhttp-tokens %s\nhttp-connections 1024\n'
               % (port, tokens))
    s.url = 'http://127.0.0.1:%d/v1/check' % port
    return s


def pid_of(s, proc):
    return int(re.findall(r'proc=%s pid=(\d+)' % proc, open(s.log).read())[-1])


def cpu_us(pid):                         # utime + stime, clock ticks of 10 ms
    f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) * 10000


def syscalls(s, files):
    http, broker = pid_of(s, 'http'), pid_of(s, 'broker')
    t0 = {p: cpu_us(p) for p in (http, broker)}
    perf = {p: subprocess.Popen(['perf', 'stat', '-x,', '-e', 'raw_syscalls:sys_enter', '-p',
                                 str(p), '--', 'sleep', '4'], stderr=subprocess.PIPE, text=True)
            for p in (http, broker)}
    h = httpbench.wrk(s.url, files['check'], 4, httpbench.HTTP_CONNS)
    n = {p: int(perf[p].communicate()[1].strip().splitlines()[-1].split(',')[0]) for p in perf}
    k = h['requests']
    print('%s: %d requests (%.0f/s); per request: http %.2f system calls, %.1f us CPU; '
          'broker %.2f system calls, %.1f us CPU' % (s.name, k, h['rps'], n[http] / k,
          (cpu_us(http) - t0[http]) / k, n[broker] / k, (cpu_us(broker) - t0[broker]) / k),
          flush=True)


def tree_cpu_us(root):                   # root and its descendants
    kids, tot = {}, 0
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                f = open('/proc/%s/stat' % d).read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            kids.setdefault(int(f[1]), []).append(int(d))
    todo = [root]
    while todo:
        p = todo.pop()
        try:
            tot += cpu_us(p)
        except OSError:
            pass
        todo += kids.get(p, [])
    return tot


def children_cpu_us():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1e6


def cpu(bins, rounds, biglist, files, tokens):
    m = dict(suite.MODES['service'], secs=3, warm=0)   # CPU from start to end: no warm-up
    srv = {n: daemon(n, b, biglist, tokens) for n, b in bins.items()}
    est = {n: [] for n in bins}
    try:
        for s in srv.values():
            s.start()
            httpbench.wrk(s.url, files['check'], 1, 4)
        for r in range(rounds):
            for n, s in srv.items():         # interleaved: each round, each daemon
                per = {}
                for path in ('zmq', 'http'):
                    d0, c0 = tree_cpu_us(s.proc.pid), children_cpu_us()
                    if path == 'zmq':
                        k = suite.bench(s, m)['rps'] * m['secs']
                    else:
                        k = httpbench.wrk(s.url, files['check'], m['secs'],
                                          httpbench.HTTP_CONNS)['requests']
                    per[path] = ((tree_cpu_us(s.proc.pid) - d0) + (children_cpu_us() - c0)) / k
                est[n].append(per['zmq'] / per['http'])
                print('round %d %s (load %.1f): CPU per request: ZeroMQ path %.1f us, HTTP path '
                      '%.1f us; estimated HTTP / ZeroMQ %.1f%%' % (r + 1, n, os.getloadavg()[0],
                      per['zmq'], per['http'], 100 * est[n][-1]), flush=True)
    finally:
        for s in srv.values():
            s.stop()
    for n in bins:
        print('%s: median estimate %.1f%%' % (n, 100 * statistics.median(est[n])))


def service(bins, runs, biglist):
    for r in range(runs):
        for n, b in bins.items():
            la = os.getloadavg()[0]
            h = httpbench.part_http(suite.MODES['service'], biglist,
                                    functools.partial(Server, binary=os.path.abspath(b)),
                                    suite.bench, lambda s: None, suite.WORK, suite.POSTS200)
            c = h['closed']
            print('%s run %d (load %.1f before, %.1f after): HTTP / ZeroMQ %.1f%% (%.0f / %.0f '
                  'req/s), msgSecCheck %.1f%%' % (n, r + 1, la, os.getloadavg()[0],
                  100 * h['ratio'], c['http']['rps'], c['zmq']['rps'], 100 * h['wxa_ratio']),
                  flush=True)


def main():
    args = sys.argv[1:]
    if args[:1] == ['--cpu'] and len(args) > 1:
        tokens = os.path.join(suite.WORK, 'http-tokens')
        with open(tokens, 'w') as f:
            f.write(httpbench.TOKEN + '\n')
        return cpu(dict(a.split('=', 1) for a in args[1].split(',')),
                   int(args[2]) if len(args) > 2 else 3,
                   os.path.join(suite.WORK, 'list-%d' % suite.LIST_TERMS),
                   httpbench.bodies(suite.POSTS200, suite.WORK), tokens)
    if args[:1] == ['--service'] and len(args) > 1:
        return service(dict(a.split('=', 1) for a in args[1].split(',')),
                       int(args[2]) if len(args) > 2 else 1,
                       os.path.join(suite.WORK, 'list-%d' % suite.LIST_TERMS))
    sc = args[:1] == ['--syscalls']
    args = args[1:] if sc else args
    if not args:
        sys.exit(__doc__)
    bins = dict(a.split('=', 1) for a in args[0].split(','))
    rounds = int(args[1]) if len(args) > 1 else 3
    secs = float(args[2]) if len(args) > 2 else 3
    biglist = os.path.join(suite.WORK, 'list-%d' % suite.LIST_TERMS)
    files = httpbench.bodies(suite.POSTS200, suite.WORK)
    tokens = os.path.join(suite.WORK, 'http-tokens')
    with open(tokens, 'w') as f:
        f.write(httpbench.TOKEN + '\n')
    srv = {n: daemon(n, b, biglist, tokens) for n, b in bins.items()}
    m = dict(suite.MODES['service'], secs=secs, warm=0.5)
    res = {n: {'zmq': [], 'http': [], 'ratio': []} for n in bins}
    print('load average', os.getloadavg(), flush=True)
    try:
        for n, s in srv.items():
            if sc:                       # one daemon at a time
                s.start()
                httpbench.wrk(s.url, files['check'], 1, 4)
                syscalls(s, files)
                s.stop()
                continue
            s.start()
            httpbench.wrk(s.url, files['check'], 1, 4)      # warm-up
        for r in range(0 if sc else rounds):
            for n, s in srv.items():
                z = suite.bench(s, m)['rps']
                h = httpbench.wrk(s.url, files['check'], secs, httpbench.HTTP_CONNS)
                for k, v in (('zmq', z), ('http', h['rps']), ('ratio', h['rps'] / z)):
                    res[n][k].append(v)
                print('round %d %s: zmq %.0f, http %.0f req/s, ratio %.3f, http p99 %.2f ms, '
                      'errors %d' % (r + 1, n, z, h['rps'], h['rps'] / z, h['latency_ms']['p99'],
                                     h['errors_total']), flush=True)
    finally:
        for s in srv.values():
            s.stop()
    print('load average', os.getloadavg())
    for n in ([] if sc else bins):
        print('%s: median zmq %.0f, http %.0f req/s; median of the rounds\' ratios %.3f'
              % (n, statistics.median(res[n]['zmq']), statistics.median(res[n]['http']),
                 statistics.median(res[n]['ratio'])))


if __name__ == '__main__':
    main()
