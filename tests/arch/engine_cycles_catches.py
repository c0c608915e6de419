#!/usr/bin/env python3
"""engine_cycles_catches.py - the cycle check (engine_cycles.py) is not blind: on a copy of
daemon/ where the device module calls a feature directly (the call the dispatch table is
there to avoid), it must fail and name the new edge; where a feature writes a device's
state itself, it must fail and name the line; on the copy as it is, it must pass.

Usage: engine_cycles_catches.py DAEMON_DIR KNOWN_FILE   (exit 0: the check caught it)
"""
import os
import shutil
import subprocess
import sys
import tempfile

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine_cycles.py")
# The device module (the bottom) calling the jobs feature, which calls the device module.
EDGE = "\nvoid engine_device_arch_probe(struct engine *e)\n{\n\tengine_mounts_changed(e);\n}\n"
# A feature (council) moving a device behind the state machine's back.
WRITE = "\nvoid engine_council_arch_probe(struct dev_entry *d)\n{\n\td->state = DEV_ALLOWED;\n}\n"


def check(d, known):
    p = subprocess.run([sys.executable, CHECK, d, known], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    if len(sys.argv) != 3:
        print("usage: engine_cycles_catches.py DAEMON_DIR KNOWN_FILE", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pcl-arch-") as tmp:
        for f in os.listdir(sys.argv[1]):
            if f.endswith((".c", ".h")):
                shutil.copy(os.path.join(sys.argv[1], f), tmp)
        rc, out = check(tmp, sys.argv[2])
        if rc != 0:
            print("the unchanged copy fails the check:\n" + out)
            return 1
        council = os.path.join(tmp, "engine_council.c")
        with open(council) as f:
            kept = f.read()
        with open(council, "a") as f:
            f.write(WRITE)
        rc, out = check(tmp, sys.argv[2])
        if rc != 1 or "engine_council.c:" not in out or "decision" not in out:
            print("a feature writing d->state was not caught (exit %d):\n%s" % (rc, out))
            return 1
        print("caught: " + out.splitlines()[0])
        with open(council, "w") as f:
            f.write(kept)
        with open(os.path.join(tmp, "engine_device_life.c"), "a") as f:
            f.write(EDGE)
        rc, out = check(tmp, sys.argv[2])
        if rc != 1 or "engine_device -> engine_jobs" not in out:
            print("a device-module call to a feature was not caught (exit %d):\n%s" % (rc, out))
            return 1
        print("caught: " + [l for l in out.splitlines() if "engine_device -> " in l][0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
