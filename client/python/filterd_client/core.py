"""core.py -- the state both Python clients share: calls, tries, failover, the fallback.

No I/O here: the blocking client (sync.py) and the asyncio one (aio.py) move bytes
and time, and ask this module what to send, what a reply answers and when a socket is
stale, so that both behave the same -- as docs/protocol.md, "Writing a client", says
(and as the C and Node.js clients do). A call waits in `pending` (by id) from its
start until its reply, or until its try ends after the call itself ended at its
timeout (then with the fallback); `queue` holds the calls not sent yet."""
import itertools
import time

import msgpack

SUGGEST = {'block': 'risky', 'flag': 'review', 'allow': 'pass'}
LABEL_PASS = 100
LABEL_FALLBACK = 21000
TRY_MARGIN_MS = 250

DEFAULTS = dict(timeout_ms=2500, try_ms=1000, retries=3, connect_wait_ms=250,
                fallback='flag', max_items=32, max_pending=10000, scene=None, budget_ms=None)


class FilterdError(Exception):
    """An error reply for the whole request: `code` is bad_request, too_large,
    unknown_op, forbidden or internal (docs/protocol.md, "Errors")."""

    def __init__(self, code, message):
        super().__init__('filterd: %s: %s' % (code, message))
        self.code = code
        self.message = message


class Unavailable(Exception):
    """No endpoint answered (raised by ping only; checks get the fallback)."""


def fallback_reply(decision, id_=None):
    """The client's own fallback: no endpoint answered in time."""
    r = {'v': 1, 'decision': decision, 'suggest': SUGGEST[decision],
         'label': LABEL_PASS if decision == 'allow' else LABEL_FALLBACK,
         'labels': [], 'matches': [], 'warnings': [], 'version': None,
         'degraded': 'unavailable'}
    if id_ is not None:
        r['id'] = id_
    return r


def deciding_match(reply):
    """The first match whose action is the decision; None when allowed."""
    if reply['decision'] == 'allow':
        return None
    return next((m for m in reply.get('matches', []) if m['action'] == reply['decision']), None)


def msgsec_check(reply):
    """The reply in the shape of WeChat's msgSecCheck (v2) answer."""
    m = deciding_match(reply)
    detail = {'strategy': 'keyword', 'errcode': 0, 'suggest': reply['suggest'],
              'label': reply['label'], 'prob': 90 if m or reply['decision'] == 'allow' else 0}
    if m:
        detail['keyword'] = m['term']
    return {'errcode': 0, 'errmsg': 'ok',
            'result': {'suggest': reply['suggest'], 'label': reply['label']},
            'detail': [detail], 'degraded': reply.get('degraded')}


def now_ms():
    return time.monotonic() * 1000


def items_of(texts):
    return [{'text': t} if isinstance(t, str) else dict(t) for t in texts]


class Call:
    __slots__ = ('id', 'body', 'bulk', 'scene', 'explain', 'budget_ms', 'end', 'tries',
                 'gen', 'try_end', 'done', 'result', 'error', 'on_done')

    def __init__(self, id_, body, bulk, end):
        self.id, self.body, self.bulk, self.end = id_, body, bulk, end
        self.scene = self.explain = self.budget_ms = None
        self.tries, self.gen, self.try_end = 0, -1, 0.0
        self.done, self.result, self.error, self.on_done = False, None, None, None


