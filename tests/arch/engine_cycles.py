#!/usr/bin/env python3
"""engine_cycles.py - the call and include graph of the engine's modules (daemon/engine*.c
and the control socket, daemon/control*.c) must have no cycle, other than through the
loop's dispatch (function pointers, which this reading of the source does not see).

A module is one .c file, except that the files of one feature that share a header of
their own are one module: engine_approval*.c (engine_approval_int.h), engine_device*.c
(engine_device.h: the device record and its life) and control*.c. A
module depends on another when it calls a function the other defines
(not static), or includes a header whose functions the other defines. The cycles the code
still has are listed in tests/arch/engine_cycles.known, one edge "a -> b" a line: the
check fails on a cycle through any edge not listed there (a new circle), and on a listed
edge that no longer closes a cycle (the list must shrink with the code).

The same check holds the device record's decision in one module: outside
engine_device*.c no code assigns a device's `state` or `iface_allow` or writes its `rule`
(features ask for a move: device_allow, device_deny, device_reject).

Usage: engine_cycles.py DAEMON_DIR KNOWN_FILE   (exit 0: as known, 1: not, 2: usage)
"""
import os
import re
import sys

DEF = re.compile(r"^(?!static\b)(?:[A-Za-z_][\w ]*?[\s*]+)?\**(\w+)\(")
CALL = re.compile(r"\b([a-z_]\w*)\s*\(")
INCLUDE = re.compile(r'^#include "([\w.]+\.h)"', re.M)
DECL = re.compile(r"\b([a-z_]\w*)\s*\(")
# An assignment to a decision field through a pointer, or the rule text as a destination.
DECISION_WRITE = re.compile(
    r"->\s*(?:state|iface_allow)\s*(?:[|&^+-]?=(?!=)|\+\+|--)"
    r"|\b(?:snprintf|strcpy|strncpy|memcpy|memset|strcat)\s*\(\s*\w+\s*->\s*rule\b")


def strip(text):
    """The text without comments and string literals."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def modules(d):
    return sorted(f for f in os.listdir(d)
                  if f.endswith(".c") and (f.startswith("engine") or f.startswith("control")))


def module_of(f):
    for family in ("engine_approval", "engine_device", "control"):
        if f.startswith(family):
            return family
    return f[:-2]


def graph(d):
    raw = {}
    for f in modules(d):
        raw[module_of(f)] = raw.get(module_of(f), "") + open(os.path.join(d, f)).read()
    srcs = {m: strip(text) for m, text in raw.items()}
    owner = {}
    for m, text in srcs.items():
        for line in text.splitlines():
            g = DEF.match(line)
            if g and not line.rstrip().endswith(";") and g.group(1) not in ("if", "for"):
                owner[g.group(1)] = m
    edges = {m: set() for m in srcs}
    for m, text in srcs.items():
        for name in CALL.findall(text):
            o = owner.get(name)
            if o and o != m:
                edges[m].add(o)
        for h in INCLUDE.findall(raw[m]):
            p = os.path.join(d, h)
            if not os.path.exists(p):
                continue
            for name in DECL.findall(strip(open(p).read())):
                o = owner.get(name)
                if o and o != m:
                    edges[m].add(o)
    return edges


def decision_writes(d):
    """(file, line) of each write to a device's decision outside the device module."""
    found = []
    for f in modules(d):
        if module_of(f) == "engine_device":
            continue
        for n, line in enumerate(strip(open(os.path.join(d, f)).read()).splitlines(), 1):
            if DECISION_WRITE.search(line):
                found.append((f, n))
    return found


def cyclic_edges(edges):
    """Edges a -> b with a path back from b to a."""
    reach = {}
    for m in edges:
        seen, todo = set(), [m]
        while todo:
            for n in edges[todo.pop()]:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        reach[m] = seen
    return {(a, b) for a in edges for b in edges[a] if a in reach[b]}


def main():
    if len(sys.argv) != 3:
        print("usage: engine_cycles.py DAEMON_DIR KNOWN_FILE", file=sys.stderr)
        return 2
    edges = graph(sys.argv[1])
    known = set()
    for n, line in enumerate(open(sys.argv[2]), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("->")]
        if len(parts) != 2 or not all(parts):
            print("%s:%d: not an edge 'a -> b': %s" % (sys.argv[2], n, line), file=sys.stderr)
            return 2
        known.add(tuple(parts))
    found = cyclic_edges(edges)
    bad = False
    for a, b in sorted(found - known):
        print("new cycle through %s -> %s" % (a, b))
        bad = True
    for a, b in sorted(known - found):
        print("%s -> %s no longer closes a cycle: remove it from %s" % (a, b, sys.argv[2]))
        bad = True
    for f, n in decision_writes(sys.argv[1]):
        print("%s:%d: writes a device's decision: ask engine_device.h's device_* instead" %
              (f, n))
        bad = True
    print("%d modules, %d edges, %d in cycles (%d known)" %
          (len(edges), sum(len(v) for v in edges.values()), len(found), len(known)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
