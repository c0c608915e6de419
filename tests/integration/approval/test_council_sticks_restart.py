"""A plain council stick under `council-sticks = luks2` is recorded `device-read-only`
once per arrival: when the service restarts with the stick still in, it is set read-only
again without a second record. A real medium on a loop device behind the simulated stick
(the test bed cannot attach the same loop device twice, so a second arrival is not shown
here)."""
import os
import time

from harness import real, storage_in

STICK = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
RULES = 'allow id 090c:1000 serial "AA00000000011111" label "council stick PC-STICK-07"\n'


def luks2_profile(pc):
    src = os.path.join(os.environ["PCL_SOURCE_DIR"], "profiles", "fakenham.profile")
    with open(src) as f:
        text = f.read().replace("council-sticks = any", "council-sticks = luks2")
    assert "council-sticks = luks2" in text
    path = os.path.join(pc.work, "council.profile")
    with open(path, "w") as f:
        f.write(text)
    return path


def marked(pc):
    return [r for r in pc.records() if r["event.action"] == "device-read-only"]


def read_only(medium):
    out = real(["blockdev", "--getro", medium.loop], capture_output=True, text=True)
    return out.stdout.strip() == "1"


def daemon_log(pc):
    with open(os.path.join(pc.work, "daemon.log")) as f:
        return f.read()


def test_a_plain_council_stick_is_recorded_read_only_once_per_arrival(pc, medium):
    profile = luks2_profile(pc)
    pc.start(RULES, profile=profile)
    pc.add("stick-personal.umockdev", plug=True)
    storage_in(pc, medium, STICK, probe=True)
    rec = pc.wait_record(lambda r: r["event.action"] == "device-read-only")
    assert rec["event.outcome"] == "success" and read_only(medium)
    # The service restarts (an update, a crash) with the stick still in. Its disk is
    # made read-only again (the flag is lifted first, so that this is seen), and the
    # engine says so in its log; the trail does not get a second record of it.
    for _ in range(2):
        pc.stop()
        real(["blockdev", "--setrw", medium.loop], check=True)
        assert not read_only(medium)
        pc.start(RULES, profile=profile)
        deadline = time.monotonic() + 20
        while "set read-only again" not in daemon_log(pc) and len(marked(pc)) == 1:
            assert time.monotonic() < deadline, daemon_log(pc)
            time.sleep(0.1)
        pc.wait_quiet()
        assert len(marked(pc)) == 1, marked(pc)
        assert read_only(medium)
    assert pc.verify().returncode == 0
