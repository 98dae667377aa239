// fdproc.js -- start the real filterd for the Node tests: a temp dir, small lists, a config.
//
// The recipe of tests/fdproc.py (and tests/integration_test.c): a fresh
// /tmp/fdnode.XXXXXX with lists, config, cache and run dir, ipc:// endpoints, its
// own process group, ready when its log says event=ready. The binary is $FILTERD,
// or build/filterd of this tree. Each label's list holds one term, "zq<label>x".
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FILTERD = process.env.FILTERD || path.join(ROOT, 'build', 'filterd');
const LABELS = ['politics', 'porn', 'abuse', 'violence', 'gambling', 'contraband', 'fraud',
  'vulgar', 'trademark', 'ad', 'privacy', 'cult', 'other'];
const READY_MS = 60000;
const STOP_MS = 20000;

const term = (label) => `zq${label}x`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Daemon {
  constructor(extra = '') {
    this.extra = extra;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdnode.'));
    this.ep = `ipc://${this.dir}/req.sock`;
    this.admin = `ipc://${this.dir}/admin.sock`;
    this.log = path.join(this.dir, 'filterd.log');
    this.conf = path.join(this.dir, 'filterd.conf');
    const lists = path.join(this.dir, 'lists');
    fs.mkdirSync(lists);
    for (const l of LABELS) fs.writeFileSync(path.join(lists, `${l}.txt`), `${term(l)}\n`);
    fs.writeFileSync(this.conf, `lists ${lists}\nlisten ${this.ep}\nadmin ${this.admin}\n`
      + `run-dir ${this.dir}\ncache-dir ${this.dir}/cache\nuser\nworkers 2\n`
      + `policy comment trademark allow\n${extra}`);
  }

  async start() {
    const out = fs.openSync(this.log, 'w');
    this.proc = spawn(FILTERD, ['--config', this.conf], { stdio: ['ignore', out, out], detached: true });
    fs.closeSync(out);
    this.exited = new Promise((r) => this.proc.on('exit', (code) => r(code)));
    const end = Date.now() + READY_MS;
    while (Date.now() < end) {
      const log = this.readLog();
      if (log.includes('event=ready')) return this;
      if (this.proc.exitCode !== null) throw new Error(`filterd exited before ready:\n${log}`);
      await sleep(20);
    }
    throw new Error('filterd not ready in time');
  }

  readLog() {
    try {
      return fs.readFileSync(this.log, 'utf8');
    } catch (e) {
      return '';
    }
  }

  // SIGTERM and wait; SIGKILL the group if it does not go.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.proc && this.proc.exitCode;
    process.kill(-this.proc.pid, 'SIGTERM');
    const code = await Promise.race([this.exited, sleep(STOP_MS).then(() => 'timeout')]);
    if (code === 'timeout') process.kill(-this.proc.pid, 'SIGKILL');
    return code;
  }

  // SIGSTOP / SIGCONT the whole group (the broker and its workers): a daemon that hangs.
  pause() { process.kill(-this.proc.pid, 'SIGSTOP'); }
  resume() { process.kill(-this.proc.pid, 'SIGCONT'); }

  async remove() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Daemon, term, sleep, LABELS, FILTERD, ROOT };
