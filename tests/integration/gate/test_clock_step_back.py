"""The wall clock steps back a day (as `date -s` would) while the engine is down: the
parent restarts it on the monotonic clock all the same, and devices are still decided.
The daemon's wall clock is moved by a preloaded test library (wallclock_shim.c)."""
import os
import signal
import struct
import time

from test_gate import COUNCIL_RULES, decision

BUILD = os.environ.get("PCL_BUILD_DIR", "")
SHIM = os.path.join(BUILD, "tests/integration/gate/libpcl_wallclock_shim.so")


def children(pid):
    from harness import engine_children
    return engine_children(pid)


def started(pc):
    return [r for r in pc.records() if r.get("event.action") == "service-started"]


def test_engine_restarted_after_the_wall_clock_steps_back(pc):
    assert os.path.exists(SHIM), SHIM
    clock = os.path.join(pc.work, "wallclock")
    with open(clock, "wb") as f:
        f.write(struct.pack("=q", 0))
    os.chmod(clock, 0o644)
    env = pc.env
    pc.env = lambda: dict(env(), LD_PRELOAD=env()["LD_PRELOAD"] + ":" + SHIM,
                          PCL_WALLCLOCK_FILE=clock)
    pc.start(COUNCIL_RULES)
    assert "cannot be preloaded" not in pc.log()
    engines = children(pc.daemon.pid)
    assert len(engines) == 1 and len(started(pc)) == 1
    os.kill(engines[0], signal.SIGKILL)
    deadline = time.time() + 10
    while "engine exited (signal 9)" not in pc.log() and time.time() < deadline:
        time.sleep(0.05)
    assert "engine exited (signal 9)" in pc.log()
    with open(clock, "r+b") as f:  # one day back, in place (the daemon maps this file)
        f.write(struct.pack("=q", -86400))
    pc.wait_record(lambda r: len(started(pc)) == 2, timeout=20)
    assert children(pc.daemon.pid) != engines

    pc.add("hub-genesys.umockdev", plug=True)
    pc.add("stick-council.umockdev", plug=True)
    assert decision(pc, "1-1.1")["event.action"] == "device-allowed"
    r = pc.verify()
    assert r.returncode == 0, r.stdout
