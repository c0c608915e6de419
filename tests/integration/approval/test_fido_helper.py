"""The approver's key is driven by the fido helper, a child of the CLI: seen from outside
while the key waits for the Clerk's touch, it runs under its seccomp filter with
no_new_privs, no capabilities, as nobody (the tests run as root), holding nothing but
stdio, its channel to the CLI and the key. A helper that dies leaves the CLI with a plain
error, not a hang."""
import os
import signal
import subprocess
import time

import pytest

import simconn
from approvals import PERSONAL, start


@pytest.fixture
def waiting_key(tmp_path):
    """The approver's key without --auto-touch: it waits for SIGUSR1."""
    d = tmp_path / "waiting"
    d.mkdir()
    sim = simconn.Simulator(d).start()
    yield sim
    sim.stop()


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return {k: v.strip() for k, v in
                (line.split(":", 1) for line in f.read().splitlines() if ":" in line)}


def sandboxed_helper(proc, timeout=20):
    """The CLI's helper, once its filter is on: (pid, status, {fd: target})."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for c in children(proc.pid):
            try:
                st = status(c)
                fds = {int(n): os.readlink("/proc/%d/fd/%s" % (c, n))
                       for n in os.listdir("/proc/%d/fd" % c)}
            except OSError:
                continue
            if st.get("Seccomp") == "2":
                return c, st, fds
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("no sandboxed helper appeared")


def check_sandboxed(st, fds, key):
    assert st["Seccomp"] == "2"
    assert st["NoNewPrivs"] == "1"
    for caps in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert st[caps] == "0000000000000000", (caps, st[caps])
    assert st["Uid"].split() == ["65534"] * 4
    assert st["Groups"] == ""
    # stdio, the channel to the CLI, the key: nothing else of the CLI's.
    assert sorted(fds) == [0, 1, 2, 3, 4], fds
    assert fds[3].startswith("socket:") and fds[4].startswith("socket:")


def touch_until_done(key, proc, timeout=30):
    deadline = time.time() + timeout
    while proc.poll() is None and time.time() < deadline:
        key.touch()
        time.sleep(0.1)
    return proc.communicate(timeout=10)


def cli(pc, *args):
    return subprocess.Popen([pc.cli_path()] + list(args), env=pc.env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_the_key_is_driven_by_a_sandboxed_helper(pc, waiting_key):
    start(pc)
    p = cli(pc, "approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk", "--key",
            "sim:" + waiting_key.sock)
    helper, st, fds = sandboxed_helper(p)
    check_sandboxed(st, fds, waiting_key)
    out, err = touch_until_done(waiting_key, p)
    assert p.returncode == 0, err
    assert "Jane Clerk enrolled as Clerk" in out
    assert "Touch the key to enrol it" in err
    assert not os.path.exists("/proc/%d" % helper)  # reaped

    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    p = cli(pc, "approve", "1-2", "--read-only", "--key", "sim:" + waiting_key.sock)
    helper, st, fds = sandboxed_helper(p)
    check_sandboxed(st, fds, waiting_key)
    out, err = touch_until_done(waiting_key, p)
    assert p.returncode == 0, err
    assert "1-2 approved by Jane Clerk (read-only)" in out
    pc.wait_attr(PERSONAL, "authorized", "1")


def test_a_helper_that_dies_is_a_plain_error(pc, waiting_key):
    start(pc)
    p = cli(pc, "approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk", "--key",
            "sim:" + waiting_key.sock)
    touch_until_done(waiting_key, p)
    assert p.returncode == 0
    waiting_key.restart()  # same credential, no touch left pending
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    # The helper holds the waiting key; it is killed before the touch.
    p = cli(pc, "approve", "1-2", "--read-only", "--key", "sim:" + waiting_key.sock)
    helper, _, _ = sandboxed_helper(p)
    t0 = time.time()
    os.kill(helper, signal.SIGKILL)
    out, err = p.communicate(timeout=10)
    assert time.time() - t0 < 5
    assert p.returncode == 1
    assert "portcullis: the key helper failed: it closed the channel without answering; " \
        "it was killed by signal 9" in err, err
    assert pc.attr(PERSONAL, "authorized") == "0"


def test_a_key_that_is_not_there_is_named(pc, tmp_path):
    start(pc)
    r = pc.cli("approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk", "--key",
               "sim:%s/none.sock" % tmp_path, check=False)
    assert r.returncode == 1
    assert "sim:%s/none.sock: cannot open the key: No such file or directory" % tmp_path \
        in r.stderr, r.stderr
