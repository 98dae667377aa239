// console.js -- the moderators' console's behaviour: the token, the six tabs, the API calls.
//
// Plain browser JavaScript, no framework and no build step. Every answer comes from
// /console/api/ (docs/http.md) with the admin token from sessionStorage as a Bearer
// header. Entries and texts are hostile: the DOM is built with el(), whose strings
// become text nodes, never HTML. Changes run as jobs: POST answers 202 {job}, then
// GET jobs/ID is polled until the job is done or failed.
'use strict';

const API = '/console/api/';
const KEY = 'filterd.console.token';
const JOB_POLL_MS = 400;
const LIVE_MS = 1000;
const PAGE = 50;                       // entries a page
const RATE_POINTS = 60;                // seconds of requests/s kept for the chart
const DIFF_SHOWN = 2000;               // lines of a version's diff shown
const CHANGES_SHOWN = 10;              // changed texts listed (all are in the HTML report)
// The taxonomy's labels, in its order, with their colours (docs/console.md).
const LABELS = {
  politics: '#c0392b', porn: '#8e44ad', abuse: '#d35400', vulgar: '#e67e22',
  violence: '#922b21', gambling: '#16a085', contraband: '#2c3e50', fraud: '#b7950b',
  trademark: '#2874a6', ad: '#27ae60', privacy: '#5d6d7e', cult: '#6c3483', other: '#7f8c8d',
};
const SCENES = ['profile', 'comment', 'forum', 'social_log', 'nickname', 'title', 'chat'];
const DECISION_WORDS = { block: 'blocked', flag: 'sent to review', allow: 'allowed' };

const $ = (id) => document.getElementById(id);

