"""test_client.py -- the blocking and the asyncio client against the real filterd.

Every behaviour is checked on both clients (the `client` fixture runs each test
twice: `run` calls the blocking client directly, or the asyncio one in a loop)."""
import asyncio
import os
import re
import signal
import time

import pytest

import fdproc
from fdproc import term
from filterd_client import AsyncClient, Client, FilterdError, deciding_match, msgsec_check

CONF = 'max-text-bytes 1024\n'


@pytest.fixture(scope='module')
def d():
    with fdproc.Daemon(extra=CONF) as daemon:
        yield daemon


class Sync:
    """The blocking client, with the asyncio one's calls."""
    def __init__(self, *a, **kw):
        self.c = Client(*a, **kw)

    def __getattr__(self, name):
        return getattr(self.c, name)


class Async:
    """The asyncio client, called from a test's thread: each call runs the loop."""
    def __init__(self, *a, **kw):
        self.loop = asyncio.new_event_loop()
        self.c = self.loop.run_until_complete(self._make(*a, **kw))

    async def _make(self, *a, **kw):
        return AsyncClient(*a, **kw)

    def check(self, *a, **kw):
        return self.loop.run_until_complete(self.c.check(*a, **kw))

    def check_many(self, *a, **kw):
        return self.loop.run_until_complete(self.c.check_many(*a, **kw))

    def gather(self, texts, **kw):
        async def all_():
            return await asyncio.gather(*(self.c.check(t, **kw) for t in texts))
        return self.loop.run_until_complete(all_())

    @property
    def stats(self):
        return self.c.stats

    def close(self):
        self.loop.run_until_complete(self.c.close())
        self.loop.close()


@pytest.fixture(params=['sync', 'async'])
def make(request):
    made = []

    def new(*a, **kw):
        made.append((Sync if request.param == 'sync' else Async)(*a, **kw))
        return made[-1]
    yield new
    for c in made:
        c.close()


def checked(daemon):
    return sum(daemon.call_admin('stats')['decisions'].values())


def test_check_labels_codes_and_msgsec(d, make):
    c = make(d.ep)
    ok = c.check('hello')
    assert (ok['decision'], ok['label'], ok['degraded']) == ('allow', 100, None)
    r = c.check('buy %s and %s' % (term('ad'), term('porn')), scene='forum', budget_ms=500)
    assert (r['decision'], r['labels'], r['label']) == ('block', ['porn', 'ad'], 20002)
    assert deciding_match(r)['term'] == term('porn')
    m = msgsec_check(r)
    assert m['result'] == {'suggest': 'risky', 'label': 20002} and m['errcode'] == 0
    assert m['detail'][0]['keyword'] == term('porn')
    assert c.check(term('trademark'), scene='comment')['decision'] == 'allow'
    assert c.check(term('trademark'), scene='forum')['decision'] == 'flag'


def test_check_many_in_order_with_item_errors(d, make):
    c = make(d.ep, max_items=8)
    texts = [term('fraud') if i % 2 else {'text': 'ok', 'id': 'i%d' % i} for i in range(21)]
    texts.append({'text': 5, 'id': 'bad'})
    res = c.check_many(texts, scene='chat')
    assert len(res) == 22
    assert [r['decision'] for r in res[:21]] == ['block' if i % 2 else 'allow' for i in range(21)]
    assert res[4]['id'] == 'i4'
    assert res[21]['id'] == 'bad' and res[21]['error']['code'] == 'bad_request'
    assert c.stats['sent'] == 3


def test_many_in_flight_async(d):
    c = Async(d.ep, timeout_ms=20000)       # a loaded machine
    try:
        labels = ['ad', 'porn', 'abuse', 'fraud']
        texts = ['t%d %s' % (i, term(labels[i % 4])) if i % 5 else 't%d' % i for i in range(600)]
        for i, r in enumerate(c.gather(texts)):
            assert r['labels'] == ([labels[i % 4]] if i % 5 else []), i
        assert c.stats['failovers'] == 0
    finally:
        c.close()


