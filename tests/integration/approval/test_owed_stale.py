"""A closed owed wipe stays closed on a PC: once a newer council bundle no longer lists
it (another PC wiped the stick, or it was closed by hand, and the collector saw it), a
later bundle built from a stale owed list that names it again does not make the PC wipe
the stick again. One simulated PC, the token simulator as the Clerk's key; no medium is
needed, the stick being recognised (or not) when it is plugged in."""
import json

from approvals import PERSONAL, RULES, enrol, start
from test_bundle import WATTON

REF = "A-0123456789abcdef"


def bundle(pc, key, tmp_path, version, owed):
    rules = tmp_path / "council-rules.conf"
    rules.write_text(RULES)
    owed_json = tmp_path / ("owed-%d.json" % version)
    owed_json.write_text(json.dumps(owed))
    out = tmp_path / ("watton-%d.bundle" % version)
    r = pc.cli("bundle", "build", "--profile", WATTON, "--rules", str(rules), "--version",
               str(version), "--owed", str(owed_json), "--out", str(out), "--key",
               "sim:" + key.sock, check=False)
    assert r.returncode == 0, r.stderr
    r = pc.cli("bundle", "apply", str(out), check=False)
    assert "version %d applied" % version in r.stdout, (r.stdout, r.stderr)


def plug(pc):
    """The stick plugged in and decided; whether it was recognised as owing a wipe."""
    n = len([r for r in pc.records() if r["event.action"] == "device-blocked"])
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: len([x for x in pc.records()
                                  if x["event.action"] == "device-blocked"]) > n)
    pc.wait_quiet()
    rec = [r for r in pc.records() if r["event.action"] == "device-blocked"][-1]
    found = [r for r in pc.records() if r["event.action"] == "wipe-owed-found"]
    rec = dict(rec, authorized=pc.attr(PERSONAL, "authorized"))
    pc.unplug(PERSONAL)
    pc.wait_record(lambda r: len([x for x in pc.records()
                                  if x["event.action"] == "device-removed"]) > n)
    return rec, found


def test_a_stale_bundle_does_not_reopen_a_closed_owed_wipe(pc, key, tmp_path):
    start(pc)
    assert enrol(pc, key).returncode == 0
    blocked, found = plug(pc)
    assert found == []
    owed = [{"council": "watton", "ref": REF, "usb_hash": blocked["usb.hash"],
             "vid": "090c", "pid": "1000", "serial": "AA00000000011111", "capacity": 0}]
    # Bundle 1 lists the owed wipe: the stick is recognised.
    bundle(pc, key, tmp_path, 1, owed)
    rec, found = plug(pc)
    assert [r["wipe.owed_ref"] for r in found] == [REF] and rec["authorized"] == "1"
    # It was wiped elsewhere; bundle 2, from the collector's list, no longer names it.
    bundle(pc, key, tmp_path, 2, [])
    _, found = plug(pc)
    assert len(found) == 1
    # Bundle 3 is built from a stale list that names it again: still closed here, so
    # the stick is decided by the rules alone (blocked), not let in to be wiped.
    bundle(pc, key, tmp_path, 3, owed)
    rec, found = plug(pc)
    assert len(found) == 1, found
    assert rec["authorized"] == "0"
    # And after a restart, from what the PC kept.
    pc.stop()
    start(pc)
    _, found = plug(pc)
    assert len(found) == 1, found
    # Another owed wipe in a newer bundle is still recognised.
    owed[0]["ref"] = "A-fedcba9876543210"
    bundle(pc, key, tmp_path, 4, owed + [dict(owed[0], ref=REF)])
    _, found = plug(pc)
    assert [r["wipe.owed_ref"] for r in found] == [REF, "A-fedcba9876543210"]
    assert pc.verify().returncode == 0
