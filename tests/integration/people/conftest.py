"""pytest fixtures for the people tests: a simulated PC (the gate's test bed) and a private
session bus with a notification server that records what it is asked to show."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "../gate"))
import harness  # noqa: E402


@pytest.fixture
def pc():
    tb = harness.Testbed()
    tb.add("pc-xhci.umockdev")
    yield tb
    tb.close()


def plain_env():
    """The environment without umockdev's preload: the bus is real, not simulated."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("UMOCKDEV_DIR", None)
    return env


class SessionBus:
    def __init__(self, caps=("body",)):
        self.dir = tempfile.mkdtemp(prefix="pcl-people-bus-")
        self.address = "unix:path=" + os.path.join(self.dir, "bus")
        self.record = os.path.join(self.dir, "notifications.jsonl")
        self.daemon = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile",
             "--address=" + self.address, "--print-address=1"],
            stdout=subprocess.PIPE, text=True, env=plain_env())
        assert self.daemon.stdout.readline().startswith("unix:"), "dbus-daemon did not start"
        env = plain_env()
        env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        self.server = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "notify_server.py"), self.record]
            + list(caps), stdout=subprocess.PIPE, text=True, env=env)
        assert self.server.stdout.readline().strip() == "ready", "notification server failed"

    def notifications(self):
        try:
            with open(self.record) as f:
                # One read: a line still being written is never handed back in parts.
                return [json.loads(line) for line in f.read().split("\n")[:-1]]
        except FileNotFoundError:
            return []

    def wait_notification(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for n in self.notifications():
                if pred(n):
                    return n
            time.sleep(0.05)
        raise AssertionError("no such notification within %ss; got %r" % (
            timeout, self.notifications()))

    def close(self):
        for p in (self.server, self.daemon):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def session_bus():
    bus = SessionBus()
    yield bus
    bus.close()


class Notifier:
    """`portcullis notify` as the logged-in user's autostart would run it."""

    def __init__(self, pc, bus, *args):
        env = pc.env()
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        self.err_path = os.path.join(pc.work, "notify.err")
        self.out_path = os.path.join(pc.work, "notify.out")
        self.err = open(self.err_path, "w")
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen([pc.cli_path(), "notify"] + list(args), env=env,
                                     stdout=self.out, stderr=self.err)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def wait_following(self, count=1, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.stderr().count("portcullis: following ") >= count:
                return
            assert self.proc.poll() is None, "notifier exited: " + self.stderr()
            time.sleep(0.05)
        raise AssertionError("notifier never followed the daemon: " + self.stderr())

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.err.close()
        self.out.close()
