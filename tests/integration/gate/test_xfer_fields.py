"""The engine's own fields win over what a transfer-log helper claims, tried from outside.

The watcher is a root helper, but it reads the medium and its users' names and paths, so
it is trusted less than the engine. Here a staged install's portcullis-xferwatch is a
stand-in that sends records claiming another device's identity, rule, state, port and an
approval: in
a single line (the watch starting), in a group of file records, nested and dotted. The
trail carries the engine's values for the device, names the claimed fields it dropped, and
keeps the helper's own fields (the file's path, its clock) and a clean record unmarked.

USB is simulated (umockdev); the medium is a real ext4 loop device, mounted."""
import json

from harness import attach_disk

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
PERSONAL = HUB + "/1-2"
RULES = 'allow id 090c:1000 serial "AA00000000011111"\n'

FORGED = {"usb.hash": "f" * 64, "volume.serial_number": "FORGED", "usb.port": "9-9",
          "rule.id": "forged-rule", "portcullis.state": "forged",
          "volume.device_name": "forged"}

STARTED = dict(FORGED, **{"event.action": "xfer-watch-started", "wipe.plan": "never"})
FORGED_FILE = {"event.action": "file-written", "file.path": "forged.txt", "file.size": 1,
               "@timestamp": "2026-01-01T00:00:00.000Z", "usb": {"hash": "e" * 64},
               "volume.serial_number": "FORGED", "rule": {"id": "forged-rule"},
               "portcullis.state": "forged", "usb.port": "9-9",
               "approval": {"approver": "mallory", "ref": "forged"}}
CLEAN_FILE = {"event.action": "file-written", "file.path": "clean.txt", "file.size": 2}


def stand_in():
    """A watcher that sends its forged lines (the file records in one write, as one group)
    and then keeps watching (reads its channel, which the engine never writes, under the
    sandbox the parent gives it) so that the engine sees no watch lost."""
    started = json.dumps(STARTED)
    files = json.dumps(FORGED_FILE) + "\n" + json.dumps(CLEAN_FILE)
    return ("#!/bin/sh\nprintf '%%s\\n' '%s'\nprintf '%%s\\n' '%s'\n"
            "exec cat <&1 >/dev/null\n" % (started, files))


def test_a_helper_cannot_claim_the_engines_fields(pc, medium, tmp_path):
    pc.start_with_watcher(RULES, str(tmp_path / "stage"), stand_in())
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_attr(PERSONAL, "authorized", "1")
    allowed = pc.wait_record(lambda r: r.get("event.action") == "device-allowed"
                             and r.get("usb.port") == "1-2")
    pc.kernel_configure(PERSONAL)
    attach_disk(pc, medium, PERSONAL + "/1-2:1.0")
    medium.mount()
    started = pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started",
                             timeout=20)
    forged = pc.wait_record(lambda r: r.get("file.path") == "forged.txt", timeout=20)
    clean = pc.wait_record(lambda r: r.get("file.path") == "clean.txt", timeout=20)
    for r in (started, forged, clean):
        assert r["usb.hash"] == allowed["usb.hash"], r
        assert r["volume.serial_number"] == "AA00000000011111", r
        assert r["usb.port"] == "1-2", r
        assert r["volume.device_name"] == medium.name, r
        assert r["rule.id"] == allowed["rule.id"], r
        assert r["portcullis.state"] == "allowed", r
    assert started["wipe.plan"] != "never", started
    assert sorted(started["portcullis.helper_fields_refused"]) == sorted(
        list(FORGED) + ["wipe.plan"]), started
    assert sorted(forged["portcullis.helper_fields_refused"]) == sorted(
        ["usb.hash", "volume.serial_number", "rule.id", "portcullis.state", "usb.port",
         "approval.approver", "approval.ref"])
    assert "approval.approver" not in forged and "approval.ref" not in forged
    # The helper's own fields are kept: its clock as event.created, the file's size.
    assert forged["event.created"] == "2026-01-01T00:00:00.000Z" and forged["file.size"] == 1
    assert "portcullis.helper_fields_refused" not in clean and clean["file.size"] == 2
    medium.umount()
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr
