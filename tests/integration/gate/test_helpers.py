"""The root helpers on an approved medium, tried from outside: as an ordinary local user,
as the engine's user, and by killing the transfer-log helper.

The transfer log never silently stops: its helper's output reaches the engine over a
private channel (not the users' control socket), and a helper that dies while its medium
is mounted de-authorises the device, with a security record. Root never writes where
the engine's user can: certificates go to a root-owned directory the parent holds open,
and the parent's start-up never follows a link planted in the state directory.

USB is simulated (umockdev); the medium is a real ext4 loop device, mounted, written by
another uid."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from harness import as_user, attach_disk, real, storage_in

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
PERSONAL = HUB + "/1-2"
RULES = 'allow id 090c:1000 serial "AA00000000011111"\n'
LOCAL_USER = 4242  # neither root nor the engine's user (nobody)
ENGINE_USER = 65534


def approved_stick(pc, medium):
    pc.start(RULES)
    pc.add("stick-personal.umockdev", plug=True)
    storage_in(pc, medium, PERSONAL)


def watcher_pids(mountpoint):
    """The transfer-log helpers watching this mount point (found by their command line)."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"portcullis-xferwatch") and mountpoint.encode() in argv:
            out.append(int(p))
    return out


def source_file(pc, name, size=20000):
    src = os.path.join(pc.work, name)
    with open(src, "wb") as f:
        f.write(os.urandom(size))
    os.chmod(src, 0o644)
    return src


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSYS])
def test_a_killed_transfer_log_deauthorises_the_stick_with_a_record(pc, medium, sig):
    approved_stick(pc, medium)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    src = source_file(pc, "before.odt")
    as_user(LOCAL_USER, "cp", src, medium.mnt + "/before.odt")
    pc.wait_record(lambda r: r.get("event.action") == "file-written"
                   and r.get("file.path") == "before.odt", timeout=20)
    pids = watcher_pids(medium.mnt)
    assert len(pids) == 1, pids
    os.kill(pids[0], sig)  # a crash, or its own filter killing it (SIGSYS)
    lost = pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-lost", timeout=20)
    assert lost["usb.port"] == "1-2" and lost["volume.serial_number"] == "AA00000000011111"
    # The parent reported how it ended: in that record, or in the one that follows it.
    pc.wait_record(lambda r: r.get("event.action") in ("xfer-watch-lost", "helper-exited")
                   and "killed by signal %d" % sig in r.get("event.reason", ""))
    # The device is gone from the PC: nothing more reaches the medium unrecorded.
    pc.wait_attr(PERSONAL, "authorized", "0")
    blocked = pc.wait_record(lambda r: r.get("event.action") == "device-blocked"
                             and r.get("usb.port") == "1-2"
                             and "could not be logged" in r.get("event.reason", ""))
    assert blocked["portcullis.state"] == "blocked"
    assert "allowed" not in [d.get("portcullis.state") for d in _devices(pc)]
    assert "engine exited" not in pc.log()
    medium.umount()
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr


def _devices(pc):
    import json
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(pc.conf["control-socket"])
    s.sendall(b'{"cmd":"devices"}\n')
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return [d for d in json.loads(data)["devices"] if d.get("usb.port") == "1-2"]


HOLDER = r"""
import socket, sys, time
held = []
for _ in range(256):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
    except OSError:
        break
    held.append(s)
print(len(held), flush=True)
time.sleep(3600)
"""


def test_a_local_user_holding_the_control_socket_cannot_switch_the_log_off(pc, medium):
    """A user who holds every connection the control socket will take, while an approved
    stick is mounted: every file copied to the stick is still recorded."""
    approved_stick(pc, medium)
    holder = subprocess.Popen(
        ["setpriv", "--reuid=%d" % LOCAL_USER, "--regid=%d" % LOCAL_USER, "--clear-groups",
         sys.executable, "-c", HOLDER, pc.conf["control-socket"]],
        stdout=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin"})
    try:
        assert int(holder.stdout.readline()) > 0
        time.sleep(0.5)  # the engine has accepted what it will
        medium.mount()
        pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
        names = ["minutes-%d.odt" % i for i in range(5)]
        for n in names:
            as_user(LOCAL_USER, "cp", source_file(pc, n), medium.mnt + "/" + n)
        for n in names:
            pc.wait_record(lambda r, n=n: r.get("event.action") == "file-written"
                           and r.get("file.path") == n, timeout=20)
        assert not any(r.get("event.action") == "xfer-watch-lost" for r in pc.records())
        assert pc.attr(PERSONAL, "authorized") == "1"
    finally:
        holder.kill()
        holder.wait()


def _root_dir(path, mode=0o700):
    os.mkdir(path, mode)
    os.chmod(path, mode)
    return os.stat(path)


def test_a_link_planted_in_the_state_directory_is_never_followed_at_start(pc):
    """The engine's user owns the state directory; a link it plants where the parent
    makes the certificates directory must not turn the parent's chmod/chown onto the
    link's target."""
    pc.start(RULES)
    pc.stop()
    victim = os.path.join(pc.work, "root-only")
    before = _root_dir(victim)
    state = pc.conf["state-dir"]
    certs = os.path.join(state, "certificates")
    # As the engine's user: move the directory away and plant a link in its place.
    as_user(ENGINE_USER, "mv", certs, os.path.join(state, "moved"))
    as_user(ENGINE_USER, "ln", "-s", victim, certs)
    pc.start(RULES, wait=False)
    try:
        pc.daemon.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    after = os.stat(victim)
    assert (after.st_uid, after.st_gid, after.st_mode) == (
        before.st_uid, before.st_gid, before.st_mode)
    assert pc.daemon.returncode == 1, pc.log()
    assert "certificates: not a directory" in pc.log()


def test_certificates_are_written_where_the_engine_user_cannot_redirect_them(pc, medium):
    """A compromised engine renames the certificates directory and plants a link to a
    root directory in its place before asking for a wipe: the certificates land in the
    directory the parent holds open, nothing in the link's target."""
    approved_stick(pc, medium)
    state = pc.conf["state-dir"]
    certs = os.path.join(state, "certificates")
    victim = os.path.join(pc.work, "root-only")
    _root_dir(victim)
    as_user(ENGINE_USER, "mv", certs, os.path.join(state, "moved"))
    as_user(ENGINE_USER, "ln", "-s", victim, certs)
    r = pc.cli("wipe", "1-2", check=False)
    assert r.returncode == 0, r.stdout + r.stderr + pc.log()
    done = pc.wait_record(lambda x: x.get("event.action") == "wipe-done")
    assert os.listdir(victim) == []
    name = os.path.basename(done["wipe.certificate_file"])  # PREFIX.json
    moved = os.listdir(os.path.join(state, "moved"))
    assert name in moved and name.replace(".json", ".txt") in moved, moved
    for f in moved:
        assert os.lstat(os.path.join(state, "moved", f)).st_uid == 0


def test_links_planted_at_the_certificates_names_are_never_followed(pc, medium):
    """The engine's user tries to plant links at every name the certificates can take in
    the next minute, pointing at a root-owned file: the certificates' directory is root's,
    so it cannot; root plants them instead (as a user who could would), and the root wipe
    never writes through them: at worst the certificate fails and the medium stays
    blocked."""
    approved_stick(pc, medium)
    certs = os.path.join(pc.conf["state-dir"], "certificates")
    victim_dir = os.path.join(pc.work, "root-only")
    _root_dir(victim_dir, 0o755)
    victim = os.path.join(victim_dir, "passwd")
    with open(victim, "w") as f:
        f.write("root:x:0:0::/root:/bin/sh\n")
    os.chmod(victim, 0o644)
    before = open(victim).read()
    now = time.time()
    names = []
    for t in range(int(now) - 1, int(now) + 60):
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t))
        for ext in ("json", "txt", "html"):
            names.append("wipe-%s-%s.%s" % (stamp, medium.name, ext))
    script = "cd %s && for n in %s; do ln -s %s $n; done" % (certs, " ".join(names), victim)
    assert os.stat(certs).st_uid == 0
    with pytest.raises(subprocess.CalledProcessError):
        as_user(ENGINE_USER, "sh", "-c", "cd %s && ln -s %s %s" % (certs, victim, names[0]))
    assert not os.path.lexists(os.path.join(certs, names[0]))
    real(["sh", "-c", script], check=True)
    pc.cli("wipe", "1-2", check=False)
    outcome = pc.wait_record(lambda x: x.get("event.action") in ("wipe-done", "wipe-failed"),
                             timeout=30)
    assert open(victim).read() == before
    assert os.stat(victim).st_size == len(before)
    if outcome["event.action"] == "wipe-failed":
        pc.wait_attr(PERSONAL, "authorized", "0")  # no certificate: the medium stays blocked
    for n in names:
        assert os.path.islink(os.path.join(certs, n))


def test_a_transfer_log_that_cannot_start_deauthorises_the_stick(pc, medium, tmp_path):
    """A watcher that fails at once (here: a staged install whose portcullis-xferwatch
    exits with status 3 before watching anything): the mounted stick is de-authorised,
    with a security record naming the exit."""
    pc.start_with_watcher(RULES, str(tmp_path / "stage"), "#!/bin/sh\nexit 3\n")
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_attr(PERSONAL, "authorized", "1")
    pc.kernel_configure(PERSONAL)
    attach_disk(pc, medium, PERSONAL + "/1-2:1.0")
    medium.mount()
    lost = pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-lost", timeout=20)
    assert lost["usb.port"] == "1-2"
    pc.wait_record(lambda r: r.get("event.action") in ("xfer-watch-lost", "helper-exited")
                   and "exited with status 3" in r.get("event.reason", ""))
    pc.wait_attr(PERSONAL, "authorized", "0")


def seccomp_filters(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Seccomp_filters:"):
                return int(line.split()[1])
    return None


def test_the_transfer_log_watcher_runs_under_its_own_filter(pc, medium):
    """portcullis-xferwatch installs its own allow-list (SANDBOX_XFERWATCH) on top of the
    one it inherits from the parent before it reads its first event; and under it the
    transfer log still records a copy."""
    approved_stick(pc, medium)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    pids = watcher_pids(medium.mnt)
    assert len(pids) == 1, pids
    assert seccomp_filters(pids[0]) == 2  # the parent's, then its own
    src = source_file(pc, "report.odt")
    as_user(LOCAL_USER, "cp", src, medium.mnt + "/report.odt")
    rec = pc.wait_record(lambda r: r.get("event.action") == "file-written"
                         and r.get("file.path") == "report.odt", timeout=20)
    assert rec.get("file.hash.sha256")
    assert watcher_pids(medium.mnt) == pids  # still alive: nothing it did was refused
    assert "helper-exited" not in [r.get("event.action") for r in pc.records()]
    medium.umount()
    pc.stop()
