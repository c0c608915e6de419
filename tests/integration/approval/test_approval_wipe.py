"""Wipe after the transfer, as the approved request says (every council profile asks for
it): the installed portcullisd under umockdev, the approver's key simulated, a real ext4
medium on a loop device behind the approved stick. Unmounting ends the transfer and
starts the wipe; a medium removed before it is recorded as a missed wipe."""
import base64
import json
import os
import re
import subprocess

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import pytest

from approvals import PERSONAL, enrol, start
from harness import RealMedium, as_user, attach_disk


@pytest.fixture
def medium():
    m = RealMedium()
    yield m
    m.close()


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
    pc.wait_attr(PERSONAL, "authorized", "1")
    pc.kernel_configure(PERSONAL)
    pc.wait_attr(PERSONAL + "/1-2:1.0", "authorized", "1")
    attach_disk(pc, medium, PERSONAL + "/1-2:1.0")
    if scope == "--read-only":
        pc.wait_record(lambda r: r["event.action"] == "medium-read-only")
        subprocess.run(["mount", "-o", "ro", medium.loop, medium.mnt], check=True)
        medium.mounted = True
    else:
        medium.mount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-started", timeout=20)
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


def test_unmounting_an_approved_medium_wipes_it(pc, key, medium):
    marker = approved_and_mounted(pc, key, medium)
    assert not any(r["event.action"] == "wipe-requested" for r in pc.records())
    medium.umount()
    req = pc.wait_record(lambda r: r["event.action"] == "wipe-requested", timeout=20)
    assert "exception requires a wipe" in req["event.reason"]
    done = pc.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                          timeout=120)
    assert done["event.action"] == "wipe-done", done
    assert done["volume.serial_number"] == "AA00000000011111"
    assert os.path.exists(done["wipe.certificate_file"])
    with open(medium.loop, "rb") as f:
        assert marker not in f.read()
    # Nothing is owed once it is wiped: taking the stick away now is no missed wipe.
    pc.unplug(PERSONAL)
    pc.wait_record(lambda r: r["event.action"] == "device-removed")
    pc.stop()
    assert not any(r["event.action"] == "wipe-missed" for r in pc.records())
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr


def test_the_service_certificate_is_signed_with_the_pcs_wipe_key(pc, key, medium):
    """The certificate of a service-run wipe verifies with this PC's wipe key (its public
    half printed at installation) and names the USB identity, the approval and who ran
    it; the outcome record carries the same signed certificate."""
    approved_and_mounted(pc, key, medium)
    approved = pc.wait_record(lambda r: r["event.action"] == "exception-approved")
    medium.umount()
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
    forged = body.replace(b'"operator":"automatic"', b'"operator":"root"')
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
    assert cert["operator"] == "automatic"
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


def test_removing_the_medium_before_its_wipe_is_a_missed_wipe(pc, key, medium):
    approved_and_mounted(pc, key, medium)
    pc.unplug(PERSONAL)
    missed = pc.wait_record(lambda r: r["event.action"] == "wipe-missed", timeout=20)
    assert missed["event.outcome"] == "failure"
    assert "removed before the wipe" in missed["event.reason"]
    assert missed["volume.serial_number"] == "AA00000000011111"
    medium.umount()


def test_a_read_only_medium_is_not_wiped(pc, key, medium):
    """Nothing can have been written to it, and what is on it is its owner's."""
    approved_and_mounted(pc, key, medium, "--read-only")
    with open(medium.mnt + "/owners-file.txt", "rb"):
        pass
    pc.wait_record(lambda r: r["event.action"] == "file-read", timeout=20)
    medium.umount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped", timeout=20)
    pc.unplug(PERSONAL)
    pc.wait_record(lambda r: r["event.action"] == "device-removed")
    actions = [r["event.action"] for r in pc.records()]
    assert "wipe-requested" not in actions and "wipe-missed" not in actions
