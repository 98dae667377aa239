// load.js -- closed-loop load through the Node.js client (client/node): JSON figures out.
//
// node bench/clients/load.js ENDPOINT POSTS INFLIGHT SECS WARM
// INFLIGHT calls at a time over one Client (one DEALER), each taking the next post;
// counts the calls that end within SECS after WARM, and their latencies.
'use strict';

const fs = require('node:fs');
const { Client } = require('filterd-client');

async function main() {
  const [ep, postsFile, inflight, secs, warm] = process.argv.slice(2);
  const posts = fs.readFileSync(postsFile, 'utf8').split('\n').filter((l) => l);
  const c = new Client({ endpoints: [ep] });
  const t0 = process.hrtime.bigint();
  const start = t0 + BigInt(Math.round(Number(warm) * 1e9));
  const end = start + BigInt(Math.round(Number(secs) * 1e9));
  const lat = [];
  const tally = { errors: 0, degraded: 0 };
  let next = 0;
  async function loop() {
    for (;;) {
      const t = process.hrtime.bigint();
      if (t >= end) return;
      try {
        const r = await c.check(posts[next++ % posts.length]);
        if (r.degraded) tally.degraded++;
      } catch (e) {
        tally.errors++;
      }
      const done = process.hrtime.bigint();
      if (t >= start && done < end) lat.push(Number(done - t) / 1e6);
    }
  }
  await Promise.all(Array.from({ length: Number(inflight) }, loop));
  c.close();
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
  process.stdout.write(JSON.stringify({ rps: lat.length / Number(secs), p50: pct(0.5),
    p99: pct(0.99), ...tally }) + '\n');
}

main();
