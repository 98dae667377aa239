"""protocol_test.py -- every rule of docs/protocol.md, checked against the real daemon.

Run: python3 -m pytest tests/protocol_test.py   (make client-test runs it; Debian's
python3 with python3-zmq, python3-msgpack, python3-pytest; $FILTERD picks the binary)

Each test names the section of docs/protocol.md whose rule it checks, and talks to
filterd (tests/fdproc.py: the real daemon, a temp dir, small lists) over raw ZeroMQ
sockets, with bodies built by hand, so that nothing of the clients comes between the
document and the daemon. The tables a client relies on -- the labels and their codes,
the keys of a check reply, the error codes, the keys of stats -- are read from the
document itself, so the document cannot drift from the daemon unnoticed.

"No reply" is never a wait: the test sends the frames that must get none, then a ping
on the same socket; ZeroMQ keeps a connection's order, so when the pong is the first
thing that comes back, nothing was answered before it.

Rules checked elsewhere: a worker dying twice (`worker_lost`), SIGTERM draining,
reloads under load, admin-group, filterctl's JSON lines -- tests/integration_test.c
(test_worker_kill, test_sigterm_drains, test_reload_under_load, test_admin_group,
test_cli)."""
import os
import re
import signal
import stat
import time

import msgpack
import pytest
import zmq

import fdproc
from fdproc import MAX_TEXT, REPLY_MS, TERM_LINE, term

DOC = os.path.join(fdproc.ROOT, 'docs', 'protocol.md')
MAX_ITEMS = 8                    # the module daemon's max-items
VERSION_RE = re.compile(r'^wl-[0-9a-f]{16}$')


# ---- the document ----------------------------------------------------------

def doc_section(title):
    """The text of a '## title' (or '### title') section of docs/protocol.md."""
    text = open(DOC, encoding='utf-8').read()
    m = re.search(r'^#{2,3} %s\n(.*?)(?=^#{2,3} )' % re.escape(title), text, re.M | re.S)
    assert m, 'docs/protocol.md has no section %r' % title
    return m.group(1)


def doc_table(title):
    """The rows of the first table of a section: lists of cells, ticks removed."""
    rows = [l for l in doc_section(title).splitlines() if l.startswith('|')]
    return [[c.strip().strip('`') for c in r.strip('|').split('|')] for r in rows[2:]]


def doc_labels():
    return {r[0]: (int(r[1]), r[2]) for r in doc_table('Labels')}


def doc_keys(title):
    return [r[0] for r in doc_table(title)]


# ---- raw sockets ----------------------------------------------------------

def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(b):
    return msgpack.unpackb(b, raw=False, strict_map_key=False)


class Conn:
    """A raw socket on an endpoint: frames in, frames out."""
    seq = 0

    def __init__(self, ep, kind=zmq.DEALER):
        self.s = zmq.Context.instance().socket(kind)
        self.s.linger = 0
        self.s.connect(ep)

    def send(self, *frames):
        self.s.send_multipart([f if isinstance(f, bytes) else pack(f) for f in frames])

    def recv(self, timeout=REPLY_MS):
        assert self.s.poll(timeout), 'no reply within %d ms' % timeout
        return self.s.recv_multipart()

    def reply(self, timeout=REPLY_MS):
        """The next reply of a DEALER: [""][body] -> the body, decoded."""
        f = self.recv(timeout)
        assert len(f) == 2 and f[0] == b'', 'not [""][reply]: %r' % f
        return unpack(f[1])

    def ask(self, body):
        self.send(b'', body)
        return self.reply()

    def no_reply(self, *frames):
        """Send frames that must get no reply; a ping's pong must come first."""
        Conn.seq += 1
        sentinel = 'sentinel-%d' % Conn.seq
        if frames:
            self.send(*frames)
        self.send(b'', {'op': 'ping', 'id': sentinel})
        got = self.reply()
        assert got.get('id') == sentinel, 'an unexpected reply came first: %r' % got

    def close(self):
        self.s.close()


@pytest.fixture(scope='module')
def d():
    with fdproc.Daemon(extra='max-items %d\n' % MAX_ITEMS, tcp=True) as daemon:
        yield daemon


