"""The USB gate end to end: the installed portcullisd under umockdev's preload, with the
real libudev code path, uevents and sysfs writes landing in the mock sysfs."""
import os
import signal
import subprocess
import time

from harness import DAEMON, actions_for, connected, read_lines_until

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
HUB3 = "/sys/devices/pci0000:00/0000:00:14.0/usb2"
COUNCIL = HUB + "/1-1/1-1.1"
PERSONAL = HUB + "/1-2"
TWIN = HUB + "/1-3"
COUNCIL_HID = HUB + "/1-4"
BADUSB = HUB + "/1-5"
PHONE = HUB + "/1-7"
FIDO = HUB + "/1-8"
CD = HUB + "/1-9"
KEYBOARD = HUB + "/1-10"
NET = HUB3 + "/2-1"

COUNCIL_RULES = """\
# Hubs carry other devices; they are decided one by one.
allow with-interface match-all { 09:00:* }
# The council's registered stick (asset PC-STICK-01).
allow id 0781:5581 serial "4C530001140516116522" with-interface equals { 08:06:50 } label "PC-STICK-01"
allow id 046d:c31c with-interface all-of { 03:01:01 03:00:00 }
# The Clerk's key: its FIDO interface only, never its keyboard (OTP) or smart-card side.
allow id 1050:0407 with-interface all-of { 03:00:00 } authorize-interfaces { 03:00:00 }
reject id 18d1:*
"""


def decision(pc, name):
    """The latest decision recorded for a device (waiting for the first one)."""
    def match(r):
        return r.get("volume.device_name") == name and r["event.action"] in (
            "device-allowed", "device-blocked", "device-rejected")
    pc.wait_record(match)
    return [r for r in pc.records() if match(r)][-1]


def test_root_hubs_are_gated_before_anything_is_decided(pc):
    pc.start(COUNCIL_RULES)
    for hub in (HUB, HUB3):
        assert pc.attr(hub, "authorized_default") == "0"
        assert pc.attr(hub, "interface_authorized_default") == "0"
    # Root hubs themselves are never de-authorised.
    assert pc.attr(HUB, "authorized") == "1"


def test_authorized_default_setting_reaches_the_root_hubs(pc):
    pc.start(COUNCIL_RULES, authorized_default="internal")
    assert pc.attr(HUB, "authorized_default") == "2"


def test_present_devices_apply_policy(pc):
    for f in ("hub-genesys.umockdev", "stick-council.umockdev", "stick-personal.umockdev",
              "keyboard.umockdev"):
        pc.add(f)
    pc.start(COUNCIL_RULES)
    assert decision(pc, "1-1.1")["event.action"] == "device-allowed"
    assert pc.attr(COUNCIL, "authorized") == "1"
    assert pc.attr(KEYBOARD, "authorized") == "1"
    r = decision(pc, "1-2")
    assert r["event.action"] == "device-blocked"
    assert r["rule.id"] == "no-match"
    assert pc.attr(PERSONAL, "authorized") == "0"
    # The allowing record names the rule by file:line and text.
    r = decision(pc, "1-1.1")
    assert r["rule.id"].endswith(
        'rules.conf:4: allow id 0781:5581 serial "4C530001140516116522" '
        'with-interface equals { 08:06:50 } label "PC-STICK-01"'), r["rule.id"]
    assert r["volume.serial_number"] == "4C530001140516116522"
    assert r["usb.interfaces"] == ["08:06:50"]


def test_present_devices_block_and_allow_settings(pc):
    pc.add("stick-personal.umockdev")
    pc.add("keyboard.umockdev")
    pc.start(COUNCIL_RULES, present_devices="block")
    assert pc.attr(KEYBOARD, "authorized") == "0"
    assert pc.attr(PERSONAL, "authorized") == "0"
    pc.stop()
    os.remove(pc.conf["boot-marker"])  # a reboot: /run is empty again
    pc.set_attr(PERSONAL, "authorized", "1")
    pc.start(COUNCIL_RULES, present_devices="allow")
    assert pc.attr(PERSONAL, "authorized") == "1"
    # The first run's "block" decision is in the trail too: wait for this run's.
    pc.wait_record(lambda r: r.get("volume.device_name") == "1-2" and
                   r.get("rule.id") == "present-devices=allow")
    assert decision(pc, "1-2")["rule.id"] == "present-devices=allow"


