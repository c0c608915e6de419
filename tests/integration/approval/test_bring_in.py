"""Direction in every exception: a bring-in (read-only) or a take-out (read-write), signed
with the approval, and the approver's "this stick carries council data: wipe after import"
mark on a bring-in, which the owner sees and accepts before the stick is let in. The
installed portcullisd under umockdev, the approver's key simulated, a real ext4 medium on a
loop device behind the approved stick, notices on a private session bus."""
import os

from approvals import (PERSONAL, approve_elsewhere, control, edit, enrol, load_people,
                       medium_in, start, submit)


def blocked(pc, key):
    start(pc)  # Watton
    assert enrol(pc, key).returncode == 0
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")


def refused(pc, r, words):
    assert r.returncode != 0, r.stdout
    assert words in r.stderr, r.stderr
    pc.wait_record(lambda x: x["event.action"] == "exception-refused")
    assert pc.attr(PERSONAL, "authorized") == "0"


def test_direction_and_the_council_data_mark_are_signed(pc, key, tmp_path):
    blocked(pc, key)
    req = tmp_path / "request.txt"
    pc.cli("request", "export", "1-2", "--read-only", "--for", "2h", "--out", str(req))
    text = req.read_text()
    assert text.startswith("portcullis-approval-request 3\n")
    assert "\nscope: read-only\ndirection: bring-in\nwipe: no\ncouncil-data: no\n" in text
    # Council data is a bring-in's mark: a take-out owes its wipe anyway.
    r = pc.cli("request", "export", "1-2", "--read-write", "--council-data", "--out",
               str(tmp_path / "bad.txt"), check=False)
    assert r.returncode != 0 and "marks a bring-in" in r.stderr, r.stderr
    # The approver ticks the box on their own PC and sees it before the key is touched.
    r = approve_elsewhere(pc, key, req, "--council-data")
    assert r.returncode == 0, r.stderr
    assert "council data: YES" in r.stderr, r.stderr
    resp = (tmp_path / "request.txt.resp").read_text()
    assert "\ndirection: bring-in\nwipe: no\ncouncil-data: yes\n" in resp
    shown = pc.cli("request", "show", str(tmp_path / "request.txt.resp")).stdout
    assert "read-only (bring-in)" in shown and "council data: yes" in shown, shown
    # Edited after signing, either field: the signature no longer covers it.
    refused(pc, submit(pc, edit(resp, "council-data", "no")), "does not verify")
    turned = edit(edit(resp, "scope", "read-write"), "direction", "take-out")
    turned = edit(turned, "council-data", "no")
    refused(pc, submit(pc, turned), "does not verify")
    # The approver's mark on a request the PC issued unmarked is accepted; the stick stays
    # out until its owner accepts the wipe.
    r = submit(pc, resp)
    assert r.returncode == 0, r.stderr
    approved = pc.wait_record(lambda x: x["event.action"] == "exception-approved")
    assert approved["approval.direction"] == "bring-in"
    assert approved["approval.council_data"] == "yes"
    waiting = pc.wait_record(lambda x: x["event.action"] == "exception-awaiting-owner")
    assert waiting["approval.ref"] == approved["approval.ref"]
    assert waiting["wipe.plan"] == "at-eject"
    assert pc.attr(PERSONAL, "authorized") == "0"
    # Only the owner (who asked: root here) may accept.
    ans = control(pc, {"cmd": "media-accept", "device": "1-2"}, uid=4242)
    assert "only the user who asked" in ans.get("error", ""), ans
    refusal = pc.wait_record(lambda x: x["event.action"] == "command-refused")
    assert refusal["user.id"] == 4242 and refusal["portcullis.command"] == "media-accept"
    assert pc.attr(PERSONAL, "authorized") == "0"
    r = pc.cli("media", "accept", "1-2")
    assert "erased when you eject it" in r.stdout, r.stdout
    pc.wait_attr(PERSONAL, "authorized", "1")
    accepted = pc.wait_record(lambda x: x["event.action"] == "council-data-accepted")
    assert accepted["approval.ref"] == approved["approval.ref"] and accepted["user.id"] == 0
    r = pc.cli("media", "accept", "1-2", check=False)
    assert r.returncode != 0 and "not waiting" in r.stderr, r.stderr
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr


def test_an_edited_request_is_refused_even_when_only_the_mark_differs_on_a_take_out(
        pc, key, tmp_path):
    """Only a bring-in's mark may be ticked by the approver; anything else edited before
    signing is a request the PC never issued."""
    blocked(pc, key)
    req = tmp_path / "request.txt"
    pc.cli("request", "export", "1-2", "--read-write", "--for", "2h", "--out", str(req))
    text = req.read_text()
    assert "\ndirection: take-out\nwipe: yes\ncouncil-data: no\n" in text
    r = approve_elsewhere(pc, key, req, "--council-data")
    assert r.returncode != 0 and "marks a bring-in" in r.stderr, r.stderr
    # A bring-in turned take-out before signing, signed by the genuine key.
    pc.cli("request", "export", "1-2", "--read-only", "--for", "2h", "--out", str(req))
    forged = edit(edit(edit(req.read_text(), "scope", "read-write"), "direction", "take-out"),
                  "wipe", "yes")
    req.write_text(forged)
    r = approve_elsewhere(pc, key, req)
    assert r.returncode == 0, r.stderr
    refused(pc, submit(pc, (tmp_path / "request.txt.resp").read_text()),
            "not the one this PC issued")


def test_council_data_brought_in_is_wiped_at_eject_once_accepted(pc, key, medium):
    people = load_people()
    bus = people.SessionBus()
    notifier = None
    try:
        medium.mount()  # the owner's file, put there before the PC saw the stick
        with open(medium.mnt + "/papers.txt", "wb") as f:
            f.write(b"COUNCIL-PAPERS-" + os.urandom(8).hex().encode() + b"\n")
        medium.umount()
        blocked(pc, key)
        notifier = people.Notifier(pc, bus)
        notifier.wait_following()
        pc.cli("approve", "1-2", "--read-only", "--council-data", "--reason", "papers",
               "--key", "sim:" + key.sock)
        n = bus.wait_notification(lambda n: "carries council data" in n["summary"])
        assert n["summary"] == "SMI Corporation Flash Disk carries council data"
        assert n["body"] == (
            "Why: the Clerk approved it as carrying council data: once its files are copied "
            "here, everything on it will be erased when you eject it.\n"
            "What to do: if you agree, run \"portcullis media accept 1-2\": until then it "
            "stays switched off. If not, unplug it.")
        assert pc.attr(PERSONAL, "authorized") == "0"
        pc.cli("media", "accept", "1-2")
        started = medium_in(pc, medium, PERSONAL, read_only=True)
        assert started["wipe.plan"] == "at-eject"
        n = bus.wait_notification(lambda n: "recorded" in n["summary"])
        assert "everything on it will be erased when you eject it" in n["body"], n
        with open(medium.mnt + "/papers.txt", "rb") as f:
            assert f.read().startswith(b"COUNCIL-PAPERS-")  # imported
        medium.umount()
        n = bus.wait_notification(lambda n: "being wiped" in n["summary"], timeout=20)
        assert n["summary"] == "SMI Corporation Flash Disk is being wiped"
        done = pc.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                              timeout=120)
        assert done["event.action"] == "wipe-done", str(done)
        with open(medium.loop, "rb") as f:
            assert b"COUNCIL-PAPERS-" not in f.read()
    finally:
        if notifier:
            notifier.close()
        bus.close()
