"""pytest plugin of the umockdev suites (pcl_add_pytest_groups in cmake/Portcullis.cmake):
one module's tests split, test by test, between the CTest test that holds the loop-device
lock and the one that runs beside it. Loaded with -p by both; trusts only the test files.

PCL_LOOP_GROUP=loop keeps the tests that attach loop devices: those that use the `medium`
fixture, and those marked `loop_devices` (they call harness.RealMedium or losetup
themselves). PCL_LOOP_GROUP=none keeps every other test, and puts a `losetup` that always
fails first on PATH: a test of that group that attaches a loop device all the same, outside
the lock, fails loudly instead of racing the locked tests for the machine's loop devices."""
import os
import stat
import tempfile

import pytest

GROUP = os.environ.get("PCL_LOOP_GROUP", "")
MARK = "loop_devices"
REFUSE = """#!/bin/sh
echo "losetup: this test runs without the loop-device lock (PCL_LOOP_GROUP=none):" \
     "use the medium fixture or mark it @pytest.mark.loop_devices" \
     "(tests/integration/pcl_loop_groups.py)" >&2
exit 1
"""


def attaches_loop_devices(item):
    return "medium" in getattr(item, "fixturenames", ()) or item.get_closest_marker(MARK)


def pytest_configure(config):
    config.addinivalue_line("markers", MARK + ": the test attaches loop devices itself")
    if GROUP not in ("loop", "none"):
        raise pytest.UsageError("PCL_LOOP_GROUP must be loop or none, not %r" % GROUP)
    if GROUP == "none":
        d = tempfile.mkdtemp(prefix="pcl-no-loop-")
        path = os.path.join(d, "losetup")
        with open(path, "w") as f:
            f.write(REFUSE)
        os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        os.environ["PATH"] = d + os.pathsep + os.environ.get("PATH", "")
        config.pcl_no_loop_dir = d


def pytest_unconfigure(config):
    d = getattr(config, "pcl_no_loop_dir", None)
    if d:
        os.unlink(os.path.join(d, "losetup"))
        os.rmdir(d)


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        (keep if bool(attaches_loop_devices(item)) == (GROUP == "loop") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