def test_hotplugged_devices_are_decided_and_interfaces_follow(pc):
    pc.start(COUNCIL_RULES)
    pc.add("hub-genesys.umockdev", plug=True)
    pc.wait_attr(HUB + "/1-1", "authorized", "1")
    pc.kernel_configure(HUB + "/1-1")
    pc.wait_attr(HUB + "/1-1/1-1:1.0", "authorized", "1")
    pc.add("stick-council.umockdev", plug=True)
    pc.wait_attr(COUNCIL, "authorized", "1")
    pc.kernel_configure(COUNCIL)
    pc.wait_attr(COUNCIL + "/1-1.1:1.0", "authorized", "1")
    # ... and the parent asks the kernel to probe it (it would not by itself).
    pc.wait_attr("/sys/bus/usb", "drivers_probe", "1-1.1:1.0")
    pc.add("stick-personal.umockdev", plug=True)
    assert decision(pc, "1-2")["event.action"] == "device-blocked"
    assert pc.attr(PERSONAL, "authorized") == "0"
    assert actions_for(pc.records(), "1-2") == ["device-inserted", "device-blocked"]


def test_lookalikes_are_blocked(pc):
    pc.start(COUNCIL_RULES + "allow id 090c:1000 serial \"AA00000000011111\"\n")
    pc.add("stick-personal-twin.umockdev", plug=True)  # same VID:PID, other serial
    pc.add("stick-council-hid.umockdev", plug=True)  # same serial, extra keyboard
    assert decision(pc, "1-3")["event.action"] == "device-blocked"
    assert decision(pc, "1-4")["event.action"] == "device-blocked"
    assert pc.attr(TWIN, "authorized") == "0"
    assert pc.attr(COUNCIL_HID, "authorized") == "0"


def test_badusb_gets_its_storage_but_never_its_keyboard(pc):
    rules = "allow id 0951:1666 with-interface all-of { 08:06:50 03:01:01 } " \
            "authorize-interfaces { 08:*:* }\n"
    pc.start(rules)
    pc.add("badusb.umockdev", plug=True)
    pc.wait_attr(BADUSB, "authorized", "1")
    pc.kernel_configure(BADUSB)
    pc.wait_attr(BADUSB + "/1-5:1.0", "authorized", "1")
    pc.wait_record(lambda r: r["event.action"] == "interface-blocked")
    # Held back since it appeared (interface_authorized_default=0), never written since.
    assert pc.attr(BADUSB + "/1-5:1.1", "authorized") == "0"


def test_fido_key_passes_as_a_fido_token_only(pc):
    pc.start(COUNCIL_RULES)
    pc.add("fido-key.umockdev", plug=True)
    pc.wait_attr(FIDO, "authorized", "1")
    pc.kernel_configure(FIDO)
    pc.wait_attr(FIDO + "/1-8:1.1", "authorized", "1")  # FIDO HID 03:00:00
    pc.wait_quiet()
    assert pc.attr(FIDO + "/1-8:1.0", "authorized") == "0"  # OTP keyboard
    assert pc.attr(FIDO + "/1-8:1.2", "authorized") == "0"  # CCID


def test_present_badusb_loses_its_keyboard_interface(pc):
    pc.add("badusb.umockdev")  # present at start, both interfaces authorised by the kernel
    pc.start("allow id 0951:1666 authorize-interfaces { 08:*:* }\n")
    pc.wait_attr(BADUSB + "/1-5:1.1", "authorized", "0")
    assert pc.attr(BADUSB + "/1-5:1.0", "authorized") == "1"


