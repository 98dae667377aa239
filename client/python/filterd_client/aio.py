"""aio.py -- the asyncio filterd client: many calls in flight from many tasks, one DEALER.

    filt = AsyncClient(['tcp://10.0.0.5:7700'])
    r = await filt.check('text', scene='comment', budget_ms=50)
    await filt.close()

One task pumps: it sends the queue in order, reads replies, ends calls at their
timeout and replaces a stale socket; a new call wakes it (kick). core.py has the
rules; they are the blocking client's too."""
import asyncio

import zmq
import zmq.asyncio

from . import core
from .base import Base

TICK_MS = 20


class AsyncClient(Base):
    def __init__(self, endpoints='tcp://127.0.0.1:7700', context=None, **options):
        super().__init__(endpoints, context or zmq.asyncio.Context.instance(), options)
        self.task = None
        self.kick = asyncio.Event()
        self.checked = 0.0        # when the pump last ended calls and looked for staleness
        self.plain, self.plain_of = None, None

    async def check(self, text, **opts):
        return (await self._wait([self.calls.start({'text': text}, False, **opts)]))[0]

    async def check_many(self, texts, **opts):
        parts = await self._wait(self.calls.checks(texts, **opts))
        return [r for part in parts for r in part]

    async def ping(self, timeout_ms=None):
        r = (await self._wait([self.calls.start({'op': 'ping'}, False, timeout_ms=timeout_ms)]))[0]
        return self._unavailable(r)

    async def close(self):
        self.calls.close()
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None
        self._drop()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    # ---- calls as futures -------------------------------------------------------------
    async def _wait(self, calls):
        loop = asyncio.get_running_loop()
        futs = []
        for c in calls:
            f = loop.create_future()
            if c.done:
                f.set_result(c)
            else:
                c.on_done = lambda c, f=f: f.done() or f.set_result(c)
            futs.append(f)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())
        self.kick.set()
        out = []
        for c in await asyncio.gather(*futs):
            if c.error:
                raise c.error
            out.append(c.result)
        return out

    # ---- the socket -----------------------------------------------------------------
    def _plain(self, s):
        """A blocking-API shadow of asyncio socket s (same libzmq socket, not
        owned): zmq.asyncio wraps every send and receive in futures and loop
        callbacks, most of the pump's time at 32 in flight; the pump only
        sends and receives with NOBLOCK, and waits on s's poll."""
        if self.plain_of is not s:
            self.plain, self.plain_of = zmq.Socket.shadow(s.underlying), s
        return self.plain

    async def _send(self):
        while True:
            c = self.calls.next_to_send()
            if c is None:
                return
            s = self._socket()
            msg = [b'', self.calls.request(c)]
            try:
                self._plain(s).send_multipart(msg, zmq.NOBLOCK)
            except zmq.Again:
                # no connection yet (ZMQ_IMMEDIATE) or the queue full: wait
                if not await s.poll(self._send_wait_ms(c), zmq.POLLOUT):
                    self._failover()
                    return
                try:
                    self._plain(s).send_multipart(msg, zmq.NOBLOCK)
                except zmq.Again:
                    self._failover()
                    return
            self.calls.sent(c)

    def _read(self):
        if self.sock is None:
            return
        s = self._plain(self.sock)
        while True:
            try:
                f = s.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(f) == 2 and f[0] == b'':
                self.calls.reply(f[1], self.sock_gen)

    async def _run(self):
        """The pump: while calls wait, send, read, expire and fail over."""
        while self.calls.pending:
            wait = TICK_MS
            if core.now_ms() >= self.checked + TICK_MS / 2:
                self.calls.expire()
                if self.calls.stale():
                    self._failover()
                self.checked = core.now_ms()
                wake = self.calls.wake_ms()
                wait = TICK_MS if wake is None else min(TICK_MS, wake)
            await self._send()
            self.kick.clear()
            # until a reply, a new call (kick) or the next tick
            poll = asyncio.ensure_future(self._socket().poll(wait, zmq.POLLIN))
            kick = asyncio.ensure_future(self.kick.wait())
            await asyncio.wait((poll, kick), return_when=asyncio.FIRST_COMPLETED)
            kick.cancel()
            if not poll.done():
                poll.cancel()
            elif poll.result():
                self._read()
