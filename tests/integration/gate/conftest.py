"""pytest fixtures for the gate tests: one simulated PC per test."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


@pytest.fixture
def pc():
    tb = harness.Testbed()
    tb.add("pc-xhci.umockdev")
    yield tb
    tb.close()


@pytest.fixture
def medium():
    """A real ext4 medium on a loop device, for a simulated stick to carry."""
    m = harness.RealMedium()
    yield m
    m.close()