def test_reject_removes_the_device(pc):
    pc.start(COUNCIL_RULES)
    pc.add("phone-mtp-adb.umockdev", plug=True)
    assert decision(pc, "1-7")["event.action"] == "device-rejected"
    pc.wait_attr(PHONE, "remove", "1")


def test_unlisted_devices_stay_blocked(pc):
    pc.start(COUNCIL_RULES)
    for f in ("card-reader.umockdev", "cd-drive.umockdev", "net-adapter.umockdev"):
        pc.add(f, plug=True)
    for name, path in (("1-6", HUB + "/1-6"), ("1-9", CD), ("2-1", NET)):
        assert decision(pc, name)["event.action"] == "device-blocked"
        assert pc.attr(path, "authorized") == "0"


def test_change_after_our_own_write_does_not_loop(pc):
    pc.start(COUNCIL_RULES)
    pc.add("keyboard.umockdev", plug=True)
    pc.wait_attr(KEYBOARD, "authorized", "1")
    for _ in range(3):  # kernels since 5.9 announce the write with a change event
        pc.tb.uevent(KEYBOARD, "change")
    pc.wait_quiet()
    assert actions_for(pc.records(), "1-10").count("device-allowed") == 1


def test_authorisation_behind_the_daemons_back_is_taken_away(pc):
    pc.start(COUNCIL_RULES)
    pc.add("stick-personal.umockdev", plug=True)
    decision(pc, "1-2")
    pc.set_attr(PERSONAL, "authorized", "1")  # root wrote it by hand
    pc.tb.uevent(PERSONAL, "change")
    pc.wait_attr(PERSONAL, "authorized", "0")


def test_removal_is_recorded(pc):
    pc.start(COUNCIL_RULES)
    pc.add("keyboard.umockdev", plug=True)
    pc.wait_attr(KEYBOARD, "authorized", "1")
    pc.unplug(KEYBOARD)
    pc.wait_record(lambda r: r["event.action"] == "device-removed")


def test_non_usb_media_are_made_unreachable(pc):
    pc.add("sata-optical.umockdev")
    pc.add("mmc-sd-reader.umockdev")
    os.makedirs(pc.root + "/sys/bus/mmc/drivers/mmcblk", exist_ok=True)
    open(pc.root + "/sys/bus/mmc/drivers/mmcblk/unbind", "w").close()
    pc.start(COUNCIL_RULES)
    r = decision(pc, "sr0")
    assert r["event.action"] == "device-blocked" and r["volume.bus_type"] == "scsi"
    assert decision(pc, "mmcblk0")["volume.bus_type"] == "mmc"
    sr0_dev = os.path.realpath(pc.root + "/sys/class/block/sr0") + "/../.."
    deadline = time.time() + 5
    while time.time() < deadline:
        with open(sr0_dev + "/delete") as f:
            delete = f.read().strip()
        with open(pc.root + "/sys/bus/mmc/drivers/mmcblk/unbind") as f:
            unbind = f.read().strip()
        if delete == "1" and unbind:
            break
        time.sleep(0.05)
    assert delete == "1"
    assert unbind == "mmc0:aaaa"


def test_engine_death_means_no_new_authorisation_until_it_is_back(pc):
    pc.start(COUNCIL_RULES)
    from harness import engine_children
    engine = engine_children(pc.daemon.pid)[0]
    os.kill(engine, signal.SIGKILL)
    pc.add("keyboard.umockdev", plug=True)  # arrives while no engine runs
    assert pc.attr(KEYBOARD, "authorized") == "0"
    # The restarted engine rescans and decides it.
    pc.wait_attr(KEYBOARD, "authorized", "1", timeout=15)
    assert "engine exited" in pc.log()
    # The trail says why there was a gap: the new engine's first security record.
    r = pc.wait_record(lambda r: r.get("event.action") == "engine-restarted")
    assert "killed by signal 9" in r["event.reason"] and r["event.outcome"] == "failure"


