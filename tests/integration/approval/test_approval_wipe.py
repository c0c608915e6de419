"""The wipe the approved request asks for (every council profile does): the installed
portcullisd under umockdev, the approver's key simulated, a real ext4 medium on a loop
device behind the approved stick. A read-write (take-out) stick is not wiped at eject: it
leaves with its data and owes its wipe (wipe-owed). "Finish and wipe" wipes it here, with a
certificate signed by this PC's wipe key."""
import base64
import json
import os
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import pytest

from approvals import PERSONAL, enrol, medium_in, start
from harness import as_user


def approved_and_mounted(pc, key, medium, scope="--read-write"):
    if scope == "--read-only":  # the owner's file, put there before the PC saw the stick
        medium.mount()
        with open(medium.mnt + "/owners-file.txt", "wb") as f:
            f.write(b"the owner's own notes\n")
        medium.umount()
    start(pc)  # Watton: wipe = required
    assert enrol(pc, key).returncode == 0
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    pc.cli("approve", "1-2", scope, "--reason", "minutes", "--key", "sim:" + key.sock)
    medium_in(pc, medium, PERSONAL, scope == "--read-only")
    marker = b"PLANNING-MINUTES-CONFIDENTIAL-" + os.urandom(8).hex().encode()
    if scope == "--read-only":
        return marker
    src = os.path.join(pc.work, "minutes.txt")
    with open(src, "wb") as f:
        f.write(marker * 4096)
    os.chmod(src, 0o644)
    as_user(4242, "cp", src, medium.mnt + "/minutes.txt")
    pc.wait_record(lambda r: r["event.action"] == "file-written", timeout=20)
    return marker


def test_a_take_out_stick_is_not_wiped_at_eject_and_owes_its_wipe(pc, key, medium):
    """Read-write is taking data out: wiping it at eject would destroy it before it
    arrives. The stick leaves with its data and the wipe is recorded as owed, with the
    identity a council PC will know it by."""
    marker = approved_and_mounted(pc, key, medium)
    approved = pc.wait_record(lambda r: r["event.action"] == "exception-approved")
    started = pc.wait_record(lambda r: r["event.action"] == "xfer-watch-started")
    assert started["wipe.plan"] == "owed"
    medium.umount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped", timeout=20)
    pc.unplug(PERSONAL)
    owed = pc.wait_record(lambda r: r["event.action"] == "wipe-owed", timeout=20)
    assert owed["approval.ref"] == approved["approval.ref"]
    assert owed["usb.hash"] == approved["usb.hash"]
    assert owed["volume.serial_number"] == "AA00000000011111"
    assert (owed["volume.vendor_id"], owed["volume.product_id"]) == (
        approved["volume.vendor_id"], approved["volume.product_id"])
    assert owed["wipe.capacity_bytes"] > 0
    pc.wait_record(lambda r: r["event.action"] == "device-removed")
    actions = [r["event.action"] for r in pc.records()]
    assert "wipe-requested" not in actions and "wipe-missed" not in actions
    with open(medium.loop, "rb") as f:
        assert marker in f.read()  # what it carries arrives
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr


