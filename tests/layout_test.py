#!/usr/bin/env python3
"""layout_test.py -- the tree keeps the shape docs/ARCHITECTURE.md describes.

Checks, over every C source and header outside tests/:
  1. no file is over MAX_LINES lines;
  2. each folder includes only what its arrows allow:
       engine/          engine/ only
       wire/            wire/ only
       client/          client/ (the library), wire.h and zmtp.h (its own DEALER)
       filterd/         filterd/, engine.h and its public headers, wire.h, zmtp.h
                        (the broker's ROUTER), fclient.h (the HTTP front door is a
                        client of the broker)
       client/filterctl client/filterctl, fclient.h, wire.h, engine.h (and its
                        public headers), filterd's settings.h and answer.h
       bench/           bench/, engine.h, fclient.h, wire.h
  3. the include graph (who includes whom, by resolved file) has no cycle.
Prints each violation; exits 1 if there is any.
"""
import os
import re
import sys

MAX_LINES = 600
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# The engine's public API: engine.h and the headers it includes for its users.
ENGINE_PUBLIC = {"engine/engine.h", "engine/errors.h", "engine/fold.h", "engine/taxonomy.h"}
ALLOWED = {
    "engine": lambda h: h.startswith("engine/"),
    "wire": lambda h: h.startswith("wire/"),
    "client": lambda h: ((h.startswith("client/") and "/filterctl/" not in h)
                         or h in ("wire/wire.h", "wire/zmtp.h")),
    "filterd": lambda h: (h.startswith("filterd/") or h in ENGINE_PUBLIC
                          or h in ("wire/wire.h", "wire/zmtp.h", "client/fclient.h")),
    "client/filterctl": lambda h: (h.startswith("client/filterctl/") or h == "client/fclient.h"
                                   or h == "wire/wire.h" or h in ENGINE_PUBLIC
                                   or h in ("filterd/settings.h", "filterd/answer.h")),
    "bench": lambda h: (h.startswith("bench/") or h in ("engine/engine.h", "client/fclient.h",
                                                         "wire/wire.h") or h in ENGINE_PUBLIC),
}
# Where a quoted include is looked for, by folder (as the Makefile's -I paths).
SEARCH = {
    "engine": ["engine"], "wire": ["wire"], "client": ["client", "wire"],
    "filterd": ["filterd", "engine", "wire", "client"],
    "client/filterctl": ["client/filterctl", "client", "wire", "engine", "filterd"],
    "bench": ["bench", "engine", "client", "wire"],
}


def sources():
    for folder in SEARCH:
        path = os.path.join(ROOT, folder)
        for name in sorted(os.listdir(path)):
            if name.endswith((".c", ".h")):
                yield folder, f"{folder}/{name}"


def resolve(folder, inc, here):
    for d in [os.path.dirname(here)] + SEARCH[folder]:
        cand = os.path.normpath(f"{d}/{inc}")
        if os.path.isfile(os.path.join(ROOT, cand)):
            return cand
    return None


def main():
    bad = []
    graph = {}
    for folder, rel in sources():
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = f.read()
        lines = text.count("\n")
        if lines > MAX_LINES:
            bad.append(f"{rel}: {lines} lines (at most {MAX_LINES})")
        graph[rel] = []
        for inc in INCLUDE.findall(text):
            target = resolve(folder, inc, rel)
            if target is None:
                bad.append(f'{rel}: #include "{inc}" is not found on its folder\'s paths')
                continue
            graph[rel].append(target)
            if not ALLOWED[folder](target):
                bad.append(f'{rel}: includes {target}, which {folder}/ may not use')
    # cycles, by depth-first search over resolved files
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                bad.append("include cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif not state.get(nxt):
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node, [])
    for line in bad:
        print("layout: " + line, file=sys.stderr)
    print(f"layout: {len(graph)} files checked, {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
