"""The owed wipe follows the stick across the council's PCs: a take-out stick written on
PC 1 is not wiped there; the IT provider's collector lists it as owed from PC 1's verified
trail (`portcullis fleet owed`); the council bundle carries the list to PC 2, which
recognises the stick, lets it in read-only, and wipes it at eject; the owed wipe closes
(fleet shows it closed). One that never comes back stays owed, then is overdue, until it
is closed by hand with a reason. Two simulated PCs (separate umockdev beds, trails and
daemons), the token simulator as the Clerk's key, a real ext4 medium on a loop device."""
import glob
import json
import os
import re
import subprocess
import time

from approvals import PERSONAL, PROFILES, RULES, enrol, load_people, medium_in, start
from harness import as_user

WATTON = os.path.join(PROFILES, "watton.profile")


def plugged_in(pc, medium, read_only):
    return medium_in(pc, medium, PERSONAL, read_only)


def take_out(pc, key, medium):
    """PC 1: a read-write exception, a file written, ejected and unplugged: wipe-owed."""
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    pc.cli("approve", "1-2", "--read-write", "--reason", "papers for the meeting", "--key",
           "sim:" + key.sock)
    assert plugged_in(pc, medium, False)["wipe.plan"] == "owed"
    marker = b"TAKEN-OUT-" + os.urandom(8).hex().encode()
    src = os.path.join(pc.work, "papers.txt")
    with open(src, "wb") as f:
        f.write(marker * 512)
    os.chmod(src, 0o644)
    as_user(4242, "cp", src, medium.mnt + "/papers.txt")
    pc.wait_record(lambda r: r["event.action"] == "file-written", timeout=20)
    medium.umount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped", timeout=20)
    pc.unplug(PERSONAL)
    owed = pc.wait_record(lambda r: r["event.action"] == "wipe-owed", timeout=20)
    assert not [r for r in pc.records() if r["event.action"] == "wipe-requested"]
    with open(medium.loop, "rb") as f:
        assert marker in f.read()  # not wiped on the PC that wrote it
    return owed, marker


class Collector:
    """The IT provider's collector: each PC's trail as rsyslog would have collected it."""

    def __init__(self, pc, tmp):
        self.cli = pc.cli
        self.fleet = os.path.join(tmp, "fleet")
        self.out = os.path.join(tmp, "collected")

    def collect(self, pc, name):
        d = os.path.join(self.out, "watton", name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "trail.log"), "wb") as f:
            for seg in sorted(glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl"))):
                with open(seg, "rb") as s:
                    f.write(s.read())
        if not os.path.exists(os.path.join(self.fleet, "watton", name)):
            self.cli("fleet", "add", "--fleet", self.fleet, "--council", "watton", "--pc",
                     name, "--key", pc.audit_key)
        r = self.cli("fleet", "verify", "--fleet", self.fleet, "--collected", self.out,
                     check=False)
        assert "FAIL" not in r.stdout, r.stdout

    def owed(self, *more):
        r = self.cli("fleet", "owed", "--fleet", self.fleet, "--council", "watton",
                     "--format", "json", *more)
        return json.loads(r.stdout)

    def status(self, *more):
        return self.cli("fleet", "status", "--fleet", self.fleet, *more).stdout


def test_a_take_out_stick_is_wiped_on_another_pc_of_the_council(pc, pc2, key, medium,
                                                                 tmp_path):
    start(pc, audit_origin="watton/pc01")
    start(pc2, audit_origin="watton/pc02")
    assert enrol(pc, key).returncode == 0
    assert enrol(pc2, key).returncode == 0
    owed, marker = take_out(pc, key, medium)
    pc.stop()
    col = Collector(pc, str(tmp_path))
    col.collect(pc, "pc01")
    [entry] = col.owed()
    assert entry["ref"] == owed["approval.ref"] and entry["state"] == "wipe-owed"
    assert entry["usb_hash"] == owed["usb.hash"] and entry["serial"] == "AA00000000011111"
    assert entry["pc"] == "pc01"
    assert "owed wipes: 1 open, 0 overdue" in col.status()
    owed_json = tmp_path / "owed.json"
    owed_json.write_text(json.dumps(col.owed()))
    # The council bundle carries it, signed with the rest, to every PC.
    rules = tmp_path / "council-rules.conf"
    rules.write_text(RULES)
    bundle = tmp_path / "watton-1.bundle"
    pc2.cli("bundle", "build", "--profile", WATTON, "--rules", str(rules), "--version", "1",
            "--owed", str(owed_json), "--out", str(bundle), "--key", "sim:" + key.sock)
    shown = pc2.cli("bundle", "show", str(bundle)).stdout
    assert "owed wipes: 1" in shown and owed["approval.ref"] in shown, shown
    pc2.cli("bundle", "apply", str(bundle))
    people = load_people()
    bus = people.SessionBus()
    notifier = people.Notifier(pc2, bus)
    try:
        notifier.wait_following()
        # PC 2 recognises the stick: read-only, so that its transfer can finish, and its
        # owner is told it will be wiped.
        pc2.add("stick-personal.umockdev", plug=True)
        found = pc2.wait_record(lambda r: r["event.action"] == "wipe-owed-found")
        assert found["wipe.owed_ref"] == owed["approval.ref"]
        n = bus.wait_notification(lambda n: "will be wiped" in n["summary"])
        assert n["summary"] == "SMI Corporation Flash Disk will be wiped"
        assert n["body"] == (
            "Why: it was written on a council computer and taken out: the council's rules "
            "say it is wiped when it comes back.\n"
            "What to do: copy its files off it now if you need them (it is read-only): "
            "everything on it will be erased when you eject it.")
        started = plugged_in(pc2, medium, True)
        assert started["wipe.plan"] == "at-eject"
        n = bus.wait_notification(lambda n: "recorded" in n["summary"])
        assert "everything on it will be erased when you eject it" in n["body"], n
    finally:
        notifier.close()
        bus.close()
    with open(medium.mnt + "/papers.txt", "rb") as f:
        assert f.read(len(marker)) == marker  # it arrived
    pc2.wait_record(lambda r: r["event.action"] == "file-read", timeout=20)
    medium.umount()
    done = pc2.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                           timeout=120)
    assert done["event.action"] == "wipe-done", str(done)
    assert done["wipe.certificate.certificate.approval"] == owed["approval.ref"]
    closed = pc2.wait_record(lambda r: r["event.action"] == "wipe-owed-closed")
    assert closed["approval.ref"] == owed["approval.ref"]
    assert closed["event.reason"] == "wiped on this PC"
    with open(medium.loop, "rb") as f:
        assert marker not in f.read()
    # Plugged again on PC 2 (its bundle still lists it): wiped here already, not again.
    pc2.unplug(PERSONAL)
    pc2.wait_record(lambda r: r["event.action"] == "device-removed")
    pc2.add("stick-personal.umockdev", plug=True)
    pc2.wait_record(lambda r: len([x for x in pc2.records()
                                   if x["event.action"] == "device-blocked"]) == 2)
    pc2.wait_quiet()
    assert len([r for r in pc2.records() if r["event.action"] == "wipe-owed-found"]) == 1
    assert pc2.attr(PERSONAL, "authorized") == "0"  # decided by the rules again
    pc2.stop()
    col.collect(pc2, "pc02")
    assert col.owed() == []
    assert "owed wipes: 0 open, 0 overdue" in col.status()


