#!/usr/bin/env python3
"""The council's report and the subject access export, through the staged CLI.

Three PCs of one council write real trails (fleet_writer: transfers, blocked devices,
exception requests recorded by uid, approvals by approver, wipes, refusals); their
collected copies hold resent and reordered records as RELP leaves them. `portcullis fleet
report` must state that every trail verified, give per-PC and council figures equal to the
trails', draw its charts as inline SVG with nothing external and the approver's name
escaped, give the same figures as CSV, and record each report with its SHA-256. With one
PC's copy altered it must say NOT VERIFIED, name that PC, and exit 1. `portcullis audit
export` finds a person's records by name (their own and approvals they made) and by uid
(requests recorded by uid only)."""
import csv
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile

prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
CLI = os.path.join(prefix, "bin", "portcullis")
WRITER = os.path.join(build, "tests", "integration", "fleet", "fleet_writer")
APPROVER = 'Jane <script>alert("x")</script> Smith'


def fail(msg):
    sys.exit("fleet report test: " + msg)


def run(*args, ok=(0,)):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, FLEET_APPROVER=APPROVER))
    if r.returncode not in ok:
        fail("%s -> %d: %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def trail_records(trail):
    out = []
    for seg in sorted(os.listdir(trail)):
        if seg.startswith("trail-"):
            out += open(os.path.join(trail, seg), "rb").read().splitlines()
    return out


def main():
    random.seed(7)
    with tempfile.TemporaryDirectory(prefix="fleet-report-") as tmp:
        fleet, col = os.path.join(tmp, "fleet"), os.path.join(tmp, "collected")
        expect = {}
        for pc, n in (("pc01", 60), ("pc02", 35), ("pc03", 12)):
            trail, key = os.path.join(tmp, pc), os.path.join(tmp, pc + ".key")
            run(WRITER, trail, "ashford/" + pc, str(n), key)
            lines = trail_records(trail)
            # As RELP delivers after a restart: some records twice, a few out of order.
            shipped = lines + random.sample(lines, 5)
            i = len(lines) // 2
            shipped[i], shipped[i + 1] = shipped[i + 1], shipped[i]
            os.makedirs(os.path.join(col, "ashford", pc))
            open(os.path.join(col, "ashford", pc, "trail.log"), "wb").write(
                b"\n".join(shipped) + b"\n")
            run(CLI, "fleet", "add", "--fleet", fleet, "--council", "ashford", "--pc", pc,
                "--key", key)
            recs = [json.loads(l) for l in lines]
            acts = [r.get("event.action") for r in recs if r.get("audit.type") == "record"]
            expect[pc] = {
                "blocked": acts.count("device-blocked"),
                "exceptions": acts.count("exception-approved"),
                "refusals": acts.count("exception-refused"),
                "written_files": acts.count("file-written"),
                "written_bytes": sum(r.get("file.size", 0) for r in recs
                                     if r.get("event.action") == "file-written"),
                "read_files": acts.count("file-read"),
                "wipes_done": acts.count("wipe-done"),
                "wipes_owed": acts.count("wipe-requested") - acts.count("wipe-done"),
            }
        run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", col)
        # A lost or damaged verifier state (it is not synced): the next run starts over.
        open(os.path.join(fleet, "ashford", "pc01", "verify.state"), "w").write("damaged\n")
        with open(os.path.join(col, "ashford", "pc01", "trail.log"), "ab") as f:
            f.write(trail_records(os.path.join(tmp, "pc01"))[3] + b"\n")  # a late resend
        r = run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", col)
        if "NOTE ashford/pc01: verifier state missing" not in r.stdout or \
                "3 PCs, 3 verified, 0 failed" not in r.stdout:
            fail("a damaged verifier state: " + r.stdout)
        # A damaged status file (not synced either; or a PC's string in it): that PC starts
        # over, the others go on.
        open(os.path.join(fleet, "ashford", "pc03", "status"), "w").write("offset=\x01\nbad\n")
        with open(os.path.join(col, "ashford", "pc03", "trail.log"), "ab") as f:
            f.write(trail_records(os.path.join(tmp, "pc03"))[2] + b"\n")
        r = run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", col)
        if "pc03/status:1: not a fleet status line" not in r.stderr or \
                "3 PCs, 3 verified, 0 failed" not in r.stdout:
            fail("a damaged status file: " + r.stdout + r.stderr)
        st = json.loads(run(CLI, "fleet", "status", "--fleet", fleet, "--format", "json").stdout)
        if [p["exceptions"] for p in st if p["pc"] == "pc03"] != [expect["pc03"]["exceptions"]]:
            fail("counters after a damaged status: %r" % st)
        # The council bundle each PC runs, as its service records it (council.bundle.version).
        if sorted(p["bundle_version"] for p in st) != ["3", "3", "3"]:
            fail("bundle versions: %r" % [p["bundle_version"] for p in st])
        jumps = {p["pc"]: p["clock_jumps"] for p in st}
        for pc in jumps:
            recs = [json.loads(l) for l in trail_records(os.path.join(tmp, pc))]
            want = sum(r.get("event.action") == "audit-clock-jump" for r in recs)
            if jumps[pc] != want or want == 0:
                fail("clock jumps of %s: %r, trail has %d" % (pc, jumps, want))
        st = json.loads(run(CLI, "fleet", "status", "--fleet", fleet, "--format", "json").stdout)
        if [p["exceptions"] for p in st if p["pc"] == "pc01"] != [expect["pc01"]["exceptions"]]:
            fail("counters after starting over: %r" % st)
        base = [CLI, "fleet", "report", "--fleet", fleet, "--collected", col, "--council",
                "ashford", "--from", "2000-01-01", "--to", "2999-12-31"]
        html_path, csv_path = os.path.join(tmp, "r.html"), os.path.join(tmp, "r.csv")
        run(*base, "--format", "html", "--output", html_path)
        run(*base, "--format", "csv", "--output", csv_path)
        html = open(html_path).read()
        if "Verified: the audit trails of all 3 PCs verified" not in html:
            fail("the report does not state that every trail verified")
        if "<script" in html or re.search(r"(src|href)=", html) or \
                html.count("http") != html.count('xmlns="http://www.w3.org/2000/svg"'):
            fail("the report loads something external or runs a script")
        if "Jane &lt;script&gt;" not in html or html.count("<svg") < 4:
            fail("charts missing or the approver's name not escaped")
        rows = list(csv.reader(io.StringIO(open(csv_path, newline="").read())))
        got = {}
        for sec, pc, item, val in rows[1:]:
            if sec == "pc" and item in expect["pc01"]:
                got.setdefault(pc, {})[item] = int(val)
        if got != expect:
            fail("CSV figures %r, trails have %r" % (got, expect))
        if ["report", "", "verified", "all"] not in rows:
            fail("CSV does not state the verification")
        log = open(os.path.join(fleet, "ashford", "reports.log")).read().splitlines()
        for path, line in ((html_path, log[0]), (csv_path, log[1])):
            digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
            if "sha256=" + digest not in line or "verified=3" not in line:
                fail("report not recorded with its hash: %s" % line)

        # One PC's copy altered: the report refuses to pretend.
        p = os.path.join(col, "ashford", "pc02", "trail.log")
        data = open(p, "rb").read().replace(b'"file.size":', b'"file.size":9', 1)
        open(p, "wb").write(data)
        r = run(*base, "--format", "html", "--output", html_path, ok=(1,))
        html = open(html_path).read()
        if "NOT VERIFIED: the audit trails of 1 of 3 PCs did not verify" not in html or \
                not re.search(r"pc02</td><td class=\"bad\">NOT VERIFIED: seq \d+", html) or \
                "NOT VERIFIED" not in r.stderr:
            fail("an altered trail was not reported as such")

        # Subject access: by name, by uid, both.
        def export(*who):
            r = run(CLI, "audit", "export", "--from", "2000-01-01", "--to", "2999-12-31",
                    *who, "--format", "json", os.path.join(tmp, "pc01"))
            return [x["event.action"] for x in json.loads(r.stdout)]
        by_name = export("--user", "clerk")
        by_uid = export("--uid", "1001")
        both = export("--user", "clerk", "--uid", "1001")
        approvals = export("--user", APPROVER)
        if "exception-requested" in by_name or "exception-requested" not in by_uid or \
                set(approvals) != {"exception-approved"} or \
                len(both) != len(set(by_name) and by_name) + by_uid.count("exception-requested"):
            fail("subject access export: name %r uid %r both %r approvals %r" % (
                 sorted(set(by_name)), sorted(set(by_uid)), len(both), approvals))
        run(CLI, "audit", "export", "--from", "2000-01-01", "--to", "2999-12-31", "--uid",
            "10a", "--format", "json", os.path.join(tmp, "pc01"), ok=(1,))
        print("fleet report test: passed")


if __name__ == "__main__":
    main()
