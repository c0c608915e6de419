#!/usr/bin/python3
"""Hash parity with Debian's usbguard 1.1.2 on every USB fixture.

usage: test_hash_parity.py USBDEV_DUMP FIXTURE_DIR

For the whole fixture set and for each device fixture on its own (with the
controller and hub it hangs from), run `usbguard generate-policy` and our
usbdev-dump under the same `umockdev-run`, then require that every device gets
the same hash, parent-hash and the same rule line, and that the rules usbguard
generated (with and without hashes, with ports) parse with our parser and
select for each device the line usbguard wrote for it.
"""
import os
import re
import subprocess
import sys
import tempfile

DUMP, FIXTURES = sys.argv[1], sys.argv[2]
BASE = ["pc-xhci.umockdev"]
NEEDS = {"stick-council.umockdev": ["hub-genesys.umockdev"],
         "mouse-hub.umockdev": ["hub-genesys.umockdev"]}
NON_USB = {"mmc-sd-reader.umockdev", "sata-optical.umockdev"}
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg)


def run(files, cmd):
    args = ["umockdev-run"]
    for f in files:
        args += ["-d", os.path.join(FIXTURES, f)]
    r = subprocess.run(args + ["--"] + cmd, capture_output=True, text=True, timeout=60)
    return r


def usbguard(files, *opts):
    r = run(files, ["usbguard", "generate-policy"] + list(opts))
    if r.returncode != 0:
        raise SystemExit("usbguard generate-policy failed under umockdev-run: " + r.stderr)
    return [l for l in r.stdout.splitlines() if l.startswith("allow ")]


def ours(files, rules=None, mode="--rules"):
    r = run(files, [DUMP] + ([mode, rules] if rules else []))
    check(r.returncode == 0, "usbdev-dump %s exited %d: %s" % (files, r.returncode, r.stderr))
    lines = {}
    decisions = {}
    for l in r.stdout.splitlines():
        kind, sysname, rest = (l.split(" ", 2) + [""])[:3]
        if kind == "rule":
            lines[sysname] = rest
        elif kind == "decision":
            decisions[sysname] = rest.split()
        elif kind == "each":
            decisions[int(sysname)] = rest.split()
    return lines, decisions


FIELD = re.compile(r' (hash|parent-hash) "([^"]*)"')


def key(line):
    return FIELD.sub("", line)


def compare(files):
    theirs = usbguard(files)
    mine, _ = ours(files)
    name = "+".join(files)
    check(len(theirs) == len(mine) and len(mine) > 0,
          "%s: usbguard sees %d devices, usbdev-dump %d" % (name, len(theirs), len(mine)))
    by_key = {}
    for sysname, line in mine.items():
        check(key(line) not in by_key, "%s: fixture devices not distinguishable" % name)
        by_key[key(line)] = (sysname, line)
    for line in theirs:
        k = key(line)
        if k not in by_key:
            check(False, "%s: no device of ours for usbguard's %s" % (name, line))
            continue
        sysname, mline = by_key[k]
        th, mh = dict(FIELD.findall(line)), dict(FIELD.findall(mline))
        check(th.get("hash") == mh.get("hash"),
              "%s: %s hash usbguard %s, ours %s" % (name, sysname, th.get("hash"), mh.get("hash")))
        check(th.get("parent-hash") == mh.get("parent-hash"),
              "%s: %s parent-hash usbguard %s, ours %s"
              % (name, sysname, th.get("parent-hash"), mh.get("parent-hash")))
        check(line == mline, "%s: %s rule line differs:\n  usbguard: %s\n  ours:     %s"
              % (name, sysname, line, mline))
    return len(theirs)


def rules_select_own_lines(files, opts):
    """usbguard's generated rules must parse here and pick, per device, its own line."""
    theirs = usbguard(files, *opts)
    mine, _ = ours(files)
    with tempfile.NamedTemporaryFile("w", suffix=".rules", delete=False) as f:
        f.write("# written by usbguard generate-policy %s\n" % " ".join(opts))
        for l in theirs:
            f.write(l + "\n")
        path = f.name
    try:
        _, dec = ours(files, rules=path)
        _, each = ours(files, rules=path, mode="--each")
    finally:
        os.unlink(path)
    # every generated rule, alone, matches exactly one device: the one it was written for
    for lineno in range(2, len(theirs) + 2):
        devs = each.get(lineno, [])
        check(len(devs) == 1 and dec.get(devs[0], [None, "0"])[1] == str(lineno),
              "generate-policy %s: line %d alone matches %s" % (opts, lineno, devs))
    check(len(dec) == len(mine), "generate-policy %s: %d decisions for %d devices"
          % (opts, len(dec), len(mine)))
    for sysname, line in mine.items():
        d = dec.get(sysname)
        if d is None:
            continue
        target, lineno = d[0], int(d[1])
        check(target == "allow" and lineno >= 2,
              "generate-policy %s: %s not allowed by its rule (%s)" % (opts, sysname, d))
        if lineno >= 2:
            rule = theirs[lineno - 2]
            if "-X" not in opts:
                check(FIELD.findall(rule) == FIELD.findall(line),
                      "generate-policy %s: %s matched line %d of another device: %s"
                      % (opts, sysname, lineno, rule))
            else:
                check(rule == key(line),
                      "generate-policy %s: %s matched line %d of another device: %s"
                      % (opts, sysname, lineno, rule))


def main():
    fixtures = sorted(f for f in os.listdir(FIXTURES) if f.endswith(".umockdev"))
    usb = [f for f in fixtures if f not in NON_USB]
    devices = [f for f in usb if f not in BASE]
    check(len(devices) >= 12, "only %d USB device fixtures" % len(devices))
    total = compare(usb)
    print("all fixtures together: %d devices, hashes and rule lines equal" % total)
    for f in devices:
        files = BASE + NEEDS.get(f, []) + [f]
        n = compare(files)
        print("%s: %d devices compared" % (f, n))
    for opts in ([], ["-X"], ["-p"]):
        rules_select_own_lines(usb, opts)
        print("generate-policy %s rules: each device selects its own line" % " ".join(opts))
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("hash parity: OK")


main()
