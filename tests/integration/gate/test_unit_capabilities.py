"""The daemon with exactly the capabilities of the shipped unit (its
CapabilityBoundingSet=, read from udev/portcullisd.service, applied with setpriv after
tmpfiles.d's and postinst's work), in the umockdev test bed with a real medium.

With that set the transfer log (names, programs) and the wipe (certificates in the
root-owned directory) work; each capability left in it is needed: without it the function
it is kept for fails, and fails closed. docs/packaging.md ("Exposure") names these tests
as what justifies each capability."""
import os
import signal
import time

import pytest

from harness import as_user, storage_in, unit_capabilities

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
PERSONAL = HUB + "/1-2"
RULES = 'allow id 090c:1000 serial "AA00000000011111"\n'
LOCAL_USER = 4242  # neither root nor the engine's user


def approved_stick(pc, medium, caps, transfer_log=None):
    pc.start(RULES, caps=caps, **({"transfer_log": transfer_log} if transfer_log else {}))
    pc.add("stick-personal.umockdev", plug=True)
    storage_in(pc, medium, PERSONAL)


def copy_as_user(pc, medium, name):
    src = os.path.join(pc.work, name)
    with open(src, "wb") as f:
        f.write(os.urandom(4096))
    os.chmod(src, 0o644)
    as_user(LOCAL_USER, "cp", src, os.path.join(medium.mnt, name))
    return pc.wait_record(lambda r: r.get("event.action") == "file-written"
                          and r.get("file.path") == name, timeout=20)


def test_the_units_capabilities_are_enough_for_the_transfer_log_and_the_wipe(pc, medium):
    caps = unit_capabilities()
    assert "CAP_DAC_OVERRIDE" not in caps and "CAP_CHOWN" not in caps
    approved_stick(pc, medium, caps)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    # CAP_SYS_PTRACE: the program that wrote the file, another user's process.
    rec = copy_as_user(pc, medium, "minutes.odt")
    assert rec.get("process.executable") == "/usr/bin/cp", rec
    assert rec.get("user.id") == LOCAL_USER
    # CAP_DAC_READ_SEARCH: a deleted file is named through its directory's handle.
    as_user(LOCAL_USER, "rm", os.path.join(medium.mnt, "minutes.odt"))
    pc.wait_record(lambda r: r.get("event.action") == "file-deleted"
                   and r.get("file.path") == "minutes.odt", timeout=20)
    assert medium.umount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-stopped", timeout=20)
    # The wipe: root without CAP_DAC_OVERRIDE makes its certificates in root's directory.
    r = pc.cli("wipe", "1-2", check=False)
    assert r.returncode == 0, r.stdout + r.stderr + pc.log()
    done = pc.wait_record(lambda x: x.get("event.action") == "wipe-done", timeout=60)
    certs = os.path.join(pc.conf["state-dir"], "certificates")
    name = os.path.basename(done["wipe.certificate_file"])
    assert os.lstat(os.path.join(certs, name)).st_uid == 0
    # CAP_KILL: a reload reaches the engine, which runs as another uid.
    pc.daemon.send_signal(signal.SIGHUP)
    pc.wait_record(lambda x: x.get("event.action") == "policy-changed", timeout=20)


def test_without_cap_sys_admin_the_transfer_log_cannot_start_and_the_stick_is_blocked(
        pc, medium):
    approved_stick(pc, medium, unit_capabilities(drop=("CAP_SYS_ADMIN",)))
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") in ("xfer-watch-failed",
                                                       "xfer-watch-lost"), timeout=20)
    pc.wait_attr(PERSONAL, "authorized", "0")


def test_without_cap_sys_ptrace_the_transfer_log_cannot_name_the_program(pc, medium):
    """Under fanotify, the backend wherever the eBPF program cannot load, the program is
    read from /proc/PID/exe. (Under eBPF the kernel names a program started after the
    program loaded; an older one is read from /proc too.)"""
    opts = os.path.join(pc.work, "transfer-log.conf")
    with open(opts, "w") as f:
        f.write("xfer-backend = fanotify\n")
    approved_stick(pc, medium, unit_capabilities(drop=("CAP_SYS_PTRACE",)), opts)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    rec = copy_as_user(pc, medium, "minutes.odt")
    assert rec.get("process.executable", "") != "/usr/bin/cp", rec


def test_without_cap_dac_read_search_the_parent_cannot_open_the_engines_directories(pc):
    """The parent opens the engine user's directories (0750) at start, to check them and
    its trail; portcullis-xferwatch needs the same capability for open_by_handle_at."""
    pc.start(RULES, wait=False, caps=unit_capabilities(drop=("CAP_DAC_READ_SEARCH",)))
    assert pc.daemon.wait(timeout=20) == 1
    assert "%s: Permission denied" % pc.conf["state-dir"] in pc.log()


@pytest.mark.parametrize("cap", ["CAP_SETUID", "CAP_SETGID"])
def test_without_cap_setuid_or_setgid_the_engine_cannot_drop_and_nothing_is_let_in(pc, cap):
    pc.start(RULES, wait=False, caps=unit_capabilities(drop=(cap,)))
    wait_log(pc, "cannot drop privileges")
    pc.add("stick-personal.umockdev", plug=True)  # the stick the rules would allow
    wait_log(pc, "cannot drop privileges", count=2)  # an engine restarted meanwhile
    assert pc.attr(PERSONAL, "authorized") == "0"
    assert not any(r.get("event.action") == "service-started" for r in pc.records())


def test_without_cap_kill_the_engine_cannot_be_told_to_reload(pc):
    pc.start(RULES, caps=unit_capabilities(drop=("CAP_KILL",)))
    pc.daemon.send_signal(signal.SIGHUP)
    wait_log(pc, "cannot tell the engine to reload its rules: Operation not permitted")
    assert not any(r.get("event.action") == "policy-changed" for r in pc.records())


def wait_log(pc, text, count=1, timeout=20):
    end = time.time() + timeout
    while pc.log().count(text) < count:
        assert time.time() < end, pc.log()
        time.sleep(0.1)
