"""What a councillor sees: desktop notifications through a real session bus, and
`portcullis status`, from the staged portcullisd under umockdev with the gate's test bed."""
import hashlib
import os
import re
import subprocess
import time

import pytest

from conftest import Notifier

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
PERSONAL = HUB + "/1-2"

RULES = """\
allow with-interface match-all { 09:00:* }
allow id 0781:5581 serial "4C530001140516116522" with-interface equals { 08:06:50 } label "PC-STICK-01"
reject id 18d1:*
"""

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def request_code(usb_hash):
    """The request code as docs/clerk-guide.md defines it, computed independently."""
    d = hashlib.sha256(b"portcullis-request-code-v1\0" + usb_hash.encode()).digest()
    v = int.from_bytes(d[:5], "big")
    s = "".join(CROCKFORD[(v >> (5 * i)) & 31] for i in range(7, -1, -1))
    return s[:4] + "-" + s[4:]


def decision(pc, name):
    def match(r):
        return r.get("volume.device_name") == name and r["event.action"] in (
            "device-allowed", "device-blocked", "device-rejected")
    return pc.wait_record(match)


def words(text):
    return " ".join(text.split())


def start_notifier(pc, bus):
    n = Notifier(pc, bus, "--config", os.path.join(pc.work, "portcullisd.conf"))
    n.wait_following()
    time.sleep(0.2)  # the watch request is read by the engine's next poll round
    return n


def test_a_blocked_stick_is_notified_with_what_to_do_and_the_request_code(pc, session_bus):
    pc.start(RULES, retention="3")
    notifier = start_notifier(pc, session_bus)
    try:
        pc.add("stick-personal.umockdev", plug=True)
        rec = decision(pc, "1-2")
        assert rec["event.action"] == "device-blocked"
        code = request_code(rec["usb.hash"])
        n = session_bus.wait_notification(lambda n: "Flash Disk" in n["summary"])
        assert n["app_name"] == "Portcullis"
        assert n["summary"] == "SMI Corporation Flash Disk was blocked"
        assert n["body"] == (
            "Why: it is not on the council's list of approved devices.\n"
            "What to do: ask the Clerk to approve it, and quote this request code: " + code)
        assert n["hints"]["urgency"] == 1
        assert n["hints"]["desktop-entry"] == "portcullis-notify"
        # The device really is off: the notification follows the decision, not a guess.
        assert pc.attr(PERSONAL, "authorized") == "0"

        # `portcullis status` says the same thing, in the same words, on the console.
        st = pc.cli("status", "--config", os.path.join(pc.work, "portcullisd.conf"))
        out = words(st.stdout)
        assert "BLOCKED SMI Corporation Flash Disk (USB socket 1-2)" in out, st.stdout
        assert words(n["body"]) in out, st.stdout
        assert "The record is kept for 3 months, then deleted." in out, st.stdout
        assert max(len(l) for l in st.stdout.splitlines()) <= 80
        assert "\x1b" not in st.stdout
    finally:
        notifier.close()
    assert "SMI Corporation Flash Disk was blocked." in notifier.stdout()


def test_a_device_already_plugged_in_at_login_is_notified_once(pc, session_bus):
    pc.add("stick-personal.umockdev")
    pc.start(RULES)
    assert decision(pc, "1-2")["event.action"] == "device-blocked"
    notifier = start_notifier(pc, session_bus)
    try:
        session_bus.wait_notification(lambda n: "Flash Disk" in n["summary"])
        # Another device later: the first is not announced a second time.
        pc.add("phone-mtp-adb.umockdev", plug=True)
        n = session_bus.wait_notification(lambda n: "Pixel 7" in n["summary"])
        assert n["summary"] == "Google Pixel 7 was disconnected"
        assert "please unplug it" in n["body"]
        assert "request code: " + request_code(decision(pc, "1-7")["usb.hash"]) in n["body"]
        time.sleep(0.5)
        stick = [x for x in session_bus.notifications() if "Flash Disk" in x["summary"]]
        assert len(stick) == 1, session_bus.notifications()
    finally:
        notifier.close()


