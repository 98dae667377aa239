// example.test.js -- runs the README's Express example against the real filterd.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Daemon, term } = require('./fdproc');

// The ```js block after <!-- example: express --> in README.md.
function example() {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const m = readme.match(/<!-- example: express -->\n```js\n([\s\S]*?)```/);
  assert.ok(m, 'README.md has the Express example');
  return m[1];
}

test('the README Express handler', async () => {
  const d = await new Daemon().start();
  const file = path.join(d.dir, 'example-express.js');
  fs.writeFileSync(file, example());
  process.env.FILTERD_ENDPOINTS = d.ep;
  process.env.PORT = '0';
  const { server, filter } = require(file);
  try {
    await new Promise((r) => (server.listening ? r() : server.once('listening', r)));
    const url = `http://127.0.0.1:${server.address().port}/comments`;
    const post = async (text) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }) });
      return [res.status, await res.json()];
    };
    assert.deepEqual(await post('nice post'), [200, { ok: true, review: false, labels: [] }]);
    assert.deepEqual(await post(`see ${term('ad')}`), [200, { ok: true, review: true, labels: ['ad'] }]);
    const [status, body] = await post(`a ${term('porn')}`);
    assert.equal(status, 422);
    assert.deepEqual(body.result, { suggest: 'risky', label: 20002 });
  } finally {
    server.close();
    filter.close();
    await d.remove();
  }
});
