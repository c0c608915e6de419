"""A compromised engine, driving the root parent through its channel.

The engine is its own program (libexec/portcullis/portcullis-engine), exec'd by the
parent. In a staged copy of the install it is replaced by a test program in C
(pcl-fake-engine, fake_engine.c) that speaks the parent-engine protocol through lib/ipc
and, started as the engine is, under the launcher's filter, asks for what a
compromised engine would: read-only, a wipe or a transfer-log helper on the system disk,
on a loop device not under USB, on the stick's disk under a stale bus/device number.
Every such request is refused; the same request for the stick's own disk, as the parent
authorised it, is carried out (so the refusals are not an artefact of the test bed). The
same for a grant in two steps: a commit that is not the request right after the prepare
of that very device writes nothing, and only an accepted prepare's answer carries a
descriptor (the checked device's authorized file)."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from harness import DAEMON, RealMedium, attach_disk, real

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
PERSONAL = HUB + "/1-2"
TWIN = HUB + "/1-3"
SATA = "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0"

# The compromised engine: tests/integration/gate/fake_engine.c, built with the tests.
FAKE_ENGINE = os.path.join(os.environ.get("PCL_BUILD_DIR", ""),
                           "tests/integration/gate/pcl-fake-engine")


@pytest.fixture
def media():
    stick, other = RealMedium(), RealMedium()
    yield stick, other
    stick.close()
    other.close()


def staged_copy(tmp):
    prefix = os.path.dirname(os.path.dirname(os.path.abspath(DAEMON)))
    copy = os.path.join(tmp, "stage")
    shutil.copytree(prefix, copy, symlinks=True)
    return copy


@pytest.mark.loop_devices
def test_a_compromised_engine_cannot_name_a_disk_the_parent_did_not_authorise(pc, media):
    stick, other = media
    work = tempfile.mkdtemp(prefix="pcl-fake-engine-")
    os.chmod(work, 0o755)
    try:
        # The system disk (SATA, fixed) and a loop device not under USB, in the test bed.
        pc.tb.add_from_string(
            "P: %s/block/sda\nE: DEVTYPE=disk\nE: SUBSYSTEM=block\nE: DEVNAME=/dev/sda\n"
            "A: dev=8:0\\n\nA: removable=0\\n\nA: size=1000000\\n\n" % SATA[len("/sys"):])
        pc.tb.add_from_string(
            "P: /devices/virtual/block/%s\nE: DEVTYPE=disk\nE: SUBSYSTEM=block\n"
            "A: dev=%s\\n\nA: removable=0\\n\nA: size=65536\\n\n" % (other.name, other.dev))
        pc.add("stick-personal.umockdev", plug=True)
        pc.kernel_configure(PERSONAL)
        attach_disk(pc, stick, PERSONAL + "/1-2:1.0")
        bus, num = int(pc.attr(PERSONAL, "busnum")), int(pc.attr(PERSONAL, "devnum"))
        go = os.path.join(work, "replugged")
        stick_ref = ("1-2", bus, num)
        requests = [
            ("authorize-stick", "authorize", stick_ref),
            ("ro-system-disk", "readonly", stick_ref + ("sda",)),
            ("ro-loop-not-usb", "readonly", stick_ref + (other.name,)),
            ("wipe-system-disk", "wipe", stick_ref + ("sda",)),
            ("xfer-loop-not-usb", "xfer", stick_ref + (other.name,)),
            ("detach-system-disk", "detach", ("sda",)),
            ("ro-unauthorised-device", "readonly", ("1-3", bus, num + 1, stick.name)),
            ("ro-stale-devnum", "readonly", ("1-2", bus, num + 1, stick.name)),
            ("ro-stick-disk", "readonly", stick_ref + (stick.name,)),  # the control
            ("wait", "wait", (go,)),
            ("ro-after-replug", "readonly", stick_ref + (stick.name,)),
            ("wipe-after-replug", "wipe", stick_ref + (stick.name,)),
        ]
        fake_engine_daemon(pc, work, requests)
        results = wait_results(pc, "ro-stick-disk")
        assert results["authorize-stick"] == 0
        assert results["ro-stick-disk"] == 0, pc.log()  # the parent does act for its own
        assert real(["blockdev", "--getro", stick.loop], capture_output=True,
                    text=True).stdout.strip() == "1"
        for label in ("ro-system-disk", "ro-loop-not-usb", "wipe-system-disk",
                      "xfer-loop-not-usb", "detach-system-disk", "ro-unauthorised-device",
                      "ro-stale-devnum"):
            assert results[label] == -1, (label, results[label], pc.log())  # EPERM
        assert real(["blockdev", "--getro", other.loop], capture_output=True,
                    text=True).stdout.strip() == "0"
        real(["blockdev", "--setrw", stick.loop], check=True)
        # Unplugged and another device given the same name: the parent's entry is gone.
        pc.set_attr(PERSONAL, "devnum", str(num + 7))
        open(go, "w").close()
        results = wait_results(pc, "done")
        assert results["ro-after-replug"] in (-1, -116), results  # EPERM or ESTALE
        assert results["wipe-after-replug"] in (-1, -116), results
        assert real(["blockdev", "--getro", stick.loop], capture_output=True,
                    text=True).stdout.strip() == "0"
        assert "portcullis wipe" not in pc.log() and "wipe job" not in pc.log()
    finally:
        pc.stop()
        shutil.rmtree(work, ignore_errors=True)


def fake_engine_daemon(pc, work, requests):
    """portcullisd from a staged copy whose engine is pcl-fake-engine with these requests."""
    copy = staged_copy(work)
    engine = os.path.join(copy, "libexec/portcullis/portcullis-engine")
    os.unlink(engine)
    shutil.copy(FAKE_ENGINE, engine)
    with open(engine + ".requests", "w") as f:
        for label, kind, fields in requests:
            f.write(" ".join([label, kind] + [str(x) for x in fields]) + "\n")
    path = pc.config("")
    pc.enrol()
    pc.stderr = open(os.path.join(pc.work, "daemon.log"), "w")
    pc.daemon = subprocess.Popen([os.path.join(copy, "sbin/portcullisd"), "-c", path, "-f"],
                                 env=pc.env(), stderr=pc.stderr)


def test_a_compromised_engine_cannot_commit_a_grant_it_did_not_prepare(pc):
    work = tempfile.mkdtemp(prefix="pcl-fake-engine-")
    os.chmod(work, 0o755)
    try:
        pc.add("stick-personal.umockdev", plug=True)
        pc.add("stick-personal-twin.umockdev", plug=True)
        for dev in (PERSONAL, TWIN):  # as on a gated hub (the fake engine decides nothing)
            pc.set_attr(dev, "authorized", "0")
        stick = ("1-2", int(pc.attr(PERSONAL, "busnum")), int(pc.attr(PERSONAL, "devnum")))
        twin = ("1-3", int(pc.attr(TWIN, "busnum")), int(pc.attr(TWIN, "devnum")))
        stale = stick[:2] + (stick[2] + 1,)
        go = os.path.join(work, "checked")
        fake_engine_daemon(pc, work, [
            ("commit-unprepared", "commit", stick),
            ("prepare-twin", "prepare", twin),
            ("commit-not-the-one-prepared", "commit", stick),
            ("commit-twin-too-late", "commit", twin),  # the failed commit ended the hold
            ("prepare-stick", "prepare", stick),
            ("request-between", "readonly", stick + ("sdz",)),
            ("commit-after-a-request-between", "commit", stick),
            ("prepare-stale", "prepare", stale),
            ("commit-stale", "commit", stale),
            ("wait", "wait", (go,)),
            ("prepare-control", "prepare", stick),
            ("commit-control", "commit", stick),
        ])
        results = wait_results(pc, "commit-stale")
        for label in ("commit-unprepared", "commit-not-the-one-prepared",
                      "commit-twin-too-late", "commit-after-a-request-between",
                      "commit-stale"):
            assert results[label] == -1, (label, results[label], pc.log())  # EPERM
        assert results["prepare-twin"] == 0 and results["prepare-stick"] == 0
        assert results["prepare-stale"] == -116  # ESTALE: checked as a grant in one step
        # A descriptor of the checked device's authorized with an accepted prepare's
        # answer only: none with a refusal, a commit or any other answer.
        fds = passed(pc)
        print("descriptors passed with the answers: %s" % fds)
        assert fds["prepare-twin"] and fds["prepare-stick"], fds
        assert not [l for l, got in fds.items() if got and not l.startswith("prepare-")], fds
        assert not fds["prepare-stale"], fds
        assert pc.attr(PERSONAL, "authorized") == "0" and pc.attr(TWIN, "authorized") == "0"
        open(go, "w").close()
        results = wait_results(pc, "done")
        assert results["prepare-control"] == 0 and results["commit-control"] == 0, pc.log()
        assert pc.attr(PERSONAL, "authorized") == "1"  # the parent does grant, in two steps
        assert pc.attr(TWIN, "authorized") == "0"
    finally:
        pc.stop()
        shutil.rmtree(work, ignore_errors=True)


def passed(pc):
    """Per label of the fake engine's answers: whether a descriptor came with it."""
    out = {}
    for line in pc.log().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "FAKE-ENGINE":
            out[parts[1]] = parts[3] == "fd"
    return out


def wait_results(pc, last, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = {}
        for line in pc.log().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "FAKE-ENGINE":
                out[parts[1]] = int(parts[2])
            elif parts[:2] == ["FAKE-ENGINE", "done"]:
                out["done"] = 0
        if last in out:
            return out
        if pc.daemon.poll() is not None:
            raise AssertionError("portcullisd exited:\n" + pc.log())
        time.sleep(0.05)
    raise AssertionError("the fake engine did not get its answers:\n" + pc.log())