def test_the_service_certificate_is_signed_with_the_pcs_wipe_key(pc, key, medium):
    """The certificate of a service-run wipe verifies with this PC's wipe key (its public
    half printed at installation) and names the USB identity, the approval and who ran
    it; the outcome record carries the same signed certificate."""
    approved_and_mounted(pc, key, medium)
    approved = pc.wait_record(lambda r: r["event.action"] == "exception-approved")
    medium.umount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped", timeout=20)
    pc.cli("wipe", "1-2")  # "finish and wipe", as root
    done = pc.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                          timeout=120)
    assert done["event.action"] == "wipe-done", done
    with open(done["wipe.certificate_file"]) as f:
        signed = json.load(f)
    assert signed["signature"] is not None and signed["signature"]["alg"] == "ed25519"
    assert signed["signature"]["key_id"] == pc.wipe_public["wipe-key-id"]
    body = json.dumps(signed["certificate"], separators=(",", ":"),
                      ensure_ascii=False).encode()
    pub = Ed25519PublicKey.from_public_bytes(
        base64.b64decode(pc.wipe_public["wipe-public-key"]))
    pub.verify(base64.b64decode(signed["signature"]["value"]), body)
    forged = body.replace(b'"operator":"uid 0"', b'"operator":"automatic"')
    assert forged != body
    with pytest.raises(InvalidSignature):
        pub.verify(base64.b64decode(signed["signature"]["value"]), forged)
    cert = signed["certificate"]
    media = cert["media"]
    assert (media["usb_vid"], media["usb_pid"]) == (approved["volume.vendor_id"],
                                                    approved["volume.product_id"])
    assert media["usb_serial"] == "AA00000000011111"
    assert media["usb_hash"] == approved["usb.hash"] and media["usb_hash"]
    assert media["media_type"] == "Flash memory (removable)"
    assert cert["approval"] == approved["approval.ref"]
    assert re.fullmatch(r"A-[0-9a-f]{16}", cert["approval"])
    assert cert["operator"] == "uid 0"
    # The trail's outcome record holds the signed certificate, not an unsigned copy.
    # (flattened into the record's fields).
    assert done["wipe.certificate.signature.value"] == signed["signature"]["value"]
    assert done["wipe.certificate.signature.key_id"] == pc.wipe_public["wipe-key-id"]
    assert done["wipe.certificate.certificate.approval"] == cert["approval"]
    assert done["wipe.certificate.certificate.media.usb_hash"] == media["usb_hash"]
    with open(done["wipe.certificate_file"][:-5] + ".txt") as f:
        text = f.read()
    assert "Ed25519, key " + pc.wipe_public["wipe-key-id"] in text
    assert "AA00000000011111" in text and cert["approval"] in text
    # Wiped here: nothing is owed when it leaves.
    pc.unplug(PERSONAL)
    pc.wait_record(lambda r: r["event.action"] == "device-removed")
    actions = [r["event.action"] for r in pc.records()]
    assert "wipe-owed" not in actions and "wipe-missed" not in actions


def test_a_take_out_stick_pulled_out_mounted_owes_its_wipe(pc, key, medium):
    approved_and_mounted(pc, key, medium)
    pc.unplug(PERSONAL)
    owed = pc.wait_record(lambda r: r["event.action"] == "wipe-owed", timeout=20)
    assert owed["volume.serial_number"] == "AA00000000011111"
    assert "must be wiped when it comes back" in owed["event.reason"]
    medium.umount()


def test_a_take_out_stick_whose_removal_was_lost_owes_its_wipe_not_the_next(pc, key, medium):
    """Its remove uevent lost, another stick plugged at its port: the first stick left,
    owing its wipe; the second is decided on its own identity, with nothing of the
    first's exception."""
    approved_and_mounted(pc, key, medium)
    approved = pc.wait_record(lambda r: r["event.action"] == "exception-approved")
    medium.umount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped", timeout=20)
    for p in sorted(pc.children(PERSONAL), key=len, reverse=True) + [PERSONAL]:
        pc.tb.remove_device(p)  # gone, and no uevent says so
    pc.add("stick-personal-twin.umockdev", plug=True, port=("1-3", "1-2"))
    owed = pc.wait_record(lambda r: r["event.action"] == "wipe-owed", timeout=20)
    assert owed["approval.ref"] == approved["approval.ref"]
    assert owed["volume.serial_number"] == "AA00000000011111"
    other = pc.wait_record(lambda r: r["event.action"] in ("device-allowed", "device-blocked")
                           and r.get("volume.serial_number") == "AA00000000022222")
    assert other["event.action"] == "device-blocked"
    pc.wait_quiet()
    assert pc.attr(PERSONAL, "authorized") == "0"
    actions = [r["event.action"] for r in pc.records()]
    assert actions.count("wipe-owed") == 1 and "exception-approved" not in actions[
        actions.index("wipe-owed"):]


def test_a_read_only_medium_is_not_wiped(pc, key, medium):
    """Nothing can have been written to it, and what is on it is its owner's."""
    approved_and_mounted(pc, key, medium, "--read-only")
    started = pc.wait_record(lambda r: r["event.action"] == "xfer-watch-started")
    assert started["wipe.plan"] == "none"
    with open(medium.mnt + "/owners-file.txt", "rb"):
        pass
    pc.wait_record(lambda r: r["event.action"] == "file-read", timeout=20)
    medium.umount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped", timeout=20)
    pc.unplug(PERSONAL)
    pc.wait_record(lambda r: r["event.action"] == "device-removed")
    actions = [r["event.action"] for r in pc.records()]
    assert "wipe-requested" not in actions and "wipe-missed" not in actions
    assert "wipe-owed" not in actions
