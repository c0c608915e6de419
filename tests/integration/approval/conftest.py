"""pytest fixtures for the approval tests: a simulated council PC (the gate's test bed)
and the approver's key (portcullis-token-sim)."""
import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../gate"))
sys.path.insert(0, os.path.join(HERE, "../token"))
import harness  # noqa: E402
import simconn  # noqa: E402


@pytest.fixture
def pc():
    tb = harness.Testbed()
    tb.add("pc-xhci.umockdev")
    yield tb
    tb.close()


@pytest.fixture
def key(tmp_path):
    d = tmp_path / "clerk"
    d.mkdir()
    sim = simconn.Simulator(d).start("--auto-touch")
    yield sim
    sim.stop()


@pytest.fixture
def other_key(tmp_path):
    d = tmp_path / "other"
    d.mkdir()
    sim = simconn.Simulator(d).start("--auto-touch")
    yield sim
    sim.stop()
