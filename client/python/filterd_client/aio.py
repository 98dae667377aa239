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
    async def _send(self):
        while True:
            c = self.calls.next_to_send()
            if c is None:
                return
            s = self._socket()
            wait = self._send_wait_ms(c)
            if not await s.poll(wait, zmq.POLLOUT):
                self._failover()
                return
            try:
                await s.send_multipart([b'', self.calls.request(c)], zmq.NOBLOCK)
            except zmq.Again:
                self._failover()
                return
            self.calls.sent(c)

    async def _read(self):
        s = self.sock
        while s is not None:
            try:
                f = await s.recv_multipart(zmq.NOBLOCK)
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
                await self._read()
