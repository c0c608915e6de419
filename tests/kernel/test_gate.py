"""The USB gate on Debian's kernel: the staged portcullisd in the guest, QEMU's USB
devices hot-plugged on a real xHCI, the kernel's own authorisation, probing and drivers."""
import json
import os

import pytest

import bed as kbed

STICK = "46f4:0001"  # QEMU's usb-storage
HID = "0627:0001"  # QEMU's usb-kbd (and mouse, tablet)
RULES = """\
# Hubs carry other devices; they are decided one by one.
allow with-interface match-all { 09:00:* }
allow id 46f4:0001 serial "COUNCIL0001" with-interface equals { 08:06:50 } label "PC-STICK-01"
allow id 0627:0001 with-interface equals { 03:01:01 }
allow id 0525:a4a2 authorize-interfaces { 02:*:* }
reject id 46f4:0004
"""


def decision(bed, name):
    def match(r):
        return r.get("volume.device_name") == name and r["event.action"] in (
            "device-allowed", "device-blocked", "device-rejected")
    bed.wait_record(match)
    return [r for r in bed.records() if match(r)][-1]


def stick(bed, id, serial, fs="vfat", **props):
    img = os.path.join(bed.work, id + ".img")
    kbed.make_image(img, fs, size_mb=32, partitioned=True)
    bed.plug_storage(id, img, serial=serial, **props)
    return bed.usb_name(serial=serial)


def block_of(bed, name):
    """The disk (sdX) under USB device `name`, waiting for it."""
    out = bed.wait_for("ls /sys/bus/usb/devices/%s/%s:1.0/host*/target*/*/block" % (
        name, name), what="a disk under %s" % name)
    return out.split()[-1]


def test_sticks_present_at_start_are_decided(daemon):
    bed = daemon
    # No gate yet: the kernel's own defaults authorise whatever is plugged.
    bed.run("for h in /sys/bus/usb/devices/usb*; do echo 1 > $h/authorized_default; "
            "echo 1 > $h/interface_authorized_default; done")
    try:
        council = stick(bed, "present-council", "COUNCIL0001")
        personal = stick(bed, "present-personal", "PERSONAL0009")
        council_disk, personal_disk = block_of(bed, council), block_of(bed, personal)
        bed.start_daemon(RULES)
        assert decision(bed, council)["event.action"] == "device-allowed"
        assert decision(bed, personal)["event.action"] == "device-blocked"
        bed.wait_for("[ $(cat /sys/bus/usb/devices/%s/authorized) = 0 ] && "
                     "! [ -e /sys/block/%s ]" % (personal, personal_disk),
                     what="the personal stick de-authorised and its disk gone")
        bed.run("udevadm settle; sleep 1")
        bed.run("[ -b /dev/%s ]" % council_disk)  # the council's stays
        assert bed.attr(council, "authorized") == "1"
    finally:
        bed.stop_daemon()
        bed.unplug_all()


@pytest.fixture
def gate(daemon):
    daemon.start_daemon(RULES)
    yield daemon
    daemon.unplug_all()


def test_root_hubs_are_gated(gate):
    for hub in ("usb1", "usb2"):
        assert gate.attr(hub, "authorized_default") == "0"
        assert gate.attr(hub, "interface_authorized_default") == "0"
        assert gate.attr(hub, "authorized") == "1"


def test_the_council_stick_gets_its_driver_and_keeps_its_disk(gate):
    name = stick(gate, "council", "COUNCIL0001")
    assert decision(gate, name)["event.action"] == "device-allowed"
    # The kernel probes the interface once the parent asks it to: usb-storage binds,
    # the disk and its partition appear.
    gate.wait_for("[ -e /sys/bus/usb/drivers/usb-storage/%s:1.0 ]" % name,
                  what="usb-storage bound to %s:1.0" % name)
    disk = block_of(gate, name)
    gate.wait_for("[ -b /dev/%s1 ]" % disk, what="partition %s1" % disk)
    # ... and they stay: the allowed stick's disk is not taken for a medium outside USB.
    gate.run("udevadm settle; sleep 2")
    gate.run("[ -b /dev/%s ] && [ -b /dev/%s1 ]" % (disk, disk))
    recs = gate.records()
    assert not [r for r in recs if r.get("volume.device_name") == disk], \
        [json.dumps(r) for r in recs if r.get("volume.device_name") == disk]
    # It is usable: mounted, written, read back.
    gate.run("mkdir -p /mnt/c && mount /dev/%s1 /mnt/c && echo minutes > /mnt/c/a.txt && "
             "umount /mnt/c && mount -o ro /dev/%s1 /mnt/c && grep -q minutes /mnt/c/a.txt; "
             "rc=$?; umount /mnt/c; exit $rc" % (disk, disk))


def test_the_engine_grants_through_the_descriptor_the_parent_opened(gate):
    """On real sysfs the engine, unprivileged and under its filter, writes the allowed
    stick's authorized itself through the descriptor the parent's prepare passed
    (strace -y of the engine in the guest: a pwrite64 of "1" to that device's file that
    succeeds), and nothing reports a failed write. A descriptor of a device's authorized
    kept open across the device's unplug writes nothing: kernfs answers ENODEV."""
    engine = gate.out("pgrep -u nobody -f libexec/portcullis/portcullis-engine").split()[0]
    trace = gate.daemon_dir + "/engine.strace"
    gate.run("strace -f -qq -y -e trace=pwrite64 -o %s -p %s >/dev/null 2>&1 & "
             "echo $! > %s.pid" % (trace, engine, trace))
    gate.wait_for("grep -q TracerPid:.[1-9] /proc/%s/status" % engine, what="strace attached")
    try:
        name = stick(gate, "granted", "COUNCIL0001")
        assert decision(gate, name)["event.action"] == "device-allowed"
        gate.wait_for("[ $(cat /sys/bus/usb/devices/%s/authorized) = 1 ]" % name,
                      what="%s authorised" % name)
    finally:
        gate.run("kill -INT $(cat %s.pid); sleep 0.5" % trace, check=False)
    out = gate.out("cat %s" % trace)
    grants = [l for l in out.splitlines() if "pwrite64(" in l and '/authorized>, "1", 1, 0)' in l]
    print("the engine's writes to authorized: %s" % grants)
    assert len(grants) == 1 and grants[0].endswith("= 1"), out
    assert "/%s/authorized>" % name in grants[0], grants
    assert "write to authorized failed" not in gate.daemon_log()
    # A descriptor held across the unplug: its write fails, it reaches no later device.
    held = gate.daemon_dir + "/held"
    gate.run("(exec 3>/sys/bus/usb/devices/%s/authorized; while [ -e "
             "/sys/bus/usb/devices/%s ]; do sleep 0.1; done; echo 1 >&3 2>%s.err; "
             "echo $? > %s) >/dev/null 2>&1 &" % (name, name, held, held))
    gate.run("sleep 0.5")
    gate.unplug("granted")
    gate.wait_for("[ -s %s ]" % held, what="the held descriptor's write")
    assert gate.out("cat %s" % held).strip() != "0"
    assert "No such device" in gate.out("cat %s.err" % held)


def test_a_personal_stick_is_blocked_without_interfaces(gate):
    name = stick(gate, "personal", "PERSONAL0001")
    r = decision(gate, name)
    assert r["event.action"] == "device-blocked" and r["rule.id"] == "no-match"
    assert gate.attr(name, "authorized") == "0"
    gate.run("sleep 1")
    assert gate.attr(name + ":1.0", "authorized") is None  # the kernel made none
    assert gate.out("ls /sys/block").split() == [d for d in gate.out("ls /sys/block").split()
                                                 if not d.startswith("sd")]


def test_an_allowed_hub_carries_an_allowed_keyboard(gate):
    gate.plug("hub", "usb-hub", port="5")
    assert decision(gate, "1-5")["event.action"] == "device-allowed"
    gate.wait_for("[ -e /sys/bus/usb/drivers/hub/1-5:1.0 ]", what="hub driver bound to 1-5")
    gate.plug("kbd", "usb-kbd", port="5.1")
    assert decision(gate, "1-5.1")["event.action"] == "device-allowed"
    gate.wait_for("[ -e /sys/bus/usb/drivers/usbhid/1-5.1:1.0 ]",
                  what="usbhid bound to the keyboard behind the hub")
    gate.wait_for("ls /sys/bus/usb/devices/1-5.1:1.0/*/hidraw/hidraw*",
                  what="a hidraw node for the keyboard")
    # The council's stick behind the same hub: allowed, probed, its disk appears.
    name = stick(gate, "behind-hub", "COUNCIL0001", port="5.2")
    assert name == "1-5.2"
    assert decision(gate, name)["event.action"] == "device-allowed"
    block_of(gate, name)
    gate.unplug("kbd")
    gate.wait_record(lambda r: r.get("volume.device_name") == "1-5.1" and
                     r["event.action"] == "device-removed")


def test_interfaces_are_authorised_one_by_one(gate):
    gate.plug("net", "usb-net")
    name = gate.usb_name(idvendor="0525")
    assert decision(gate, name)["event.action"] == "device-allowed"
    gate.wait_record(lambda r: r["event.action"] == "interface-blocked" and
                     r.get("volume.device_name", "").startswith(name))
    out = gate.wait_for(
        "for i in /sys/bus/usb/devices/%s:*; do echo $(basename $i) $(cat $i/bInterfaceClass)"
        " $(cat $i/authorized); done | grep -q ' 02 1$' && echo ok; "
        "for i in /sys/bus/usb/devices/%s:*; do echo $(basename $i) $(cat $i/bInterfaceClass)"
        " $(cat $i/authorized); done" % (name, name), what="the CDC control interface")
    for line in out.splitlines()[1:]:
        iface, cls, auth = line.split()
        assert auth == ("1" if cls == "02" else "0"), out


