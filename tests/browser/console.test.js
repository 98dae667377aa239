// console.test.js -- the moderators' console in a real browser against the real daemon (make browser-test).
//
// Debian's chromium, headless, driven by puppeteer-core; filterd started as the Node
// client's tests start it (client/node/test/fdproc.js), with a copy of the shipped
// lists, its HTTP front door on a free loopback port, an admin token, a check token,
// console-state and two small corpora in its temp dir. One person's session, step by
// step: refused without the admin token; try a text and read the highlights; add an
// entry, refused when invalid; add a valid one; what-if; reload; the decision changes;
// restore the version before and reload; the decision is back. Each page is written to
// $SCREENSHOTS (build/screenshots) as PNG.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const { Daemon, sleep, ROOT } = require('../../client/node/test/fdproc');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS || path.join(ROOT, 'build', 'screenshots');
const ADMIN = 'adm-7c1e5d0a9b';            // the admin token, "alice" in the audit
const CHECK = 'chk-41f2aa80e3';            // a check token: never an admin one
const JOB_MS = 300000;                     // msecs: one job (lint, eval, reload) on a busy machine
const STEP_MS = 20000;                     // msecs: anything else the page does
const TERM = '蓝色月亮汽水';                // not in the shipped lists
const NEW_TEXT = `我最爱喝${TERM}了`;
const LIST = 'zh/ad.txt';
const SAMPLE = '加我微信 abc12345 领红包，女全';  // ad (compact view) and abuse (by sound)
const AD_RGB = 'rgb(39, 174, 96)';         // #27ae60, the palette's ad

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  }).on('error', reject);
});
const head = (file, n) => fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n').slice(0, n).join('\n');

// The daemon: fdproc's, with the shipped lists, HTTP and the console's settings.
async function startDaemon() {
  const d = new Daemon();
  const lists = path.join(d.dir, 'lists');
  fs.rmSync(lists, { recursive: true });
  fs.cpSync(path.join(ROOT, 'wordlists'), lists, { recursive: true });
  fs.writeFileSync(path.join(d.dir, 'admin-tokens'), `# token name\n${ADMIN} alice\n`);
  fs.writeFileSync(path.join(d.dir, 'check-tokens'), `${CHECK}\n`);
  fs.writeFileSync(path.join(d.dir, 'clean.txt'), `${head('tests/data/tang-sample.txt', 150)}\n${NEW_TEXT}\n`);
  fs.writeFileSync(path.join(d.dir, 'labelled.csv'), `${head('tests/data/cold-dev-sample.csv', 151)}\n`);
  d.port = await freePort();
  fs.appendFileSync(d.conf, `http-listen 127.0.0.1:${d.port}\nhttp-tokens ${d.dir}/check-tokens\n`
    + `http-admin-tokens ${d.dir}/admin-tokens\nconsole-state ${d.dir}/state\n`
    + `console-corpus clean ${d.dir}/clean.txt\nconsole-corpus labelled ${d.dir}/labelled.csv\n`);
  await d.start();
  d.base = `http://127.0.0.1:${d.port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${d.base}/healthz`)).ok) return d;
    } catch (e) { /* not listening yet */ }
    await sleep(50);
  }
  throw new Error(`the HTTP front door did not answer:\n${d.readLog()}`);
}

let d, browser, page;
const errors = [];                          // the page's uncaught errors
const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const text = (sel) => page.$eval(sel, (e) => e.textContent);
const texts = (sel) => page.$$eval(sel, (es) => es.map((e) => e.textContent));
const visible = (sel, timeout = STEP_MS) => page.waitForSelector(sel, { visible: true, timeout });
const tab = async (name) => {
  await page.click(`#tabs a[data-tab="${name}"]`);
  await visible(`#page-${name}`);
};
// The answer the page shows, asked of the API directly: what the page must render.
const apiTry = async (body) => {
  const res = await fetch(`${d.base}/console/api/try`, { method: 'POST', body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' } });
  assert.equal(res.status, 200);
  return res.json();
};

test.before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  d = await startDaemon();
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
    protocolTimeout: JOB_MS + 60000, args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 700, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => errors.push(e.message));
});

test.after(async () => {
  if (browser) await browser.close();
  if (d) {
    if (process.env.KEEP) console.log(`kept ${d.dir}`); else await d.remove();
  }
});

// Steps of one session, in order: after a failed one the rest are skipped (each needs
// what the ones before did). A failed step leaves the page in failed.png.
let failed = null;
async function step(t, name, fn) {
  if (failed) {
    await t.test(name, { skip: `"${failed}" failed` }, () => {});
    return;
  }
  await t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = name;
      await page.screenshot({ path: path.join(SHOTS, 'failed.png'), fullPage: true }).catch(() => {});
      throw e;
    }
    if (errors.length) failed = name;
    assert.deepEqual(errors, [], 'no error in the page');
  });
}

