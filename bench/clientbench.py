"""clientbench.py -- the clients' part of the suite: C, Node.js and Python on the same filterd.

One filterd (the service part's lists, 2 workers), and in interleaved rounds the same
closed loop through each client, with 1 and 32 requests in flight: filterbench (the C
client library), bench/clients/load.js (client/node, one Client), and
bench/clients/load.py (client/python: the asyncio client, and the blocking one at 1).
The Node and Python clients' figures are ratios to the C client's of the same round
count, same server, same run. section() renders the report's table."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, 'bench', 'clients')
NODE_PATH = os.path.join(ROOT, 'build', 'node', 'node_modules')   # make's client/node deps
DEBIAN_PY = '/usr/bin/python3'                                     # python3-zmq, -msgpack
INFLIGHT = (1, 32)


def runs(m, ep, posts):
    """name -> the command of one run (JSON {rps, p50, p99, errors, degraded} out), and
    the C client's closed loop, measured by the suite's bench()."""
    secs, warm = str(m['secs']), str(m['warm'])
    cmds = {}
    for n in INFLIGHT:
        cmds['node %d' % n] = ['node', os.path.join(HERE, 'load.js'), ep, posts, str(n), secs, warm]
        cmds['python asyncio %d' % n] = [DEBIAN_PY, os.path.join(HERE, 'load.py'), 'async', ep,
                                         posts, str(n), secs, warm]
    cmds['python blocking 1'] = [DEBIAN_PY, os.path.join(HERE, 'load.py'), 'sync', ep, posts,
                                 '1', secs, warm]
    return cmds


def part(m, lists, server_class, bench, log, median, posts):
    """Interleaved rounds of every client on one filterd: medians per client."""
    if not os.path.isdir(os.path.join(NODE_PATH, 'zeromq')):
        log('clients: %s missing (make builds it), no Node.js figures' % NODE_PATH)
    s = server_class('clients', 'scan', lists).start()
    env = dict(os.environ, NODE_PATH=NODE_PATH)
    got = {}
    try:
        cmds = runs(m, s.ep, posts)
        for r in range(m['rounds']):
            for n in INFLIGHT:
                log('clients round %d: C %d' % (r + 1, n))
                b = bench(s, m, posts=posts, inflight=n)
                got.setdefault('C %d' % n, []).append(
                    {'rps': b['rps'], 'p50': b['latency_ms']['p50'], 'p99': b['latency_ms']['p99'],
                     'errors': b['errors'], 'degraded': sum(b['degraded'].values())})
            for name, cmd in cmds.items():
                log('clients round %d: %s' % (r + 1, name))
                try:
                    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
                    got.setdefault(name, []).append(json.loads(out.stdout))
                except (OSError, subprocess.CalledProcessError, ValueError) as e:
                    log('clients: %s failed (%s)' % (name, getattr(e, 'stderr', '') or e))
    finally:
        s.stop()
    res = {}
    for name, xs in got.items():
        res[name] = {k: median([x[k] for x in xs]) for k in ('rps', 'p50', 'p99')}
        res[name].update(errors=sum(x['errors'] for x in xs),
                         degraded=sum(x['degraded'] for x in xs), rounds=len(xs))
    return res


def section(r, md_table):
    c = r.get('clients')
    if not c:
        return ''
    rows = []
    for name, x in sorted(c.items(), key=lambda kv: int(kv[0].split()[-1])):   # by in flight
        base = c.get('C %s' % name.split()[-1])
        ratio = '%.2f' % (x['rps'] / base['rps']) if base and base['rps'] else '-'
        rows.append([name, '%.0f' % x['rps'], ratio, '%.3f' % x['p50'], '%.3f' % x['p99'],
                     x['errors'], x['degraded'], x['rounds']])
    return ('## Clients\n\nThe same closed loop through each client, on one filterd (2 workers, '
            'the service lists, 200-byte posts), one client and one socket each, interleaved '
            'rounds (medians). "vs C": requests/s over the C client\'s at the same number in '
            'flight, same run.\n\n'
            + md_table(['client, in flight', 'req/s', 'vs C', 'p50 ms', 'p99 ms', 'errors',
                        'degraded', 'rounds'], rows))
