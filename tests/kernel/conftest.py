"""pytest fixtures of the kernel test bed: one booted guest per test module."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import bed as kbed  # noqa: E402


@pytest.fixture(scope="module")
def bed():
    b = kbed.Bed(hostname="council-pc")
    yield b
    b.close()


@pytest.fixture
def daemon(bed):
    """Stops the test's portcullisd (checking its log for sanitizer and filter reports)."""
    yield bed
    bed.stop_daemon()
