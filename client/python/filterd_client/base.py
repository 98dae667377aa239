"""base.py -- what the blocking and the asyncio client share: the calls and their socket.

The socket is opened lazily for the current endpoint, with ZMQ_IMMEDIATE (nothing
queued for an endpoint without a connection) and linger 0, and replaced when the
calls move on (core.Calls.gen changes: a failover)."""
import zmq

from . import core


class Base:
    def __init__(self, endpoints, context, options):
        self.calls = core.Calls(endpoints, **options)
        self.ctx = context
        self.sock = None
        self.sock_gen = -1

    @property
    def stats(self):
        return self.calls.stats

    def _socket(self):
        if self.sock is None or self.sock_gen != self.calls.gen:
            self._drop()
            s = self.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.IMMEDIATE, 1)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(self.calls.endpoints[self.calls.ep])
            self.sock, self.sock_gen = s, self.calls.gen
        return self.sock

    def _drop(self):
        if self.sock is not None:
            self.sock.close(0)
            self.sock = None

    def _failover(self):
        self._drop()
        self.calls.failover()

    def _send_wait_ms(self, c):
        """How long to wait for a connection to send call c on."""
        return min(self.calls.o['connect_wait_ms'], max(0, c.end - core.now_ms()))

    @staticmethod
    def _unavailable(r):
        if r.get('degraded') == 'unavailable':
            raise core.Unavailable('filterd: no endpoint answered')
        return r
