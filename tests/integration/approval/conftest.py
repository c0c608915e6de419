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


class PC(harness.Testbed):
    """A test bed that can live next to another one in this process: umockdev's preload
    finds the bed by $UMOCKDEV_DIR, so each device operation names its own bed first."""

    def _here(self):
        os.environ["UMOCKDEV_DIR"] = self.root

    def add(self, name, plug=False, port=None):
        self._here()
        return super().add(name, plug, port)

    def unplug(self, syspath):
        self._here()
        return super().unplug(syspath)

    def kernel_configure(self, dev):
        self._here()
        return super().kernel_configure(dev)

    def set_attr(self, syspath, name, value):
        self._here()
        return super().set_attr(syspath, name, value)


@pytest.fixture
def pc():
    tb = PC()
    tb.add("pc-xhci.umockdev")
    yield tb
    tb.close()


@pytest.fixture
def pc2():
    """A second PC of the council: its own devices, state, trail and daemon."""
    tb = PC()
    tb.add("pc-xhci.umockdev")
    yield tb
    tb.close()


def _simulated_key(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    sim = simconn.Simulator(d).start("--auto-touch")
    yield sim
    sim.stop()


@pytest.fixture
def key(tmp_path):
    yield from _simulated_key(tmp_path, "clerk")


@pytest.fixture
def other_key(tmp_path):
    yield from _simulated_key(tmp_path, "other")


@pytest.fixture
def medium():
    """A real ext4 medium on a loop device, for a stick to carry."""
    m = harness.RealMedium()
    yield m
    m.close()
