#!/usr/bin/env python3
"""Retention on the collector, through the installed CLI: two PCs' collected copies span
more than the six-month retention, filed by month as rsyslog does (trail-YYYY-MM.log).
pc01's trail was itself purged by the PC (a signed purge record): `fleet purge` removes its
old months, records the purge in purges.log (hash-chained), and the copy left still
verifies, incrementally, from scratch against the witness, and with `audit verify`.
pc02's old month holds records dated within the retention (the PC's clock ahead of the
collector's): its purge is refused and nothing of it is removed. pc03's cut would leave a
copy that no signed purge of the PC accounts for: refused too."""
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
CLI = os.path.join(prefix, "bin", "portcullis")
WRITER = os.path.join(build, "tests", "integration", "audit", "audit_testwriter")
MONTH = 31 * 86400


def fail(msg):
    sys.exit("fleet purge test: " + msg)


def run(*args, ok=True):
    r = subprocess.run([CLI] + list(args), capture_output=True, text=True, timeout=60)
    if ok and r.returncode != 0:
        fail("%s failed: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def write(trail, origin, boot, now=None, tick=False, key=None):
    env = dict(os.environ, AUDIT_TW_QUIET="1", AUDIT_TW_ORIGIN=origin,
               AUDIT_TW_BOOT_ID="0d6c8a52-1111-4222-8333-%012d" % boot)
    if now is not None:
        env["AUDIT_TW_NOW"] = str(now)
    if tick:
        env["AUDIT_TW_TICK"] = "1"
    if key:
        env["AUDIT_TW_KEY"] = key
    subprocess.run([WRITER, trail, "5"], env=env, check=True, stdout=subprocess.DEVNULL,
                   timeout=60)
    lines = []
    for seg in sorted(glob.glob(os.path.join(trail, "trail-*.jsonl"))):
        lines += open(seg, "rb").read().splitlines(keepends=True)
    return lines


def collect(lines, out, month_of):
    """File each line (once) in out/trail-<month>.log as rsyslog would; month_of picks it."""
    seen = set()
    for line in lines:
        if line in seen:
            continue
        seen.add(line)
        with open(os.path.join(out, "trail-%s.log" % month_of(line)), "ab") as f:
            f.write(line)


def record_month(line):
    return json.loads(line)["@timestamp"][:7]


def main():
    t0 = int(time.time())
    with tempfile.TemporaryDirectory(prefix="fleet-purge-") as tmp:
        fleet, col = os.path.join(tmp, "fleet"), os.path.join(tmp, "collected")
        where = ["--fleet", fleet, "--collected", col]
        # pc01: months -9 and -8, then now with the PC's own retention purge
        trail, key = os.path.join(tmp, "pc01"), os.path.join(tmp, "pc01.key")
        lines = write(trail, "portcullis/ashford/pc01", 1, t0 - 9 * MONTH, key=key)
        lines += write(trail, "portcullis/ashford/pc01", 2, t0 - 8 * MONTH)
        lines += write(trail, "portcullis/ashford/pc01", 3, tick=True)
        if not any(b'"audit.type":"purge"' in line for line in lines):
            fail("the PC's writer did not purge its old months")
        out1 = os.path.join(col, "ashford", "pc01")
        os.makedirs(out1)
        collect(lines, out1, record_month)
        # pc02: months -9 and -5 both received while the collector's clock said month -9
        trail2, key2 = os.path.join(tmp, "pc02"), os.path.join(tmp, "pc02.key")
        old = write(trail2, "portcullis/ashford/pc02", 4, t0 - 9 * MONTH, key=key2)
        old += write(trail2, "portcullis/ashford/pc02", 5, t0 - 5 * MONTH)
        new = write(trail2, "portcullis/ashford/pc02", 6, tick=True)
        out2 = os.path.join(col, "ashford", "pc02")
        os.makedirs(out2)
        m9 = record_month(old[0])
        collect(old, out2, lambda line: m9)
        collect([x for x in new if x not in set(old)], out2, record_month)

        # pc03: like pc01, but the last record of month -8 reached the collector in the
        # current month: cutting the old months would leave a copy that starts one record
        # before the PC's signed purge boundary, which no longer verifies
        trail3, key3 = os.path.join(tmp, "pc03"), os.path.join(tmp, "pc03.key")
        old3 = write(trail3, "portcullis/ashford/pc03", 7, t0 - 9 * MONTH, key=key3)
        old3 += write(trail3, "portcullis/ashford/pc03", 8, t0 - 8 * MONTH)
        late = old3[-1]
        new3 = write(trail3, "portcullis/ashford/pc03", 9, tick=True)
        out3 = os.path.join(col, "ashford", "pc03")
        os.makedirs(out3)
        now_month = time.strftime("%Y-%m", time.gmtime(t0))
        collect([x for x in old3 if x != late], out3, record_month)
        collect([late] + [x for x in new3 if x not in set(old3)], out3, lambda line: now_month)
        files3 = {f: open(os.path.join(out3, f), "rb").read() for f in os.listdir(out3)}

        for pc, k in (("pc01", key), ("pc02", key2), ("pc03", key3)):
            run("fleet", "add", "--fleet", fleet, "--council", "ashford", "--pc", pc, "--key", k)
        run("fleet", "verify", *where)
        files1 = sorted(os.listdir(out1))
        files2 = {f: open(os.path.join(out2, f), "rb").read() for f in os.listdir(out2)}
        if len(files1) != 3 or len(files2) != 2:
            fail("unexpected collected files: %s %s" % (files1, sorted(files2)))

        r = run("fleet", "purge", *where, "--council", "ashford", "--retention", "6", ok=False)
        print(r.stdout.strip())
        if r.returncode != 1:
            fail("a refused PC must make the purge exit 1: %s%s" % (r.stdout, r.stderr))
        if not re.search(r"^REFUSED ashford/pc02: seq \d+ dated \S+ is not older than the "
                         r"retention", r.stdout, re.M):
            fail("pc02's purge not refused for records within the retention:\n" + r.stdout)
        if {f: open(os.path.join(out2, f), "rb").read() for f in os.listdir(out2)} != files2:
            fail("a refused purge changed pc02's collected copy")
        if not re.search(r"^REFUSED ashford/pc03: seq \d+: .*purge", r.stdout, re.M):
            fail("pc03's purge not refused for a copy left unverifiable:\n" + r.stdout)
        if {f: open(os.path.join(out3, f), "rb").read() for f in os.listdir(out3)} != files3:
            fail("a refused purge changed pc03's collected copy")
        if "purged ashford/pc01: 2 month file(s)" not in r.stdout:
            fail("pc01 not purged:\n" + r.stdout)
        if sorted(os.listdir(out1)) != files1[2:]:
            fail("pc01 kept %s, expected %s" % (sorted(os.listdir(out1)), files1[2:]))

        log = open(os.path.join(fleet, "ashford", "purges.log"), "rb").read()
        entries = log.splitlines(keepends=True)
        if len(entries) != 1 or b" purge pc=pc01 " not in entries[0] or \
                b"files=%s,%s " % (files1[0].encode(), files1[1].encode()) not in entries[0] or \
                not entries[0].endswith(b"prev=" + b"0" * 64 + b"\n"):
            fail("purges.log does not record the purge:\n%r" % log)
        gone = b"".join(x for x in dict.fromkeys(lines) if record_month(x) in
                        (files1[0][6:13], files1[1][6:13]))
        if b"sha256=%s " % hashlib.sha256(gone).hexdigest().encode() not in entries[0]:
            fail("purges.log does not hold the SHA-256 of the removed bytes")

        # still verifiable: incrementally, from scratch against the witness, offline
        run("fleet", "verify", *where)
        for f in ("verify.state", "status"):
            os.unlink(os.path.join(fleet, "ashford", "pc01", f))
        r = run("fleet", "verify", *where, ok=False)
        if r.returncode != 0 or "3 verified, 0 failed" not in r.stdout:
            fail("the copy does not verify from scratch after the purge:\n" + r.stdout)
        st = [p for p in json.loads(run("fleet", "status", "--fleet", fleet, "--format",
                                        "json").stdout) if p["pc"] == "pc01"]
        if len(st) != 1 or st[0]["state"] != "ok":
            fail("pc01's status after verifying from scratch: %s" % st)
        run("audit", "verify", "--collected", "--key", key, out1)
        # the council's report reads the month files that are left, each verified
        day = time.strftime("%Y-%m-%d", time.gmtime(t0))
        r = run("fleet", "report", *where, "--council", "ashford", "--from", day, "--to", day,
                "--format", "csv", "--output", os.path.join(tmp, "report.csv"), ok=False)
        if r.returncode != 0 or "NOT VERIFIED" in r.stdout + r.stderr:
            fail("the report after the purge: %s%s" % (r.stdout, r.stderr))
        # nothing more to purge; a second run records nothing
        r = run("fleet", "purge", *where, "--council", "ashford", "--pc", "pc01")
        if "nothing to purge for ashford/pc01" not in r.stdout:
            fail("second purge: " + r.stdout)
        if open(os.path.join(fleet, "ashford", "purges.log"), "rb").read() != log:
            fail("a purge of nothing was recorded")
        print("fleet purge test: passed")


if __name__ == "__main__":
    main()
