"""An owed wipe that does not start for a reason other than the medium being busy is
tried again a few seconds later, each refusal recorded (`wipe-refused` with
`wipe.attempt` and `wipe.retry`), up to three attempts; after the last the stick is
blocked, recorded wipe-missed when it leaves, and the owed wipe stays open for its next
insertion. A wipe done closes every owed wipe the bundle lists for the stick. The refusal
is made by the parent, which finds the disk's size unreadable in sysfs when it checks the
wipe request. One simulated PC, the token simulator as the
Clerk's key, a real ext4 medium on a loop device."""
import json

from approvals import PERSONAL, RULES, enrol, medium_in, start
from test_bundle import WATTON

REF = "A-00112233445566ff"
REF2 = "A-00112233445566fe"


def owed_stick_mounted(pc, key, medium, tmp_path):
    """The stick listed in the bundle as owing a wipe, plugged in, recognised, its medium
    mounted read-only; the disk's sysfs path."""
    start(pc)
    assert enrol(pc, key).returncode == 0
    pc.add("stick-personal.umockdev", plug=True)
    blocked = pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    pc.unplug(PERSONAL)
    pc.wait_record(lambda r: r["event.action"] == "device-removed")
    owed = tmp_path / "owed.json"
    # Listed twice: it left written twice before the list was made (REF first).
    entry = {"council": "watton", "ref": REF, "usb_hash": blocked["usb.hash"],
             "vid": "090c", "pid": "1000", "serial": "AA00000000011111"}
    owed.write_text(json.dumps([entry, dict(entry, ref=REF2)]))
    rules = tmp_path / "council-rules.conf"
    rules.write_text(RULES)
    bundle = tmp_path / "watton-1.bundle"
    pc.cli("bundle", "build", "--profile", WATTON, "--rules", str(rules), "--version", "1",
           "--owed", str(owed), "--out", str(bundle), "--key", "sim:" + key.sock)
    pc.cli("bundle", "apply", str(bundle))
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "wipe-owed-found")
    medium_in(pc, medium, PERSONAL, True)
    return (PERSONAL + "/1-2:1.0/host6/target6:0:0/6:0:0:0/block/" + medium.name)


def refusals(pc):
    return [r for r in pc.records() if r["event.action"] == "wipe-refused"]


def test_an_owed_wipe_refused_once_is_tried_again_and_done(pc, key, medium, tmp_path):
    disk = owed_stick_mounted(pc, key, medium, tmp_path)
    pc.set_attr(disk, "size", "unreadable")
    medium.umount()
    first = pc.wait_record(lambda r: r["event.action"] == "wipe-refused", timeout=20)
    assert first.get("wipe.attempt") == 1 and first.get("wipe.retry") == "yes", str(first)
    assert pc.attr(PERSONAL, "authorized") == "1"  # still in, to be wiped
    pc.set_attr(disk, "size", "65536")
    done = pc.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                          timeout=60)
    assert done["event.action"] == "wipe-done", done
    assert done["wipe.certificate.certificate.approval"] == REF
    # The one wipe closes both: the stick is not wiped again for the second.
    pc.wait_record(lambda r: len([x for x in pc.records()
                                  if x["event.action"] == "wipe-owed-closed"]) == 2)
    assert [r["approval.ref"] for r in pc.records()
            if r["event.action"] == "wipe-owed-closed"] == [REF, REF2]
    assert all(r["wipe.retry"] == "yes" for r in refusals(pc))
    assert pc.verify().returncode == 0


def test_an_owed_wipe_that_never_starts_is_given_up_and_the_stick_blocked(pc, key, medium,
                                                                         tmp_path):
    disk = owed_stick_mounted(pc, key, medium, tmp_path)
    pc.set_attr(disk, "size", "unreadable")
    medium.umount()
    last = pc.wait_record(lambda r: r["event.action"] == "wipe-refused" and
                          r["wipe.retry"] == "no", timeout=60)
    assert [(r["wipe.attempt"], r["wipe.retry"]) for r in refusals(pc)] == \
        [(1, "yes"), (2, "yes"), (3, "no")]
    assert last["wipe.attempt"] == 3
    pc.wait_attr(PERSONAL, "authorized", "0")
    pc.unplug(PERSONAL)
    missed = pc.wait_record(lambda r: r["event.action"] == "wipe-missed")
    assert missed["usb.port"] == "1-2"
    records = pc.records()
    assert not [r for r in records if r["event.action"] in ("wipe-done", "wipe-owed-closed")]
    assert pc.verify().returncode == 0
