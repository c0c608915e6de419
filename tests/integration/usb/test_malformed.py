#!/usr/bin/python3
"""usbdev_from_sysfs() on malformed devices (tests/data/devices/malformed).

usage: test_malformed.py USBDEV_DUMP FIXTURE_DIR

Each fixture is the personal stick at 1-2 with one lie in its sysfs view. Under
umockdev-run, usbdev-dump must reject exactly that device with a message naming
the sysfs path and the field, and still read the root hubs. The ids are the device
descriptor's (as USBGuard takes them): an idVendor/idProduct attribute that disagrees
is never read, and the device is read with the descriptor's ids.
"""
import os
import subprocess
import sys

DUMP, FIXTURES = sys.argv[1], sys.argv[2]
DEV = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2: "
EXPECT = {
    "wtotallength-lie": "descriptors: offset 20: wTotalLength 33 exceeds the 32 bytes left",
    "zero-blength": "descriptors: offset 36: bLength 0 is shorter than a descriptor header",
    "truncated": "descriptors: offset 0: device descriptor truncated: 10 bytes, need 18",
    "long-serial": "attribute serial: value longer than 255 bytes",
}
# fixture: what the device's rule must say (the attribute said 0781:1000)
ACCEPTED = {"vid-mismatch": "rule 1-2 allow id 090c:1000 "}
failed = 0
for name, want in sorted(ACCEPTED.items()):
    r = subprocess.run(["umockdev-run", "-d", os.path.join(FIXTURES, "pc-xhci.umockdev"),
                        "-d", os.path.join(FIXTURES, "malformed", name + ".umockdev"),
                        "--", DUMP], capture_output=True, text=True, timeout=60)
    ok = r.returncode == 0 and want in r.stdout and "0781" not in r.stdout
    print("%s %s" % ("ok  " if ok else "FAIL", name))
    if not ok:
        print("  rc=%d\n  stdout: %s\n  stderr: %s\n  want: %s" % (
            r.returncode, r.stdout.strip(), r.stderr.strip(), want))
        failed += 1
for name, want in sorted(EXPECT.items()):
    r = subprocess.run(["umockdev-run", "-d", os.path.join(FIXTURES, "pc-xhci.umockdev"),
                        "-d", os.path.join(FIXTURES, "malformed", name + ".umockdev"),
                        "--", DUMP], capture_output=True, text=True, timeout=60)
    ok = (r.returncode == 1 and ("usbdev-dump: " + DEV + want) in r.stderr
          and "rule usb1 " in r.stdout and "rule usb2 " in r.stdout and "rule 1-2 " not in r.stdout)
    print("%s %s" % ("ok  " if ok else "FAIL", name))
    if not ok:
        print("  rc=%d\n  stderr: %s\n  want:   %s%s" % (r.returncode, r.stderr.strip(), DEV, want))
        failed += 1
sys.exit(1 if failed else 0)
