"""An induced fanotify queue overflow (default queue limit, watcher stalled
with SIGSTOP while more close events than the limit arrive) gives an
xfer-overflow record and, by default, fails closed: the mount turns read-only
and every later open on the medium is refused and logged."""
import os
import resource
import signal

import pytest

from xferlib import NOBODY, Medium, Watcher, action, as_user, get

with open("/proc/sys/fs/fanotify/max_queued_events") as f:
    QUEUE_MAX = int(f.read())
N = QUEUE_MAX + 1000


def flood(m, w):
    """Open N files before the watch sees them, stall the watcher, close them all."""
    os.mkdir(os.path.join(m.mnt, "d"))
    for i in range(N):
        with open(os.path.join(m.mnt, "d", str(i)), "wb") as f:
            f.write(b"x")
    fds = [os.open(os.path.join(m.mnt, "d", str(i)), os.O_RDONLY) for i in range(N)]
    return fds


@pytest.fixture(autouse=True)
def many_fds():
    old = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (N + 1000, max(old[1], N + 1000)))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, old)


def stalled_close(w, fds):
    w.proc.send_signal(signal.SIGSTOP)
    try:
        for fd in fds:
            os.close(fd)
    finally:
        w.proc.send_signal(signal.SIGCONT)


@pytest.mark.parametrize("policy", ["fail-closed", "continue"])
def test_overflow_is_recorded_and_policy_applied(policy):
    with Medium("ext4", size_mb=128, inodes=N + 2000) as m:
        with open(os.path.join(m.mnt, "old.txt"), "w") as f:
            f.write("kept\n")
        os.chmod(os.path.join(m.mnt, "old.txt"), 0o644)
        fds = flood(m, None)
        opts = [] if policy == "fail-closed" else ["on-overflow=continue"]
        with Watcher(m.mnt, *opts) as w:
            stalled_close(w, fds)
            want = "xfer-medium-read-only" if policy == "fail-closed" else "xfer-overflow"
            w.wait_for(lambda rs: action(rs, want))
            # After the overflow: try to write a new file and read an old one.
            wr = as_user(NOBODY, "sh", "-c", f"echo new > {m.mnt}/new.txt", check=False,
                         capture_output=True, text=True)
            rd = as_user(NOBODY, "cat", f"{m.mnt}/old.txt", check=False,
                         capture_output=True, text=True)
            recs = w.stop()
        ov = action(recs, "xfer-overflow")
        assert len(ov) >= 1
        assert get(ov[0], "portcullis.on_overflow") == policy
        assert get(ov[0], "device.id") == "0781:5581"
        if policy == "fail-closed":
            assert len(action(recs, "xfer-fail-closed")) == 1
            ro = action(recs, "xfer-medium-read-only")
            assert len(ro) == 1 and get(ro[0], "portcullis.remount_ok") is True
            assert wr.returncode != 0 and "Read-only file system" in wr.stderr
            assert rd.returncode != 0 and "Operation not permitted" in rd.stderr
            denied = action(recs, "open-denied")
            assert [get(r, "file.path") for r in denied] == ["old.txt"]
            assert get(denied[0], "user.id") == NOBODY
            assert not os.path.exists(os.path.join(m.mnt, "new.txt"))
        else:
            assert not action(recs, "xfer-fail-closed")
            assert wr.returncode == 0, wr.stderr
            assert rd.returncode == 0 and rd.stdout == "kept\n"
            paths = {get(r, "file.path"): r for r in action(recs, "file-written")}
            assert get(paths["new.txt"], "user.id") == NOBODY
            reads = [r for r in action(recs, "file-read") if get(r, "file.path") == "old.txt"]
            assert reads and get(reads[0], "user.id") == NOBODY
        # Events before the overflow that were kept are still logged, attributed at close.
        logged = [r for r in action(recs, "file-read")
                  if get(r, "file.path", "").startswith("d/")]
        assert 0 < len(logged) < N
        assert all(get(r, "portcullis.attribution") == "close" for r in logged)
