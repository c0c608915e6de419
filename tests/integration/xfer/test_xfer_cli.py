"""portcullis-xferwatch as the daemon and the administrator call it: the notice
text, and bad input refused with a message naming the input."""
import os
import subprocess
import tempfile

from xferlib import NOBODY, WATCH, Medium, as_user


def run(*args):
    return subprocess.run([WATCH, *args], capture_output=True, text=True, timeout=30)


def test_notice_names_logging_and_retention():
    r = run("--notice", "-o", "retention-days=90")
    assert r.returncode == 0
    assert "logged" in r.stdout and "90 days" in r.stdout
    assert "contents are not recorded" in r.stdout


def test_bad_option_is_refused_naming_it():
    r = run("-o", "on-overflow=sometimes", "/")
    assert r.returncode == 2
    assert "on-overflow: expected fail-closed or continue" in r.stderr


def test_config_error_names_file_and_line():
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# transfer log\nretention-days = 30\nclamd-socket = relative\n")
    try:
        r = run("-c", f.name, "/")
        assert r.returncode == 1
        assert f"{f.name}:3: clamd-socket" in r.stderr
    finally:
        os.unlink(f.name)


def test_a_config_too_large_to_read_whole_is_refused_not_cut():
    # Past 64 KiB the old reader dropped the rest of the file without a word.
    d = tempfile.mkdtemp(dir="/var/tmp")
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# padding\n" * 7000 + "clamd-socket = relative\n")
    try:
        r = run("-c", f.name, d)
        assert r.returncode == 1
        assert f"{f.name}: larger than" in r.stderr, r.stderr
    finally:
        os.unlink(f.name)
        os.rmdir(d)


def test_pseudonymise_without_key_is_refused():
    r = run("-o", "pseudonymise=yes", "/")
    assert r.returncode == 2 and "pseudonymise-key" in r.stderr


def test_directory_that_is_not_a_mount_point_is_refused():
    d = tempfile.mkdtemp(dir="/var/tmp")
    try:
        r = run(d)
        assert r.returncode == 1
        assert f"{d}: not a mount point" in r.stderr
    finally:
        os.rmdir(d)


def test_lost_record_reader_fails_closed():
    """When nobody reads the records any more, the medium turns read-only."""
    with Medium("ext4", size_mb=32) as m:
        p = subprocess.Popen([WATCH, m.mnt], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = p.stdout.readline()
            assert b"xfer-watch-started" in first
            p.stdout.close()  # the engine went away
            as_user(NOBODY, "sh", "-c", f"echo a > {m.mnt}/a.txt")
            assert p.wait(timeout=30) == 1
            assert b"cannot write records" in p.stderr.read()
            r = as_user(NOBODY, "sh", "-c", f"echo b > {m.mnt}/b.txt", check=False,
                        capture_output=True, text=True)
            assert r.returncode != 0 and "Read-only file system" in r.stderr
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_medium_can_be_unmounted_and_that_ends_the_watch():
    """The watch does not keep the medium busy; its unmount stops the watch cleanly."""
    m = Medium("ext4", size_mb=32)
    try:
        p = subprocess.Popen([WATCH, m.mnt], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert b"xfer-watch-started" in p.stdout.readline()
        as_user(NOBODY, "mkdir", f"{m.mnt}/d")  # a name event, handled first
        assert b"file-created" in p.stdout.readline()
        subprocess.run(["umount", m.mnt], check=True)  # not busy
        assert p.wait(timeout=30) == 0
        assert b"xfer-watch-stopped" in p.stdout.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        m.close()
