"""The trail's origin from portcullisd.conf: with `audit-origin = COUNCIL/PC` the installed
daemon signs its checkpoints as portcullis/COUNCIL/PC, the name the PC's certificate
carries; `portcullis fleet add` files the key under that council and PC only, and
`fleet verify` accepts the collected copy. A configured origin other than the one the
trail was enrolled with stops the daemon (fail closed, the reason in its log)."""
import glob
import json
import os
import subprocess
import time

from harness import CLI
from test_gate import COUNCIL_RULES

ORIGIN = "portcullis/watton/clerk-pc-1"


def lines(pc):
    out = []
    for seg in sorted(glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl"))):
        with open(seg) as f:
            out += f.read().split("\n")[:-1]
    return out


def enrol(pc):
    audit = os.path.join(pc.work, "audit")
    pc.audit_key = os.path.join(pc.work, "audit.key")
    subprocess.run([CLI, "audit", "enrol", "--dir", audit, "--origin", ORIGIN, "--key-out",
                    pc.audit_key, "--no-qr"], check=True, capture_output=True, timeout=30)


def fleet(*args):
    return subprocess.run([CLI, "fleet"] + list(args), capture_output=True, text=True,
                          timeout=60)


def test_configured_origin_signs_the_trail_and_the_fleet_accepts_it(pc):
    enrol(pc)
    pc.start(COUNCIL_RULES, audit_origin="watton/clerk-pc-1")
    pc.stop()  # the service-stopped record is sealed by a checkpoint
    recs = [json.loads(line) for line in lines(pc)]
    notes = [r["audit.checkpoint"] for r in recs if r.get("audit.type") == "checkpoint"]
    assert notes, recs
    for note in notes:
        assert note.split("\n")[0] == ORIGIN, note
    assert pc.verify().returncode == 0

    top = os.path.join(pc.work, "collector")
    col = os.path.join(top, "collected", "watton", "clerk-pc-1")
    os.makedirs(col)
    with open(os.path.join(col, "trail.log"), "w") as f:
        f.write("".join(line + "\n" for line in lines(pc)))
    where = ["--fleet", os.path.join(top, "fleet")]
    # another council's or another PC's name is refused: the origin names this one only
    for council, name in (("brent", "clerk-pc-1"), ("watton", "clerk-pc-2")):
        r = fleet("add", *where, "--council", council, "--pc", name, "--key", pc.audit_key)
        assert r.returncode != 0 and "does not name PC" in r.stderr, r.stderr
    r = fleet("add", *where, "--council", "watton", "--pc", "clerk-pc-1", "--key",
              pc.audit_key)
    assert r.returncode == 0, r.stderr
    r = fleet("verify", *where, "--collected", os.path.join(top, "collected"))
    assert r.returncode == 0, r.stdout + r.stderr
    r = fleet("status", *where, "--format", "json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert "clerk-pc-1" in r.stdout and "FAIL" not in r.stdout, st


def test_origin_other_than_the_enrolled_one_stops_the_daemon(pc):
    enrol(pc)
    d = pc.start(COUNCIL_RULES, wait=False, audit_origin="watton/clerk-pc-2")
    deadline = time.time() + 20
    while time.time() < deadline and "differs from the enrolled" not in pc.log():
        time.sleep(0.1)
    log = pc.log()
    assert 'origin "portcullis/watton/clerk-pc-2" differs from the enrolled' in log, log
    assert not [line for line in lines(pc) if "service-started" in line]
    pc.stop() if d.poll() is None else None
