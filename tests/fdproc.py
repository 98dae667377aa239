"""fdproc.py -- start the real filterd for Python tests: a temp dir, small lists, a config.

    with fdproc.Daemon(extra='queue-max 2\n') as d:
        d.ep, d.admin, d.tcp, d.version, d.call_admin('stats'), d.worker_pids()

The same recipe as tests/integration_test.c's fdproc: every daemon gets a fresh
/tmp/fdpy.XXXXXX with its lists, config, cache and run dir, ipc:// endpoints
(and a loopback TCP port when asked), runs in its own process group, and is
ready when its log says event=ready. stop() sends SIGTERM and says whether it
exited 0 with no process of its group left behind. The binary is $FILTERD, or
build/filterd of this tree.

The lists hold one plain term per label, "zq<label>x" (so each label can be
asked for), on line TERM_LINE of <label>.txt, plus the few entries that the
protocol's rules need (see LISTS)."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import msgpack
import zmq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILTERD = os.environ.get('FILTERD') or os.path.join(ROOT, 'build', 'filterd')

READY_S = 60          # secs: start (an ASan build compiles slowly)
STOP_S = 20           # secs: SIGTERM to exit
REPLY_MS = 10000      # msecs: any one reply in the tests
MAX_TEXT = 32768      # the config's max-text-bytes (4097 matches fit)

# The taxonomy's labels (docs/protocol.md, "Labels"; the tests read codes and
# actions from the document itself).
LABELS = ('politics', 'porn', 'abuse', 'violence', 'gambling', 'contraband', 'fraud', 'vulgar',
          'trademark', 'ad', 'privacy', 'cult', 'other')
TERM_LINE = 3

# Extra entries: a word an allow-list entry covers (cunt in scunthorpe), and a
# Chinese term (offsets in bytes of UTF-8).
EXTRA = {'porn.txt': 'cunt\n色情网站\n', 'allow.txt': '@allow\nscunthorpe\n'}

CONFIG = """lists {lists}
listen {ep} {tcp}
admin {admin}
run-dir {dir}
cache-dir {dir}/cache
user
workers 2
max-text-bytes {max_text}
budget-ms 5000
max-budget-ms 8000
policy comment trademark allow
policy chat ad allow
"""


def term(label):
    return 'zq%sx' % label


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_lists(d):
    os.makedirs(d)
    for label in LABELS:
        with open(os.path.join(d, label + '.txt'), 'w', encoding='utf-8') as f:
            f.write('# test list\n# its term is on line %d\n%s\n%s'
                    % (TERM_LINE, term(label), EXTRA.get(label + '.txt', '')))
    with open(os.path.join(d, 'allow.txt'), 'w', encoding='utf-8') as f:
        f.write(EXTRA['allow.txt'])


class Daemon:
    def __init__(self, extra='', tcp=False):
        self.extra, self.want_tcp = extra, tcp
        self.proc = None
        self.dir = None
        self.ctx = zmq.Context.instance()

    # ---- life -------------------------------------------------------------
    def start(self):
        """Start it (again, after stop(keep=True): same dir, endpoints and lists)."""
        if not self.dir:
            self.dir = tempfile.mkdtemp(prefix='fdpy.', dir='/tmp')
            self.lists = os.path.join(self.dir, 'lists')
            self.conf = os.path.join(self.dir, 'filterd.conf')
            self.log = os.path.join(self.dir, 'filterd.log')
            self.ep = 'ipc://%s/req.sock' % self.dir
            self.admin = 'ipc://%s/admin.sock' % self.dir
            self.tcp = 'tcp://127.0.0.1:%d' % free_port() if self.want_tcp else ''
            write_lists(self.lists)
            with open(self.conf, 'w') as f:
                f.write(CONFIG.format(lists=self.lists, ep=self.ep, tcp=self.tcp,
                                      admin=self.admin, dir=self.dir, max_text=MAX_TEXT)
                        + self.extra)
        with open(self.log, 'w') as log:
            self.proc = subprocess.Popen([FILTERD, '--config', self.conf], stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        end = time.monotonic() + READY_S
        while time.monotonic() < end:
            if 'event=ready' in self.read_log():
                self.version = self.call_admin('stats')['version']
                return self
            if self.proc.poll() is not None:
                raise RuntimeError('filterd exited before ready:\n' + self.read_log()[-4096:])
            time.sleep(0.02)
        self.kill()
        raise RuntimeError('filterd not ready within %d s' % READY_S)

    def group_alive(self):
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self, keep=False):
        """SIGTERM; True when it exited 0 and left nothing of its group behind.
        keep: leave the dir, for start() again."""
        if not self.proc:
            return True
        ok = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                ok = False
        if self.proc.poll() is None or self.proc.returncode != 0:
            ok = False
        end = time.monotonic() + STOP_S
        while self.group_alive() and time.monotonic() < end:
            time.sleep(0.02)
        ok = ok and not self.group_alive()
        self.kill(keep)
        return ok

    def kill(self, keep=False):
        """SIGKILL the whole group (workers too); remove the temp dir unless keep."""
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        if self.dir and not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        log = self.read_log()
        if not self.stop() and exc[0] is None:
            raise AssertionError('filterd did not stop cleanly:\n' + log[-4096:])

    def read_log(self):
        try:
            with open(self.log, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    # ---- talking to it ----------------------------------------------------
    def call_admin(self, op, timeout_ms=REPLY_MS, **keys):
        """One admin operation over REQ: the reply as a dict."""
        s = self.ctx.socket(zmq.REQ)
        s.linger = 0
        try:
            s.connect(self.admin)
            s.send(msgpack.packb(dict(op=op, **keys)))
            if not s.poll(timeout_ms):
                raise TimeoutError('no reply to admin %s' % op)
            return msgpack.unpackb(s.recv(), raw=False)
        finally:
            s.close()

    def worker_pids(self):
        return [w['pid'] for w in self.call_admin('workers')['workers']
                if w['state'] != 'retiring']

    def signal_workers(self, sig):
        for pid in self.worker_pids():
            os.kill(pid, sig)
