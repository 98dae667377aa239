// client.js -- the filterd client for Node.js: one DEALER, many calls in flight, tries and failover.
//
// It does what docs/protocol.md, "Writing a client", says a client does. Every call
// gets an id (a counter) and waits in `pending` until its reply, its timeout (then it
// resolves to the fallback, degraded "unavailable") or the end of its try. Calls to
// send wait in `queue`: zeromq.js allows one pending send per socket, so one pump
// sends them in order, skipping calls that have ended, with `budget_ms` no larger than
// what is left of the call. The socket has ZMQ_IMMEDIATE, so nothing is queued inside
// ZeroMQ for an endpoint without a connection (no stale request reaches filterd when it
// comes back); a send that finds no connection within `connectWaitMs` fails, and the
// client moves to the next endpoint. A try that ends unanswered means the socket is
// stale: it is closed, never used again, and every call it held is sent again on a new
// socket to the next endpoint (Lazy Pirate), up to `retries` tries.
'use strict';

const zmq = require('zeromq');
const { encode, decode } = require('@msgpack/msgpack');
const { fallbackReply } = require('./result');

const DEFAULTS = {
  timeoutMs: 2500, // a call: then the fallback
  tryMs: 1000, // a try: at least this, and at least budget + TRY_MARGIN_MS
  retries: 3, // tries of a call
  connectWaitMs: 250, // no connection by then: the next endpoint
  fallback: 'flag', // the decision when no endpoint answered
  maxItems: 32, // texts per bulk request
  maxPending: 10000, // calls queued or in flight; more resolve to the fallback at once
  scene: undefined, // filterd's default (comment)
  budgetMs: undefined, // filterd's budget-ms
};
const TRY_MARGIN_MS = 250;
const TICK_MS = 20;

// An error reply from filterd for the whole request: the request is wrong
// (bad_request, too_large, unknown_op, forbidden) or the server failed (internal).
class FilterdError extends Error {
  constructor(code, message) {
    super(`filterd: ${code}: ${message}`);
    this.name = 'FilterdError';
    this.code = code;
  }
}

class Client {
  constructor(options = {}) {
    const o = { ...DEFAULTS, ...options };
    const eps = o.endpoints || o.endpoint || 'tcp://127.0.0.1:7700';
    this.endpoints = Array.isArray(eps) ? eps.slice() : [eps];
    if (!this.endpoints.length) throw new Error('filterd client: no endpoint');
    if (!['block', 'flag', 'allow'].includes(o.fallback)) {
      throw new Error(`filterd client: fallback must be block, flag or allow, not ${o.fallback}`);
    }
    this.o = o;
    this.pending = new Map(); // id -> call, queued or sent
    this.queue = []; // calls to send, in order
    this.seq = 0;
    this.ep = 0; // the endpoint of the current (or next) socket
    this.sock = null;
    this.gen = 0; // the current socket's number
    this.pumping = false;
    this.closed = false;
    this.stats = { sent: 0, replies: 0, late: 0, fallbacks: 0, failovers: 0 };
    this.ticker = setInterval(() => this._tick(), TICK_MS);
    this.ticker.unref();
  }

  // One text: resolves to filterd's check reply (or the fallback), rejects with a
  // FilterdError when filterd says the request is wrong.
  check(text, opts = {}) {
    return this._call({ text }, opts, false);
  }

  // Many texts (strings or {text, id?, scene?}): one result per text, in order, sent
  // as bulk requests of up to maxItems texts. A result may be {id?, error} for a text
  // filterd could not check.
  async checkMany(texts, opts = {}) {
    const items = texts.map((t) => (typeof t === 'string' ? { text: t } : t));
    const parts = [];
    for (let i = 0; i < items.length; i += this.o.maxItems) {
      parts.push(this._call({ items: items.slice(i, i + this.o.maxItems) }, opts, true));
    }
    return (await Promise.all(parts)).flat();
  }

  // filterd's ping reply ({v, id, version, ...}); rejects when no endpoint answered.
  async ping(opts = {}) {
    const r = await this._call({ op: 'ping' }, opts, false);
    if (r.degraded === 'unavailable') throw new Error('filterd: no endpoint answered');
    return r;
  }

