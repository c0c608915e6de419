"""Fail closed at boot: the package's udev rule gates every root hub on its own, the daemon
gates them before it reads its configuration, present-devices=allow holds for the first
start since boot only, and one local user cannot hold the control socket's every slot.
The installed files under umockdev, as an ordinary local user where it matters."""
import os
import signal
import socket
import subprocess
import time

import pytest

from harness import DAEMON, PREFIX
from test_gate import COUNCIL_RULES, HUB, HUB3, KEYBOARD, PERSONAL, TWIN, decision

USER = 4242  # an ordinary local user: neither root nor the engine's (nobody)
RULE = os.path.join(PREFIX, "lib/udev/rules.d/60-portcullis.rules")


def gated(pc):
    return [(pc.attr(h, "authorized_default"), pc.attr(h, "interface_authorized_default"))
            for h in (HUB, HUB3)]


def test_the_udev_rule_gates_each_root_hub_as_it_is_added(pc):
    """`udevadm test` of the installed rule on the simulated root hub's add event, in a
    private mount namespace (only this rule; /run and /dev private), writes into the
    simulated sysfs as udevd would."""
    assert gated(pc) == [("1", "1"), ("1", "1")]  # the kernel's default
    for hub in (HUB, HUB3):
        r = subprocess.run(
            ["unshare", "-m", "sh", "-ec",
             "mount -t tmpfs none /run; mount -t tmpfs none /dev;"
             "mount -t tmpfs none /usr/lib/udev/rules.d; mount -t tmpfs none /etc/udev/rules.d;"
             'cp "$0" /usr/lib/udev/rules.d/; exec udevadm test --action=add "$1"', RULE, hub],
            env=pc.env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "authorized_default' writing '0'" in r.stdout + r.stderr
    assert gated(pc) == [("0", "0"), ("0", "0")]
    # What the kernel does next: a stick on a gated hub comes up unauthorised.
    pc.add("stick-personal.umockdev", plug=True)
    assert pc.attr(PERSONAL, "authorized") == "0"


def broken(pc, case):
    path = pc.config(COUNCIL_RULES)
    if case == "unknown key":
        with open(path, "a") as f:
            f.write("colour = blue\n")
    elif case == "directory":
        path = os.path.join(pc.work, "conf.d")
        os.mkdir(path)
    else:
        with open(path) as f:
            text = f.read().replace(pc.conf["rules"], os.path.join(pc.work, "no-such.rules"))
        with open(path, "w") as f:
            f.write(text)
    return path


@pytest.mark.parametrize("case", ["unknown key", "directory", "missing rules"])
def test_a_broken_configuration_leaves_the_root_hubs_gated(pc, case):
    path = broken(pc, case)
    pc.enrol()
    log = open(os.path.join(pc.work, "daemon.log"), "w")
    d = subprocess.Popen([DAEMON, "-c", path, "-f"], env=pc.env(), stderr=log)
    try:
        if case == "missing rules":  # the parent runs; its engine cannot start
            deadline = time.time() + 20
            while "engine exited" not in pc.log() and time.time() < deadline:
                time.sleep(0.05)
            assert "engine exited" in pc.log(), pc.log()
        else:
            assert d.wait(timeout=20) == 1, pc.log()
        assert gated(pc) == [("0", "0"), ("0", "0")], pc.log()
        pc.add("stick-personal.umockdev", plug=True)
        assert pc.attr(PERSONAL, "authorized") == "0"
    finally:
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
            d.wait(timeout=20)


def engine_pid(pc):
    from harness import engine_children
    return engine_children(pc.daemon.pid)[0]


def test_present_devices_allow_holds_for_the_first_start_since_boot_only(pc):
    pc.add("stick-personal.umockdev")
    pc.start(COUNCIL_RULES, present_devices="allow")
    assert decision(pc, "1-2")["rule.id"] == "present-devices=allow"
    # Plugged while the daemon runs: the rules block it.
    pc.add("stick-personal-twin.umockdev", plug=True)
    assert decision(pc, "1-3")["event.action"] == "device-blocked"
    starts = lambda: len([r for r in pc.records() if r["event.action"] == "service-started"])
    # The engine dies and the parent starts another: not the first start since boot.
    os.kill(engine_pid(pc), signal.SIGKILL)
    pc.wait_record(lambda r: starts() == 2, timeout=20)
    pc.wait_quiet()
    assert decision(pc, "1-3")["rule.id"] == "no-match"
    assert pc.attr(TWIN, "authorized") == "0"
    # Nor a restart of the whole service.
    pc.stop()
    pc.start(COUNCIL_RULES, present_devices="allow")
    assert decision(pc, "1-3")["rule.id"] == "no-match"
    assert pc.attr(TWIN, "authorized") == "0"


HOG = r"""
import os, socket, sys, time
held = []
for _ in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(sys.argv[1])
        held.append(s)
    except OSError:
        s.close()
print(len(held), flush=True)
def still_open():
    n = 0
    for s in held:
        try:
            s.setblocking(False)
            n += s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n
for line in sys.stdin:
    print(still_open(), flush=True)
"""


def devices(path, timeout=10):
    """The answer line to {"cmd":"devices"} (b"" when the connection was closed)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A blocking connect, as the CLI makes: it waits for room in the listen queue (which
    # the hog may have filled a moment ago) instead of failing at once with EAGAIN.
    s.connect(path)
    s.settimeout(timeout)
    s.sendall(b'{"cmd":"devices"}\n')
    line = s.makefile("rb").readline()
    s.close()
    return line


def test_one_user_holding_connections_starves_no_one(pc):
    pc.start(COUNCIL_RULES)
    path = pc.conf["control-socket"]
    hog = subprocess.Popen(["setpriv", "--reuid=%d" % USER, "--regid=%d" % USER,
                            "--clear-groups", "/usr/bin/python3", "-c", HOG, path],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert int(hog.stdout.readline()) > 4
        # Root and another user are still answered.
        assert b'"devices"' in devices(path)
        r = subprocess.run(["setpriv", "--reuid=%d" % (USER + 1), "--regid=%d" % (USER + 1),
                            "--clear-groups", pc.cli_path(), "devices"], env=pc.env(),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        hog.stdin.write("count\n")
        hog.stdin.flush()
        assert int(hog.stdout.readline()) <= 4
        # Connections that never send a request are closed after the idle timeout.
        deadline = time.time() + 40
        while time.time() < deadline:
            hog.stdin.write("count\n")
            hog.stdin.flush()
            if int(hog.stdout.readline()) == 0:
                break
            time.sleep(1)
        else:
            raise AssertionError("idle connections were never closed")
        # The connections over the limit are counted in the trail, in one summary record.
        r = pc.wait_record(lambda r: r["event.action"] == "requests-rate-limited", timeout=30)
        assert r["portcullis.refused_uids"] == [USER] and r["portcullis.refused_count"] > 0
    finally:
        hog.kill()
        hog.wait()


def launcher_pid(pc):
    with open("/proc/%d/task/%d/children" % (pc.daemon.pid, pc.daemon.pid)) as f:
        for k in f.read().split():
            with open("/proc/%s/comm" % k) as c:
                if c.read().strip() == "pcl-launcher":
                    return int(k)
    raise AssertionError("no launcher among the daemon's children")


def test_a_dead_launcher_stops_the_service_with_devices_out_and_a_record(pc):
    """The launcher is the only process that can start programs (the engine, the
    helpers): if it dies, the daemon stops, the engine records why, the root hubs stay
    gated and nothing plugged afterwards is let in, even what the rules allow."""
    pc.start(COUNCIL_RULES)
    os.kill(launcher_pid(pc), signal.SIGKILL)
    assert pc.daemon.wait(timeout=20) == 1
    assert "the launcher exited: stopping" in pc.log()
    last = pc.records()[-1]
    assert last["event.action"] == "service-stopped", last
    assert last["event.outcome"] == "failure" and "launcher exited" in last["event.reason"]
    assert gated(pc) == [("0", "0"), ("0", "0")]
    pc.add("keyboard.umockdev", plug=True)  # the council rules allow it
    assert pc.attr(KEYBOARD, "authorized") == "0"
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr
