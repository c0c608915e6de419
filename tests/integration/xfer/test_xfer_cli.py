"""portcullis-xferwatch as the daemon and the administrator call it: the notice
text, and bad input refused with a message naming the input."""
import os
import subprocess
import tempfile

from xferlib import WATCH


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
