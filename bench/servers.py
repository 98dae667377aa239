"""servers.py -- the servers the benchmark suite runs: filterd (scan or echo), the
baseline filterd, or echod, each on an ipc endpoint under build/bench/work."""
import os
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build')
BIN = os.path.join(BUILD, 'bench')
WORK = os.path.join(BUILD, 'bench', 'work')     # configs, sockets, lists, logs


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ''


class Server:
    """A filterd (scan or echo), the baseline filterd, or an echod, on an ipc
    endpoint under WORK."""

    def __init__(self, name, kind, lists=None, workers=2, binary=None, extra=''):
        self.name, self.kind = name, kind
        self.ep = 'ipc://%s/%s.sock' % (WORK, name)
        self.log = os.path.join(WORK, name + '.log')
        self.proc = None
        if kind == 'echod':
            self.cmd = [os.path.join(BIN, 'echod'), self.ep]
            return
        conf = os.path.join(WORK, name + '.conf')
        with open(conf, 'w') as f:
            f.write('lists %s\ncache-dir %s\nrun-dir %s\nuser\nworkers %d\nlisten %s\n%s'
                    % (lists, os.path.join(WORK, 'cache'), os.path.join(WORK, 'run-' + name),
                       workers, self.ep, extra))
        self.cmd = [binary or os.path.join(BUILD, 'filterd'), '--config', conf]
        if kind == 'echo':
            self.cmd.append('--echo')

    def start(self, timeout=180):
        if self.ep.startswith('ipc://') and os.path.exists(self.ep[6:]):
            os.unlink(self.ep[6:])
        self.proc = subprocess.Popen(self.cmd, stderr=open(self.log, 'w'),
                                     stdout=subprocess.DEVNULL)
        stop = time.time() + timeout
        while time.time() < stop:
            if 'event=ready' in open(self.log, errors='replace').read():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError('%s exited before it was ready: see %s' % (self.name, self.log))
            time.sleep(0.05)
        raise RuntimeError('%s not ready after %d s: see %s' % (self.name, timeout, self.log))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def pids(self):
        """The server's process and its children (the workers, the broker)."""
        if not self.proc:
            return []
        out = sh('pgrep -P %d' % self.proc.pid).split()
        return [self.proc.pid] + [int(p) for p in out]
