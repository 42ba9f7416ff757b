#!/usr/bin/env python3
"""check.py: the include rules of the tree, in the spirit of tor's .may_include files.

The layers are the top folders that hold a `.may_include` file (common/, workloads/, agent/,
coordinator/). Every C file under a folder with a `.may_include` file may include, with a quoted include, only
headers whose repo-rooted path matches one of that file's patterns (fnmatch globs, one a line,
`#` comments); the nearest `.may_include` above a file governs it. Quoted includes must be
rooted at the repo (`"common/hist.h"`) and name a file that exists; the generated protobuf
header is the one bare name. Two modules (a .c with its .h) that include each other are a loop.

    tests/layers/check.py [ROOT]     exit 0: every include keeps the rules; 1: each break is
                                     printed as FILE:LINE: what is wrong
"""
import fnmatch
import os
import re
import sys

GENERATED = {"fleetbench.pb-c.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def rules_for(root, rel, cache):
    d = os.path.dirname(rel)
    while True:
        if d not in cache:
            path = os.path.join(root, d, ".may_include")
            cache[d] = None
            if os.path.isfile(path):
                with open(path) as f:
                    cache[d] = (os.path.join(d, ".may_include"),
                                [ln.split("#")[0].strip() for ln in f
                                 if ln.split("#")[0].strip()])
        if cache[d] is not None:
            return cache[d]
        if not d:
            return None
        d = os.path.dirname(d)


def module(rel):
    return os.path.splitext(rel)[0]


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    cache, errors, uses = {}, [], {}
    # The layers are the top folders with a .may_include of their own; tests/, bench/ and the
    # rest may include anything.
    tops = sorted(t for t in os.listdir(root)
                  if os.path.isfile(os.path.join(root, t, ".may_include")))
    walked = [w for t in tops for w in os.walk(os.path.join(root, t))]
    for d, dirs, files in walked:
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            rel = os.path.relpath(os.path.join(d, name), root)
            rules = rules_for(root, rel, cache)
            if rules is None:
                continue
            source, patterns = rules
            with open(os.path.join(root, rel), errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    where = f"{rel}:{lineno}"
                    if inc in GENERATED:
                        continue
                    if not os.path.isfile(os.path.join(root, inc)):
                        errors.append(f"{where}: \"{inc}\" is not a path from the repo root "
                                      f"(write it as \"dir/{os.path.basename(inc)}\")")
                        continue
                    if not any(fnmatch.fnmatchcase(inc, p) for p in patterns):
                        errors.append(f"{where}: may not include \"{inc}\" (allowed by {source}: "
                                      f"{', '.join(patterns)})")
                    if module(inc) != module(rel):
                        uses.setdefault(module(rel), {}).setdefault(module(inc), where)
    for a, targets in sorted(uses.items()):
        for b, where in sorted(targets.items()):
            if a < b and a in uses.get(b, {}):
                errors.append(f"{where}: include loop: {a} and {b} include each other "
                              f"(also {uses[b][a]})")
    for e in errors:
        print(e)
    if errors:
        print(f"layers: {len(errors)} include(s) break the rules", file=sys.stderr)
        return 1
    print("layers: every include points down the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