// An element: el('td', {class: 'x'}, 'text', child, ...). Strings are text nodes.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'style') Object.assign(e.style, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined && k !== false)
    e.append(k instanceof Node ? k : String(k));
  return e;
}
const svgEl = (tag, attrs) => {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
const fill = (node, ...kids) => { node.replaceChildren(); node.append(...kids.flat(Infinity).filter(Boolean)); };
const chip = (label) => el('span', { class: 'chip', 'data-label': label,
  style: { background: LABELS[label] || '#7f8c8d' } }, label);
const badge = (decision) => el('span', { class: `decision ${decision}` }, decision);
const fmtInt = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en'));
const pct = (x) => (x === undefined || x === null ? '–' : `${(100 * x).toFixed(x && x < 0.01 ? 2 : 1)}%`);
function fmtTime(t) {
  if (t === undefined || t === null || t === '') return '';
  const d = typeof t === 'number' ? new Date(t < 1e12 ? t * 1000 : t) : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString();
}
function fmtAge(s) {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} days`;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const status = (node, text, kind) => { node.textContent = text || ''; node.className = `status ${kind || ''}`; };

// ---- the API ---------------------------------------------------------------------
class Refused extends Error {}

// {status, data}; a 401 or 403 takes the person back to the token prompt.
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(API + path, { method, headers, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body) });
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (res.status === 401 || res.status === 403) {
    const code = data && data.error && data.error.code;
    signOut(code === 'console_disabled'
      ? 'The console is turned off: the operator must set http-admin-tokens in filterd.conf.'
      : 'This token is not an admin token (or it was withdrawn). Type it again.');
    throw new Refused(code || String(res.status));
  }
  return { status: res.status, data };
}
const errorText = (r) => (r.data && r.data.error
  ? `${r.data.error.message || r.data.error.code} (${r.status})` : `HTTP ${r.status}`);

// POST a job and wait for its end, telling the person on node. Returns the job, or
// null when it could not start (busy, stale, bad request: said on node).
async function runJob(path, body, node, what) {
  const r = await api('POST', path, body);
  if (r.status === 409 && r.data && r.data.error && r.data.error.code === 'stale') {
    status(node, 'The lists changed since you opened this page (someone else saved). ' +
      'Search again to see the new version, then make your change.', 'bad');
    return null;
  }
  if (r.status === 409) {
    status(node, `Another change is being made (job ${r.data && r.data.job}). Try again in a moment.`, 'bad');
    return null;
  }
  if (r.status !== 202) { status(node, `Refused: ${errorText(r)}`, 'bad'); return null; }
  const started = Date.now();
  for (;;) {
    status(node, `${what}… ${Math.round((Date.now() - started) / 1000)} s`, 'busy');
    await sleep(JOB_POLL_MS);
    // a finished job may come with its result's HTTP status (422 for lint errors)
    const j = await api('GET', `jobs/${encodeURIComponent(r.data.job)}`);
    if (!j.data || !j.data.state) { status(node, `Lost the job: ${errorText(j)}`, 'bad'); return null; }
    if (j.data.state !== 'running') { status(node, ''); return j.data; }
  }
}

// ---- sign in, tabs ---------------------------------------------------------------
function signOut(message) {
  sessionStorage.removeItem(KEY);
  stopLive();
  $('pages').hidden = $('tabs').hidden = $('signout').hidden = true;
  $('login').hidden = false;
  $('login-msg').textContent = message || '';
  $('serving').textContent = '';
  $('token').focus();
}

async function signIn(token) {
  sessionStorage.setItem(KEY, token);
  try {
    const r = await api('GET', 'versions');
    if (r.status !== 200) throw new Error(errorText(r));
    state.live = r.data.live;
  } catch (e) {
    if (!(e instanceof Refused)) signOut(`filterd did not answer: ${e.message}`);
    return;
  }
  $('login').hidden = true;
  $('pages').hidden = $('tabs').hidden = $('signout').hidden = false;
  show();
}

const state = { tab: null, live: null, listVersion: null, offset: 0, total: 0, timer: null };

function show() {
  const tab = (location.hash || '#try').slice(1);
  const known = ['try', 'lists', 'whatif', 'reload', 'live', 'versions'];
  state.tab = known.includes(tab) ? tab : 'try';
  for (const k of known) $(`page-${k}`).hidden = k !== state.tab;
  for (const a of document.querySelectorAll('#tabs a'))
    a.classList.toggle('on', a.dataset.tab === state.tab);
  stopLive();
  if (state.tab === 'lists' && state.listVersion === null) searchEntries(0);
  if (state.tab === 'live') startLive();
  if (state.tab === 'versions') loadVersions();
}

// ---- Try -------------------------------------------------------------------------
// The text cut where any match starts or ends (byte offsets, turned into string
// indices through TextEncoder), each piece with the matches that cover it.
function pieces(text, matches) {
  const enc = new TextEncoder();
  const at = new Map([[0, 0]]);          // byte offset -> index in the string
  let bytes = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i), n = cp > 0xffff ? 2 : 1;
    bytes += enc.encode(String.fromCodePoint(cp)).length;
    i += n;
    at.set(bytes, i);
  }
  const idx = (b) => (at.has(b) ? at.get(b) : null);
  const cuts = new Set([0, text.length]);
  const spans = matches.map((m) => ({ m, s: idx(m.start), e: idx(m.end) }))
    .filter((x) => x.s !== null && x.e !== null && x.e > x.s);
  for (const x of spans) { cuts.add(x.s); cuts.add(x.e); }
  const sorted = [...cuts].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const s = sorted[i], e = sorted[i + 1];
    out.push({ text: text.slice(s, e), by: spans.filter((x) => x.s <= s && x.e >= e).map((x) => x.m) });
  }
  return out;
}

// A match's chain (explain replies, docs/protocol.md "Matches"): the steps from the text
// to the entry, text for people; [] when the entry matched as written.
function chain(c) {
  if (!Array.isArray(c)) return c ? String(c) : '';
  if (!c.length) return el('span', { class: 'quiet' }, 'as written');
  return el('ol', { class: 'chain' }, c.map((step) => el('li', {}, String(step))));
}

const counts = (m) => m.action === 'flag' || m.action === 'block';

// The text with its matches (or a what-if's spans) marked in their label's colour; the
// deciding one starred. counted(m): whether m moves the decision (dashed when not).
function marked(text, matches, deciding, counted) {
  let starred = false;
  return el('p', { class: 'hl' }, pieces(text, matches).map((p) => {
    if (!p.by.length) return p.text;
    const top = p.by.includes(deciding) ? deciding : (p.by.find(counted) || p.by[0]);
    const colour = LABELS[top.label] || '#7f8c8d';
    const star = top === deciding && !starred;     // the ★ is CSS: not part of the text
    if (star) starred = true;
    return el('mark', {
      class: `${p.by.includes(deciding) ? 'deciding' : ''} ${star ? 'star' : ''} ${counted(top) ? '' : 'nocount'}`,
      'data-label': top.label,
      title: p.by.map((m) => `${m.label}: ${m.term || ''} (${m.entry || `${m.list}:${m.line}`})`).join('\n'),
      style: { borderBottomColor: colour, background: `${colour}33` },
    }, p.text);
  }));
}
const highlighted = (text, reply) => marked(text, reply.matches || [],
  (reply.matches || []).find((m) => m.action === reply.decision && counts(m)), counts);

function matchTable(reply) {
  const deciding = (reply.matches || []).find((m) => m.action === reply.decision && counts(m));
  if (!(reply.matches || []).length) return el('p', { class: 'quiet' }, 'No list entry matched.');
  return el('table', { class: 'data matches' },
    el('thead', {}, el('tr', {}, ['', 'list:line', 'term', 'label', 'action', 'found in', 'how']
      .map((h) => el('th', {}, h)))),
    el('tbody', {}, reply.matches.map((m) => el('tr', { class: `match ${m === deciding ? 'deciding' : ''}` },
      el('td', { class: 'm-mark' }, m === deciding ? el('span', { class: 'star', title: 'this match decides' }, '★ decides') : ''),
      el('td', { class: 'm-where mono' }, `${m.list}:${m.line}`),
      el('td', { class: 'm-term' }, m.term),
      el('td', { class: 'm-label' }, chip(m.label)),
      el('td', { class: 'm-action' }, m.action, counts(m) ? '' : el('span', { class: 'quiet' }, ' (does not count here)')),
      el('td', { class: 'm-via' }, m.via),
      el('td', { class: 'm-chain' }, chain(m.chain))))));
}

async function tryText(ev) {
  ev.preventDefault();
  const text = $('try-text').value, scene = $('try-scene').value;
  const out = $('try-out');
  fill(out, el('p', { class: 'status busy' }, 'Checking…'));
  const r = await api('POST', 'try', scene ? { text, scenes: [scene] } : { text });
  if (r.status !== 200) { fill(out, el('p', { class: 'status bad' }, `Refused: ${errorText(r)}`)); return; }
  // scenes with the same answer are shown together
  const groups = new Map();
  for (const { scene: s, reply } of r.data.results) {
    const key = JSON.stringify([reply.decision, reply.matches, reply.degraded]);
    if (!groups.has(key)) groups.set(key, { scenes: [], reply });
    groups.get(key).scenes.push(s);
  }
  fill(out, el('p', { class: 'quiet' }, `Lists version ${r.data.version}`),
    [...groups.values()].map(({ scenes, reply }) => el('div', { class: 'card scene-result', 'data-scenes': scenes.join(' ') },
      el('h3', {}, badge(reply.decision), ' ', DECISION_WORDS[reply.decision] || reply.decision,
        el('span', { class: 'scenes' }, ` in ${scenes.join(', ')}`),
        (reply.labels || []).map(chip)),
      reply.degraded ? el('p', { class: 'status bad' }, `filterd could not check it in time (${reply.degraded})`) : null,
      highlighted(text, reply), matchTable(reply))));
}

// ---- Lists -----------------------------------------------------------------------
function entryQuery(offset) {
  const p = new URLSearchParams({ offset, limit: PAGE });
  for (const [k, id] of [['q', 'q'], ['label', 'f-label'], ['action', 'f-action'], ['file', 'f-file']])
    if ($(id).value) p.set(k, $(id).value);
  return p.toString();
}

async function searchEntries(offset) {
  const r = await api('GET', `entries?${entryQuery(Math.max(0, offset))}`);
  if (r.status !== 200) { status($('list-status'), `Refused: ${errorText(r)}`, 'bad'); return; }
  const d = r.data;
  Object.assign(state, { listVersion: d.version, offset: Math.max(0, offset), total: d.total });
  const files = $('files');
  const known = new Set([...files.options].map((o) => o.value));
  for (const e of d.entries) if (!known.has(e.file)) { known.add(e.file); files.append(el('option', { value: e.file })); }
  fill($('entries').tBodies[0], d.entries.map(entryRow));
  $('range').textContent = d.total ? `${state.offset + 1}–${state.offset + d.entries.length} of ${fmtInt(d.total)}` : 'no entry found';
  $('prev').disabled = state.offset === 0;
  $('next').disabled = state.offset + d.entries.length >= d.total;
}

function entryRow(e) {
  const row = el('tr', { class: 'entry', 'data-where': `${e.file}:${e.line}` },
    el('td', { class: 'mono' }, `${e.file}:${e.line}`), el('td', { class: 'e-text mono' }, e.text),
    el('td', {}, e.term), el('td', {}, e.label ? chip(e.label) : ''), el('td', {}, e.action),
    el('td', { class: 'actions' },
      el('button', { class: 'quiet e-change', onclick: () => editRow(row, e) }, 'Change'),
      el('button', { class: 'quiet e-delete', onclick: () => deleteRow(row, e) }, 'Delete')));
  return row;
}

// The errors of a refused change, as file:line: reason, in node.
function showErrors(node, errors) {
  fill(node, el('p', {}, 'Not saved: the lists would have these errors.'),
    el('ul', {}, (errors || []).map((x) => el('li', { class: 'lint-error' },
      el('span', { class: 'mono' }, `${x.file}:${x.line}`), `: ${x.reason}`))));
}

// Runs a change job; on success says the version and searches again.
async function change(body, errorsNode) {
  fill(errorsNode);
  const job = await runJob('entries', { ...body, base: state.listVersion }, $('list-status'), 'Checking and saving');
  if (!job) return false;
  const res = job.result || {};
  if (job.state === 'done' && res.version !== undefined) {
    status($('list-status'), `Saved as version ${res.version}. It serves after a reload.`, 'good');
    await searchEntries(state.offset);
    return true;
  }
  if (res.errors) showErrors(errorsNode, res.errors);
  else status($('list-status'), `Not saved: ${(res.error && res.error.message) || job.state}`, 'bad');
  return false;
}

function editRow(row, e) {
  const input = el('input', { class: 'grow mono e-edit', value: e.text });
  const errors = el('div', { class: 'errors' });
  const save = el('button', { class: 'e-save', onclick: async () => {
    save.disabled = true;
    if (!await change({ op: 'change', file: e.file, line: e.line, text: input.value }, errors)) save.disabled = false;
  } }, 'Save');
  fill(row.cells[1], input, save, el('button', { class: 'quiet', onclick: () => row.replaceWith(entryRow(e)) }, 'Cancel'), errors);
  input.focus();
}

function deleteRow(row, e) {
  const errors = el('div', { class: 'errors' });
  fill(row.cells[5], el('span', {}, 'Delete this entry? '),
    el('button', { class: 'danger e-confirm', onclick: () => change({ op: 'delete', file: e.file, line: e.line }, errors) }, 'Yes, delete'),
    el('button', { class: 'quiet', onclick: () => row.replaceWith(entryRow(e)) }, 'No'), errors);
}

async function addEntry(ev) {
  ev.preventDefault();
  $('add-go').disabled = true;
  if (state.listVersion === null) await searchEntries(0);
  const ok = await change({ op: 'add', file: $('add-file').value, text: $('add-text').value }, $('add-errors'));
  if (ok) $('add-text').value = '';
  $('add-go').disabled = false;
}

// ---- What-if ---------------------------------------------------------------------
function corpusRow(c) {
  const b = c.baseline || {};
  const arrow = (x, y, f) => (y === undefined ? f(x) : `${f(y)} → ${f(x)}`);
  return el('tr', {},
    el('td', {}, c.file), el('td', {}, c.kind === 'clean' ? 'clean texts' : 'labelled texts'), el('td', {}, fmtInt(c.texts)),
    el('td', { class: c.kind === 'clean' && (b.share === undefined || c.share > b.share) ? 'worse' : '' }, arrow(c.share, b.share, pct)),
    el('td', {}, c.kind === 'clean' ? '' : arrow(c.recall, b.recall, pct)),
    el('td', {}, c.kind === 'clean' ? '' : arrow(c.precision, b.precision, pct)),
    el('td', {}, fmtInt(c.changes ? c.changes.total : 0)));
}

function changedText(c, t) {
  const spans = (t.new === 'allow' ? t.old_spans : t.new_spans) || [];
  const entries = (list) => (list || []).map((x) => el('span', { class: 'entry-ref' }, chip(x.label), ' ', x.term,
    el('span', { class: 'mono quiet' }, ` ${x.entry || `${x.file}:${x.line}`}`)));
  return el('li', { class: 'changed' },
    el('div', {}, badge(t.old), ' → ', badge(t.new), el('span', { class: 'quiet' }, ` ${c.file}, line ${t.line}`)),
    marked(t.text, spans, spans.find((x) => x.decides), () => true),
    t.new_entries && t.new_entries.length ? el('div', {}, 'now: ', entries(t.new_entries)) : null,
    t.old_entries && t.old_entries.length ? el('div', {}, 'before: ', entries(t.old_entries)) : null);
}

async function whatIf() {
  $('whatif-go').disabled = true;
  try {
    const job = await runJob('whatif', {}, $('whatif-status'), 'Measuring on the corpora');
    if (!job) return;
    const rep = job.result || {};
    if (job.state !== 'done' || !rep.corpora) {
      status($('whatif-status'), `The what-if failed: ${(rep.error && (rep.error.message || rep.error)) || JSON.stringify(rep)}`, 'bad');
      return;
    }
    fill($('whatif-summary'), el('div', { class: 'card' },
      el('p', {}, `Saved lists (${rep.version}, ${fmtInt(rep.entries)} entries) against the serving ones (${rep.baseline_version || 'none'}), scene ${rep.scene}.`),
      el('table', { class: 'data' }, el('thead', {}, el('tr', {}, ['corpus', 'kind', 'texts', 'flagged or blocked',
        'bad texts caught', 'right when flagged', 'decisions changed'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rep.corpora.map(corpusRow)))));
    const changed = rep.corpora.flatMap((c) => ((c.changes && c.changes.texts) || []).map((t) => changedText(c, t)));
    fill($('whatif-changes'), el('h3', {}, `Texts whose decision changed (${changed.length})`),
      changed.length ? el('ul', { class: 'changes' }, changed.slice(0, CHANGES_SHOWN))
        : el('p', { class: 'quiet' }, 'None: the change makes no difference on these texts.'),
      changed.length > CHANGES_SHOWN ? el('p', { class: 'quiet' }, `and ${changed.length - CHANGES_SHOWN} more: see the full report below.`) : null);
    const html = await api('GET', `whatif/${encodeURIComponent(job.job)}.html`);
    $('whatif-report').hidden = $('whatif-report-title').hidden = html.status !== 200;
    if (html.status === 200) $('whatif-report').srcdoc = html.data;
  } finally {
    $('whatif-go').disabled = false;
  }
}

// ---- Reload ----------------------------------------------------------------------
function perLabel(added, removed) {
  const names = [...new Set([...Object.keys(added || {}), ...Object.keys(removed || {})])];
  if (!names.length) return el('p', { class: 'quiet' }, 'No entry added or removed.');
  return el('table', { class: 'data narrow' }, el('thead', {}, el('tr', {}, el('th', {}, 'label'), el('th', {}, 'added'), el('th', {}, 'removed'))),
    el('tbody', {}, names.map((l) => el('tr', {}, el('td', {}, LABELS[l] ? chip(l) : l),
      el('td', { class: 'good' }, `+${(added || {})[l] || 0}`), el('td', { class: 'bad' }, `−${(removed || {})[l] || 0}`)))));
}

function reloadResult(r) {
  if (r && r.ok) {
    return el('div', { class: 'card reload-ok' }, el('h3', {}, '✓ Reloaded'),
      el('p', { class: 'mono' }, `${r.previous} → ${r.version}`, r.entries !== undefined ? `: ${fmtInt(r.entries)} entries` : ''),
      perLabel(r.added, r.removed));
  }
  const errs = (r && r.errors) || [];
  return el('div', { class: 'card reload-bad' }, el('h3', {}, '✗ Not reloaded'),
    el('p', {}, (r && r.error && r.error.message) || 'the reload failed'),
    el('ul', {}, errs.map((x) => el('li', { class: 'lint-error mono' }, typeof x === 'string' ? x : `${x.file}:${x.line}: ${x.reason}`))),
    el('p', { class: 'still' }, `Still serving ${(r && r.version) || 'the lists loaded before'}.`));
}

async function reload() {
  $('reload-go').disabled = true;
  try {
    const job = await runJob('reload', {}, $('reload-status'), 'Reloading');
    if (job) fill($('reload-out'), reloadResult(job.result));
  } finally {
    $('reload-go').disabled = false;
  }
}

// ---- Live ------------------------------------------------------------------------
const live = { prev: null, rates: [] };
function stopLive() { clearTimeout(state.timer); state.timer = null; }
function startLive() { stopLive(); pollLive(); }

async function pollLive() {
  try {
    const r = await api('GET', 'live');
    if (r.status === 200) drawLive(r.data);
  } catch (e) {
    if (e instanceof Refused) return;
  }
  if (state.tab === 'live') state.timer = setTimeout(pollLive, LIVE_MS);
}

function bars(node, entries, colour) {
  const total = entries.reduce((a, [, n]) => a + n, 0) || 1;
  fill(node, entries.map(([name, n]) => el('div', { class: 'bar' },
    el('span', { class: 'bar-name' }, name), el('span', { class: 'bar-track' },
      el('span', { class: 'bar-fill', style: { width: `${(100 * n) / total}%`, background: colour(name) } })),
    el('span', { class: 'bar-n' }, `${fmtInt(n)} (${pct(n / total)})`))));
}

function drawLive(d) {
  const s = d.stats || {}, now = Date.now();
  if (live.prev && s.requests >= live.prev.requests) {
    const dt = (now - live.prev.at) / 1000;
    live.rates.push(dt > 0 ? (s.requests - live.prev.requests) / dt : 0);
    if (live.rates.length > RATE_POINTS) live.rates.shift();
  }
  live.prev = { at: now, requests: s.requests };
  const rate = live.rates.length ? live.rates[live.rates.length - 1] : null;
  const lat = s.latency_us || {};
  const card = (name, value, note) => el('div', { class: 'card stat' }, el('div', { class: 'stat-v' }, value),
    el('div', { class: 'stat-n' }, name), note ? el('div', { class: 'quiet' }, note) : null);
  fill($('live-cards'),
    card('requests per second', rate === null ? '…' : rate.toFixed(rate < 10 ? 1 : 0), 'over the last second'),
    card('requests since start', fmtInt(s.requests), s.uptime_s !== undefined ? `up for ${fmtAge(s.uptime_s)}` : ''),
    card('half answered within', lat.p50 !== undefined ? `${(lat.p50 / 1000).toFixed(2)} ms` : '–',
      lat.p99 !== undefined ? `99 in 100 within ${(lat.p99 / 1000).toFixed(2)} ms` : ''),
    card('workers serving', `${fmtInt(s.serving)} / ${fmtInt(s.workers)}`, `lists ${s.version || ''}`),
    card('not checked in time', fmtInt((s.deadline || 0) + (s.overload || 0)), 'answered with the fallback'));
  drawRate($('live-rate'), live.rates);
  drawHist($('live-hist'), s.latency_hist);
  bars($('live-decisions'), ['allow', 'flag', 'block'].map((k) => [k, (s.decisions || {})[k] || 0]),
    (k) => ({ allow: '#27ae60', flag: '#e6a700', block: '#c0392b' })[k]);
  bars($('live-labels'), Object.keys(LABELS).map((k) => [k, (s.labels || {})[k] || 0]).filter(([, n]) => n > 0),
    (k) => LABELS[k]);
  const workers = Array.isArray(d.workers) ? d.workers : (d.workers && d.workers.workers) || [];
  fill($('live-workers').tBodies[0], workers.map((w) => el('tr', {}, el('td', { class: 'mono' }, w.pid),
    el('td', {}, w.state), el('td', {}, fmtInt(w.held)), el('td', {}, fmtInt(w.served)),
    el('td', { class: 'mono' }, w.version), el('td', {}, fmtAge(w.age_s || 0)))));
  const when = (x) => new Date(typeof x.time === 'number' && x.time < 1e12 ? x.time * 1000 : x.time).getTime() || 0;
  fill($('live-reloads').tBodies[0], (d.reloads || []).slice().sort((a, b) => when(b) - when(a)).map((x) => el('tr', {},
    el('td', {}, fmtTime(x.time)), el('td', {}, x.who),
    el('td', {}, x.result && x.result.ok ? `${x.result.previous} → ${x.result.version}`
      : `failed: ${(x.result && x.result.error && x.result.error.message) || ''}`))));
}

function drawRate(svg, rates) {
  const W = 600, H = 120, max = Math.max(1, ...rates);
  const pts = rates.map((v, i) => `${(W * (i + RATE_POINTS - rates.length)) / (RATE_POINTS - 1)},${H - 14 - ((H - 24) * v) / max}`);
  svg.replaceChildren(svgEl('line', { x1: 0, y1: H - 14, x2: W, y2: H - 14, class: 'axis' }));
  if (pts.length > 1) svg.append(svgEl('polyline', { points: pts.join(' '), class: 'rate' }));
  const t = svgEl('text', { x: 4, y: 12, class: 'label' });
  t.textContent = `peak ${max.toFixed(max < 10 ? 1 : 0)}/s`;
  svg.append(t);
}

// latency_hist is cumulative (below[i]: answers within le_us[i]): one bar per bucket.
function drawHist(svg, h) {
  svg.replaceChildren();
  if (!h || !h.le_us || !h.le_us.length) return;
  const W = 600, H = 160, n = h.le_us.length, bw = W / n;
  const per = h.le_us.map((_, i) => h.below[i] - (i ? h.below[i - 1] : 0));
  const max = Math.max(1, ...per);
  per.forEach((v, i) => {
    const bh = ((H - 34) * v) / max;
    const r = svgEl('rect', { x: i * bw + 2, y: H - 20 - bh, width: bw - 4, height: bh, class: 'hbar' });
    const tip = svgEl('title', {});
    tip.textContent = `${fmtInt(v)} answered in at most ${latencyName(h.le_us[i])}`;
    r.append(tip);
    svg.append(r);
    if (i % Math.ceil(n / 8) === 0) {
      const t = svgEl('text', { x: i * bw + 2, y: H - 6, class: 'label' });
      t.textContent = latencyName(h.le_us[i]);
      svg.append(t);
    }
  });
}
const latencyName = (us) => (us >= 1000 ? `${us / 1000} ms` : `${us} µs`);

// ---- Versions --------------------------------------------------------------------
async function loadVersions() {
  const r = await api('GET', 'versions');
  if (r.status !== 200) { status($('versions-status'), `Refused: ${errorText(r)}`, 'bad'); return; }
  state.live = r.data.live;
  const newest = r.data.versions.length ? r.data.versions[0].version : null;
  fill($('versions').tBodies[0], r.data.versions.map((v) => el('tr', { class: 'version', 'data-version': v.version },
    el('td', {}, el('a', { href: '#versions', class: 'v-diff', onclick: (e) => { e.preventDefault(); showDiff(v.version); } }, `version ${v.version}`),
      v.version === state.live ? el('span', { class: 'live-tag' }, 'serving') : ''),
    el('td', {}, fmtTime(v.time)), el('td', {}, v.who), el('td', {}, v.what),
    el('td', {}, v.version === newest ? '' : el('button', { class: 'quiet v-restore', onclick: () => restore(v.version) }, 'Restore')))));
}

// GET versions/N/diff: {files: [{file, lines}]}, lines of unified diffs.
function diffFile(f) {
  const lines = f.lines || [];
  return el('div', { class: 'diff-file' }, el('h4', { class: 'mono' }, f.file),
    el('pre', { class: 'diff' }, lines.slice(0, DIFF_SHOWN).map((l) => el('span',
      { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@') ? 'hunk' : '' }, `${l}\n`))),
    lines.length > DIFF_SHOWN ? el('p', { class: 'quiet' }, `and ${fmtInt(lines.length - DIFF_SHOWN)} more lines.`) : null);
}

async function showDiff(n) {
  const r = await api('GET', `versions/${encodeURIComponent(n)}/diff`);
  if (r.status !== 200) { fill($('diff'), el('p', { class: 'status bad' }, `Refused: ${errorText(r)}`)); return; }
  const files = (r.data && r.data.files) || [];
  fill($('diff'), el('h3', {}, `What version ${n} changed`), files.length ? files.map(diffFile)
    : el('p', { class: 'quiet' }, 'Nothing changed in the lists.'));
}

async function restore(n) {
  const job = await runJob('restore', { version: n }, $('versions-status'), `Restoring version ${n}`);
  if (!job) return;
  const res = job.result || {};
  if (job.state === 'done' && res.version !== undefined)
    status($('versions-status'), `Version ${n} restored as version ${res.version}. Reload to make it serve.`, 'good');
  else if (res.errors)
    status($('versions-status'), `Not restored: ${res.errors.map((x) => `${x.file}:${x.line}: ${x.reason}`).join('; ')}`, 'bad');
  else status($('versions-status'), `Not restored: ${job.state}`, 'bad');
  loadVersions();
}

// ---- wiring ----------------------------------------------------------------------
function init() {
  for (const s of SCENES) $('try-scene').append(el('option', { value: s }, s));
  for (const l of Object.keys(LABELS)) $('f-label').append(el('option', { value: l }, l));
  $('login-form').addEventListener('submit', (e) => { e.preventDefault(); signIn($('token').value.trim()); });
  $('signout').addEventListener('click', () => signOut('Signed out.'));
  $('try-form').addEventListener('submit', tryText);
  $('list-search').addEventListener('submit', (e) => { e.preventDefault(); searchEntries(0); });
  $('add-form').addEventListener('submit', addEntry);
  $('prev').addEventListener('click', () => searchEntries(state.offset - PAGE));
  $('next').addEventListener('click', () => searchEntries(state.offset + PAGE));
  $('whatif-go').addEventListener('click', whatIf);
  $('reload-go').addEventListener('click', reload);
  // a refused call has already taken the person to the token prompt
  window.addEventListener('unhandledrejection', (e) => { if (e.reason instanceof Refused) e.preventDefault(); });
  window.addEventListener('hashchange', () => { if (!$('pages').hidden) show(); });
  const token = sessionStorage.getItem(KEY);
  if (token) signIn(token); else signOut('');
}
init();
