#!/usr/bin/env python3
"""console_test.py -- the moderators' console's server side against the real daemon.

Usage: console_test.py BUILD/filterd

Starts filterd with tests/fdproc.py (its small lists, a temp dir) and
http-listen, http-tokens and http-admin-tokens, then drives every route of
/console/api over real HTTP: refusals (401 without, with a wrong and with a
check token; 403 when the console is off; 400, 404, 405; path traversal;
409 stale and busy; 422 lint errors with file:line), try, entries, a save
(new version, audit record, file content, diff), restore, what-if over
corpora, reload through the console changing a decision, the live view. Then
kills the whole daemon (SIGKILL to its process group) at many points during
saves: every list file must be byte-equal to its old or its new content,
every version folder whole, and the daemon must start again and serve.
filterctl (lint, eval) is the one next to filterd. Prints one line per
failure and a summary; exits 1 on any failure."""
import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if len(sys.argv) > 1:
    os.environ['FILTERD'] = os.path.abspath(sys.argv[1])
import fdproc  # noqa: E402

ADMIN = 'adm-token-0123456789'
OTHER_ADMIN = 'adm-token-bob-98765'
CHECK = 'chk-token-0123456789'
JOB_S = 120                       # secs: a job in the tests (an ASan build is slow)
KILLS = 16                        # kills during saves
# where a save is killed: at a random time (mostly while lint runs), or the
# moment its list file's temporary copy, its version's N.tmp or its version
# folder appears (inside the commit)
POINTS = ('random', 'list file written', 'version being copied', 'version renamed')
passed = failed = 0


def check(desc, ok, detail=''):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print('FAIL: %s %s' % (desc, detail), file=sys.stderr)
    return ok


