"""Malware check on the way in: Debian's clamd, started here on a private
socket with a signature database made by sigtool from a test file, scans files
opened on the medium (passed by descriptor, zFILDES). A hit is refused with
EPERM and logged as malware-blocked; clean files pass and are logged."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from xferlib import NOBODY, OTHER_UID, Medium, Watcher, action, as_user, get

BAD = b"PORTCULLIS-TEST-MALWARE-SAMPLE-" + b"z" * 64 + b"\n"


@pytest.fixture
def clamd():
    d = tempfile.mkdtemp(prefix="xfer-clamd-")
    os.mkdir(os.path.join(d, "db"))
    sample = os.path.join(d, "sample.bin")
    with open(sample, "wb") as f:
        f.write(BAD)
    sig = subprocess.run(["sigtool", "--sha256", sample], check=True, capture_output=True,
                         text=True).stdout
    # hash:size:name -> name the signature ourselves
    h, size, _ = sig.strip().split(":", 2)
    with open(os.path.join(d, "db", "portcullis-test.hsb"), "w") as f:
        f.write(f"{h}:{size}:Portcullis.Test.Sample\n")
    sock = os.path.join(d, "clamd.sock")
    conf = os.path.join(d, "clamd.conf")
    with open(conf, "w") as f:
        f.write(f"LocalSocket {sock}\nDatabaseDirectory {d}/db\nForeground yes\n"
                f"LogFile {d}/clamd.log\nTemporaryDirectory {d}\n")
    proc = subprocess.Popen(["clamd", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not os.path.exists(sock):
        assert proc.poll() is None, "clamd exited"
        assert time.time() < deadline, "clamd did not start"
        time.sleep(0.1)
    yield sock
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(d)


@pytest.mark.parametrize("fs", ["ext4", "exfat"])
def test_scan_hit_is_refused_with_eperm_and_logged(clamd, fs):
    with Medium(fs, size_mb=64) as m:
        # The medium arrives with a known-bad file and a clean one on it.
        for name, data in (("bad.exe", BAD), ("clean.txt", b"minutes of the meeting\n")):
            with open(os.path.join(m.mnt, name), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(m.mnt, name), 0o644)
        with Watcher(m.mnt, f"clamd-socket={clamd}") as w:
            dst = tempfile.mkdtemp(prefix="xfer-dst-")
            os.chmod(dst, 0o777)
            bad = as_user(NOBODY, "cp", os.path.join(m.mnt, "bad.exe"), dst + "/", check=False,
                          capture_output=True, text=True)
            good = as_user(OTHER_UID, "cat", os.path.join(m.mnt, "clean.txt"), check=False,
                           capture_output=True)
            recs = w.stop()
        try:
            assert bad.returncode != 0
            assert "Operation not permitted" in bad.stderr
            assert not os.path.exists(os.path.join(dst, "bad.exe"))
            assert good.returncode == 0 and good.stdout == b"minutes of the meeting\n"
        finally:
            shutil.rmtree(dst)
        blocked = action(recs, "malware-blocked")
        assert len(blocked) == 1
        b = blocked[0]
        assert get(b, "file.path") == "bad.exe"
        assert get(b, "portcullis.malware.signature").startswith("Portcullis.Test.Sample")
        assert get(b, "user.id") == NOBODY
        assert get(b, "process.executable") == "/usr/bin/cp"
        assert get(b, "file.size") == len(BAD)
        assert get(b, "portcullis.approval.id") == "apr-test-1"
        reads = [r for r in action(recs, "file-read") if get(r, "file.path") == "clean.txt"]
        assert len(reads) == 1
        assert get(reads[0], "file.hash.sha256") == hashlib.sha256(
            b"minutes of the meeting\n").hexdigest()
        assert not [r for r in action(recs, "file-read") if get(r, "file.path") == "bad.exe"]
        assert not action(recs, "malware-scan-failed")


def test_unreachable_clamd_fails_closed(tmp_path):
    with Medium("ext4", size_mb=32) as m:
        with open(os.path.join(m.mnt, "doc.txt"), "w") as f:
            f.write("x\n")
        os.chmod(os.path.join(m.mnt, "doc.txt"), 0o644)
        with Watcher(m.mnt, f"clamd-socket={tmp_path}/absent.sock",
                     "clamd-timeout-ms=500") as w:
            rd = as_user(NOBODY, "cat", os.path.join(m.mnt, "doc.txt"), check=False,
                         capture_output=True, text=True)
            recs = w.stop()
        assert rd.returncode != 0 and "Operation not permitted" in rd.stderr
        failed = action(recs, "malware-scan-failed")
        assert len(failed) == 1 and get(failed[0], "file.path") == "doc.txt"
