"""Encrypted council sticks: with `council-sticks = luks2` in the council profile, a
registered council stick (let in by a rule) is read-write only as a LUKS2 container. A
plain one is let in read-only at the block layer, recorded, and the user is told why on
the session bus. The media are real loop devices: a LUKS2 container made by Debian's
cryptsetup and an ext4 file system; what udevd's blkid builtin would say of each is read
from the medium itself (`blkid -p`)."""
import os
import subprocess
import time

import pytest

from conftest import Notifier
from harness import RealMedium, real, storage_in

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
STICK = HUB + "/1-2"
RULES = 'allow id 090c:1000 serial "AA00000000011111" label "council stick PC-STICK-07"\n'


def profile(pc, sticks):
    src = os.path.join(os.environ["PCL_SOURCE_DIR"], "profiles", "fakenham.profile")
    with open(src) as f:
        text = f.read().replace("council-sticks = any", "council-sticks = " + sticks)
    assert "council-sticks = " + sticks in text
    path = os.path.join(pc.work, "council.profile")
    with open(path, "w") as f:
        f.write(text)
    return path


def plug(pc, medium):
    pc.add("stick-personal.umockdev", plug=True)
    storage_in(pc, medium, STICK, probe=True)


def read_only(medium):
    out = real(["blockdev", "--getro", medium.loop], capture_output=True, text=True)
    return out.stdout.strip() == "1"


def raw_write_fails(medium):
    r = real(["dd", "if=/dev/zero", "of=" + medium.loop, "bs=4096", "count=1", "seek=100",
              "oflag=direct", "status=none"], stderr=subprocess.DEVNULL)
    return r.returncode != 0


def luks2(medium):
    key = os.path.join(medium.tmp, "key")
    with open(key, "w") as f:
        f.write("correct horse battery staple")
    real(["cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2",
          "--pbkdf-force-iterations", "1000", "--key-file", key, medium.loop], check=True)


@pytest.mark.loop_devices
def test_a_plain_council_stick_is_read_only_with_a_notice(pc, session_bus):
    pc.start(RULES, profile=profile(pc, "luks2"), retention="3")
    n = Notifier(pc, session_bus, "--config", os.path.join(pc.work, "portcullisd.conf"))
    n.wait_following()
    time.sleep(0.2)
    medium = RealMedium()
    try:
        plug(pc, medium)
        rec = pc.wait_record(lambda r: r["event.action"] == "device-read-only")
        assert rec["event.outcome"] == "success"
        assert rec["event.reason"] == ("the council's own sticks must be encrypted (LUKS2) "
                                       "and %s is not: it is read-only" % medium.name)
        assert read_only(medium) and raw_write_fails(medium)
        note = session_bus.wait_notification(lambda x: "read-only" in x["summary"])
        assert note["summary"] == "SMI Corporation Flash Disk is read-only"
        assert note["body"] == (
            "Why: the council's own memory sticks must be encrypted, and this one is not, "
            "so nothing can be saved to it.\nWhat to do: copy what you need from it. To "
            "save to it again, ask the IT provider to make it an encrypted council stick.")
        # It stays usable for reading: mounted (read-only), its copies are recorded.
        real(["mount", "-o", "ro", medium.loop, medium.mnt], check=True)
        medium.mounted = True
        pc.wait_record(lambda r: r["event.action"] == "xfer-watch-started", timeout=20)
        assert pc.attr(STICK, "authorized") == "1"
        pc.verify()
    finally:
        n.close()
        medium.close()


@pytest.mark.loop_devices
def test_a_luks2_council_stick_is_read_write(pc):
    pc.start(RULES, profile=profile(pc, "luks2"))
    medium = RealMedium()
    try:
        luks2(medium)
        plug(pc, medium)
        rec = pc.wait_record(lambda r: r["event.action"] == "medium-encrypted")
        assert rec["event.reason"] == "%s is a LUKS2 container: read-write" % medium.name
        assert not read_only(medium) and not raw_write_fails(medium)
        assert not [r for r in pc.records() if r["event.action"] == "device-read-only"]
        # Reformatted in use as a plain file system: udevd probes it again and sends
        # "change" with what it found; the stick becomes read-only.
        real(["mkfs.ext4", "-q", "-F", medium.loop], check=True)
        disk = STICK + "/1-2:1.0/host6/target6:0:0/6:0:0:0/block/" + medium.name
        out = real(["blkid", "-p", "-o", "udev", medium.loop], capture_output=True,
                   text=True).stdout
        for line in out.splitlines():
            k, v = line.split("=", 1)
            pc.tb.set_property(disk, k, v)
        pc.tb.set_property(disk, "ID_FS_VERSION", "1.0")
        pc.tb.uevent(disk, "change")
        rec = pc.wait_record(lambda r: r["event.action"] == "device-read-only")
        assert rec["event.outcome"] == "success", rec
        assert read_only(medium) and raw_write_fails(medium)
        assert len([r for r in pc.records() if r["event.action"] == "medium-encrypted"]) == 1
    finally:
        medium.close()


@pytest.mark.loop_devices
def test_without_the_setting_a_plain_council_stick_stays_read_write(pc):
    pc.start(RULES, profile=profile(pc, "any"))
    medium = RealMedium()
    try:
        plug(pc, medium)
        # The engine handles the disk's add event before the mount that follows it.
        medium.mount()
        pc.wait_record(lambda r: r["event.action"] == "xfer-watch-started", timeout=20)
        assert not read_only(medium)
        with open(os.path.join(medium.mnt, "minutes.txt"), "w") as f:
            f.write("written to a plain council stick where the profile allows it\n")
        assert not [r for r in pc.records()
                    if r["event.action"] in ("device-read-only", "medium-encrypted")]
    finally:
        medium.close()
