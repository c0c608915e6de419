"""A decision record that cannot be made durable grants nothing. The daemon's disk syncs
fail (EIO from a preloaded test library, syncfail_shim.c: what a dying disk returns) while
an allowed stick is plugged in: the stick stays out and the daemon's log says why, although
the parent checked the device and opened its authorized file while the engine wrote the
record (the grant in two steps, daemon/parent_grant.c). Before that, with the syncs
working, the same stick gets in."""
import ctypes
import os
import struct
import time

from test_media import PERSONAL, RULES

BUILD = os.environ.get("PCL_BUILD_DIR", "")
SHIM = os.path.join(BUILD, "tests/integration/gate/libpcl_syncfail_shim.so")
WHY = "audit trail not written (Input/output error): failing closed"


def allowed(pc):
    return [r for r in pc.records() if r["event.action"] == "device-allowed"]


class Writes:
    """Counts the writes to one file (inotify IN_MODIFY): a write of 1 that a write of 0
    undoes at once still counts."""
    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0
        assert self.libc.inotify_add_watch(self.fd, path.encode(), 0x2) >= 0  # IN_MODIFY

    def count(self):
        n = 0
        while True:
            try:
                buf = os.read(self.fd, 4096)
            except BlockingIOError:
                return n
            off = 0
            while off < len(buf):
                _, mask, _, size = struct.unpack_from("iIII", buf, off)
                n += bool(mask & 0x2)
                off += 16 + size

    def close(self):
        os.close(self.fd)


def test_a_record_that_cannot_be_synced_leaves_the_device_out_and_says_why(pc):
    assert os.path.exists(SHIM), SHIM
    flag = os.path.join(pc.root, "syncfail")  # where the shim looks: UMOCKDEV_DIR
    with open(flag, "w") as f:
        f.write("0")
    os.chmod(flag, 0o644)
    env = pc.env
    pc.env = lambda: dict(env(), LD_PRELOAD=env()["LD_PRELOAD"] + ":" + SHIM)
    pc.start(RULES)
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_attr(PERSONAL, "authorized", "1")
    assert len(allowed(pc)) == 1
    # Taken out and put back as the kernel would announce it, its sysfs files kept so that
    # every write to its authorized can be seen from the start.
    pc.tb.uevent(PERSONAL, "remove")
    pc.wait_record(lambda r: r.get("event.action") == "device-removed")
    pc.wait_quiet()  # the removal's group sync is done
    pc.set_attr(PERSONAL, "authorized", "0")
    writes = Writes(pc.root + PERSONAL + "/authorized")
    with open(flag, "r+") as f:  # in place: the daemon maps this file
        f.write("1")
    pc.tb.uevent(PERSONAL, "add")
    deadline = time.time() + 20
    while WHY not in pc.log() and time.time() < deadline:
        time.sleep(0.05)
    print(pc.log())
    assert WHY in pc.log()
    # Whatever comes next (the engine fails closed and is started again, decides the
    # stick again with the disk still failing), authorized is never written: not even a
    # 1 taken back at once.
    time.sleep(1)
    assert pc.attr(PERSONAL, "authorized") == "0"
    assert writes.count() == 0
    writes.close()
    assert len(allowed(pc)) == 1
