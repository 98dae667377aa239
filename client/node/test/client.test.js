// client.test.js -- the Node.js client against the real filterd (node --test; make client-test).
//
// Each test talks to a daemon of fdproc.js over ipc://; the outage tests stop,
// pause or restart it. No mock of ZeroMQ or of the daemon.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const zmq = require('zeromq');
const { encode, decode } = require('@msgpack/msgpack');
const { Client, FilterdError, msgSecCheck, decidingMatch } = require('..');
const { Daemon, term, sleep } = require('./fdproc');

const CONF = 'max-text-bytes 1024\nbudget-ms 2000\nmax-budget-ms 4000\n';
let d;

test.before(async () => { d = await new Daemon(CONF).start(); });
test.after(async () => { await d.remove(); });

async function admin(daemon, op) {
  const s = new zmq.Request({ linger: 0, receiveTimeout: 10000 });
  s.connect(daemon.admin);
  try {
    await s.send(encode({ op }));
    const [r] = await s.receive();
    return decode(r);
  } finally {
    s.close();
  }
}
const checked = async (daemon) => {
  const st = await admin(daemon, 'stats');
  return Object.values(st.decisions).reduce((a, b) => a + b, 0);
};

test('check: decision, labels, label code, deciding match, msgSecCheck shape', async () => {
  const c = new Client({ endpoints: [d.ep] });
  try {
    const ok = await c.check('hello');
    assert.equal(ok.decision, 'allow');
    assert.equal(ok.label, 100);
    assert.equal(ok.degraded, null);
    assert.deepEqual(msgSecCheck(ok).result, { suggest: 'pass', label: 100 });

    const r = await c.check(`buy ${term('ad')} and ${term('porn')}`, { scene: 'forum', budgetMs: 500 });
    assert.equal(r.decision, 'block');
    assert.deepEqual(r.labels, ['porn', 'ad']);
    assert.equal(r.label, 20002);
    assert.equal(decidingMatch(r).term, term('porn'));
    const m = msgSecCheck(r);
    assert.deepEqual(m.result, { suggest: 'risky', label: 20002 });
    assert.equal(m.errcode, 0);
    assert.equal(m.detail[0].keyword, term('porn'));

    // the scene's policy: trademark allowed in comments, reported but not counted
    const t = await c.check(term('trademark'), { scene: 'comment' });
    assert.equal(t.decision, 'allow');
    assert.equal(t.matches[0].action, 'allow');
    assert.equal((await c.check(term('trademark'), { scene: 'forum' })).decision, 'flag');
  } finally {
    c.close();
  }
});

test('many calls in flight over one socket, each gets its own reply', async () => {
  const c = new Client({ endpoints: [d.ep], timeoutMs: 20000 }); // a loaded machine
  try {
    const labels = ['ad', 'porn', 'abuse', 'fraud'];
    const texts = Array.from({ length: 600 }, (_, i) => (i % 5 ? `t${i} ${term(labels[i % 4])}` : `t${i}`));
    const replies = await Promise.all(texts.map((t) => c.check(t)));
    replies.forEach((r, i) => {
      assert.equal(r.degraded, null);
      assert.deepEqual(r.labels, i % 5 ? [labels[i % 4]] : [], `text ${i}`);
    });
    assert.equal(c.stats.failovers, 0);
  } finally {
    c.close();
  }
});

test('checkMany: bulk requests of maxItems, results in order, item errors in place', async () => {
  const c = new Client({ endpoints: [d.ep], maxItems: 8 });
  try {
    const texts = Array.from({ length: 21 }, (_, i) => (i % 2 ? term('fraud') : { text: 'ok', id: `i${i}` }));
    texts.push({ text: 5, id: 'bad' });
    const res = await c.checkMany(texts, { scene: 'chat' });
    assert.equal(res.length, 22);
    res.slice(0, 21).forEach((r, i) => assert.equal(r.decision, i % 2 ? 'block' : 'allow'));
    assert.equal(res[4].id, 'i4');
    assert.equal(res[21].id, 'bad');
    assert.equal(res[21].error.code, 'bad_request');
    assert.equal(c.stats.sent, 3);
  } finally {
    c.close();
  }
});