def test_cli_devices_lists_states_and_rules(pc):
    pc.add("stick-personal.umockdev")
    pc.add("keyboard.umockdev")
    pc.start(COUNCIL_RULES)
    out = pc.cli("devices").stdout
    lines = {l.split()[0]: l for l in out.splitlines()[1:]}
    assert "blocked" in lines["1-2"] and "no-match" in lines["1-2"]
    assert "allowed" in lines["1-10"] and "rules.conf:5" in lines["1-10"]


def test_cli_watch_follows_decisions(pc):
    pc.start(COUNCIL_RULES)
    w = subprocess.Popen([pc.cli_path(), "watch"], env=pc.env(), stdout=subprocess.PIPE)
    lines = []
    try:
        deadline = time.monotonic() + 30
        while not connected(w.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # its request read by the engine before the plug
        pc.add("stick-personal.umockdev", plug=True)
        # Read with a deadline: a watch that missed the plug fails here, never hangs.
        read_lines_until(w, lines, lambda l: "device-blocked" in l, deadline)
    finally:
        w.terminate()
        w.wait()
    assert len(lines) >= 2, lines
    assert "device-inserted" in lines[0] and "device-blocked" in lines[1], lines
    assert "090c:1000" in lines[1]


def test_config_check_reports_file_and_line(pc):
    path = pc.config(COUNCIL_RULES + "allow id 12345:1\n")
    with open(path, "a") as f:
        f.write("authorized-default = sometimes\n")
    with open(path) as f:
        line = len(f.read().splitlines())
    r = subprocess.run([DAEMON, "-c", path, "-n"], capture_output=True, text=True)
    assert r.returncode != 0
    assert ("portcullisd.conf:%d: authorized-default: unknown value 'sometimes'" % line
            in r.stderr), r.stderr
    with open(path) as f:
        good = "".join(l for l in f if not l.startswith("authorized-default"))
    with open(path, "w") as f:
        f.write(good)
    r = subprocess.run([DAEMON, "-c", path, "-n"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "rules.conf:9: id: invalid device id '12345:1'" in r.stderr, r.stderr


def test_policy_generate_and_check(pc):
    for f in ("hub-genesys.umockdev", "stick-council.umockdev", "badusb.umockdev"):
        pc.add(f)
    out = pc.cli("policy", "generate").stdout
    rules = [l for l in out.splitlines() if l.startswith("allow")]
    assert len(rules) == 5  # usb1, usb2, hub, stick, badusb
    assert any('serial "4C530001140516116522"' in l for l in rules)
    path = os.path.join(pc.work, "generated.rules")
    with open(path, "w") as f:
        f.write(out)
    assert "5 rules, OK" in pc.cli("policy", "check", path).stdout
    with open(path, "a") as f:
        f.write("allow with-interface { 08:06 }\n")
    r = pc.cli("policy", "check", path, check=False)
    assert r.returncode == 1 and "generated.rules:7:" in r.stderr


def test_the_trail_verifies_with_the_it_providers_key(pc):
    pc.add("stick-personal.umockdev")
    pc.start(COUNCIL_RULES)
    pc.add("keyboard.umockdev", plug=True)
    pc.wait_attr(KEYBOARD, "authorized", "1")
    pc.stop()
    r = pc.verify()
    assert r.returncode == 0, r.stdout + r.stderr
    seqs = [int(x["seq"]) for x in pc.records()]
    assert seqs == sorted(seqs) and len(seqs) >= 6


def test_daemon_refuses_to_start_without_an_enrolled_trail(pc):
    pc.enrol = lambda: None  # the IT provider skipped enrolment
    d = pc.start(COUNCIL_RULES, wait=False)
    assert d.wait(timeout=10) != 0
    assert "not enrolled" in pc.log()
    assert pc.attr(HUB, "authorized_default") == "0"  # still gated: nothing new gets in


def test_another_device_at_a_port_whose_removal_was_lost_is_decided_on_its_own(pc):
    """The kernel numbers each device at a port anew: udev's replay of an add (same
    number) is no news, and an add with another number is another device, the one
    recorded there having left unseen. It leaves first; nothing of it carries over."""
    pc.start(COUNCIL_RULES)
    pc.add("keyboard.umockdev", plug=True)
    pc.wait_attr(KEYBOARD, "authorized", "1")
    pc.kernel_configure(KEYBOARD)
    pc.tb.uevent(KEYBOARD, "add")  # udevadm trigger --action=add
    pc.wait_quiet()

    def device_actions():
        return [a for a in actions_for(pc.records(), "1-10") if a.startswith("device-")]
    assert device_actions() == ["device-inserted", "device-allowed"]
    # The keyboard goes without a remove uevent; a personal stick takes its port.
    for p in sorted(pc.children(KEYBOARD), key=len, reverse=True) + [KEYBOARD]:
        pc.tb.remove_device(p)
    pc.add("stick-personal.umockdev", plug=True, port=("1-2", "1-10"))
    pc.wait_record(lambda r: r["event.action"] == "device-blocked" and
                   r.get("volume.device_name") == "1-10")
    assert device_actions() == ["device-inserted", "device-allowed", "device-removed",
                                "device-inserted", "device-blocked"]
    gone = [r for r in pc.records() if r["event.action"] == "device-removed"][0]
    assert gone["volume.vendor_id"] == "046d" and "not seen" in gone["event.reason"]
    assert pc.attr(KEYBOARD, "authorized") == "0"


def test_the_devices_behind_a_hub_replaced_unseen_leave_with_it(pc):
    pc.start(COUNCIL_RULES)
    pc.add("hub-genesys.umockdev", plug=True)
    pc.wait_attr(HUB + "/1-1", "authorized", "1")
    pc.kernel_configure(HUB + "/1-1")
    pc.add("stick-council.umockdev", plug=True)
    pc.wait_attr(COUNCIL, "authorized", "1")
    # The hub and its stick go without a uevent; a keyboard is plugged at the hub's port.
    for p in sorted(pc.children(HUB + "/1-1"), key=len, reverse=True) + [HUB + "/1-1"]:
        pc.tb.remove_device(p)
    pc.add("keyboard.umockdev", plug=True, port=("1-10", "1-1"))
    pc.wait_record(lambda r: r["event.action"] == "device-allowed" and
                   r.get("volume.vendor_id") == "046d")
    gone = [r["volume.device_name"] for r in pc.records()
            if r["event.action"] == "device-removed"]
    assert sorted(gone) == ["1-1", "1-1.1"]
    listed = [l.split()[0] for l in pc.cli("devices").stdout.splitlines()[1:]]
    assert listed == ["1-1"], listed


def test_a_device_half_made_when_the_engine_looked_is_decided_at_its_add(pc):
    """The kernel makes a device's sysfs directory before its attributes, and announces
    it only once they are there: a look between the two (the engine's scan at start) finds
    no identity and leaves it blocked. The add that follows is news, not udev's replay of
    what was decided: the device is decided by what it is."""
    pc.add("keyboard.umockdev", plug=True)
    blob = os.path.join(pc.root + KEYBOARD, "descriptors")
    with open(blob, "rb") as f:
        descriptors = f.read()
    os.remove(blob)
    pc.start(COUNCIL_RULES)
    first = decision(pc, "1-10")
    assert first["event.action"] == "device-blocked"
    assert "descriptors" in first["event.reason"], first
    with open(blob, "wb") as f:
        f.write(descriptors)
    pc.tb.uevent(KEYBOARD, "add")
    pc.wait_attr(KEYBOARD, "authorized", "1")
    assert decision(pc, "1-10")["event.action"] == "device-allowed"
