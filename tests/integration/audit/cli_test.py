#!/usr/bin/env python3
"""`portcullis audit` from the command line: enrol (key + QR), verify (clean and
tampered), checkpoint, export as JSON, CSV and HTML (with escaping), usage errors.
Runs against the staged install (PCL_PREFIX) and the test writer in PCL_BUILD_DIR."""
import csv
import datetime
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import tempfile

prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
cli = os.path.join(prefix, "bin", "portcullis")
writer = os.path.join(build, "tests", "integration", "audit", "audit_testwriter")
failures = []


def run(*args, env=None):
    return subprocess.run([cli, "audit", *args], capture_output=True, text=True, env=env)


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
        if detail:
            print(detail)


with tempfile.TemporaryDirectory(prefix="audit-cli-") as tmp:
    trail, key = os.path.join(tmp, "trail"), os.path.join(tmp, "key")
    r = run("enrol", "--dir", trail, "--origin", "portcullis/pc-7", "--key-out", key)
    check(r.returncode == 0, "enrol succeeds")
    keytext = open(key).read()
    check(keytext.startswith("portcullis-audit-key 1\norigin portcullis/pc-7\nmac-key "),
          "key file written")
    check(keytext in r.stdout and "\u2580" in r.stdout and "\u2584" in r.stdout,
          "enrol prints the key and a half-block QR code")
    check(oct(os.stat(key).st_mode & 0o777) == "0o600", "key file is 0600")
    r = run("enrol", "--dir", trail, "--origin", "portcullis/pc-7")
    check(r.returncode == 1 and "already enrolled" in r.stderr, "second enrol refused")
    r = run("enrol", "--dir", os.path.join(tmp, "x"), "--origin", "has space")
    check(r.returncode == 1 and "origin" in r.stderr, "bad origin named")

    env = dict(os.environ, AUDIT_TW_QUIET="1", AUDIT_TW_ORIGIN="portcullis/other")
    r = subprocess.run([writer, trail, "1"], env=env, capture_output=True, text=True)
    check(r.returncode == 1 and "differs from the enrolled" in r.stderr,
          "writer refuses an origin other than the enrolled one")
    env["AUDIT_TW_ORIGIN"] = "portcullis/pc-7"
    subprocess.run([writer, trail, "30", "10"], env=env, check=True, stdout=subprocess.DEVNULL)
    env["AUDIT_TW_USER"] = '<b>x</b>,"=cmd"'
    subprocess.run([writer, trail, "5"], env=env, check=True, stdout=subprocess.DEVNULL)

    r = run("verify", "--key", key, trail)
    check(r.returncode == 0 and r.stdout.startswith("verified: 39 records (seq 1..39)"),
          "clean trail verifies")
    r = run("verify", trail)
    check(r.returncode == 0 and "warning: no --key" in r.stdout, "keyless verify warns")
    r = run("checkpoint", trail)
    ck = os.path.join(tmp, "ckpt")
    open(ck, "w").write(r.stdout)
    check(r.returncode == 0 and r.stdout.startswith("portcullis/pc-7\n"), "checkpoint printed")
    r = run("verify", "--key", key, "--checkpoint", ck, trail)
    check(r.returncode == 0, "trail matches its checkpoint")

    seg = [os.path.join(trail, f) for f in os.listdir(trail) if f.startswith("trail-")][0]
    lines = open(seg).read().splitlines(True)
    tampered = os.path.join(tmp, "tampered.jsonl")
    open(tampered, "w").write("".join(lines[:4] + [lines[4].replace("report-", "rEport-")]
                                      + lines[5:]))
    r = run("verify", "--key", key, tampered)
    check(r.returncode == 1 and "FAIL seq 5 (" in r.stdout and "MAC does not verify" in r.stdout,
          "edited record reported with its seq")
    short = os.path.join(tmp, "short.jsonl")
    open(short, "w").write("".join(lines[:20]))
    r = run("verify", "--key", key, "--checkpoint", ck, short)
    check(r.returncode == 1 and "truncated" in r.stdout, "truncation found with checkpoint")

    badkey = os.path.join(tmp, "badkey")
    open(badkey, "w").write(keytext.replace("mac-key ", "mac-key zz"))
    r = run("verify", "--key", badkey, trail)
    check(r.returncode == 1 and f"{badkey}:3:" in r.stderr, "bad key file: file:line")

    day = "2026-01-01"
    r = run("export", "--from", "2000-01-01", "--to", "2999-12-31", "--user", "cllr.smith",
            "--format", "json", trail)
    recs = json.loads(r.stdout) if r.returncode == 0 else []
    check(len(recs) == 10 and all(x["user.name"] == "cllr.smith" for x in recs),
          "json export for one user (subject access)")
    r = run("export", "--from", "2000-01-01", "--to", "2999-12-31", "--format", "csv", trail)
    rows = list(csv.reader(io.StringIO(r.stdout)))
    check(r.returncode == 0 and rows[0][:3] == ["seq", "@timestamp", "host.name"]
          and len(rows) == 36, "csv export: header and 35 records")
    check(any(row[3] == "'<b>x</b>,\"=cmd\"" or row[3] == '<b>x</b>,"=cmd"' for row in rows),
          "csv cell round-trips")
    r = run("export", "--from", "2000-01-01", "--to", "2999-12-31", "--format", "html",
            "--output", os.path.join(tmp, "r.html"), trail)
    html = open(os.path.join(tmp, "r.html")).read()
    check(r.returncode == 0 and "<table" in html and 'class="bar"' in html
          and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html,
          "html report: chart, table, escaped")
    check("<script" not in html and "http" not in html, "html report self-contained")
    r = run("export", "--from", "2999-01-01", "--to", "2999-12-31", "--format", "json", trail)
    check(r.returncode == 0 and json.loads(r.stdout) == [], "empty range gives no records")
    r = run("export", "--from", "01/01/2026", "--to", "2026-12-31", "--format", "csv", trail)
    check(r.returncode == 1 and "--from/--to" in r.stderr, "bad date named")
    r = run("export", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "xml", trail)
    check(r.returncode == 1 and "--format" in r.stderr, "bad format named")
    r = run("verify")
    check(r.returncode == 2 and "usage" in r.stderr, "usage error exits 2")

    # A trail written before the time and purge rules (the fuzz seed) still verifies.
    seed = open(os.path.join(os.environ["PCL_SOURCE_DIR"], "tests/data/audit/fuzz-verify",
                             "trail-with-key")).read().splitlines(True)
    oldkey, old = os.path.join(tmp, "old.key"), os.path.join(tmp, "old.jsonl")
    open(oldkey, "w").write("".join(seed[:4]))
    open(old, "w").write("".join(seed[4:]))
    r = run("verify", "--key", oldkey, old)
    check(r.returncode == 0 and "verified: 8 records" in r.stdout,
          "an existing trail (fixture) still verifies", r.stdout)

    # A repeated record: a failure naming both seq numbers, except in a collector's copy;
    # export lists it once.
    rep = os.path.join(tmp, "repeat.log")
    open(rep, "w").write("".join(lines + [lines[4]]))
    r = run("verify", "--key", key, rep)
    check(r.returncode == 1 and "FAIL seq 5 (" + rep + ":40): seq 5 repeated after seq 39"
          in r.stdout, "a repeat outside --collected fails naming both seqs", r.stdout)
    r = run("verify", "--key", key, "--collected", rep)
    check(r.returncode == 0 and "1 duplicates skipped" in r.stdout,
          "a repeat in a collector's copy is skipped and counted", r.stdout)
    r = run("export", "--from", "2000-01-01", "--to", "2999-12-31", "--format", "json", rep)
    check(r.returncode == 0 and [x["seq"] for x in json.loads(r.stdout)].count(5) == 1,
          "export lists a repeated record once")

    # Root with the current keys appends a record dated two hours before the last one.
    k0 = bytes.fromhex(keytext.split("mac-key ")[1].split()[0])
    last = json.loads(lines[-1])
    epoch = last["epoch"] + (last["audit.type"] == "checkpoint")

    def epoch_key(epoch):
        k = k0
        for e in range(epoch):
            prk = hmac.new(b"\0" * 32, k, hashlib.sha256).digest()
            k = hmac.new(prk, b"portcullis audit mac key epoch %d\x01" % (e + 1),
                         hashlib.sha256).digest()
        return k

    def forge(seq, epoch, prev, stamp):
        body = ('{"seq":%d,"epoch":%d,"prev":"%s","audit.type":"record","@timestamp":"%s",'
                '"host.name":"x","boot_id":"y","salt":"%s","event.action":"file-write"}'
                % (seq, epoch, prev, stamp, "ab" * 16))
        h = hashlib.sha256(body.encode()).digest()
        mac = hmac.new(epoch_key(epoch), h, hashlib.sha256).hexdigest()
        return body[:-1] + ',"mac":"%s"}\n' % mac

    head = hashlib.sha256((lines[-1].rstrip("\n")[:-74] + "}").encode()).hexdigest()
    t = datetime.datetime.strptime(last["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    early = (t - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    back = os.path.join(tmp, "backdated.log")
    open(back, "w").write("".join(lines) + forge(last["seq"] + 1, epoch, head, early))
    r = run("verify", "--key", key, back)
    check(r.returncode == 1 and "FAIL seq 40 (" in r.stdout and "time goes backwards"
          in r.stdout and ", 1 failures" in r.stdout, "a back-dated record is refused", r.stdout)
    month = os.path.join(tmp, os.path.basename(seg))
    later = (t.replace(day=1) + datetime.timedelta(days=40)).strftime(
        "%Y-%m-%dT00:00:00.000Z")
    open(month, "w").write("".join(lines) + forge(last["seq"] + 1, epoch, head, later))
    r = run("verify", "--key", key, month)
    check(r.returncode == 1 and "but stored in the segment of " + last["@timestamp"][:7]
          in r.stdout and ", 1 failures" in r.stdout, "a record outside its month's segment is refused", r.stdout)

if failures:
    sys.exit(f"{len(failures)} checks failed")
print("audit cli test: passed")