test('an error reply rejects with FilterdError and its code', async () => {
  const c = new Client({ endpoints: [d.ep] });
  try {
    await assert.rejects(c.check('x'.repeat(2000)), (e) => e instanceof FilterdError && e.code === 'too_large');
    await assert.rejects(c.check('x', { scene: 'nowhere' }), (e) => e.code === 'bad_request');
    assert.equal((await c.check('still fine')).decision, 'allow');
  } finally {
    c.close();
  }
});

test('no endpoint up: the call resolves to the configured fallback at its timeout', async () => {
  const c = new Client({ endpoints: [`ipc://${d.dir}/nobody.sock`], timeoutMs: 300, fallback: 'block' });
  try {
    const t0 = Date.now();
    const r = await c.check(term('ad'));
    const took = Date.now() - t0;
    assert.deepEqual([r.decision, r.suggest, r.label, r.degraded], ['block', 'risky', 21000, 'unavailable']);
    assert.ok(took >= 250 && took < 5000, `took ${took} ms`);
    const many = await c.checkMany(['a', { text: 'b', id: 'b' }]);
    assert.deepEqual(many.map((x) => [x.degraded, x.id]), [['unavailable', undefined], ['unavailable', 'b']]);
  } finally {
    c.close();
  }
});

test('failover: a dead endpoint first, the live one answers', async () => {
  const c = new Client({ endpoints: [`ipc://${d.dir}/dead.sock`, d.ep] });
  try {
    const r = await c.check(term('abuse'));
    assert.equal(r.degraded, null);
    assert.deepEqual(r.labels, ['abuse']);
    assert.ok(c.stats.failovers >= 1);
  } finally {
    c.close();
  }
});

test('a hung daemon: fallback at the timeout, the stale socket replaced, answers after', async () => {
  const h = await new Daemon(CONF).start();
  const c = new Client({ endpoints: [h.ep], timeoutMs: 400, tryMs: 300 });
  try {
    assert.equal((await c.check('warm')).degraded, null);
    h.pause();
    let r;
    try {
      r = await c.check(term('ad'), { budgetMs: 50 });
    } finally {
      await sleep(700); // past the try's end: the socket is found stale
      h.resume();
    }
    assert.equal(r.degraded, 'unavailable');
    assert.ok(c.stats.failovers >= 1, 'the socket was replaced');
    const again = await c.check(term('ad'), { timeoutMs: 5000 });
    assert.equal(again.degraded, null);
    assert.equal(again.decision, 'flag');
  } finally {
    c.close();
    await h.remove();
  }
});

test('no stale request reaches filterd after an outage', async () => {
  const o = await new Daemon(CONF).start();
  const c = new Client({ endpoints: [o.ep], timeoutMs: 300 });
  try {
    assert.equal((await c.check('before')).degraded, null);
    assert.equal(await o.stop(), 0);
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => c.check(`during ${i}`)));
    assert.ok(during.every((r) => r.degraded === 'unavailable'));
    await o.start();
    const after = await c.check('after', { timeoutMs: 5000 });
    assert.equal(after.degraded, null);
    await sleep(300); // anything stale would have arrived by now
    assert.equal(await checked(o), 1, 'filterd checked only the text sent after it came back');
  } finally {
    c.close();
    await o.remove();
  }
});

test('the defaults are the ones docs/protocol.md states ("Writing a client")', () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const { DEFAULTS, TRY_MARGIN_MS } = require('..');
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'protocol.md'), 'utf8')
    .split('## Writing a client')[1].split('## Admin operations')[0].split(/\s+/).join(' ');
  const rules = [
    [/at least `budget_ms` \+ (\d+) ms/, TRY_MARGIN_MS],
    [/ms, (\d+) ms by default\); a try/, DEFAULTS.tryMs],
    [/`retries` tries \((\d+)\)/, DEFAULTS.retries],
    [/the clients: (\d+) ms by default, per call/, DEFAULTS.timeoutMs],
    [/a short wait \(the clients: (\d+) ms\)/, DEFAULTS.connectWaitMs],
    [/Clients send at most (\d+) texts/, DEFAULTS.maxItems],
  ];
  for (const [re, value] of rules) {
    const m = doc.match(re);
    assert.ok(m, `docs/protocol.md no longer says ${re}`);
    assert.equal(Number(m[1]), value, String(re));
  }
  assert.equal(doc.match(/the configured decision \(default `(\w+)`\)/)[1], DEFAULTS.fallback);
});
