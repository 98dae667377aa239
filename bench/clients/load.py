"""load.py -- closed-loop load through the Python clients (client/python): JSON figures out.

/usr/bin/python3 bench/clients/load.py sync|async ENDPOINT POSTS INFLIGHT SECS WARM
async: INFLIGHT tasks over one AsyncClient; sync: one blocking Client (INFLIGHT 1).
Counts the calls that end within SECS after WARM, and their latencies."""
import asyncio
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                'client', 'python'))
from filterd_client import AsyncClient, Client, FilterdError   # noqa: E402


class Tally:
    def __init__(self, secs, warm):
        self.start = time.monotonic() + warm
        self.end = self.start + secs
        self.secs, self.lat, self.errors, self.degraded, self.next = secs, [], 0, 0, 0

    def record(self, t, r):
        if r is None:
            self.errors += 1
        elif r.get('degraded'):
            self.degraded += 1
        done = time.monotonic()
        if t >= self.start and done < self.end:
            self.lat.append((done - t) * 1000)

    def result(self):
        lat = sorted(self.lat)
        pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0  # noqa: E731
        return {'rps': len(lat) / self.secs, 'p50': pct(0.5), 'p99': pct(0.99),
                'errors': self.errors, 'degraded': self.degraded}


def run_sync(ep, posts, tally):
    with Client(ep) as c:
        while time.monotonic() < tally.end:
            t = time.monotonic()
            try:
                r = c.check(posts[tally.next % len(posts)])
            except FilterdError:
                r = None
            tally.next += 1
            tally.record(t, r)


async def run_async(ep, posts, inflight, tally):
    c = AsyncClient(ep)

    async def loop():
        while time.monotonic() < tally.end:
            t = time.monotonic()
            tally.next += 1
            try:
                r = await c.check(posts[tally.next % len(posts)])
            except FilterdError:
                r = None
            tally.record(t, r)
    await asyncio.gather(*(loop() for _ in range(inflight)))
    await c.close()


def main():
    kind, ep, posts_file, inflight, secs, warm = sys.argv[1:7]
    posts = [l for l in open(posts_file, encoding='utf-8').read().split('\n') if l]
    tally = Tally(float(secs), float(warm))
    if kind == 'sync':
        run_sync(ep, posts, tally)
    else:
        asyncio.run(run_async(ep, posts, int(inflight), tally))
    print(json.dumps(tally.result()))


if __name__ == '__main__':
    main()