  // Close the socket; calls still waiting resolve to the fallback.
  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    for (const c of this.pending.values()) this._finish(c, this._fallback(c));
    this.pending.clear();
    this.queue = [];
    this._drop();
  }

  // ---- calls ----------------------------------------------------------------

  _call(body, opts, bulk) {
    return new Promise((resolve, reject) => {
      const now = Date.now();
      const c = {
        id: ++this.seq,
        body,
        bulk,
        scene: opts.scene ?? this.o.scene,
        explain: opts.explain,
        budgetMs: opts.budgetMs ?? this.o.budgetMs,
        end: now + (opts.timeoutMs ?? this.o.timeoutMs),
        tries: 0,
        gen: -1, // the socket it was sent on; -1: not sent
        tryEnd: 0,
        done: false,
        resolve,
        reject,
      };
      if (this.closed || this.pending.size >= this.o.maxPending) {
        this._finish(c, this._fallback(c));
        return;
      }
      c.timer = setTimeout(() => this._expire(c), c.end - now);
      this.pending.set(c.id, c);
      this.queue.push(c);
      this._pump();
    });
  }

  _fallback(c) {
    if (!c.bulk) return fallbackReply(this.o.fallback);
    return c.body.items.map((it) => fallbackReply(this.o.fallback, it.id));
  }

  _finish(c, value, error) {
    if (c.done) return;
    c.done = true;
    clearTimeout(c.timer);
    if (error) c.reject(error);
    else c.resolve(value);
  }

  // The call's time is up: its fallback now. A call not sent is forgotten (the pump
  // skips it); a sent one stays in `pending` until its try ends, so that its socket
  // is replaced if the reply never comes.
  _expire(c) {
    this.stats.fallbacks++;
    this._finish(c, this._fallback(c));
    if (c.gen < 0) this.pending.delete(c.id);
  }

  // ---- the socket -------------------------------------------------------------

  _socket() {
    if (!this.sock) {
      const s = new zmq.Dealer({ immediate: true, linger: 0, sendTimeout: this.o.connectWaitMs });
      s.connect(this.endpoints[this.ep]);
      this.sock = s;
      this.gen++;
      this._receive(s, this.gen);
    }
    return this.sock;
  }

  _drop() {
    if (this.sock) {
      this.sock.close();
      this.sock = null;
    }
  }

  async _receive(s, gen) {
    try {
      for await (const frames of s) {
        if (frames.length === 2 && frames[0].length === 0) this._reply(frames[1], gen);
      }
    } catch (e) {
      // closed
    }
  }

  _reply(buf, gen) {
    let r;
    try {
      r = decode(buf);
    } catch (e) {
      return;
    }
    const c = this.pending.get(r && r.id);
    if (!c || c.gen !== gen) {
      this.stats.late++;
      return;
    }
    this.pending.delete(c.id);
    this.stats.replies++;
    if (c.done) {
      this.stats.late++;
      return;
    }
    if (r.error) this._finish(c, null, new FilterdError(r.error.code, r.error.message));
    else if (c.bulk) this._finish(c, r.results);
    else this._finish(c, r);
  }

  // Send the queue in order; one send at a time (zeromq.js's rule).
  async _pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length && !this.closed) {
        const c = this.queue[0];
        if (c.done) {
          this.queue.shift();
          this.pending.delete(c.id);
          continue;
        }
        const s = this._socket();
        const left = c.end - Date.now();
        const budget = Math.max(0, Math.floor(Math.min(c.budgetMs ?? left, left)));
        const req = { v: 1, id: c.id, ...c.body, budget_ms: budget };
        if (c.scene !== undefined) req.scene = c.scene;
        if (c.explain) req.explain = true;
        try {
          await s.send(['', encode(req)]);
        } catch (e) {
          if (s === this.sock) this._failover(); // no connection within connectWaitMs
          continue;
        }
        if (s !== this.sock) continue; // replaced while sending: send it again
        this.queue.shift();
        this.stats.sent++;
        c.gen = this.gen;
        c.tryEnd = Date.now() + Math.max(budget + TRY_MARGIN_MS, this.o.tryMs);
      }
    } finally {
      this.pumping = false;
    }
  }

  // A sent call whose try ended unanswered: the socket is stale.
  _tick() {
    const now = Date.now();
    for (const c of this.pending.values()) {
      if (c.gen === this.gen && c.gen >= 0 && now > c.tryEnd) {
        this._failover();
        return;
      }
    }
  }

  // Close the socket, take the next endpoint, and send again every call the old
  // socket held that is still waiting and has tries left.
  _failover() {
    this.stats.failovers++;
    const old = this.gen;
    this._drop();
    this.ep = (this.ep + 1) % this.endpoints.length;
    const again = [];
    for (const c of this.pending.values()) {
      if (c.gen !== old) continue;
      c.gen = -1;
      if (c.done) {
        this.pending.delete(c.id);
      } else if (++c.tries >= this.o.retries) {
        this.pending.delete(c.id);
        this.stats.fallbacks++;
        this._finish(c, this._fallback(c));
      } else {
        again.push(c);
      }
    }
    this.queue = again.concat(this.queue.filter((c) => !again.includes(c)));
    this._pump();
  }
}

module.exports = { Client, FilterdError, DEFAULTS, TRY_MARGIN_MS };