def test_an_unlisted_smart_card_reader_is_blocked(gate):
    gate.plug("ccid", "usb-ccid")
    name = gate.usb_name(idvendor="08e6")
    assert decision(gate, name)["event.action"] == "device-blocked"
    assert gate.attr(name, "authorized") == "0"


def test_a_rejected_phone_is_removed(gate):
    root = os.path.join(gate.work, "phone")
    os.makedirs(root, exist_ok=True)
    gate.plug("mtp", "usb-mtp", rootdir=root, readonly=True)
    r = gate.wait_record(lambda r: r["event.action"] == "device-rejected")
    name = r["volume.device_name"]
    # remove=1: the kernel disconnects it; its sysfs directory goes.
    gate.wait_for("! [ -e /sys/bus/usb/devices/%s ]" % name, what="%s removed" % name)


def test_a_stick_is_decided_while_udevd_is_stopped(gate):
    """The engine decides a USB device on the kernel's own uevent, not on udevd's
    re-broadcast: with systemd-udevd stopped (SIGSTOP) the allowed stick is recorded and
    authorised. Once udevd runs again its copies of the same events are dropped (the
    SEQNUM was handled): one record of each kind for the stick, its removal included."""
    gate.run("kill -STOP $(pidof systemd-udevd)")
    try:
        name = stick(gate, "udevd-stopped", "COUNCIL0001")
        assert decision(gate, name)["event.action"] == "device-allowed"
        gate.wait_for("[ $(cat /sys/bus/usb/devices/%s/authorized) = 1 ]" % name,
                      what="%s authorised with udevd stopped" % name)
    finally:
        gate.run("kill -CONT $(pidof systemd-udevd)")
    gate.run("udevadm settle; sleep 1")
    gate.unplug("udevd-stopped")
    gate.wait_record(lambda r: r.get("volume.device_name") == name and
                     r["event.action"] == "device-removed")
    gate.run("udevadm settle; sleep 1")
    acts = [r["event.action"] for r in gate.records() if r.get("volume.device_name") == name]
    for a in ("device-inserted", "device-allowed", "device-removed"):
        assert acts.count(a) == 1, acts


FORGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forge_uevent.py")


def test_forged_uevents_move_no_device(gate):
    """Whoever is not the kernel cannot make the engine act on a device: a forged "remove"
    of the allowed stick and a forged "add" of the blocked one, sent in the kernel's format
    on group 1 and in libudev's on group 2, by an ordinary user (the kernel refuses the
    send), by root in a user and network namespace of its own (the message stays in that
    namespace), and in the kernel's format by root itself (not from the kernel: dropped
    by the engine, port not 0). Nothing is recorded and nothing changes."""
    council = stick(gate, "forge-council", "COUNCIL0001")
    personal = stick(gate, "forge-personal", "PERSONAL0007")
    assert decision(gate, council)["event.action"] == "device-allowed"
    assert decision(gate, personal)["event.action"] == "device-blocked"
    gate.run("udevadm settle; sleep 1")
    before = len(gate.records())

    def forge(prefix, action, name):
        path = gate.out("realpath /sys/bus/usb/devices/%s" % name).strip()[len("/sys"):]
        return gate.out("%s python3 %s %s %s %s %s" % (
            prefix, FORGE, action, path, gate.attr(name, "busnum"),
            int(gate.attr(name, "devnum")) + 1))

    user = "setpriv --reuid=nobody --regid=nogroup --clear-groups"
    for action, name in (("remove", council), ("add", personal)):
        out = forge(user, action, name)
        assert "sent" not in out, out  # the kernel lets no user send on this family
        out = forge("unshare --user --map-root-user --net", action, name)
        assert "group 1: sent" in out, out  # sent, within its own namespace
    # Root's own message on group 1 (udevd ignores it too: a process's port).
    out = gate.out("python3 %s remove %s %s %s 1" % (
        FORGE, gate.out("realpath /sys/bus/usb/devices/%s" % council).strip()[4:],
        gate.attr(council, "busnum"), gate.attr(council, "devnum")))
    assert "group 1: sent" in out, out
    gate.run("udevadm settle; sleep 2")
    after = gate.records()[before:]
    assert after == [], [json.dumps(r) for r in after]
    assert gate.attr(council, "authorized") == "1"
    assert gate.attr(personal, "authorized") == "0"
    assert "not sent by the kernel" in gate.daemon_log()


def test_the_trail_verifies(gate):
    name = stick(gate, "personal2", "PERSONAL0002")
    decision(gate, name)
    d = gate.daemon_dir
    gate.run("%s audit verify --key %s/audit.key %s/audit/trail-*.jsonl" % (
        kbed.CLI, d, d))
    origin = gate.records()[-1].get("observer.hostname") or ""
    assert "council-pc" in json.dumps(gate.records()[-1]), origin
