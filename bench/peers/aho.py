#!/usr/bin/python3
"""aho.py -- peer: python3-ahocorasick (Debian), one automaton, every post scanned on its own.

Usage: aho.py TERMS_FILE POSTS_FILE SECONDS
Prints one JSON object: build_s, posts/s and MB/s (MB = 10^6 bytes of UTF-8 input),
matches per pass. Posts are decoded to str once, before timing, as a Python
backend holds them; the timed loop is what it would do per post: collect
every (end, term) match."""
import json, sys, time
import ahocorasick

MB = 1e6


def main():
    terms_path, posts_path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(terms_path, encoding='utf-8') as f:
        terms = [t.rstrip('\n') for t in f if t.strip()]
    with open(posts_path, encoding='utf-8') as f:
        posts = [p.rstrip('\n') for p in f if p.strip()]
    nbytes = sum(len(p.encode('utf-8')) for p in posts)
    t0 = time.perf_counter()
    a = ahocorasick.Automaton()
    for i, t in enumerate(terms):
        a.add_word(t, i)
    a.make_automaton()
    build_s = time.perf_counter() - t0
    passes, matches, t0 = 0, 0, time.perf_counter()
    while True:
        matches = 0
        for p in posts:
            matches += len(list(a.iter(p)))
        passes += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            break
    print(json.dumps({'peer': 'python3-ahocorasick', 'version': ahocorasick.__version__
                      if hasattr(ahocorasick, '__version__') else '',
                      'terms': len(terms), 'build_s': build_s, 'passes': passes,
                      'posts_s': passes * len(posts) / el, 'mb_s': passes * nbytes / MB / el,
                      'matches': matches}))


main()
