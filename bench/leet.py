#!/usr/bin/env python3
"""leet.py -- Latin disguises: filterd against obscenity on the same spellings and clean text.

Usage: bench/leet.py [--json]   (from the repository root, after make and bench/run.sh)
Runs tests/data/leet-spellings.tsv (62 spellings of the shipped English entries, and
clean lines) through filterd (build/filterctl scan, the shipped lists) and through
obscenity (bench/peers/obscenity.js, npm, installed by bench/run.sh into
build/bench/node), and both over clean English: tests/data/fortunes-sample.txt, and
../shared/data/corpora/fortunes-en.txt when it is there. Issue 9's target: filterd
catches at least as many spellings and flags no more clean texts.
"""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPELLINGS = os.path.join(ROOT, 'tests', 'data', 'leet-spellings.tsv')
CLEAN = [os.path.join(ROOT, 'tests', 'data', 'fortunes-sample.txt'),
         os.path.join(ROOT, '..', 'shared', 'data', 'corpora', 'fortunes-en.txt')]
NODE_MODULES = os.path.join(ROOT, 'build', 'bench', 'node', 'node_modules')
FILTERCTL = os.path.join(ROOT, 'build', 'filterctl')


def filterd_flags(texts):
    """Whether filterd does not allow each text (the shipped lists, scene comment)."""
    inp = ''.join(json.dumps({'id': i, 'text': t}, ensure_ascii=False) + '\n'
                  for i, t in enumerate(texts))
    out = subprocess.run([FILTERCTL, 'scan', '--lists', os.path.join(ROOT, 'wordlists')],
                         input=inp.encode(), capture_output=True, check=True).stdout.decode()
    res = {}
    for line in out.splitlines():
        r = json.loads(line)
        res[r['id']] = r.get('decision') in ('flag', 'block')
    return [res.get(i, False) for i in range(len(texts))]


def lines(path):
    with open(path, encoding='utf-8') as f:
        return [l.rstrip('\n') for l in f if l.strip()]


def compare():
    clean = [p for p in CLEAN if os.path.exists(p)]
    if not os.path.isdir(os.path.join(NODE_MODULES, 'obscenity')):
        return {'error': 'obscenity is not installed (bench/run.sh installs it)'}
    ob = json.loads(subprocess.run(['node', os.path.join(ROOT, 'bench', 'peers', 'obscenity.js'),
                                    NODE_MODULES, SPELLINGS] + clean, capture_output=True,
                                   check=True).stdout)
    sp = ob['spellings']
    fd = filterd_flags([s['text'] for s in sp])
    pos = [i for i, s in enumerate(sp) if s['entry'] != '-']
    neg = [i for i, s in enumerate(sp) if s['entry'] == '-']
    res = {'obscenity_version': ob['version'], 'spellings': len(pos), 'clean_lines': len(neg),
           'filterd_caught': sum(fd[i] for i in pos), 'obscenity_caught': sum(sp[i]['hit'] for i in pos),
           'filterd_false': [sp[i]['text'] for i in neg if fd[i]],
           'obscenity_false': [sp[i]['text'] for i in neg if sp[i]['hit']],
           'filterd_missed': [sp[i]['text'] for i in pos if not fd[i]],
           'obscenity_missed': [sp[i]['text'] for i in pos if not sp[i]['hit']], 'clean': []}
    for c in ob['clean']:
        f = filterd_flags(lines(c['file']))
        res['clean'].append({'file': os.path.relpath(c['file'], ROOT), 'texts': c['texts'],
                             'filterd': sum(f), 'obscenity': c['flagged']})
    res['pass'] = res['filterd_caught'] >= res['obscenity_caught'] and not res['filterd_false'] and \
        all(c['filterd'] <= c['obscenity'] for c in res['clean'])
    return res


def main():
    r = compare()
    if '--json' in sys.argv:
        print(json.dumps(r))
        return
    if 'error' in r:
        sys.exit('leet: ' + r['error'])
    print('Latin disguises (%d spellings of shipped English entries, %d clean lines), obscenity %s'
          % (r['spellings'], r['clean_lines'], r['obscenity_version']))
    print('  caught:  filterd %d, obscenity %d' % (r['filterd_caught'], r['obscenity_caught']))
    print('  clean lines flagged:  filterd %s, obscenity %s' % (r['filterd_false'] or 'none',
                                                              r['obscenity_false'] or 'none'))
    print('  missed by filterd: %s' % (r['filterd_missed'] or 'none'))
    print('  missed by obscenity: %s' % (r['obscenity_missed'] or 'none'))
    for c in r['clean']:
        print('  %s: %d texts; flagged by filterd %d (%.2f%%), by obscenity %d (%.2f%%)'
              % (c['file'], c['texts'], c['filterd'], 100.0 * c['filterd'] / c['texts'],
                 c['obscenity'], 100.0 * c['obscenity'] / c['texts']))
    print('  target (at least as many caught, no more clean flagged): %s'
          % ('PASS' if r['pass'] else 'MISS'))


if __name__ == '__main__':
    main()