def test_a_stick_that_never_comes_back_is_owed_then_overdue_until_closed_by_hand(
        pc, key, medium, tmp_path):
    start(pc, audit_origin="watton/pc01")
    assert enrol(pc, key).returncode == 0
    owed, _ = take_out(pc, key, medium)
    ref = owed["approval.ref"]
    col = Collector(pc, str(tmp_path))
    col.collect(pc, "pc01")  # collected as it runs: wipe-owed is sealed by a checkpoint
    now = int(time.time())
    # The Watton profile's limit (wipe-owed-days = 10), recorded by the PC, not the
    # collector's default of 14.
    assert owed["wipe.owed_days"] == 10
    assert [e["state"] for e in col.owed("--at", str(now + 9 * 86400))] == ["wipe-owed"]
    [late] = col.owed("--at", str(now + 11 * 86400))
    assert late["state"] == "wipe-owed-overdue" and late["age_days"] >= 10
    st = col.status("--at", str(now + 15 * 86400))
    assert "owed wipes: 1 open, 1 overdue" in st and ref in st, st
    prom = col.status("--at", str(now + 15 * 86400), "--format", "prometheus")
    assert 'portcullis_fleet_wipes_owed_overdue{council="watton"} 1' in prom, prom
    assert 'portcullis_fleet_wipes_owed_open{council="watton"} 1' in prom, prom
    # The owed wipe is the council's, not PC 1's: PC 1 owes nothing of its own.
    assert 'portcullis_fleet_wipes_owed{council="watton",pc="pc01"} 0' in prom, prom
    # The stick is lost: closed by hand, with a reason, by root (not by anyone).
    r = subprocess.run(["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups",
                        pc.cli_path(), "media", "close-owed", ref, "--reason", "lost"],
                       env=pc.env(), capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "only root" in r.stderr, r.stderr
    r = pc.cli("media", "close-owed", ref, check=False)
    assert r.returncode != 0
    r = pc.cli("media", "close-owed", "A-XYZ", "--reason", "lost", check=False)
    assert r.returncode != 0 and "16 lower-case hex" in r.stderr, r.stderr
    pc.cli("media", "close-owed", ref, "--reason", "reported lost by Cllr Brown")
    closed = pc.wait_record(lambda r: r["event.action"] == "wipe-owed-closed")
    assert closed["event.reason"] == "closed by hand: reported lost by Cllr Brown"
    assert closed["approval.ref"] == ref and closed["user.id"] == 0
    pc.stop()
    col.collect(pc, "pc01")
    assert col.owed("--at", str(now + 15 * 86400)) == []


COUNCIL = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.1"
COUNCIL_RULE = ('allow id 0781:5581 serial "4C530001140516116522" with-interface equals '
                '{ 08:06:50 } label "council stick WTC-0007"\n')


def start_with_council_stick(pc, origin):
    pc.start(RULES + COUNCIL_RULE, wait=False, profile=WATTON, audit_origin=origin)
    pc.wait_record(lambda r: r["event.action"] == "service-started")
    pc.wait_quiet()


def council_stick_in(pc, medium, read_only):
    pc.add("hub-genesys.umockdev", plug=True)
    pc.add("stick-council.umockdev", plug=True)
    medium_in(pc, medium, COUNCIL, read_only)


def test_a_council_stick_written_and_taken_out_owes_its_wipe_too(pc, pc2, key, medium,
                                                                 tmp_path):
    start_with_council_stick(pc, "watton/pc01")
    start_with_council_stick(pc2, "watton/pc02")
    assert enrol(pc2, key).returncode == 0
    council_stick_in(pc, medium, False)
    src = os.path.join(pc.work, "agenda.txt")
    marker = b"COUNCIL-STICK-" + os.urandom(8).hex().encode()
    with open(src, "wb") as f:
        f.write(marker * 512)
    os.chmod(src, 0o644)
    as_user(4242, "cp", src, medium.mnt + "/agenda.txt")
    pc.wait_record(lambda r: r["event.action"] == "file-written", timeout=20)
    medium.umount()
    pc.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped", timeout=20)
    pc.unplug(COUNCIL)
    owed = pc.wait_record(lambda r: r["event.action"] == "wipe-owed", timeout=20)
    assert "council stick" in owed["event.reason"]
    assert owed["volume.serial_number"] == "4C530001140516116522"
    assert re.fullmatch(r"A-[0-9a-f]{16}", owed["approval.ref"])
    with open(medium.loop, "rb") as f:
        assert marker in f.read()
    pc.stop()
    col = Collector(pc, str(tmp_path))
    col.collect(pc, "pc01")
    owed_json = tmp_path / "owed.json"
    owed_json.write_text(json.dumps(col.owed()))
    rules = tmp_path / "council-rules.conf"
    rules.write_text(RULES + COUNCIL_RULE)
    bundle = tmp_path / "watton-1.bundle"
    pc2.cli("bundle", "build", "--profile", WATTON, "--rules", str(rules), "--version", "1",
            "--owed", str(owed_json), "--out", str(bundle), "--key", "sim:" + key.sock)
    pc2.cli("bundle", "apply", str(bundle))
    # On PC 2 the rules allow it, but it owes a wipe: read-only, wiped at eject.
    council_stick_in(pc2, medium, True)
    found = pc2.wait_record(lambda r: r["event.action"] == "wipe-owed-found")
    assert found["wipe.owed_ref"] == owed["approval.ref"]
    with open(medium.mnt + "/agenda.txt", "rb") as f:
        assert f.read(len(marker)) == marker
    medium.umount()
    done = pc2.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                           timeout=120)
    assert done["event.action"] == "wipe-done", str(done)
    pc2.wait_record(lambda r: r["event.action"] == "wipe-owed-closed")
    pc2.stop()
    col.collect(pc2, "pc02")
    assert col.owed() == []
