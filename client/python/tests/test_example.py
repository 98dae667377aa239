"""test_example.py -- runs the README's Flask example against the real filterd."""
import os
import re

import fdproc
from fdproc import term

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'README.md')


def example():
    """The ```python block after <!-- example: flask --> in README.md."""
    m = re.search(r'<!-- example: flask -->\n```python\n(.*?)```', open(README, encoding='utf-8').read(), re.S)
    assert m, 'README.md has the Flask example'
    return m.group(1)


def test_readme_flask_handler(monkeypatch):
    with fdproc.Daemon() as d:
        monkeypatch.setenv('FILTERD_ENDPOINTS', d.ep)
        ns = {'__name__': 'example_flask'}
        exec(compile(example(), 'README.md (flask example)', 'exec'), ns)
        web = ns['app'].test_client()
        try:
            r = web.post('/comments', json={'text': 'nice post'})
            assert (r.status_code, r.get_json()) == (200, {'ok': True, 'review': False, 'labels': []})
            r = web.post('/comments', json={'text': 'see ' + term('ad')})
            assert (r.status_code, r.get_json()) == (200, {'ok': True, 'review': True, 'labels': ['ad']})
            r = web.post('/comments', json={'text': 'a ' + term('porn')})
            assert r.status_code == 422
            assert r.get_json()['result'] == {'suggest': 'risky', 'label': 20002}
        finally:
            ns['local'].client.close()
