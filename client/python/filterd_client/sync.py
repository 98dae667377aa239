"""sync.py -- the blocking filterd client: one DEALER, calls waited for in the caller's thread.

    with Client(['tcp://10.0.0.5:7700', 'tcp://10.0.0.6:7700']) as filt:
        r = filt.check('text', scene='comment', budget_ms=50)

One Client per thread (a ZeroMQ socket is not thread-safe). check_many() keeps all its
bulk requests in flight at once. The rules (tries, failover, the fallback) are core.py's."""
import zmq

from .base import Base


class Client(Base):
    def __init__(self, endpoints='tcp://127.0.0.1:7700', context=None, **options):
        super().__init__(endpoints, context or zmq.Context.instance(), options)

    def check(self, text, **opts):
        """filterd's check reply for one text (or the fallback; FilterdError when
        filterd says the request is wrong). opts: scene, budget_ms, timeout_ms, explain."""
        return self._wait([self.calls.start({'text': text}, False, **opts)])[0]

    def check_many(self, texts, **opts):
        """One result per text (str or {text, id, scene}), in order."""
        return [r for part in self._wait(self.calls.checks(texts, **opts)) for r in part]

    def ping(self, timeout_ms=None):
        r = self._wait([self.calls.start({'op': 'ping'}, False, timeout_ms=timeout_ms)])[0]
        return self._unavailable(r)

    def close(self):
        self.calls.close()
        self._drop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the socket -----------------------------------------------------------------
    def _send(self):
        """Send what is queued; False when no connection came up (after a failover)."""
        while True:
            c = self.calls.next_to_send()
            if c is None:
                return True
            s = self._socket()
            wait = self._send_wait_ms(c)
            if not s.poll(wait, zmq.POLLOUT):
                self._failover()
                return False
            try:
                s.send_multipart([b'', self.calls.request(c)], zmq.NOBLOCK)
            except zmq.Again:
                self._failover()
                return False
            self.calls.sent(c)

    def _wait(self, calls):
        """Run until every one of calls is done; their results in order."""
        while not all(c.done for c in calls):
            self.calls.expire()
            if self.calls.stale():
                self._failover()
            if not self._send():
                continue
            wake = self.calls.wake_ms(calls)
            s = self._socket()
            if s.poll(wake if wake is not None else 0, zmq.POLLIN):
                while True:
                    try:
                        f = s.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    if len(f) == 2 and f[0] == b'':
                        self.calls.reply(f[1], self.sock_gen)
        out = []
        for c in calls:
            if c.error:
                raise c.error
            out.append(c.result)
        return out
