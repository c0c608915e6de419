"""Devices we describe, on the guest's real USB stack (pcl-usbredir-dev over usb-redir):
the project's token (firmware core behind the RP2350 descriptors) seen by usbhid, hidraw,
python3-fido2 and libfido2 in the guest; enrolment and approval through it with the PIN
and the touch; the CTAPHID limit between packets on the real USB path; a BadUSB stick and
lookalikes of the council stick (a hidden keyboard; another serial) blocked by the staged
portcullisd on Debian's kernel, the council stick itself allowed with its disk.
An interface-level grant on the BadUSB: its storage gets usb-storage and a disk, its
keyboard nothing. One boot for the module; tests run in order and share the token.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import bed as kbed

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("PCL_USBREDIR_DEV") or os.path.join(
    os.environ.get("PCL_BUILD_DIR", ""), "tests/kernel/usbredir/pcl-usbredir-dev")
SOURCE_DESC = os.path.join(kbed.SOURCE, "firmware/targets/rp2350/usb_desc.c")
PIN = "4821"
TOKEN_HID = "HID_ID=0003:00001209:00000001"

RULES = """\
# The council's registered stick (asset PC-STICK-01).
allow id 0781:5581 serial "4C530001140516116522" with-interface equals { 08:06:50 } label "PC-STICK-01"
# The Clerk's key: the Portcullis token, its FIDO interface only.
allow id 1209:0001 with-interface equals { 03:00:00 } label "Clerk's key"
"""


class Device:
    """One pcl-usbredir-dev process plugged into the guest's xHCI."""

    def __init__(self, bed, id, device, *args):
        self.bed, self.id = bed, id
        self.sock = os.path.join(bed.work, id + ".sock")
        self.log = os.path.join(bed.work, id + ".log")
        self.proc = subprocess.Popen([TOOL, "--device", device, "--socket", self.sock] +
                                     list(args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            assert self.proc.poll() is None, self.text()
            assert time.time() < deadline, "no socket from pcl-usbredir-dev"
            time.sleep(0.02)
        bed.qmp("chardev-add", id=id + "-chr", backend={"type": "socket", "data": {
            "addr": {"type": "unix", "data": {"path": self.sock}}, "server": False}})
        bed.plug(id, "usb-redir", chardev=id + "-chr")

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def unplug(self):
        self.bed.unplug(self.id)  # usb-redir takes its chardev away with it
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()
        self.check()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.check()

    def check(self):
        """It ended cleanly: exit status 0, no sanitizer report."""
        log = self.text()
        assert self.proc.returncode == 0, log
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: "):
            assert mark not in log, log


class Finger:
    """Touches the token each time it waits for a touch (as its user would), and counts."""

    def __init__(self, dev):
        self.dev, self.touches, self.stop = dev, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        seen = self.dev.text().count("waiting for touch")
        while not self.stop.wait(0.1):
            n = self.dev.text().count("waiting for touch")
            if n > seen:
                seen = n
                time.sleep(0.3)
                self.dev.proc.send_signal(signal.SIGUSR1)
                self.touches += 1

    def close(self):
        self.stop.set()
        self.thread.join()


@pytest.fixture(scope="module")
def token(bed):
    # --poll-ms 1000: the simulator's period, the one under which a late continuation used
    # to complete its message (the RP2350 polls every 100 ms)
    dev = Device(bed, "token", "token", "--state", os.path.join(bed.work, "token.state"),
                 "--poll-ms", "1000")
    dev.name = bed.usb_name(idvendor="1209")
    yield dev
    dev.stop()


def hidraw(bed):
    out = bed.wait_for("grep -l '^%s$' /sys/class/hidraw/hidraw*/device/uevent" % TOKEN_HID,
                       what="the token's hidraw node")
    return "/dev/" + out.split()[-1].split("/")[4]


def firmware_report_descriptor():
    """The report descriptor as firmware/targets/rp2350/usb_desc.c defines it."""
    with open(SOURCE_DESC) as f:
        src = f.read()
    body = re.search(r"report_desc\[\d+\] = \{(.*?)\};", src, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return bytes(int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]+", body))


def test_token_is_a_fido_hid_device_with_the_firmwares_report_descriptor(bed, token):
    name = token.name
    assert bed.attr(name, "product") == "Portcullis approval token"
    assert bed.attr(name, "speed") == "12"  # full speed, as the RP2350
    assert bed.attr(name + ":1.0", "bInterfaceClass") == "03"
    bed.wait_for("[ -e /sys/bus/usb/drivers/usbhid/%s:1.0 ]" % name, what="usbhid bound")
    node = hidraw(bed)
    got = bytes.fromhex(bed.out("od -An -v -tx1 /sys/class/hidraw/%s/device/report_descriptor"
                                % os.path.basename(node)).replace(" ", "").replace("\n", ""))
    assert got == firmware_report_descriptor()
    assert got[:3] == b"\x06\xd0\xf1"  # FIDO Alliance usage page
    # libfido2 in the guest finds it and reads its GetInfo over the real USB path.
    out = bed.out("fido2-token -L; fido2-token -I %s" % node)
    assert "vendor=0x1209, product=0x0001" in out
    assert "version strings: U2F_V2, FIDO_2_0, FIDO_2_1" in out
    assert "maxmsgsiz: 1200" in out


def raw_ping(bed, node, gap_ms):
    out = bed.out("/usr/bin/python3 %s/hidraw_ctaphid.py %s %d" % (HERE, node, gap_ms))
    return json.loads(out.strip().splitlines()[-1])


def test_late_continuation_is_refused_through_the_real_usb_path(bed, token):
    node = hidraw(bed)
    # In time: the 100-byte PING comes back whole.
    r = raw_ping(bed, node, 50)
    assert r["answers"] == [[0x81, r["ping"]]], r
    # 900 ms between the packets: ERR_MSG_TIMEOUT (0x05), and the message never completes.
    r = raw_ping(bed, node, 900)
    assert r["answers"] == [[0xBF, "05"]], r


def test_badusb_and_the_lookalikes_are_blocked_on_the_real_kernel(bed, token, daemon):
    bed.start_daemon(RULES)
    bad = Device(bed, "badusb", "badusb")
    look = Device(bed, "lookalike", "lookalike")
    twin = Device(bed, "twin", "council", "--serial", "4C530001140516116599")
    try:
        names = {bed.usb_name(serial="E0D55EA574C3F4B0A9850B4E"): bad,
                 bed.usb_name(serial="4C530001140516116522"): look,
                 bed.usb_name(serial="4C530001140516116599"): twin}
        for name in names:
            rec = bed.wait_record(lambda r: r.get("volume.device_name") == name and
                                  r["event.action"] in ("device-allowed", "device-blocked"))
            assert rec["event.action"] == "device-blocked", rec
            assert rec["rule.id"] == "no-match", rec
            assert bed.attr(name, "authorized") == "0"
            # the kernel made no interface, so no driver ever saw the hidden keyboard
            assert bed.run("ls -d /sys/bus/usb/devices/%s:*" % name, check=False)[0] != 0
        look_rec = [r for r in bed.records() if r.get("volume.device_name") in names and
                    r.get("volume.serial_number") == "4C530001140516116522"][-1]
        assert sorted(look_rec["usb.interfaces"]) == ["03:01:01", "08:06:50"]
        assert "Vendor=0951" not in bed.out("cat /proc/bus/input/devices")
        assert "Vendor=0781" not in bed.out("cat /proc/bus/input/devices")
        for dev in names.values():
            assert "typing" not in dev.text()  # the keyboard was never polled
        # The token, allowed by its rule, kept its driver through the daemon's start.
        assert bed.attr(token.name, "authorized") == "1"
        hidraw(bed)
    finally:
        for dev in (bad, look, twin):
            dev.unplug()
    bed.wait_for("! grep -qx 4C530001140516116522 /sys/bus/usb/devices/*/serial",
                 what="the lookalike gone")
    # The council's own stick, through the same program, is allowed and gets its disk: the
    # lookalikes were refused for what differs, not for how they were made.
    council = Device(bed, "council", "council")
    try:
        name = bed.usb_name(serial="4C530001140516116522")
        bed.wait_record(lambda r: r.get("volume.device_name") == name and
                        r["event.action"] == "device-allowed")
        disk = bed.wait_for("cat /sys/bus/usb/devices/%s:1.0/host*/target*/*/block/sd?/size"
                            % name, what="the council stick's disk")
        assert disk.split()[-1] == "16384"
    finally:
        council.unplug()


def test_badusb_gets_its_storage_and_a_disk_but_never_its_keyboard(bed, token, daemon):
    bed.start_daemon(RULES + "allow id 0951:1666 with-interface all-of { 08:06:50 03:01:01 } "
                     "authorize-interfaces { 08:*:* }\n")
    bad = Device(bed, "badusb2", "badusb")
    try:
        name = bed.usb_name(serial="E0D55EA574C3F4B0A9850B4E")
        bed.wait_record(lambda r: r.get("volume.device_name") == name and
                        r["event.action"] == "device-allowed")
        bed.wait_for("[ -e /sys/bus/usb/drivers/usb-storage/%s:1.0 ]" % name,
                     what="usb-storage bound to the storage interface")
        # the kernel's sd driver reads the RAM disk: 8 MiB in 512-byte sectors
        disk = bed.wait_for("cat /sys/bus/usb/devices/%s:1.0/host*/target*/*/block/sd?/size"
                            % name, what="the BadUSB's disk")
        assert disk.split()[-1] == "16384"
        assert bed.attr(name + ":1.1", "authorized") == "0"
        assert bed.run("[ -e /sys/bus/usb/devices/%s:1.1/driver ]" % name, check=False)[0] != 0
        assert "Vendor=0951" not in bed.out("cat /proc/bus/input/devices")
        assert "typing" not in bad.text()  # the keyboard was never polled
    finally:
        bad.unplug()


def test_enrol_and_approve_with_the_token_pin_and_touch(bed, token, daemon):
    node = hidraw(bed)
    # The PIN is set through python3-fido2 on the guest's hidraw (the Clerk's set-up).
    bed.run("/usr/bin/python3 -c 'from fido2.hid.linux import open_connection, get_descriptor\n"
            "from fido2.hid import CtapHidDevice\n"
            "from fido2.ctap2 import Ctap2, ClientPin\n"
            "d = CtapHidDevice(get_descriptor(\"%s\"), open_connection(get_descriptor(\"%s\")))\n"
            "ClientPin(Ctap2(d)).set_pin(\"%s\")'" % (node, node, PIN))
    bed.start_daemon(RULES, profile=os.path.join(kbed.SOURCE, "profiles/fakenham.profile"))
    img = os.path.join(bed.work, "personal.img")
    kbed.make_image(img, "vfat", size_mb=16)
    finger = Finger(token)
    try:
        bed.cli("approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk", "--key",
                node, "--pin-fd", "0", input=PIN + "\n", timeout=120)
        assert finger.touches >= 1
        enr = bed.wait_record(lambda r: r["event.action"] == "approver-enrolled")
        assert enr["approval.attestation.fmt"] == "packed"
        bed.plug_storage("personal", img, serial="AA00000000011111")
        name = bed.usb_name(serial="AA00000000011111")
        bed.wait_record(lambda r: r.get("volume.device_name") == name and
                        r["event.action"] == "device-blocked")
        # A wrong PIN is refused by the token itself, before any touch: nothing granted.
        touches = finger.touches
        rc, out = bed.cli("approve", name, "--read-only", "--until-unplug", "--key", node,
                          "--pin-fd", "0", input="0000\n", check=False, timeout=120)
        assert rc != 0 and finger.touches == touches, out
        assert bed.attr(name, "authorized") == "0"
        out = bed.cli("approve", name, "--read-only", "--until-unplug", "--reason",
                      "agenda papers", "--key", node, "--pin-fd", "0", input=PIN + "\n", timeout=120)[1]
        assert "%s approved by Jane Clerk (read-only)" % name in out, out
        assert finger.touches > touches
        rec = bed.wait_record(lambda r: r["event.action"] == "exception-approved")
        assert rec["approval.approver"] == "Jane Clerk"
        assert rec["volume.device_name"] == name
        bed.wait_for("[ $(cat /sys/bus/usb/devices/%s/authorized) = 1 ]" % name)
    finally:
        finger.close()
        bed.unplug("personal")
