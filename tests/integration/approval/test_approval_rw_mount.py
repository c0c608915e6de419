"""A read-only exception whose medium an automounter mounted read-write before the
read-only flag reached the block layer: BLKROSET does not stop a filesystem already
mounted read-write, so the device is blocked and the breach recorded. The USB side is
simulated (umockdev), the medium a real ext4 loop device."""
from approvals import PERSONAL, enrol, medium_in, start
from harness import attach_disk


def approved_read_only(pc, key):
    """The personal stick, blocked, then given a read-only exception by the Clerk."""
    start(pc)
    assert enrol(pc, key).returncode == 0
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    pc.cli("approve", "1-2", "--read-only", "--reason", "agenda", "--key", "sim:" + key.sock)


def test_a_read_only_grant_on_a_medium_mounted_read_write_is_blocked(pc, key, medium):
    approved_read_only(pc, key)
    pc.wait_attr(PERSONAL, "authorized", "1")
    pc.kernel_configure(PERSONAL)
    pc.wait_attr(PERSONAL + "/1-2:1.0", "authorized", "1")
    medium.mount()  # read-write, before the disk's event reaches the gate
    attach_disk(pc, medium, PERSONAL + "/1-2:1.0")
    bad = pc.wait_record(lambda r: r["event.action"] == "medium-read-only"
                         and r["event.outcome"] == "failure", timeout=20)
    assert "mounted read-write" in bad["event.reason"] and medium.name in bad["event.reason"]
    assert bad["usb.port"] == "1-2"
    pc.wait_attr(PERSONAL, "authorized", "0")
    pc.wait_record(lambda r: r["event.action"] == "device-blocked"
                   and "read-write" in r.get("event.reason", ""))


def test_a_read_only_grant_mounted_read_only_stays(pc, key, medium):
    """The same exception, the medium mounted read-only as it should be: nothing blocked."""
    approved_read_only(pc, key)
    medium_in(pc, medium, PERSONAL, read_only=True)
    assert pc.attr(PERSONAL, "authorized") == "1"
    assert not any(r["event.action"] == "medium-read-only" and r["event.outcome"] == "failure"
                   for r in pc.records())