async function tryText(t, scene) {
  await page.$eval('#try-text', (e) => { e.value = ''; });
  await page.type('#try-text', t);
  await page.select('#try-scene', scene);
  await page.$eval('#try-out', (e) => e.replaceChildren());
  await page.click('#try-go');
  await visible('#try-out .scene-result');
  return text('#try-out .scene-result h3');
}

// Adds an entry through the Lists page; the text of what the page then says.
async function addEntry(line) {
  await page.$eval('#add-text', (e) => { e.value = ''; });
  await page.$eval('#add-file', (e, v) => { e.value = v; }, LIST);
  await page.type('#add-text', line);
  await page.click('#add-go');
  await page.waitForFunction(() => !document.querySelector('#add-go').disabled, { timeout: JOB_MS });
}

async function runReload() {
  await tab('reload');
  await page.$eval('#reload-out', (e) => e.replaceChildren());
  await page.click('#reload-go');
  await visible('#reload-out .card', JOB_MS);
}

test('the console, in a browser, against filterd', { timeout: 1800000 }, async (t) => {
  await step(t, 'without the admin token the console is refused', async () => {
    const r = await fetch(`${d.base}/console/api/versions`);
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.code, 'unauthorized');
    await page.goto(`${d.base}/console/`);
    await visible('#login');
    assert.equal(await page.$eval('#pages', (e) => e.hidden), true, 'no page without a token');
    await shot('login');
    for (const wrong of ['not-a-token', CHECK]) {
      await page.$eval('#token', (e) => { e.value = ''; });
      await page.type('#token', wrong);
      await page.click('#login-go');
      await page.waitForFunction(() => /not an admin token/.test(document.querySelector('#login-msg').textContent),
        { timeout: STEP_MS });
      assert.equal(await page.$eval('#pages', (e) => e.hidden), true, `${wrong}: still refused`);
      await page.$eval('#login-msg', (e) => { e.textContent = ''; });
    }
    await page.$eval('#token', (e) => { e.value = ''; });
    await page.type('#token', ADMIN);
    await page.click('#login-go');
    await visible('#page-try');
  });

  await step(t, 'try a text: highlights by label colour, the deciding match, file:line, chain', async () => {
    const want = (await apiTry({ text: SAMPLE, scenes: ['comment'] })).results[0].reply;
    const deciding = want.matches.find((m) => m.action === want.decision);
    assert.ok(deciding, 'the sample has a deciding match');
    const h3 = await tryText(SAMPLE, 'comment');
    assert.match(h3, new RegExp(want.decision));
    const marks = await page.$$eval('#try-out mark', (ms) => ms.map((m) => ({ text: m.textContent,
      label: m.dataset.label, colour: getComputedStyle(m).borderBottomColor, deciding: m.classList.contains('deciding') })));
    const ad = marks.filter((m) => m.label === 'ad');
    assert.ok(ad.length, 'an ad match is highlighted');
    assert.equal(ad[0].colour, AD_RGB, "in the ad label's colour");
    assert.equal(ad.map((m) => m.text).join(''), '加我微信', 'the highlight covers the characters, not bytes');
    const sound = marks.find((m) => m.label === 'abuse');
    assert.equal(sound && sound.text, '女全', 'the match read by sound covers 女全');
    const dmarks = marks.filter((m) => m.deciding);
    assert.ok(dmarks.length && dmarks.every((m) => m.label === deciding.label), 'the deciding match is marked');
    const rows = await page.$$eval('#try-out tr.match', (rs) => rs.map((r) => ({
      where: r.querySelector('.m-where').textContent, term: r.querySelector('.m-term').textContent,
      deciding: r.classList.contains('deciding'), chain: r.querySelector('.m-chain').textContent })));
    assert.equal(rows.length, want.matches.length, 'one row per match');
    const drow = rows.find((r) => r.deciding);
    assert.equal(drow.where, `${deciding.list}:${deciding.line}`, 'the deciding row says its list:line');
    assert.equal(drow.term, deciding.term);
    const sr = rows.find((r) => r.term === '女拳');
    assert.ok(sr, 'the 女拳 entry is listed');
    assert.match(sr.chain, /女全.*nv quan.*女拳/, 'with the chain that found it');
    await shot('try');
    // all scenes: several answers, the same text; nothing matches the new term yet
    assert.match(await tryText(NEW_TEXT, ''), /allow/);
    assert.equal((await page.$$('#try-out mark')).length, 0);
  });

  let before;
  await step(t, 'lists: search, an invalid entry is refused with file:line, a valid one is saved', async () => {
    await tab('lists');
    await visible('#entries tbody tr.entry');
    await page.type('#q', '加我微信');
    await page.click('#list-search button');
    await page.waitForFunction(() => [...document.querySelectorAll('#entries tr.entry')]
      .some((r) => r.textContent.includes('加我微信')), { timeout: STEP_MS });
    before = await versions();
    await addEntry(`[action=zap] ${TERM}`);
    const errs = await texts('#add-errors .lint-error');
    assert.equal(errs.length, 1, `one lint error: ${await text('#list-status')}`);
    assert.match(errs[0], new RegExp(`^${LIST}:\\d+: unknown action 'zap'`));
    await shot('lists-refused');
    assert.deepEqual(await versions(), before, 'a refused change makes no version');
    await addEntry(`[action=block] ${TERM}`);
    assert.match(await text('#list-status'), /Saved as version/);
    assert.equal(await page.$eval('#add-errors', (e) => e.children.length), 0);
    assert.equal((await versions()).length, before.length + 1);
    await page.$eval('#q', (e) => { e.value = ''; });
    await page.type('#q', TERM);
    await page.click('#list-search button');
    await page.waitForFunction((term) => [...document.querySelectorAll('#entries tr.entry')]
      .some((r) => r.textContent.includes(term)), { timeout: STEP_MS }, TERM);
    await shot('lists');
  });

  await step(t, 'what-if: the report, and the text whose decision changed', async () => {
    await tab('whatif');
    await page.click('#whatif-go');
    await page.waitForFunction(() => document.querySelector('#whatif-changes').children.length
      || /failed|Refused/.test(document.querySelector('#whatif-status').textContent), { timeout: JOB_MS });
    const changed = await texts('#whatif-changes li.changed');
    assert.ok(changed.some((c) => c.includes(NEW_TEXT) && /allow.*block/.test(c)), `changed: ${changed}`);
    assert.deepEqual(await page.$$eval('#whatif-changes mark', (ms) => ms.map((m) => [m.textContent, m.dataset.label])),
      [[TERM, 'ad']], 'the span that changed it, in its label');
    assert.equal((await texts('#whatif-summary tbody tr')).length, 2, 'one row per corpus');
    await visible('#whatif-report');
    const html = await page.$eval('#whatif-report', (e) => e.srcdoc);
    assert.ok(html.includes(TERM), 'the HTML report shows the change');
    await shot('whatif');
  });

  await step(t, 'reload: old → new, added per label; Try now blocks the text', async () => {
    await runReload();
    const out = await text('#reload-out');
    assert.match(out, /Reloaded/);
    assert.match(out, /wl-[0-9a-f]+ → wl-[0-9a-f]+/);
    assert.match(await page.$eval('#reload-out tbody', (e) => e.textContent), /ad\+1−0/);
    await shot('reload');
    await tab('try');
    assert.match(await tryText(NEW_TEXT, 'comment'), /block/);
    const m = await page.$$eval('#try-out mark', (ms) => ms.map((x) => [x.textContent, x.dataset.label,
      getComputedStyle(x).borderBottomColor]));
    assert.deepEqual(m, [[TERM, 'ad', AD_RGB]]);
  });

  await step(t, 'versions: the diff, restore the version before, reload: the decision is back', async () => {
    await tab('versions');
    await visible('#versions tr.version');
    const newest = await page.$eval('#versions tr.version', (r) => r.dataset.version);
    await page.click('#versions tr.version a.v-diff');
    await page.waitForFunction((term) => document.querySelector('#diff').textContent.includes(term),
      { timeout: STEP_MS }, TERM);
    assert.ok((await texts('#diff pre .add')).some((l) => l.includes(TERM)), 'the added line in green');
    await shot('versions');
    const target = before[0];
    await page.click(`#versions tr.version[data-version="${target}"] button.v-restore`);
    await page.waitForFunction(() => /restored as version|Not restored|Refused/
      .test(document.querySelector('#versions-status').textContent), { timeout: JOB_MS });
    assert.match(await text('#versions-status'), new RegExp(`Version ${target} restored as version`));
    await page.waitForFunction((n) => document.querySelector('#versions tr.version').dataset.version !== n,
      { timeout: STEP_MS }, newest);
    assert.match(await text('#versions tr.version'), new RegExp(`restore of ${target}`));
    await runReload();
    assert.match(await page.$eval('#reload-out tbody', (e) => e.textContent), /ad\+0−1/);
    await tab('try');
    assert.match(await tryText(NEW_TEXT, 'comment'), /allow/);
  });

  await step(t, 'live: rate, latency histogram, decisions, workers, the reloads', async () => {
    await tab('live');
    await page.waitForFunction(() => document.querySelectorAll('#live-hist rect').length > 0
      && document.querySelectorAll('#live-workers tbody tr').length > 0
      && document.querySelectorAll('#live-reloads tbody tr').length >= 2
      && document.querySelector('#live-rate polyline'), { timeout: STEP_MS });
    const cards = await text('#live-cards');
    assert.match(cards, /requests per second/);
    assert.match(await text('#live-decisions'), /block/);
    assert.match(await text('#live-reloads'), /alice/);
    await shot('live');
  });
});

// The versions the page lists, newest first.
async function versions() {
  await page.$eval('#versions tbody', (e) => e.replaceChildren());
  await tab('versions');
  await visible('#versions tr.version');
  const v = await page.$$eval('#versions tr.version', (rs) => rs.map((r) => r.dataset.version));
  await tab('lists');
  return v;
}
