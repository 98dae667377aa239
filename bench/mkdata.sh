#!/bin/sh
# mkdata.sh -- build bench/data/posts.txt, the benchmark's corpus of short posts.
#
# Usage: bench/mkdata.sh [SHARED_DATA_DIR [OUT]]
#   SHARED_DATA_DIR  default ../shared/data (relative to the repository root)
#   OUT              default bench/data/posts.txt
#
# Reads the open corpora (see bench/data/README.md for sources and licences),
# cuts them into sentences and joins sentences into posts of 50-300 bytes, one
# per line: Chinese (Song ci, Tang poems in traditional characters, COLD
# comments), English (fortunes) and mixed posts. Deterministic: a fixed seed and
# a self-contained generator, so the same inputs always give the same file.
# Only needed to regenerate posts.txt; tests and `make bench-engine` use the
# committed file and never read the shared folder.
set -eu

cd "$(dirname "$0")/.."
SRC=${1:-../shared/data}
OUT=${2:-bench/data/posts.txt}

for f in corpora/songci-simplified.txt corpora/tang-traditional-sample.txt \
         corpora/fortunes-en.txt corpora/cold/train.csv corpora/cold/dev.csv; do
    [ -r "$SRC/$f" ] || { echo "mkdata: cannot read $SRC/$f" >&2; exit 1; }
done

python3 - "$SRC" "$OUT" <<'EOF'
import csv, re, sys

SEED = 20240601            # change it and every post changes
TARGET_BYTES = 3_000_000   # size of posts.txt, bytes
POST_MIN, POST_MAX = 50, 300   # bytes per post, newline excluded

src, out = sys.argv[1], sys.argv[2]

class Rng:
    """xorshift64*: fixed across Python versions, unlike random.Random."""
    def __init__(self, seed):
        self.s = seed or 1
    def next(self):
        s = self.s
        s ^= (s >> 12); s ^= (s << 25) & 0xFFFFFFFFFFFFFFFF; s ^= (s >> 27)
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF
    def below(self, n):
        return (self.next() >> 11) % n

ZH_END = re.compile(r'(?<=[。！？；!?;])')
EN_END = re.compile(r'(?<=[.!?])\s+')

def lines(path):
    with open(path, encoding='utf-8-sig') as f:
        return [l.strip() for l in f if l.strip()]

def cold_texts(path):
    with open(path, encoding='utf-8-sig', newline='') as f:
        return [r['TEXT'].strip() for r in csv.DictReader(f) if r['TEXT'].strip()]

def clip(s, limit):
    """At most limit UTF-8 bytes, cut on a character boundary."""
    b = s.encode()
    if len(b) <= limit:
        return s
    return b[:limit].decode('utf-8', 'ignore')

def sentences(texts, splitter):
    out = []
    for t in texts:
        t = ' '.join(t.split())
        out += [clip(p.strip(), POST_MAX) for p in splitter.split(t) if p.strip()]
    return out

pools = {
    'songci':  sentences(lines(f'{src}/corpora/songci-simplified.txt'), ZH_END),
    'tang':    sentences(lines(f'{src}/corpora/tang-traditional-sample.txt'), ZH_END),
    'cold':    sentences(cold_texts(f'{src}/corpora/cold/train.csv') +
                         cold_texts(f'{src}/corpora/cold/dev.csv'), ZH_END),
    'fortune': sentences(lines(f'{src}/corpora/fortunes-en.txt'), EN_END),
}
# Which pools a post draws from, with weights out of 100.
MIX = [(('songci',), 25), (('tang',), 10), (('cold',), 25), (('fortune',), 25),
       (('cold', 'fortune'), 8), (('songci', 'fortune'), 4), (('fortune', 'cold'), 3)]

rng = Rng(SEED)
cursor = {k: rng.below(len(v)) for k, v in pools.items()}

def take(pool):
    v = pools[pool]
    s = v[cursor[pool] % len(v)]
    cursor[pool] += 1 + rng.below(7)   # skip a few: spread posts over the corpus
    return s

def pick_mix():
    r = rng.below(sum(w for _, w in MIX))
    for srcs, w in MIX:
        if r < w:
            return srcs
        r -= w

def post():
    target = POST_MIN + rng.below(POST_MAX - POST_MIN + 1)
    srcs = pick_mix()
    parts, n, i = [], 0, 0
    while n < target:
        s = take(srcs[i % len(srcs)])
        i += 1
        parts.append(s)
        n += len(s.encode()) + 1
    text = clip(' '.join(parts), POST_MAX)
    return text if len(text.encode()) >= POST_MIN else None

total = 0
with open(out, 'w', encoding='utf-8', newline='\n') as f:
    while total < TARGET_BYTES:
        p = post()
        if p:
            f.write(p + '\n')
            total += len(p.encode()) + 1
EOF
echo "mkdata: wrote $OUT ($(wc -l < "$OUT") posts, $(wc -c < "$OUT") bytes)"