class Console:
    """A daemon with the console on; self.call(method, path, body, token)."""

    def __init__(self, admin=True, extra=''):
        self.tmp = tempfile.mkdtemp(prefix='fdcons.')
        self.port = fdproc.free_port()
        with open(os.path.join(self.tmp, 'admins'), 'w') as f:
            f.write('# console admins\n%s alice\n%s bob smith\n' % (ADMIN, OTHER_ADMIN))
        with open(os.path.join(self.tmp, 'tokens'), 'w') as f:
            f.write(CHECK + '\n')
        with open(os.path.join(self.tmp, 'clean.txt'), 'w') as f:
            f.write('hello world\nsome zqwhatifx here\nzqpornx\nnice day\n')
        with open(os.path.join(self.tmp, 'labelled.csv'), 'w') as f:
            f.write('text,label\nbuy zqwhatifx now,1\nlovely weather,0\nzqpornx,1\n')
        conf = ('http-listen 127.0.0.1:%d\nhttp-tokens %s/tokens\nconsole-state %s/state\n'
                'console-corpus clean %s/clean.txt\nconsole-corpus labelled %s/labelled.csv\n'
                % (self.port, self.tmp, self.tmp, self.tmp, self.tmp))
        if admin:
            conf += 'http-admin-tokens %s/admins\n' % self.tmp
        self.d = fdproc.Daemon(extra=conf + extra)
        self.state = os.path.join(self.tmp, 'state')

    def start(self):
        self.d.start()
        self.wait_http()
        return self

    def wait_http(self):
        end = time.monotonic() + fdproc.READY_S
        while time.monotonic() < end:
            try:
                if self.call('GET', '/healthz')[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError('no HTTP')

    def call(self, method, path, body=None, token=ADMIN, raw=None, headers=None):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        h = dict(headers or {})
        if token:
            h['Authorization'] = 'Bearer ' + token
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        if data is not None:
            h.setdefault('Content-Type', 'application/json')
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        out = r.read()
        c.close()
        ctype = r.getheader('Content-Type') or ''
        if ctype.startswith('application/json'):
            out = json.loads(out)
        return r.status, out, r

    def api(self, method, sub, body=None, token=ADMIN, **kw):
        return self.call(method, '/console/api/' + sub, body, token, **kw)

    def wait_job(self, job):
        end = time.monotonic() + JOB_S
        while time.monotonic() < end:
            st, j, _ = self.api('GET', 'jobs/%d' % job)
            if st not in (200, 422) or j['state'] != 'running':
                return st, j
            time.sleep(0.05)
        raise RuntimeError('job %d still running' % job)

    def run_job(self, method, sub, body=None):
        st, j, _ = self.api(method, sub, body)
        if not check('%s %s: 202' % (method, sub), st == 202, (st, j)):
            return None, None
        return self.wait_job(j['job'])

    def newest(self):
        return self.api('GET', 'versions')[1]['newest']

    def lists(self):
        return self.d.lists

    def read(self, name):
        with open(os.path.join(self.d.lists, name), encoding='utf-8') as f:
            return f.read()

    def stop(self):
        ok = self.d.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return ok


def v1_check(c, text):
    st, o, _ = c.call('POST', '/v1/check', {'text': text}, token=CHECK)
    return o.get('decision') if st == 200 else None


# ---- refusals --------------------------------------------------------------------

def test_disabled():
    c = Console(admin=False).start()
    try:
        st, o, _ = c.api('GET', 'versions')
        check('no http-admin-tokens: 403 console_disabled',
              st == 403 and o['error']['code'] == 'console_disabled', (st, o))
        st, o, _ = c.call('GET', '/console/')
        check('the pages need no token and no admin tokens', st == 200 and b'<' in o, st)
    finally:
        check('stops cleanly (console off)', c.stop())


def test_bad_admin_file():
    c = Console()
    with open(os.path.join(c.tmp, 'admins'), 'w') as f:
        f.write('# admins\n%s\n' % ADMIN)          # no name
    try:
        c.d.start()
        check('an admin file with an error: filterd refuses to start', False)
    except RuntimeError as e:
        check('an admin file with an error is refused at start with file:line',
              'admins:2: ' in str(e) and 'name' in str(e), str(e)[-300:])
    finally:
        c.d.kill()
        shutil.rmtree(c.tmp, ignore_errors=True)


def test_token_reload(c):
    path = os.path.join(c.tmp, 'admins')
    with open(path, 'w') as f:
        f.write('%s carol\nbroken\n' % 'adm-token-carol-1111')
    st, j = c.run_job('POST', 'reload')
    check('reload with a broken admin file: the old tokens stay',
          c.api('GET', 'versions')[0] == 200 and
          c.api('GET', 'versions', token='adm-token-carol-1111')[0] == 401 and
          'console_tokens_kept' in c.d.read_log(), j)
    with open(path, 'w') as f:
        f.write('%s alice\nadm-token-carol-1111 carol\n' % ADMIN)
    st, j = c.run_job('POST', 'reload')
    check('reload: a new admin token works, a removed one does not',
          c.api('GET', 'versions', token='adm-token-carol-1111')[0] == 200 and
          c.api('GET', 'versions', token=OTHER_ADMIN)[0] == 401, j)


def test_refusals(c):
    for desc, tok in (('no token', None), ('a wrong token', 'nope-nope'),
                      ('a check token', CHECK), ('an admin token as a prefix', ADMIN[:-1])):
        st, o, r = c.api('GET', 'versions', token=tok)
        check('%s: 401 unauthorized' % desc,
              st == 401 and o['error']['code'] == 'unauthorized' and
              r.getheader('WWW-Authenticate') == 'Bearer', (st, o))
    st, o, _ = c.call('GET', '/console/api/versions?access_token=' + ADMIN, token=None)
    check('?access_token= is no admin token', st == 401, st)
    st, o, _ = c.api('POST', 'entries', raw=b'{"op": ', )
    check('bad JSON: 400', st == 400 and o['error']['code'] == 'bad_request', (st, o))
    st, o, _ = c.api('POST', 'entries', raw=b'[1]')
    check('not an object: 400', st == 400, (st, o))
    st, o, _ = c.api('POST', 'try', raw=b'{"text": 1}')
    check('try without a text string: 400', st == 400, (st, o))
    st, o, _ = c.api('POST', 'try', {'text': 'x', 'scenes': ['nosuchscene']})
    check('try with an unknown scene: 400', st == 400, (st, o))
    st, o, _ = c.api('GET', 'nosuch')
    check('unknown API path: 404', st == 404 and o['error']['code'] == 'not_found', (st, o))
    st, o, r = c.api('GET', 'try')
    check('GET try: 405 with Allow', st == 405 and r.getheader('Allow') == 'POST', (st, o))
    st, o, _ = c.api('POST', 'entries', raw=b'{}', headers={'Content-Type': 'text/plain'})
    check('POST with a text/plain body: 415', st == 415, (st, o))
    st, o, _ = c.api('GET', 'entries?limit=1001')
    check('limit over 1000: 400', st == 400, (st, o))
    st, o, _ = c.api('GET', 'versions/999/diff')
    check('diff of a version that is not there: 404', st == 404, (st, o))
    st, o, _ = c.api('GET', 'jobs/999')
    check('unknown job: 404', st == 404, (st, o))
    base = c.newest()
    for bad in ('../porn.txt', '/etc/passwd', 'x/../porn.txt', 'nosuch.txt', '.hidden.txt',
                'porn', 'porn.txt/', '', 'allow.txt\u0000'):
        st, o, _ = c.api('POST', 'entries', {'op': 'add', 'file': bad, 'text': 'zqx',
                                             'base': base})
        check('file %r refused with 400' % bad, st == 400, (st, o))
    outside = os.path.join(c.tmp, 'outside.txt')
    with open(outside, 'w') as f:
        f.write('zqoutsidex\n')
    os.symlink(outside, os.path.join(c.d.lists, 'link.txt'))
    st, o, _ = c.api('POST', 'entries', {'op': 'add', 'file': 'link.txt', 'text': 'zqx',
                                         'base': base})
    check('a symlink out of the lists folder is refused', st == 400, (st, o))
    os.unlink(os.path.join(c.d.lists, 'link.txt'))
    check('the file outside is untouched', open(outside).read() == 'zqoutsidex\n')
    st, o, _ = c.api('POST', 'entries', {'op': 'change', 'file': 'porn.txt', 'text': 'zqx',
                                         'base': base})
    check('change without a line: 400', st == 400, (st, o))
    st, o, _ = c.api('POST', 'entries', {'op': 'delete', 'file': 'porn.txt', 'line': 999,
                                         'base': base})
    check('a line the file does not have: 400', st == 400, (st, o))
    st, o, _ = c.api('POST', 'entries', {'op': 'add', 'file': 'porn.txt', 'text': 'a\nb',
                                         'base': base})
    check('a text of two lines: 400', st == 400, (st, o))
    st, o, _ = c.api('POST', 'entries', {'op': 'add', 'file': 'porn.txt', 'text': 'zqx',
                                         'base': base - 1})
    check('an old base: 409 stale with the newest version',
          st == 409 and o['error']['code'] == 'stale' and o['version'] == base, (st, o))
    check('no refusal changed a version', c.newest() == base)


# ---- the API ------------------------------------------------------------------

def test_pages(c):
    st, o, r = c.call('GET', '/console/', token=None)
    check('/console/: the page', st == 200 and r.getheader('Content-Type').startswith(
        'text/html') and b'console.js' in o, st)
    st, o, r = c.call('GET', '/console/console.js', token=None)
    check('/console/console.js', st == 200 and 'javascript' in r.getheader('Content-Type'), st)
    st, o, r = c.call('GET', '/console/console.css', token=None)
    check('/console/console.css', st == 200 and 'css' in r.getheader('Content-Type'), st)
    st, o, r = c.call('GET', '/console', token=None)
    check('/console: redirect to /console/', st == 308 and r.getheader('Location') ==
          '/console/', st)
    st, o, r = c.call('GET', '/console/nosuch.html', token=None)
    check('an unknown page: 404', st == 404, st)


def test_try(c):
    st, o, _ = c.api('POST', 'try', {'text': 'hello zqpornx'})
    ok = st == 200 and len(o['results']) >= 2
    check('try: one result per scene of the taxonomy', ok, (st, o))
    if ok:
        r = o['results'][0]['reply']
        check('try: the porn term blocks, with its match and entry',
              r['decision'] == 'block' and r['matches'][0]['label'] == 'porn' and
              'porn.txt' in json.dumps(r['matches'][0]), r)
    st, o, _ = c.api('POST', 'try', {'text': 'zqtrademarkx', 'scenes': ['comment', 'nickname']})
    ok = st == 200 and [x['scene'] for x in o['results']] == ['comment', 'nickname']
    check('try: the scenes asked for, in order', ok, (st, o))
    if ok:
        d = [x['reply']['decision'] for x in o['results']]
        check('try: the scene policy shows (trademark allowed in comments)',
              d[0] == 'allow' and d[1] != 'allow', d)


def test_entries(c):
    st, o, _ = c.api('GET', 'entries?limit=1000')
    ok = st == 200 and o['total'] == len(o['entries']) and o['total'] >= len(fdproc.LABELS)
    check('entries: every entry', ok, (st, o))
    st, o, _ = c.api('GET', 'entries?q=ZQPORNX')
    ok = st == 200 and o['total'] == 1
    check('entries: q finds a term, any case', ok, (st, o))
    if ok:
        e = o['entries'][0]
        check('entries: file, line, text, term, label, action',
              e == {'file': 'porn.txt', 'line': fdproc.TERM_LINE, 'text': 'zqpornx',
                    'term': 'zqpornx', 'label': 'porn', 'action': 'block'}, e)
    st, o, _ = c.api('GET', 'entries?label=allow')
    check('entries: label=allow', st == 200 and o['total'] == 1 and
          o['entries'][0]['term'] == 'scunthorpe', o)
    st, o, _ = c.api('GET', 'entries?action=flag&file=abuse.txt')
    check('entries: action and file', st == 200 and o['total'] == 1 and
          o['entries'][0]['term'] == 'zqabusex', o)
    st, o, _ = c.api('GET', 'entries?offset=2&limit=3')
    st2, all_, _ = c.api('GET', 'entries?limit=1000')
    check('entries: offset and limit page', st == 200 and o['entries'] == all_['entries'][2:5]
          and o['total'] == all_['total'], o)


def test_save(c):
    base = c.newest()
    abuse = c.read('abuse.txt')
    check('zqnewtermx is allowed before', v1_check(c, 'zqnewtermx') == 'allow')
    st, j = c.run_job('POST', 'entries', {'op': 'add', 'file': 'abuse.txt', 'text': 'zqnewtermx',
                                          'base': base})
    if not check('save: done, a new version', j and j['state'] == 'done' and
                 j['kind'] == 'save' and j['result'] == {'version': base + 1}, (st, j)):
        return
    check('save: the file has the line at its end', c.read('abuse.txt') == abuse + 'zqnewtermx\n')
    st, o, _ = c.api('GET', 'versions')
    rec = o['versions'][0]
    check('save: the audit record, newest first',
          rec['version'] == base + 1 and rec['who'] == 'alice' and
          rec['what'] == 'add abuse.txt: zqnewtermx' and rec['time'].endswith('Z'), rec)
    with open(os.path.join(c.state, 'audit.jsonl')) as f:
        check('save: audit.jsonl holds it', json.loads(f.read().splitlines()[-1]) == rec)
    vdir = os.path.join(c.state, 'versions', str(base + 1))
    check('save: the version folder holds the whole lists',
          sorted(os.listdir(vdir)) == sorted(os.listdir(c.d.lists)) and
          open(os.path.join(vdir, 'abuse.txt')).read() == c.read('abuse.txt'))
    st, o, _ = c.api('GET', 'versions/%d/diff' % (base + 1))
    check('diff: one file, the added line',
          st == 200 and len(o['files']) == 1 and o['files'][0]['file'] == 'abuse.txt' and
          '+zqnewtermx' in o['files'][0]['lines'] and
          o['files'][0]['lines'][0].startswith('@@'), o)
    st, o, _ = c.api('GET', 'entries?q=zqnewtermx')
    check('entries: the new entry, at version N+1', o['total'] == 1 and
          o['version'] == base + 1 and o['entries'][0]['line'] == abuse.count('\n') + 1, o)
    # change and delete, by another admin
    line = abuse.count('\n') + 1
    st, j = c.run_job('POST', 'entries', {'op': 'change', 'file': 'abuse.txt', 'line': line,
                                          'text': 'zqchangedx', 'base': base + 1})
    check('change: done', j and j['state'] == 'done', j)
    check('change: the line replaced', c.read('abuse.txt') == abuse + 'zqchangedx\n')
    st, o, _ = c.api('GET', 'versions', token=OTHER_ADMIN)
    check('versions: with the other admin token', st == 200, st)
    st, j, _ = c.api('POST', 'entries', {'op': 'delete', 'file': 'abuse.txt', 'line': line,
                                         'base': base + 2}, token=OTHER_ADMIN)
    st, j = c.wait_job(j['job'])
    check('delete: done', j['state'] == 'done', j)
    check('delete: the line gone', c.read('abuse.txt') == abuse)
    rec = c.api('GET', 'versions')[1]['versions'][0]
    check('delete: audited as bob smith, with the old line',
          rec['who'] == 'bob smith' and rec['what'] == 'delete abuse.txt:%d: zqchangedx' % line,
          rec)
    # a long Chinese line: the audit's "what" is cut between characters, never inside one
    long_text = '中文长词' * 30
    st, j = c.run_job('POST', 'entries', {'op': 'add', 'file': 'other.txt', 'text': long_text,
                                          'base': base + 3})
    rec = c.api('GET', 'versions')[1]['versions'][0]
    check('a long line: saved, its audit cut at a character', j and j['state'] == 'done' and
          rec['what'].startswith('add other.txt: 中文长词') and len(rec['what']) < 120, rec)
    base += 1
    # put zqnewtermx back for the reload test
    st, j = c.run_job('POST', 'entries', {'op': 'add', 'file': 'abuse.txt', 'text': 'zqnewtermx',
                                          'base': base + 3})
    check('add again: done', j and j['state'] == 'done', j)


def test_lint_refused(c):
    base = c.newest()
    before = c.read('porn.txt')
    st, j = c.run_job('POST', 'entries', {'op': 'add', 'file': 'porn.txt',
                                          'text': '[bogus] zqbadx', 'base': base})
    line = before.count('\n') + 1
    ok = st == 422 and j['state'] == 'failed'
    check('lint error: the job fails with 422', ok, (st, j))
    if ok:
        errs = j['result']['errors']
        check('lint error: file:line: reason, relative to the lists folder',
              errs and errs[0]['file'] == 'porn.txt' and errs[0]['line'] == line and
              'bogus' in errs[0]['reason'], errs)
    check('lint error: nothing changed on disk', c.read('porn.txt') == before)
    check('lint error: no new version', c.newest() == base)


def test_busy(c):
    base = c.newest()
    st, j1, _ = c.api('POST', 'entries', {'op': 'add', 'file': 'other.txt', 'text': 'zqbusyx',
                                          'base': base})
    st2, o, _ = c.api('POST', 'reload')
    check('a second job while one runs: 409 busy with its id',
          st == 202 and st2 == 409 and o['error']['code'] == 'busy' and o['job'] == j1['job'],
          (st, st2, o))
    st3, o3, _ = c.api('POST', 'entries', {'op': 'add', 'file': 'other.txt', 'text': 'zqy',
                                           'base': base})
    check('a second save: 409 busy', st3 == 409 and o3['error']['code'] == 'busy', (st3, o3))
    c.wait_job(j1['job'])


def test_reload(c):
    check('the saved term is not live before the reload', v1_check(c, 'zqnewtermx') == 'allow')
    newest = c.newest()
    st, j = c.run_job('POST', 'reload')
    ok = j and j['state'] == 'done' and j['result']['ok'] is True
    check('reload: done, ok', ok, j)
    if ok:
        check('reload: the admin reply (old -> new version, added per label)',
              j['result']['version'] != j['result']['previous'] and
              j['result']['added'].get('abuse', 0) >= 1 and
              j['result']['console_version'] == newest, j['result'])
    check('reload: the decision changed', v1_check(c, 'zqnewtermx') == 'flag')
    st, o, _ = c.api('GET', 'versions')
    check('reload: the newest version is live', o['live'] == newest, o)


def test_whatif(c):
    base = c.newest()
    st, j = c.run_job('POST', 'entries', {'op': 'add', 'file': 'porn.txt', 'text': 'zqwhatifx',
                                          'base': base})
    check('what-if: a saved, not reloaded change', j and j['state'] == 'done', j)
    st, j = c.run_job('POST', 'whatif')
    ok = j and j['state'] == 'done'
    check('what-if: done', ok, j)
    if not ok:
        return
    r = j['result']
    corp = {x['kind']: x for x in r['corpora']}
    check('what-if: against the live version', r['live'] == base and
          r['baseline'].endswith('/versions/%d' % base), r.get('baseline'))
    cl, lab = corp.get('clean'), corp.get('labelled')
    check('what-if: clean corpus, 4 texts, 1 blocked before and 2 after, 1 change',
          cl and cl['texts'] == 4 and cl['baseline']['blocked'] == 1 and cl['blocked'] == 2 and
          cl['changes']['total'] == 1 and
          cl['changes']['texts'][0]['text'] == 'some zqwhatifx here', cl and cl['changes'])
    check('what-if: labelled corpus, recall 0.5 -> 1',
          lab and lab['baseline']['recall'] == 0.5 and lab['recall'] == 1 and
          lab['changes']['total'] == 1, lab and {k: lab[k] for k in ('tp', 'fn', 'recall')})
    st, o, r2 = c.api('GET', 'whatif/%d.html' % j['job'])
    check('what-if: the HTML report', st == 200 and b'zqwhatifx' in o, st)
    st, o, _ = c.api('GET', 'whatif/%d.html' % j['job'], token=None)
    check('what-if HTML needs the token', st == 401, st)


def test_restore(c):
    first = c.api('GET', 'versions')[1]['versions'][-1]
    check('version 1 was found on disk at start', first['version'] == 1 and
          first['what'] == 'found on disk at start' and first['who'] == 'filterd', first)
    v1 = os.path.join(c.state, 'versions', '1')
    newest = c.newest()
    st, j = c.run_job('POST', 'restore', {'version': 1})
    check('restore: done, a new version', j and j['state'] == 'done' and
          j['result']['version'] == newest + 1, j)
    same = all(open(os.path.join(v1, f), 'rb').read() ==
               open(os.path.join(c.d.lists, f), 'rb').read() for f in os.listdir(v1))
    check('restore: the lists are version 1 again', same and
          sorted(os.listdir(v1)) == sorted(os.listdir(c.d.lists)))
    rec = c.api('GET', 'versions')[1]['versions'][0]
    check('restore: audited', rec['what'] == 'restore of 1' and rec['who'] == 'alice', rec)
    st, o, _ = c.api('POST', 'restore', {'version': 9999})
    check('restore of a version not kept: 404', st == 404, (st, o))


def test_live(c):
    st, o, _ = c.api('GET', 'live')
    ok = st == 200
    check('live: 200', ok, (st, o))
    if ok:
        check('live: the broker stats', o['stats']['requests'] > 0 and
              'latency_hist' in o['stats'], o['stats'].get('requests'))
        check('live: the workers', len(o['workers']) == 2 and 'pid' in o['workers'][0],
              o['workers'])
        check('live: the reloads, newest first', o['reloads'] and
              o['reloads'][0]['who'] == 'alice' and o['reloads'][0]['result']['ok'],
              o['reloads'])


def test_outside_edit(c):
    base = c.newest()
    with open(os.path.join(c.d.lists, 'cult.txt'), 'a') as f:
        f.write('zqoutsideeditx\n')
    st, o, _ = c.api('POST', 'entries', {'op': 'add', 'file': 'porn.txt', 'text': 'zqx',
                                         'base': base})
    check('an edit outside the console: 409 stale', st == 409 and o['version'] == base + 1,
          (st, o))
    rec = c.api('GET', 'versions')[1]['versions'][0]
    check('an edit outside the console: recorded as a version', 'found on disk' in rec['what'],
          rec)


# ---- kill -9 during saves -----------------------------------------------------------

def snapshot(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            out[os.path.relpath(p, d)] = open(p, 'rb').read()
    return out


def versions(c):
    """{N: snapshot} of every version folder (not N.tmp)."""
    root = os.path.join(c.state, 'versions')
    return {v: snapshot(os.path.join(root, v)) for v in os.listdir(root)
            if not v.endswith('.tmp')}


def test_kill(c):
    # a big file, so that the commit (replace, copy the version) takes a while
    with open(os.path.join(c.d.lists, 'big.txt'), 'w') as f:
        f.write('@label other\n' + ''.join('zqbig%dx\n' % i for i in range(20000)))
    c.d.stop(keep=True)
    c.start()
    # how long one save takes, to spread the kills over it
    base = c.newest()
    t0 = time.monotonic()
    st, j = c.run_job('POST', 'entries', {'op': 'change', 'file': 'big.txt', 'line': 2,
                                          'text': 'zqkill0x', 'base': base})
    took = time.monotonic() - t0
    check('kill: a first save', j and j['state'] == 'done', j)
    rng = random.Random(16)
    outcomes = {'old': 0, 'new': 0}
    hit = {p: 0 for p in POINTS}
    for i in range(1, KILLS + 1):
        old = snapshot(c.d.lists)
        before = versions(c)
        base = c.newest()
        new_big = old['big.txt'].split(b'\n')
        new_big[1] = b'zqkill%dx' % i
        new = dict(old, **{'big.txt': b'\n'.join(new_big)})
        point = POINTS[i % len(POINTS)]
        watch = {'list file written': os.path.join(c.d.lists, '.big.txt.tmp'),
                 'version being copied': os.path.join(c.state, 'versions', '%d.tmp' % (base + 1)),
                 'version renamed': os.path.join(c.state, 'versions', str(base + 1))}.get(point)
        st, j, _ = c.api('POST', 'entries', {'op': 'change', 'file': 'big.txt', 'line': 2,
                                             'text': 'zqkill%dx' % i, 'base': base})
        if not check('kill %d: the save started' % i, st == 202, (st, j)):
            break
        t0 = time.monotonic()
        if watch:                 # kill the moment the save reaches that point
            while not os.path.exists(watch) and time.monotonic() - t0 < took * 3 + 5:
                pass
            hit[point] += os.path.exists(watch)
        else:
            time.sleep(took * rng.uniform(0.1, 1.2))
            hit[point] += 1
        delay = time.monotonic() - t0
        os.killpg(c.d.proc.pid, signal.SIGKILL)
        c.d.proc.wait()
        c.d.proc = None
        now = {k: v for k, v in snapshot(c.d.lists).items() if not k.startswith('.')
               and '/.' not in k}
        whole = now == old or now == new
        outcomes['new' if now == new else 'old'] += whole
        check('kill %d (%s, %.3fs): every list file old or new, none partial' % (i, point, delay),
              whole,
              sorted(k for k in now if now[k] != old.get(k) and now[k] != new.get(k)))
        after = versions(c)
        for v, snap in after.items():
            check('kill %d: version %s whole' % (i, v),
                  snap == before.get(v) or (v not in before and snap in (old, new)))
        c.start()
        check('kill %d: serves again' % i, v1_check(c, 'zqpornx') == 'block')
        st, o, _ = c.api('GET', 'versions')
        vdir = os.path.join(c.state, 'versions', str(o['newest']))
        check('kill %d: the newest version is the lists on disk' % i,
              snapshot(vdir) == snapshot(c.d.lists), o['versions'][0])
        left = [f for r, _, fs in os.walk(c.d.lists) for f in fs if f.endswith('.tmp')]
        check('kill %d: no temporary file left in the lists' % i, not left, left)
    print('kill: %d saves cut, %d left the old lists, %d the new (one save: %.2fs); '
          'caught at %s' % (KILLS, outcomes['old'], outcomes['new'], took, hit))
    check('kill: some kills caught a save inside its commit',
          sum(hit[p] for p in POINTS if p != 'random') >= 3, hit)


def main():
    test_disabled()
    test_bad_admin_file()
    c = Console().start()
    try:
        for t in (test_pages, test_refusals, test_try, test_entries, test_save,
                  test_lint_refused, test_busy, test_reload, test_whatif, test_restore,
                  test_live, test_outside_edit, test_token_reload, test_kill):
            try:
                t(c)
            except Exception as e:  # a crash of one part is a failure, the rest still runs
                check('%s raised' % t.__name__, False, repr(e))
                if c.d.proc is None:
                    c.start()
    finally:
        log = c.d.read_log()
        if not check('stops cleanly', c.stop()):
            print(log[-3000:], file=sys.stderr)
    print('console_test: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
