"""Helpers for the transfer-logging integration tests: real loop devices with
real filesystems, the staged portcullis-xferwatch, copies run as another uid.
Test code only; run as root."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

PREFIX = os.environ.get("PCL_PREFIX", "")
WATCH = os.path.join(PREFIX, "libexec/portcullis/portcullis-xferwatch")
NOBODY = 65534
OTHER_UID = 4242  # a uid with no passwd entry


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def as_user(uid, *cmd, check=True, **kw):
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                           *cmd], check=check, **kw)


def kernel_has(fs):
    with open("/proc/filesystems") as f:
        return any(line.split()[-1] == fs for line in f if line.strip())


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256sum(paths, cwd):
    """sha256sum(1) of many files -> {relative path: hex}."""
    out = {}
    for i in range(0, len(paths), 2000):
        res = subprocess.run(["sha256sum", "--", *paths[i:i + 2000]], cwd=cwd, check=True,
                             capture_output=True, text=True)
        for line in res.stdout.splitlines():
            digest, name = line.split(None, 1)
            out[name.lstrip("*")] = digest
    return out


class Medium:
    """A loop device over an image file with a real filesystem, mounted."""

    def __init__(self, fs, size_mb=128, inodes=None, base=None):
        self.fs = fs
        if base is None:
            base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.tmp = tempfile.mkdtemp(prefix="xfer-medium-", dir=base)
        self.img = os.path.join(self.tmp, "img")
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        os.chmod(self.tmp, 0o755)
        with open(self.img, "wb") as f:
            f.truncate(size_mb << 20)
        mkfs = {
            "ext4": ["mkfs.ext4", "-q", "-F"] + (["-N", str(inodes)] if inodes else []),
            "exfat": ["mkfs.exfat"],
            "ntfs": ["mkntfs", "-F", "-Q", "-q"],
            "vfat": ["mkfs.vfat"],
        }[fs]
        try:
            run(*mkfs, self.img, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Loop devices are shared with other tests running at the same time:
            # a lost race for a free one is retried.
            for attempt in range(3):
                try:
                    self._attach(fs)
                    break
                except subprocess.CalledProcessError:
                    if attempt == 2:
                        raise
                    time.sleep(0.5)
        except Exception:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _attach(self, fs):
        self.loop = run("losetup", "-f", "--show", self.img, capture_output=True,
                        text=True).stdout.strip()
        try:
            # A read-only flag set on the device by an earlier user (BLKROSET) outlives
            # the loop device's detach: the medium starts writable.
            run("blockdev", "--setrw", self.loop)
            if fs == "ext4":
                run("mount", self.loop, self.mnt)
                os.chmod(self.mnt, 0o1777)
            elif fs == "exfat":
                run("mount.exfat-fuse", "-o", "allow_other,uid=65534,gid=65534,umask=000",
                    self.loop, self.mnt, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elif fs == "ntfs":
                run("ntfs-3g", "-o", "allow_other,uid=65534,gid=65534,umask=000", self.loop, self.mnt)
            elif fs == "vfat":
                # Owned by the copying user, as a desktop mounts a stick for its user; quiet:
                # modes vfat cannot store (rsync's chmod) are ignored, not refused.
                run("mount", "-t", "vfat", "-o", "uid=65534,gid=65534,umask=000,quiet",
                    self.loop, self.mnt)
        except Exception:
            run("losetup", "-d", self.loop)
            raise

    def close(self):
        for _ in range(50):
            if subprocess.run(["umount", self.mnt], stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(["losetup", "-d", self.loop])
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Watcher:
    """portcullis-xferwatch on a mount point; records are JSON lines."""

    def __init__(self, mnt, *options, device_id="0781:5581", serial="4C530001234",
                 approval="apr-test-1", watch=WATCH):
        self.out_path = tempfile.mktemp(prefix="xferwatch-", suffix=".jsonl")
        self.out = open(self.out_path, "w")
        # stderr to a file, not a pipe nobody reads while the watcher runs: a full pipe
        # would block the watcher in a write, and a failure shows what it said.
        self.err_path = self.out_path[:-len(".jsonl")] + ".stderr"
        self.err = open(self.err_path, "w+")
        args = [watch, "--device-id", device_id, "--serial", serial, "--approval", approval]
        for o in options:
            args += ["-o", o]
        self.proc = subprocess.Popen(args + [mnt], stdout=self.out, stderr=self.err)
        deadline = time.time() + 20
        while time.time() < deadline:
            if any(get(r, "event.action") == "xfer-watch-started" for r in self.records()):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("xferwatch exited: " + self.stderr())
            time.sleep(0.05)
        raise RuntimeError("xferwatch did not start")

    def records(self):
        # One read: iterating a file that is still being written can hand back the
        # rest of a line whose start was dropped as incomplete a moment before.
        with open(self.out_path) as f:
            return [json.loads(line) for line in f.read().split("\n")[:-1]]

    def wait_for(self, pred, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            recs = self.records()
            if pred(recs):
                return recs
            time.sleep(0.1)
        raise AssertionError("timed out waiting for records; xferwatch stderr: " +
                             self.stderr()[-2000:])

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def keep(self):
        """With PCL_XFER_KEEP=DIR, copy the trail and stderr there (for a failing run)."""
        keep = os.environ.get("PCL_XFER_KEEP")
        if keep:
            for p in (self.out_path, self.err_path):
                if os.path.exists(p):
                    shutil.copy(p, keep)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        self.keep()
        recs = self.records()
        err = self.stderr()
        os.unlink(self.out_path)
        os.unlink(self.err_path)
        assert self.proc.returncode == 0, f"xferwatch exit {self.proc.returncode}: {err}"
        assert get(recs[-1], "event.action") == "xfer-watch-stopped", recs[-1]
        return recs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


def action(recs, name):
    return [r for r in recs if get(r, "event.action") == name]


def get(rec, key, default=None):
    """A flat ECS key of a record."""
    return rec.get(key, default)


def make_source(n, size, seed, mode=0o644):
    """A readable source tree of n files with distinct content."""
    src = tempfile.mkdtemp(prefix="xfer-src-")
    os.chmod(src, 0o755)
    for i in range(n):
        p = os.path.join(src, f"f{i:05d}.bin")
        with open(p, "wb") as f:
            block = hashlib.sha256(f"{seed}-{i}".encode()).digest()
            f.write((block * (size // 32 + 1))[:size])
        os.chmod(p, mode)
    return src