@pytest.fixture
def c(d):
    conn = Conn(d.ep)
    yield conn
    conn.close()


def error_of(r, code, id_=None):
    """r is an error reply {v, id?, error: {code, message}} with this code and id."""
    assert r['v'] == 1
    assert set(r) == ({'v', 'error'} | ({'id'} if id_ is not None else set())), r
    if id_ is not None:
        assert r['id'] == id_
    assert set(r['error']) == {'code', 'message'}
    assert r['error']['code'] == code, r
    assert isinstance(r['error']['message'], str) and r['error']['message']
    return r['error']['message']


# ---- Transport --------------------------------------------------------------

def test_transport_req(d):
    s = Conn(d.ep, zmq.REQ)
    s.send({'id': 'r', 'text': 'hello'})
    f = s.recv()
    assert len(f) == 1 and unpack(f[0])['decision'] == 'allow'
    s.close()


def test_transport_dealer_many_in_flight(c):
    ids = ['n%d' % i for i in range(64)]
    for i in ids:
        c.send(b'', {'id': i, 'text': 'say %s' % term('ad') if i.endswith('7') else 'hi'})
    got = [c.reply() for _ in ids]
    assert sorted(r['id'] for r in got) == sorted(ids)    # each exactly once
    for r in got:
        assert r['decision'] == ('flag' if r['id'].endswith('7') else 'allow')
    c.no_reply()                                          # and nothing more


def test_transport_tcp_and_ipc(d):
    assert d.tcp
    s = Conn(d.tcp)
    assert s.ask({'id': 1, 'text': term('porn')})['decision'] == 'block'
    s.close()


def test_transport_routing_frames(c):
    body = pack({'id': 'routed', 'text': 'x'})
    c.send(b'r1', b'r2', b'r3', b'', body)        # with the ROUTER's own id: 4 frames
    f = c.recv()
    assert f[:4] == [b'r1', b'r2', b'r3', b''] and len(f) == 5
    assert unpack(f[4])['id'] == 'routed'
    c.no_reply(b'r1', b'r2', b'r3', b'r4', b'', body)   # 5: not an envelope


def inside(d):
    st = d.call_admin('stats')
    return st['queue'], st['held']


def test_transport_burst_over_one_batch(d):
    """More messages at once than the broker reads in a round (256): all are
    read at once, not when something else wakes the broker."""
    c = Conn(d.ep)
    d.signal_workers(signal.SIGSTOP)
    try:
        for i in range(300):
            c.send(b'', {'id': i, 'text': 'x', 'budget_ms': 8000})
        end = time.monotonic() + 5
        while sum(inside(d)) < 300 and time.monotonic() < end:
            time.sleep(0.02)
        assert sum(inside(d)) == 300, inside(d)   # all read: queued or held by a worker
    finally:
        d.signal_workers(signal.SIGCONT)
    assert sorted(c.reply()['id'] for _ in range(300)) == list(range(300))
    c.close()


def test_transport_admin_socket_mode(d):
    path = d.admin[len('ipc://'):]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# ---- Request body -------------------------------------------------------------

def test_request_version(c):
    assert c.ask({'v': 1, 'id': 1, 'text': 'x'})['decision'] == 'allow'
    error_of(c.ask({'v': 2, 'id': 2, 'text': 'x'}), 'bad_request', 2)


def test_request_op_default_and_ping(c, d):
    assert c.ask({'id': 1, 'text': term('ad')})['decision'] == 'flag'
    assert c.ask({'op': 'check', 'id': 2, 'text': term('ad')})['decision'] == 'flag'
    assert c.ask({'op': 'ping', 'id': 3}) == {'v': 1, 'id': 3, 'op': 'pong',
                                              'version': d.version}


@pytest.mark.parametrize('id_', ['s', 7, -7, 2**63, b'\x00\xffbin', 'i' * 128, b'b' * 128])
def test_request_id_echoed(c, id_):
    r = c.ask({'id': id_, 'text': 'x'})
    assert r['id'] == id_ and type(r['id']) is type(id_)


@pytest.mark.parametrize('id_', ['i' * 129, b'b' * 129])
def test_request_id_too_long(c, id_):
    error_of(c.ask({'id': id_, 'text': 'x'}), 'bad_request')     # not echoed