def test_error_reply_raises(d, make):
    c = make(d.ep)
    with pytest.raises(FilterdError) as e:
        c.check('x' * 2000)
    assert e.value.code == 'too_large'
    with pytest.raises(FilterdError) as e:
        c.check('x', scene='nowhere')
    assert e.value.code == 'bad_request'
    assert c.check('still fine')['decision'] == 'allow'


def test_no_endpoint_fallback_at_timeout(d, make):
    c = make('ipc://%s/nobody.sock' % d.dir, timeout_ms=300, fallback='block')
    t0 = time.monotonic()
    r = c.check(term('ad'))
    took = time.monotonic() - t0
    assert (r['decision'], r['suggest'], r['label'], r['degraded']) == ('block', 'risky', 21000, 'unavailable')
    assert 0.25 <= took < 5, took
    many = c.check_many(['a', {'text': 'b', 'id': 'b'}])
    assert [(x['degraded'], x.get('id')) for x in many] == [('unavailable', None), ('unavailable', 'b')]


def test_failover_to_the_live_endpoint(d, make):
    c = make(['ipc://%s/dead.sock' % d.dir, d.ep])
    r = c.check(term('abuse'))
    assert (r['degraded'], r['labels']) == (None, ['abuse'])
    assert c.stats['failovers'] >= 1


def test_hung_daemon_stale_socket_replaced(make):
    with fdproc.Daemon(extra=CONF) as h:
        c = make(h.ep, timeout_ms=400, try_ms=300)
        assert c.check('warm')['degraded'] is None
        os.killpg(h.proc.pid, signal.SIGSTOP)
        try:
            r = c.check(term('ad'), budget_ms=50)
            time.sleep(0.7)                 # past the try's end
            assert c.check('x', timeout_ms=100)['degraded'] == 'unavailable'
        finally:
            os.killpg(h.proc.pid, signal.SIGCONT)
        assert r['degraded'] == 'unavailable'
        assert c.stats['failovers'] >= 1
        again = c.check(term('ad'), timeout_ms=5000)
        assert (again['degraded'], again['decision']) == (None, 'flag')


def test_no_stale_request_after_outage(make):
    o = fdproc.Daemon(extra=CONF).start()
    try:
        c = make(o.ep, timeout_ms=300)
        assert c.check('before')['degraded'] is None
        assert o.stop(keep=True)
        during = [c.check('during %d' % i) for i in range(10)]
        assert all(r['degraded'] == 'unavailable' for r in during)
        o.start()
        assert c.check('after', timeout_ms=5000)['degraded'] is None
        time.sleep(0.3)                     # anything stale would have come by now
        assert checked(o) == 1
    finally:
        o.kill()


def test_defaults_are_the_documents():
    """docs/protocol.md, "Writing a client", states the clients' defaults."""
    from filterd_client import DEFAULTS, core
    doc = open(os.path.join(fdproc.ROOT, 'docs', 'protocol.md'), encoding='utf-8').read()
    doc = ' '.join(doc.split('## Writing a client')[1].split('## Admin operations')[0].split())
    rules = {r'at least `budget_ms` \+ (\d+) ms': core.TRY_MARGIN_MS,
             r'ms, (\d+) ms by default\); a try': DEFAULTS['try_ms'],
             r'`retries` tries \((\d+)\)': DEFAULTS['retries'],
             r'the clients: (\d+) ms by default, per call': DEFAULTS['timeout_ms'],
             r'a short wait \(the clients: (\d+) ms\)': DEFAULTS['connect_wait_ms'],
             r'Clients send at most (\d+) texts': DEFAULTS['max_items']}
    for rule, value in rules.items():
        m = re.search(rule, doc)
        assert m, 'docs/protocol.md no longer says %r' % rule
        assert int(m.group(1)) == value, rule
    assert re.search(r'the configured decision \(default `(\w+)`\)', doc).group(1) == DEFAULTS['fallback']
