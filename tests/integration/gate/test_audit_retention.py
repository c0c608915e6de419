"""The installed daemon across a retention boundary: a trail whose oldest segment is eight
months old (written by the test writer in an earlier boot, its clock then eight months
back). The engine's first audit tick purges it inside its seccomp filter: no SIGSYS, the
purge recorded and naming the last erased record, the trail verifies, devices decided."""
import glob
import json
import os
import signal
import socket
import subprocess
import time

from test_gate import COUNCIL_RULES, decision

BUILD = os.environ.get("PCL_BUILD_DIR", "")
WRITER = os.path.join(BUILD, "tests/integration/audit/audit_testwriter")
MONTH = 31 * 86400


def purge_records(pc):
    out = []
    for seg in sorted(glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl"))):
        with open(seg) as f:
            for line in f.read().split("\n")[:-1]:
                r = json.loads(line)
                if r.get("audit.type") == "purge":
                    out.append(r)
    return out


def test_retention_purge_runs_inside_the_engine_filter(pc):
    pc.config(COUNCIL_RULES)
    pc.enrol()
    audit = pc.conf["audit-log"]
    env = dict(os.environ, AUDIT_TW_QUIET="1", AUDIT_TW_ORIGIN="portcullis/" + socket.gethostname(),
               AUDIT_TW_NOW=str(int(time.time()) - 8 * MONTH),
               AUDIT_TW_BOOT_ID="0d6c8a52-1111-4222-8333-444455556666")
    subprocess.run([WRITER, audit, "5"], env=env, check=True, stdout=subprocess.DEVNULL,
                   timeout=30)
    old = glob.glob(os.path.join(audit, "trail-*.jsonl"))
    assert len(old) == 1
    with open(old[0]) as f:
        last_old = json.loads(f.read().split("\n")[-2])

    pc.start(COUNCIL_RULES)
    deadline = time.time() + 30  # the engine ticks every 10 s
    while not purge_records(pc) and time.time() < deadline:
        assert pc.daemon.poll() is None, pc.log()
        time.sleep(0.2)
    assert "engine exited (signal %d)" % signal.SIGSYS not in pc.log()
    purges = purge_records(pc)
    assert len(purges) == 1, pc.log()
    assert purges[0]["audit.purge_last_seq"] == last_old["seq"]
    assert purges[0]["audit.purge_last_time"] == last_old["@timestamp"]
    # The segments go right after the purge record is synced: wait for that moment.
    while os.path.exists(old[0]) and time.time() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(old[0])

    pc.add("hub-genesys.umockdev", plug=True)
    pc.add("stick-council.umockdev", plug=True)
    assert decision(pc, "1-1.1")["event.action"] == "device-allowed"
    r = pc.verify()
    assert r.returncode == 0, r.stdout
    assert ", 1 purges," in r.stdout
    assert "engine exited" not in pc.log()