def test_request_text_or_items(c):
    error_of(c.ask({'id': 1, 'text': 'x', 'items': []}), 'bad_request', 1)
    error_of(c.ask({'id': 2}), 'bad_request', 2)
    error_of(c.ask({'id': 3, 'op': 'check', 'scene': 'chat'}), 'bad_request', 3)


def test_request_max_text(c):
    assert c.ask({'id': 1, 'text': 'a' * MAX_TEXT})['decision'] == 'allow'
    error_of(c.ask({'id': 2, 'text': 'a' * (MAX_TEXT + 1)}), 'too_large', 2)


def test_request_scenes(c):
    scenes = re.search(r'`profile`, .*?; default `(\w+)`', doc_section('Request body'))
    names = re.findall(r'`(\w+)`', scenes.group(0))
    assert names[:-1] == ['profile', 'comment', 'forum', 'social_log', 'nickname', 'title',
                          'chat'] and names[-1] == 'comment'
    for s in names[:-1]:
        assert c.ask({'id': s, 'text': 'x', 'scene': s})['decision'] == 'allow'
    error_of(c.ask({'id': 'u', 'text': 'x', 'scene': 'moon'}), 'bad_request', 'u')
    # the default is comment: its policy allows trademark, forum's does not
    t = term('trademark')
    assert c.ask({'text': t})['decision'] == 'allow'
    assert c.ask({'text': t, 'scene': 'comment'})['decision'] == 'allow'
    assert c.ask({'text': t, 'scene': 'forum'})['decision'] == 'flag'


def test_request_budget_zero_is_fallback_at_once(c):
    r = c.ask({'id': 1, 'text': term('porn'), 'budget_ms': 0})
    assert (r['decision'], r['degraded'], r['label'], r['matches']) == ('flag', 'deadline',
                                                                         21000, [])


def test_request_explain(c):
    r = c.ask({'text': 'Ｆ.u.c.k 色 情', 'explain': True})
    assert r['views'] == {'folded': 'fuck 色 情', 'compact': 'fuck色情'}
    assert 'views' not in c.ask({'text': 'x'})
    assert 'views' not in c.ask({'text': 'x', 'explain': False})


def test_request_unknown_keys_ignored(c):
    r = c.ask({'id': 1, 'text': term('ad'), 'future': {'a': [1, None, b'x']}, 'more': None,
               'ext': msgpack.ExtType(5, b'abc')})
    assert r['decision'] == 'flag'


@pytest.mark.parametrize('key,value', [('v', 'one'), ('op', 1), ('id', 1.5), ('id', None),
                                       ('text', 42), ('items', 'x'), ('scene', 7),
                                       ('budget_ms', 'fast'), ('budget_ms', -1),
                                       ('explain', 'yes')])
def test_request_known_key_wrong_type(c, key, value):
    body = {'id': 'w', 'text': 'x'}
    body[key] = value
    if key == 'items':
        del body['text']
    error_of(c.ask(body), 'bad_request', None if key == 'id' else 'w')


def test_request_non_string_key(c):
    error_of(c.ask({'id': 'k', 1: 2, 'text': 'x'}), 'bad_request', 'k')


def test_request_invalid_utf8_and_nul(c):
    r = c.ask(b'\x82\xa2id\x01\xa4text\xa6ab\xff\xfecd')     # {id: 1, text: "ab\xff\xfecd"}
    assert r['warnings'] == ['invalid_utf8'] and r['decision'] == 'allow'
    r = c.ask({'text': 'zq\x00adx %s' % term('ad')})
    assert r['warnings'] == ['nul']
    assert [(m['start'], m['end']) for m in r['matches']] == [(7, 12)]


# ---- Bulk checks -------------------------------------------------------------

def test_bulk_results_in_order(c):
    items = [{'text': term('ad')}, {'text': 'x', 'id': 'second'},
             {'text': term('ad'), 'scene': 'chat', 'other': [1]}, {'text': term('porn')}]
    r = c.ask({'id': 'b', 'scene': 'forum', 'items': items})
    assert list(r) == ['v', 'id', 'results', 'elapsed_us'] and r['id'] == 'b'
    res = r['results']
    assert [x.get('decision') for x in res] == ['flag', 'allow', 'allow', 'block']
    assert res[1]['id'] == 'second' and 'id' not in res[0]
    for x in res:
        assert 'v' not in x and 'elapsed_us' not in x
        assert list(x) == [k for k in doc_keys('Check reply')
                           if k not in ('v', 'elapsed_us', 'views') and (k != 'id' or k in x)]


