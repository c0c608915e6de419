#!/usr/bin/python3
"""syscalls_check.py - every system call in an strace -f log is allowed by the unit's
SystemCallFilter= lines (allow list minus the ~ lists, groups expanded with
`systemd-analyze syscall-filter`). Input: our unit and an strace log of our daemon.

usage: syscalls_check.py UNIT STRACE_LOG
"""
import re
import subprocess
import sys

CALL = re.compile(r'^\d+\s+(?:<\.\.\. )?([a-z_][a-z0-9_]*)[( ]')


def expand(name, seen=None):
    seen = set() if seen is None else seen
    if not name.startswith('@'):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(['systemd-analyze', 'syscall-filter', name], capture_output=True,
                         text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        calls |= expand(line, seen)
    if not calls:
        raise ValueError(f"systemd-analyze knows no group {name}")
    return calls


def unit_filter(path):
    allow, deny = set(), set()
    with open(path, encoding='utf-8') as f:
        for line in f:
            m = re.match(r'^SystemCallFilter=(~?)(.*)$', line.strip())
            if not m:
                continue
            names = set()
            for n in m.group(2).split():
                names |= expand(n)
            (deny if m.group(1) else allow).update(names)
    if not allow:
        raise ValueError(f"{path}: no SystemCallFilter= allow list")
    return allow - deny


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    allowed = unit_filter(argv[1])
    used = {}
    with open(argv[2], encoding='utf-8', errors='replace') as f:
        for line in f:
            m = CALL.match(line)
            if m and m.group(1) not in ('exited', 'killed'):
                used[m.group(1)] = used.get(m.group(1), 0) + 1
    if not used:
        print(f"syscalls_check: no system calls in {argv[2]}")
        return 1
    bad = sorted(n for n in used if n not in allowed)
    print(f"syscalls_check: {len(used)} distinct system calls used, "
          f"{len(allowed)} allowed by the unit")
    for n in bad:
        print(f"not allowed by the unit: {n} ({used[n]} calls)")
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
