#!/usr/bin/python3
"""How many sysfs files usbdev_from_sysfs() opens (the gate's cost per device).

usage: test_sysfs_reads.py USBDEV_DUMP FIXTURE_DIR

Under umockdev-run and strace, usbdev-dump reads the PC's two root hubs and the personal
stick at 1-2. Ids, classes and interfaces come from each device's `descriptors`; the
stick's hub is read only for its hash (product, serial, descriptors). Asserts the files
opened or tried, by name: never idVendor, idProduct, uevent, busnum or devnum, each root hub five
files, the stick eight, and the same identities as without the trace.
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

DUMP, FIXTURES = sys.argv[1], sys.argv[2]
OPEN = re.compile(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]*/sys/devices/[^"]*)", ([^)]*)\) = -?\d+')
# LeakSanitizer cannot run under ptrace (the sanitizer build): leaks are checked by the
# untraced runs of usbdev-dump in the other tests.
env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
with tempfile.TemporaryDirectory(prefix="pcl-usbreads-") as tmp:
    log = os.path.join(tmp, "trace")
    r = subprocess.run(["umockdev-run", "-d", os.path.join(FIXTURES, "pc-xhci.umockdev"),
                        "-d", os.path.join(FIXTURES, "stick-personal.umockdev"), "--",
                        "strace", "-f", "-qq", "-e", "trace=open,openat", "-o", log, DUMP],
                       capture_output=True, text=True, timeout=120, env=env)
    with open(log) as f:
        trace = f.read()
print(r.stdout, r.stderr, sep="")
if r.returncode != 0 or "rule 1-2 allow id 090c:1000 " not in r.stdout:
    sys.exit("FAIL: usbdev-dump did not read the stick (rc %d)" % r.returncode)
files = [m.group(1).split("/sys/devices/", 1)[1] for m in OPEN.finditer(trace)
         if "O_DIRECTORY" not in m.group(2)]
names = collections.Counter(f.rsplit("/", 1)[1] for f in files)
print("files opened or tried (%d):" % len(files), dict(names))
failed = [n for n in ("idVendor", "idProduct", "uevent", "busnum", "devnum") if names[n]]
if failed:
    sys.exit("FAIL: read %s" % ", ".join(failed))
want = {"product": 4, "serial": 4, "descriptors": 4, "manufacturer": 3, "connect_type": 3}
if dict(names) != want or len(files) != 18:
    sys.exit("FAIL: files opened %s, want %s" % (dict(names), want))
print("ok: 18 files for 2 root hubs and 1 stick")