def test_bulk_scene_and_explain_apply_to_every_item(c):
    r = c.ask({'scene': 'forum', 'explain': True,
               'items': [{'text': term('trademark')}, {'text': term('trademark'),
                                                       'scene': 'comment'}]})
    assert 'id' not in r
    assert [x['decision'] for x in r['results']] == ['flag', 'allow']
    assert all(x['views']['folded'] == term('trademark') for x in r['results'])


def test_bulk_item_errors(c):
    items = ['not a map', {'id': 'none'}, {'text': 5}, {'text': 'x', 'scene': 'moon'},
             {'text': 'x', 'id': 'i' * 129}, {'text': 'a' * (MAX_TEXT + 1), 'id': 7},
             {'text': term('ad')}]
    res = c.ask({'id': 'e', 'items': items})['results']
    assert len(res) == len(items)
    want = ['bad_request'] * 5 + ['too_large']
    for x, code in zip(res, want):
        error_of(dict(x, v=1), code, x.get('id'))
    assert res[1]['id'] == 'none' and res[5]['id'] == 7
    assert res[6]['decision'] == 'flag'


def test_bulk_max_items(c):
    r = c.ask({'id': 'm', 'items': [{'text': 'x'}] * MAX_ITEMS})
    assert len(r['results']) == MAX_ITEMS
    error_of(c.ask({'id': 'o', 'items': [{'text': 'x'}] * (MAX_ITEMS + 1)}), 'too_large', 'o')


def test_bulk_empty(c):
    r = c.ask({'id': 'z', 'items': []})
    assert r['results'] == [] and list(r) == ['v', 'id', 'results', 'elapsed_us']


def test_bulk_whole_request_errors(c):
    error_of(c.ask({'id': 1, 'items': {'text': 'x'}}), 'bad_request', 1)
    error_of(c.ask({'id': 2, 'items': [{'text': 'x'}], 'text': 'x'}), 'bad_request', 2)
    error_of(c.ask(b'\xc1 not msgpack'), 'bad_request')


def test_bulk_one_budget(c):
    res = c.ask({'budget_ms': 0, 'items': [{'text': term('porn')}, {'text': 'x'}]})['results']
    assert [(x['decision'], x['degraded']) for x in res] == [('flag', 'deadline')] * 2


# ---- Labels, Check reply ---------------------------------------------------------

def test_labels_table_is_the_daemons(c):
    table = doc_labels()
    assert tuple(table) == fdproc.LABELS            # every label, in taxonomy order
    for label, (code, action) in table.items():
        r = c.ask({'id': label, 'text': 'hello %s world' % term(label), 'scene': 'forum'})
        assert (r['decision'], r['label'], r['labels']) == (action, code, [label])
        assert r['matches'] == [{'start': 6, 'end': 6 + len(term(label)), 'term': term(label),
                                 'label': label, 'action': action, 'list': label + '.txt',
                                 'line': TERM_LINE, 'via': 'folded'}]
    assert re.search(r'`100` is the code of an allowed text', doc_section('Labels'))


def test_labels_table_is_wordlists_readmes():
    """wordlists/README.md has the same table for moderators (labels sharing a row)."""
    text = open(os.path.join(fdproc.ROOT, 'wordlists', 'README.md'), encoding='utf-8').read()
    rows = re.findall(r'^\| ([a-z, ]+) \| (\d+) \| (block|flag) \|$', text, re.M)
    theirs = {l.strip(): (int(code), action) for ls, code, action in rows for l in ls.split(',')}
    assert theirs == doc_labels()


def test_reply_keys_in_order(c):
    keys = doc_keys('Check reply')
    r = c.ask({'id': 'k', 'text': 'x'})
    assert list(r) == [k for k in keys if k != 'views']
    r = c.ask({'text': 'x', 'explain': True})
    assert list(r) == [k for k in keys if k != 'id'] and list(r)[-1] == 'elapsed_us'
    assert isinstance(r['elapsed_us'], int)