def test_unplugged_and_plugged_again_is_notified_again(pc, session_bus):
    pc.start(RULES)
    notifier = start_notifier(pc, session_bus)
    try:
        pc.add("stick-personal.umockdev", plug=True)
        session_bus.wait_notification(lambda n: "Flash Disk" in n["summary"])
        pc.unplug(PERSONAL)
        pc.wait_record(lambda r: r.get("event.action") == "device-removed")
        pc.add("stick-personal.umockdev", plug=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if len(session_bus.notifications()) == 2:
                break
            time.sleep(0.05)
        assert [n["summary"] for n in session_bus.notifications()] == [
            "SMI Corporation Flash Disk was blocked"] * 2
    finally:
        notifier.close()


def test_the_notifier_waits_for_the_service_and_follows_a_restart(pc, session_bus):
    pc.config(RULES)
    notifier = Notifier(pc, session_bus)  # started at login, before the service is up
    try:
        time.sleep(0.5)
        assert notifier.proc.poll() is None
        assert "cannot reach portcullisd" in notifier.stderr()
        pc.start(RULES)
        notifier.wait_following(timeout=20)
        pc.stop()
        pc.start(RULES)
        notifier.wait_following(count=2, timeout=40)
        time.sleep(0.2)
        pc.add("stick-personal.umockdev", plug=True)
        n = session_bus.wait_notification(lambda n: "Flash Disk" in n["summary"])
        assert "request code" in n["body"]
    finally:
        notifier.close()


def test_status_lists_what_works_and_what_is_blocked(pc):
    for f in ("hub-genesys.umockdev", "stick-council.umockdev", "stick-personal.umockdev"):
        pc.add(f)
    pc.start(RULES, retention="6")
    decision(pc, "1-2")
    decision(pc, "1-1.1")
    st = pc.cli("status", "--config", os.path.join(pc.work, "portcullisd.conf"),
                "--approver", "the Deputy Clerk")
    out = words(st.stdout)
    assert re.search(r"Works \S.* \(USB socket 1-1\.1\) It is approved by the council\. "
                     r"Files copied to or from it are recorded\.", out), st.stdout
    assert "ask the Deputy Clerk to approve it" in out
    assert "(USB socket 1-1)" not in out  # the hub is not a councillor's concern
    assert "kept for 6 months" in out
    assert out.count("request code:") == 1


def test_status_without_the_service_says_so_plainly(pc):
    pc.config(RULES)
    r = pc.cli("status", check=False)
    assert r.returncode == 1
    assert "the device protection service is not answering" in r.stderr
    assert "Please tell the Clerk." in r.stderr


def test_status_with_a_bad_config_does_not_guess_the_retention(pc):
    pc.add("stick-personal.umockdev")
    pc.start(RULES)
    decision(pc, "1-2")
    bad = os.path.join(pc.work, "bad.conf")
    with open(bad, "w") as f:
        f.write("retention = forever\n")
    st = pc.cli("status", "--config", bad)
    assert "kept for the period the council has set" in words(st.stdout)


def test_usage_errors(pc):
    for args in (["status", "extra"], ["notify", "--bogus"], ["status", "--config"]):
        r = subprocess.run([pc.cli_path()] + args, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, args
        assert "usage: portcullis" in r.stderr


def test_status_under_a_no_exceptions_policy_does_not_offer_approval(pc):
    pc.add("stick-personal.umockdev")
    pc.start(RULES)
    decision(pc, "1-2")
    st = pc.cli("status", "--no-exceptions")
    out = words(st.stdout)
    assert "please unplug it: the council does not allow personal storage devices" in out
    assert "request code" not in out


def test_status_takes_the_approver_and_the_exception_route_from_the_council_profile(pc):
    """No options: the profile named in portcullisd.conf says who approves (Wellington:
    the DSFM) and whether there is any exception route (Hednesford: none)."""
    profiles = os.path.join(os.environ["PCL_SOURCE_DIR"], "profiles")
    conf = os.path.join(pc.work, "portcullisd.conf")
    pc.add("stick-personal.umockdev")
    pc.start(RULES, profile=os.path.join(profiles, "wellington.profile"))
    decision(pc, "1-2")
    out = words(pc.cli("status", "--config", conf).stdout)
    assert "ask the DSFM to approve it, and quote this request code" in out, out
    pc.stop()
    pc.start(RULES, profile=os.path.join(profiles, "hednesford.profile"))
    decision(pc, "1-2")
    out = words(pc.cli("status", "--config", conf).stdout)
    assert "please unplug it: the council does not allow personal storage devices" in out
    assert "request code" not in out
    # An option still wins over the profile.
    out = words(pc.cli("status", "--config", conf, "--approver", "the Town Clerk").stdout)
    assert "ask the Town Clerk" in out or "To share a file, ask the Town Clerk" in out, out


def test_the_autostart_entry_is_installed_valid_and_starts_the_notifier():
    prefix = os.environ.get("PCL_PREFIX", "")
    entry = os.path.join(prefix, "etc/xdg/autostart/portcullis-notify.desktop")
    r = subprocess.run(["desktop-file-validate", entry], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    with open(entry) as f:
        lines = f.read().splitlines()
    assert "Exec=portcullis notify" in lines
    assert "Type=Application" in lines


@pytest.mark.loop_devices
def test_the_first_use_of_an_approved_stick_says_copies_are_recorded(pc, session_bus):
    """Transparency (ICO monitoring guidance): when an approved stick's medium is first
    mounted, the user is told that copies are recorded and for how long; once per plug."""
    from harness import RealMedium, attach_disk
    stick = HUB + "/1-2"
    pc.start('allow id 090c:1000 serial "AA00000000011111"\n', retention="3")
    notifier = start_notifier(pc, session_bus)
    medium = RealMedium()
    try:
        pc.add("stick-personal.umockdev", plug=True)
        pc.wait_attr(stick, "authorized", "1")
        pc.kernel_configure(stick)
        pc.wait_attr(stick + "/1-2:1.0", "authorized", "1")
        attach_disk(pc, medium, stick + "/1-2:1.0")
        medium.mount()
        n = session_bus.wait_notification(lambda n: "recorded" in n["summary"])
        assert n["summary"] == "Copies to and from SMI Corporation Flash Disk are recorded"
        assert "The record is kept for 3 months, then deleted." in n["body"]
        medium.umount()
        pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-stopped", timeout=20)
        medium.mount()  # the same plug: not said twice
        pc.wait_record(lambda r: len([x for x in pc.records()
                                      if x.get("event.action") == "xfer-watch-started"]) == 2,
                       timeout=20)
        time.sleep(1)
        assert len([x for x in session_bus.notifications()
                    if "recorded" in x["summary"]]) == 1
    finally:
        notifier.close()
        medium.close()