class Calls:
    def __init__(self, endpoints, **options):
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise TypeError('unknown options: %s' % ', '.join(sorted(unknown)))
        self.o = dict(DEFAULTS, **options)
        if isinstance(endpoints, str):
            endpoints = [endpoints]
        self.endpoints = list(endpoints)
        if not self.endpoints:
            raise ValueError('filterd client: no endpoint')
        if self.o['fallback'] not in SUGGEST:
            raise ValueError('fallback must be block, flag or allow')
        self.pending = {}
        self.queue = []
        self.ids = itertools.count(1)
        self.ep = 0               # the endpoint of the current (or next) socket
        self.gen = 0              # the current socket's number
        self.stats = dict(sent=0, replies=0, late=0, fallbacks=0, failovers=0)

    # ---- calls ----------------------------------------------------------------
    def start(self, body, bulk, scene=None, budget_ms=None, timeout_ms=None, explain=False):
        """A new call, queued (or finished at once with the fallback when too many wait)."""
        c = Call(next(self.ids), body, bulk,
                 now_ms() + (timeout_ms if timeout_ms is not None else self.o['timeout_ms']))
        c.scene = scene if scene is not None else self.o['scene']
        c.budget_ms = budget_ms if budget_ms is not None else self.o['budget_ms']
        c.explain = explain
        if len(self.pending) >= self.o['max_pending']:
            self.finish(c, self.fallback(c))
            return c
        self.pending[c.id] = c
        self.queue.append(c)
        return c

    def checks(self, texts, **opts):
        """The calls of a bulk check: one per max_items texts."""
        items, n = items_of(texts), self.o['max_items']
        return [self.start({'items': items[i:i + n]}, True, **opts) for i in range(0, len(items), n)]

    def fallback(self, c):
        if not c.bulk:
            return fallback_reply(self.o['fallback'])
        return [fallback_reply(self.o['fallback'], it.get('id')) for it in c.body['items']]

    def finish(self, c, result=None, error=None):
        if c.done:
            return
        c.done, c.result, c.error = True, result, error
        if c.on_done:
            c.on_done(c)

    # ---- sending ------------------------------------------------------------------
    def next_to_send(self):
        """The first queued call still waiting (calls that ended are dropped), or None."""
        while self.queue:
            c = self.queue[0]
            if not c.done:
                return c
            self.queue.pop(0)
            if c.gen < 0:
                self.pending.pop(c.id, None)
        return None

    def request(self, c):
        """The request's bytes, with budget_ms no larger than what is left of the call."""
        left = max(0, int(c.end - now_ms()))
        budget = left if c.budget_ms is None else min(c.budget_ms, left)
        req = {'v': 1, 'id': c.id, 'budget_ms': budget}
        req.update(c.body)
        if c.scene is not None:
            req['scene'] = c.scene
        if c.explain:
            req['explain'] = True
        c.try_end = budget + TRY_MARGIN_MS      # until sent(): the try's length
        return msgpack.packb(req, use_bin_type=True)

    def sent(self, c):
        self.queue.remove(c)
        self.stats['sent'] += 1
        c.gen = self.gen
        c.try_end = now_ms() + max(c.try_end, self.o['try_ms'])

    # ---- receiving ------------------------------------------------------------------
    def reply(self, body, gen):
        """A reply's body from socket number gen: finishes its call, or is dropped."""
        try:
            r = msgpack.unpackb(body, raw=False, strict_map_key=False)
            c = self.pending.get(r.get('id'))
        except Exception:           # not msgpack, not a map, an unhashable id
            return
        if c is None or c.gen != gen:
            self.stats['late'] += 1
            return
        del self.pending[c.id]
        self.stats['replies'] += 1
        if c.done:
            self.stats['late'] += 1
        elif 'error' in r:
            self.finish(c, error=FilterdError(r['error'].get('code'), r['error'].get('message')))
        else:
            self.finish(c, r['results'] if c.bulk else r)

    # ---- time ---------------------------------------------------------------------
    def expire(self):
        """Calls whose time is up get the fallback; a sent one stays until its try ends."""
        t = now_ms()
        for c in list(self.pending.values()):
            if not c.done and t >= c.end:
                self.stats['fallbacks'] += 1
                self.finish(c, self.fallback(c))
                if c.gen < 0 and c not in self.queue:
                    del self.pending[c.id]

    def stale(self):
        """A call sent on the current socket is past its try: the socket is stale."""
        t = now_ms()
        return any(c.gen == self.gen and t > c.try_end for c in self.pending.values())

    def wake_ms(self, calls=None):
        """Milliseconds until the next call end or try end (of `calls`, or all)."""
        t = now_ms()
        ends = [c.end for c in (calls or self.pending.values()) if not c.done]
        ends += [c.try_end for c in self.pending.values() if c.gen == self.gen]
        return max(0, min(ends) - t) if ends else None

    def failover(self):
        """The socket was closed: the next endpoint; its calls are sent again while
        they have tries left, and get the fallback otherwise."""
        self.stats['failovers'] += 1
        old, again = self.gen, []
        self.ep = (self.ep + 1) % len(self.endpoints)
        self.gen += 1
        for c in list(self.pending.values()):
            if c.gen != old:
                continue
            c.gen = -1
            c.tries += 1
            if c.done:
                del self.pending[c.id]
            elif c.tries >= self.o['retries']:
                del self.pending[c.id]
                self.stats['fallbacks'] += 1
                self.finish(c, self.fallback(c))
            else:
                again.append(c)
        self.queue = again + [c for c in self.queue if c not in again]

    def close(self):
        for c in list(self.pending.values()):
            self.finish(c, self.fallback(c))
        self.pending.clear()
        self.queue = []