def test_reply_match_keys_and_chain(c):
    """Check reply, Matches: the keys of a match in order; chain only with explain."""
    keys = doc_keys('Matches')
    assert keys[-1] == 'chain'
    text = 'ｃ.u.n.t 色 情網站 ' + term('porn')
    plain = c.ask({'text': text})
    assert [list(m) for m in plain['matches']] == [keys[:-1]] * 3
    r = c.ask({'text': text, 'explain': True})
    assert [list(m) for m in r['matches']] == [keys] * 3
    for m in r['matches']:
        assert {k: v for k, v in m.items() if k != 'chain'} in plain['matches']
    chains = {m['term']: m['chain'] for m in r['matches']}
    assert chains == {
        'cunt': ['full-width/compatibility forms', 'separators between single letters joined',
                 'ｃ.u.n.t -> cunt'],
        '色情网站': ['traditional->simplified', 'separators skipped', '色 情網站 -> 色情网站'],
        term('porn'): []}                                      # matched as written
    items = c.ask({'explain': True, 'items': [{'text': text}]})['results'][0]
    assert items['matches'] == r['matches']                    # bulk items alike


def test_reply_chain_bounded(c):
    """Check reply, Matches: the first 512 matches get their chain, then '(not shown)';
    chain adds at most 68 KiB plus 19 bytes a match."""
    text = 'cunt ' * (MAX_TEXT // 5)
    sizes = []
    for explain in (False, True):
        c.send(b'', {'text': text, 'budget_ms': 8000, 'explain': explain})
        body = c.recv()[1]
        sizes.append(len(body))
    r = unpack(body)
    n = len(r['matches'])
    assert n > 512 and not r['degraded']
    assert all(m['chain'] == [] for m in r['matches'][:512])
    assert all(m['chain'] == ['(not shown)'] for m in r['matches'][512:])
    views = len(pack({'views': r['views']})) - 1
    assert sizes[1] - sizes[0] - views <= 68 * 1024 + 19 * n


def test_reply_decision_and_suggest(c):
    pairs = {('block', 'risky'), ('flag', 'review'), ('allow', 'pass')}
    for text in (term('porn'), term('ad'), 'x'):
        r = c.ask({'text': text})
        assert (r['decision'], r['suggest']) in pairs
    assert c.ask({'text': 'x'})['label'] == 100


def test_reply_byte_offsets(c):
    r = c.ask({'text': 'ab 色情网站!'})
    assert [(m['start'], m['end'], m['via']) for m in r['matches']] == [(3, 15, 'compact')]


def test_reply_policy_allowed_match_is_reported_not_counted(c):
    r = c.ask({'text': '%s %s' % (term('trademark'), term('ad')), 'scene': 'comment'})
    assert r['labels'] == ['ad'] and r['label'] == 10001
    assert [(m['label'], m['action']) for m in r['matches']] == [('trademark', 'allow'),
                                                                 ('ad', 'flag')]
    r = c.ask({'text': term('trademark'), 'scene': 'comment'})
    assert (r['decision'], r['label'], r['labels']) == ('allow', 100, [])
    assert r['matches'][0]['action'] == 'allow'


def test_reply_allow_list(c):
    assert c.ask({'text': 'Scunthorpe'})['matches'] == []
    r = c.ask({'text': 'Scunthorpe cunt'})
    assert [(m['start'], m['term']) for m in r['matches']] == [(11, 'cunt')]


def test_reply_deciding_match(c):
    t = ' '.join(term(l) for l in ('vulgar', 'abuse', 'porn', 'politics'))
    r = c.ask({'text': t, 'scene': 'forum'})
    assert r['decision'] == 'block' and r['label'] == 20002          # porn: the first block
    assert r['labels'] == ['politics', 'porn', 'abuse', 'vulgar']    # taxonomy order
    first = next(m for m in r['matches'] if m['action'] == r['decision'])
    assert doc_labels()[first['label']][0] == r['label']
    r = c.ask({'text': ' '.join(term(l) for l in ('vulgar', 'abuse'))})
    assert (r['decision'], r['label']) == ('flag', 20012)            # vulgar: the first flag
    starts = [m['start'] for m in c.ask({'text': t})['matches']]
    assert starts == sorted(starts)


def test_reply_truncated(c):
    r = c.ask({'text': term('ad') * 4097})
    assert r['warnings'] == ['truncated'] and len(r['matches']) == 4096


def test_reply_version(c, d):
    assert VERSION_RE.match(d.version)
    assert c.ask({'text': 'x'})['version'] == d.version
    assert c.ask({'op': 'ping'})['version'] == d.version


# ---- Ping, Errors -------------------------------------------------------------

def test_ping_on_both_endpoints(d):
    s = Conn(d.admin, zmq.REQ)
    s.send({'op': 'ping'})
    assert unpack(s.recv()[0]) == {'v': 1, 'op': 'pong', 'version': d.version}
    s.close()


def test_errors_every_code(c, d):
    codes = doc_keys('Errors')
    assert codes == ['bad_request', 'too_large', 'unknown_op', 'forbidden', 'internal',
                     'reload_failed']
    error_of(c.ask({'id': 1, 'text': 5}), 'bad_request', 1)
    error_of(c.ask({'id': 2, 'text': 'a' * (MAX_TEXT + 1)}), 'too_large', 2)
    error_of(c.ask({'id': 3, 'op': 'launch'}), 'unknown_op', 3)
    for op in ('reload', 'stats', 'workers', 'version'):
        error_of(c.ask({'id': op, 'op': op}), 'forbidden', op)
    s = Conn(d.admin, zmq.REQ)
    s.send({'op': 'check', 'text': 'x'})
    error_of(unpack(s.recv()[0]), 'unknown_op')
    s.close()
    # internal and reload_failed: test_errors_internal, test_admin_reload_failed


def test_errors_id_when_it_could_be_read(c):
    error_of(c.ask({'id': 'before', 'text': 5}), 'bad_request', 'before')
    error_of(c.ask({'text': 5, 'id': 'after'}), 'bad_request', 'after')
    cut = pack({'id': 'cut', 'text': 'a text cut in the middle'})[:-10]
    error_of(c.ask(cut), 'bad_request', 'cut')
    damaged_first = b'\x82\xa4text\xc1\xa2id\xa1x'   # {text: <0xc1>, id: "x"}
    error_of(c.ask(damaged_first), 'bad_request')
    error_of(c.ask(b'\xc1'), 'bad_request')
    error_of(c.ask(pack(['id', 1])), 'bad_request')
    error_of(c.ask(pack({'id': 't'}) + b'\x01'), 'bad_request', 't')   # trailing bytes


def test_errors_take_down_nothing(c, d):
    restarts = d.call_admin('stats')['worker_restarts']
    for body in (b'\xc1', pack({'text': 5}), pack({'op': 'stats'})):
        c.send(b'', body)
        c.reply()
    assert c.ask({'text': term('ad')})['decision'] == 'flag'
    assert d.call_admin('stats')['worker_restarts'] == restarts


# ---- Frames that get no reply -------------------------------------------------------

def test_frames_missing_delimiter_or_body(c):
    body = pack({'id': 'f', 'text': 'x'})
    c.send(b'')                                    # no body
    error_of(unpack(c.recv()[1]), 'bad_request')
    c.send(b'', body, b'extra')                    # extra frames
    error_of(unpack(c.recv()[1]), 'bad_request')
    c.no_reply(b'x', body)                         # no delimiter, two frames
    c.no_reply(b'x', b'y', body)


def test_frames_bare_dealer_gets_error_with_id(c):
    c.send(pack({'id': 'bare', 'text': 'x'}))
    f = c.recv()
    assert len(f) == 1                             # [error], without delimiter
    error_of(unpack(f[0]), 'bad_request', 'bare')
    c.send(b'\xc1')
    error_of(unpack(c.recv()[0]), 'bad_request')


def test_frames_too_large_closes_that_connection(c, d):
    big = Conn(d.ep)
    mon = big.s.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    big.send(b'', b'\xda' + b'x' * (MAX_TEXT + 16 * 2**20 + 1))
    assert mon.poll(REPLY_MS), 'the connection was not closed'
    assert mon.recv_multipart()
    big.s.disable_monitor()
    mon.close()
    big.close()
    assert c.ask({'text': term('ad')})['decision'] == 'flag'   # others unaffected


def test_frames_admin_wants_req_envelope(d):
    s = Conn(d.admin)
    s.no_reply(pack({'op': 'stats'}))     # [body] without delimiter: dropped
    s.close()


# ---- Latency budget ------------------------------------------------------------
# A daemon whose workers can be stopped (SIGSTOP) without being replaced: they
# heartbeat rarely, and each holds one text at a time, so the queue fills behind them.

SLOW = ('worker-window 1\nqueue-max 2\nheartbeat-ms 60000\nheartbeat-liveness 100\n'
        'budget-ms 300\nmax-budget-ms 600\non-deadline block\n')


@pytest.fixture
def slow():
    with fdproc.Daemon(extra=SLOW) as daemon:
        try:
            yield daemon
        finally:
            daemon.signal_workers(signal.SIGCONT)


def fallback_of(r, why, decision='block'):
    assert (r['decision'], r['degraded'], r['labels'], r['matches']) == (decision, why, [], [])
    assert r['label'] == (100 if decision == 'allow' else 21000)
    assert r['suggest'] == {'block': 'risky', 'flag': 'review', 'allow': 'pass'}[decision]
    assert r['warnings'] == []
    assert VERSION_RE.match(r['version'])


def test_budget_deadline_while_held_or_queued(slow):
    c = Conn(slow.ep)
    slow.signal_workers(signal.SIGSTOP)
    fallback_of(c.ask({'id': 1, 'text': term('ad'), 'budget_ms': 50}), 'deadline')
    fallback_of(c.ask({'id': 2, 'text': term('ad')}), 'deadline')   # budget-ms
    # max-budget-ms caps the budget: 100 s asked, answered at 0.6 s (REPLY_MS is 10 s)
    fallback_of(c.ask({'id': 3, 'text': term('ad'), 'budget_ms': 100000}), 'deadline')
    r = c.ask({'id': 4, 'items': [{'text': term('ad')}, {'text': 'x'}], 'budget_ms': 50})
    for x in r['results']:
        fallback_of(x, 'deadline')
    c.close()


def wait_stats(d, key, value):
    end = time.monotonic() + REPLY_MS / 1000
    while d.call_admin('stats')[key] != value and time.monotonic() < end:
        time.sleep(0.02)
    assert d.call_admin('stats')[key] == value


def test_budget_overload(slow):
    c = Conn(slow.ep)
    slow.signal_workers(signal.SIGSTOP)
    for i in range(4):        # 2 held by the workers, then 2 queued (queue-max)
        c.send(b'', {'id': i, 'text': 'x', 'budget_ms': 600})
        wait_stats(slow, 'held' if i < 2 else 'queue', i + 1 if i < 2 else i - 1)
    c.send(b'', {'id': 'one', 'text': 'x', 'budget_ms': 600})
    fallback_of(c.reply(), 'overload')
    # a bulk check is shed whole, each of its texts with the fallback
    r = c.ask({'id': 'bulk', 'items': [{'text': 'x'}, {'text': 'y'}], 'budget_ms': 600})
    for x in r['results']:
        fallback_of(x, 'overload')
    for r in (c.reply() for _ in range(4)):
        fallback_of(r, 'deadline')
    c.close()


def test_budget_bulk_answered_at_its_deadline(slow):
    c = Conn(slow.ep)
    os.kill(slow.worker_pids()[0], signal.SIGSTOP)    # it takes one text and keeps it
    r = c.ask({'items': [{'text': term('ad')}] * 2, 'budget_ms': 300})
    got = [x['degraded'] for x in r['results']]
    assert sorted(got, key=lambda x: x or '') == [None, 'deadline']
    assert all(x['decision'] == 'flag' for x in r['results'] if not x['degraded'])
    c.close()


def test_stats_dropped_when_the_client_went(slow):
    slow.signal_workers(signal.SIGSTOP)
    c = Conn(slow.ep)
    c.ask({'op': 'ping'})
    c.send(b'', {'text': 'x', 'budget_ms': 200})
    c.close()                 # gone before its fallback is sent
    end = time.monotonic() + REPLY_MS / 1000
    while slow.call_admin('stats')['dropped'] < 1 and time.monotonic() < end:
        time.sleep(0.05)
    st = slow.call_admin('stats')
    assert st['dropped'] == 1 and st['deadline'] == 1


# ---- Admin operations, Versions ---------------------------------------------------

def shape(s):
    """'{a, b: {c, d}, e: "x"}' -> {'a': None, 'b': {'c': None, 'd': None}, 'e': None}."""
    s = s.strip()
    assert s[0] == '{' and s[-1] == '}', s
    parts, depth, cur = [], 0, ''
    for ch in s[1:-1]:
        depth += ch in '{[' and 1 or ch in '}]' and -1 or 0
        if ch == ',' and depth == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    parts.append(cur)
    out = {}
    for p in parts:
        k, _, v = p.partition(':')
        v = v.strip()
        # a map whose keys are a placeholder (LABEL, SCENE, CODE) is not checked key by key
        out[k.strip()] = shape(v) if v.startswith('{') and not re.search(r'\b[A-Z]{3,}\b', v) else None
    return out


def doc_admin(op):
    return [shape(s) for s in next(r[1] for r in doc_table('Admin operations')
                                   if r[0] == op).split('` or `')]


def same_keys(reply, want):
    assert set(reply) == set(want), (sorted(reply), sorted(want))
    for k, sub in want.items():
        if sub:
            same_keys(reply[k], sub)


def test_admin_ops_have_the_documented_keys(d):
    same_keys(d.call_admin('ping'), doc_admin('ping')[0])
    same_keys(d.call_admin('version'), doc_admin('version')[0])
    st = d.call_admin('stats')
    same_keys(st, doc_admin('stats')[0])
    assert set(st['labels']) <= set(doc_labels())
    row = next(r[1] for r in doc_table('Admin operations') if r[0] == 'workers')
    one = shape(re.search(r'\[(\{.*\})\]', row).group(1))
    workers = d.call_admin('workers')['workers']
    assert len(workers) == 2
    for x in workers:
        same_keys(x, one)
        assert x['state'] in ('idle', 'busy', 'retiring')


def test_admin_reload_and_versions(d):
    c = Conn(d.ep)
    ok, failed = doc_admin('reload')
    r = d.call_admin('reload')                  # unchanged lists: the same version
    same_keys(r, ok)
    assert (r['ok'], r['version'], r['previous'], r['added'], r['removed']) == (
        True, d.version, d.version, {}, {})
    path = os.path.join(d.lists, 'ad.txt')
    with open(path, 'a', encoding='utf-8') as f:
        f.write('zqnewadx\n')
    r = d.call_admin('reload')
    assert r['ok'] and r['previous'] == d.version and VERSION_RE.match(r['version'])
    assert r['version'] != d.version and r['added'] == {'ad': 1} and r['removed'] == {}
    new = r['version']
    assert c.ask({'text': 'zqnewadx'})['version'] == new
    with open(path, 'a', encoding='utf-8') as f:
        f.write('[bogus] zqbadx\n')
    r = d.call_admin('reload')
    same_keys(r, failed)
    assert (r['ok'], r['version'], r['error']['code']) == (False, new, 'reload_failed')
    assert re.match(r'.*ad\.txt:5: ', r['errors'][0]) and r['error']['message']
    assert c.ask({'text': 'zqnewadx'})['decision'] == 'flag'       # the old lists serve
    with open(path, 'w', encoding='utf-8') as f:
        f.write('# test list\n# its term is on line %d\n%s\n' % (TERM_LINE, term('ad')))
    assert d.call_admin('reload')['version'] == d.version           # back: same version
    c.close()


def test_errors_internal_when_too_many_reloads_wait(d):
    s = Conn(d.admin)
    os.kill(d.proc.pid, signal.SIGSTOP)      # the supervisor: the first reload waits
    try:
        for i in range(257):
            s.send(b'', {'op': 'reload'})
        assert 'waiting' in error_of(s.reply(), 'internal')
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)
    for _ in range(256):
        assert s.reply()['ok'] is True
    s.close()
