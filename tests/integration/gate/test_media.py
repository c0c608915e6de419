"""Transfer logging wired into the gate: when an approved stick's medium is mounted,
portcullisd starts portcullis-xferwatch on it through the parent, and every file written
to or read from it lands in the tamper-evident trail with the stick's identity.

The USB side is simulated (umockdev); the medium is real: a loop device with ext4,
mounted, and copies made by another uid. The simulated stick's disk carries the loop
device's name and device number, as the kernel's sd driver would for a real stick."""
import hashlib
import os
import time

import pytest

from harness import as_user, attach_disk, storage_in

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
PERSONAL = HUB + "/1-2"
RULES = 'allow id 090c:1000 serial "AA00000000011111"\n'
OTHER_UID = 4242


def approved_stick(pc, medium):
    pc.start(RULES)
    pc.add("stick-personal.umockdev", plug=True)
    storage_in(pc, medium, PERSONAL)


def test_files_written_and_read_on_an_approved_stick_are_in_the_trail(pc, medium):
    approved_stick(pc, medium)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    src = os.path.join(pc.work, "minutes-2026-11.odt")
    with open(src, "wb") as f:
        f.write(os.urandom(300000))
    os.chmod(src, 0o644)
    as_user(OTHER_UID, "cp", src, medium.mnt + "/minutes.odt")
    w = pc.wait_record(lambda r: r.get("event.action") == "file-written", timeout=20)
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert w["file.path"] == "minutes.odt"
    assert w["file.size"] == 300000
    assert w["file.hash.sha256"] == digest
    assert w["user.id"] == OTHER_UID
    assert w["process.executable"].endswith("/cp")
    # The stick's identity comes from the gate, not from the helper.
    assert w["volume.serial_number"] == "AA00000000011111"
    assert w["usb.port"] == "1-2"
    as_user(65534, "cat", medium.mnt + "/minutes.odt")
    r = pc.wait_record(lambda r: r.get("event.action") == "file-read", timeout=20)
    assert r["user.id"] == 65534 and r["file.hash.sha256"] == digest
    medium.umount()
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr


def test_a_blocked_stick_gets_no_watch(pc, medium):
    pc.start("")  # nothing allowed
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r.get("event.action") == "device-blocked")
    os.makedirs(pc.root + PERSONAL + "/1-2:1.0", exist_ok=True)
    medium.mount()  # mounted by other means: the gate does not vouch for it
    time.sleep(1)
    assert not any(r.get("event.action") == "xfer-watch-started" for r in pc.records())


def test_finish_and_wipe_through_the_daemon(pc, medium):
    approved_stick(pc, medium)
    marker = b"COUNCIL-MINUTES-CONFIDENTIAL-" + os.urandom(8).hex().encode()
    with open(medium.loop, "r+b") as f:
        f.seek(1 << 20)
        f.write(marker * 64)
    r = pc.cli("wipe", "1-2", check=False)
    assert r.returncode == 0, r.stdout + r.stderr + pc.log()
    assert "wiped and verified" in r.stdout
    done = pc.wait_record(lambda x: x.get("event.action") == "wipe-done")
    assert done["volume.serial_number"] == "AA00000000011111"
    cert = done["wipe.certificate_file"]
    assert os.path.exists(cert)
    with open(medium.loop, "rb") as f:
        assert marker not in f.read()
    actions = [x.get("event.action") for x in pc.records()]
    assert actions.index("wipe-requested") < actions.index("wipe-done")


def test_wipe_is_refused_for_a_mounted_or_unapproved_medium(pc, medium):
    approved_stick(pc, medium)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    r = pc.cli("wipe", "1-2", check=False)
    assert r.returncode == 1 and "unmount it first" in r.stderr
    r = pc.cli("wipe", "1-7", check=False)
    assert r.returncode == 1 and "no such USB device" in r.stderr


def test_transfer_log_options_reach_the_watch(pc, medium):
    """transfer-log = FILE in portcullisd.conf is the watch's options file: with a clamd
    socket nobody answers, files read from the stick are refused (fail closed)."""
    opts = os.path.join(pc.work, "transfer-log.conf")
    with open(opts, "w") as f:
        f.write("clamd-socket = %s/no-clamd.ctl\n" % pc.work)
    pc.start(RULES, transfer_log=opts)
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_attr(PERSONAL, "authorized", "1")
    pc.kernel_configure(PERSONAL)
    attach_disk(pc, medium, PERSONAL + "/1-2:1.0")
    with open(os.path.join(medium.tmp, "seed"), "w") as f:
        f.write("minutes\n")
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    as_user(0, "cp", os.path.join(medium.tmp, "seed"), medium.mnt + "/minutes.txt")
    with pytest.raises(Exception):
        as_user(OTHER_UID, "cat", medium.mnt + "/minutes.txt")
    pc.wait_record(lambda r: r.get("event.action") == "malware-scan-failed", timeout=20)
