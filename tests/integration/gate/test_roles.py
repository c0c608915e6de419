"""The role table (docs/architecture.md), checked on the staged install: every program a
root process execs is its own file, and no root program links the libraries only the
CLI needs (sd-bus, QR codes, FIDO keys) or the engine's (udev, FIDO keys)."""
import os
import subprocess

from harness import DAEMON

PREFIX = os.path.dirname(os.path.dirname(os.path.abspath(DAEMON)))
LIBEXEC = os.path.join(PREFIX, "libexec/portcullis")


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True,
                         check=True).stdout
    return [l.split("[", 1)[1].split("]", 1)[0] for l in out.splitlines() if "(NEEDED)" in l]


def test_every_role_has_its_own_program():
    for name in ("portcullis-engine", "portcullis-wipe", "portcullis-wiper",
                 "portcullis-xferwatch"):
        assert os.access(os.path.join(LIBEXEC, name), os.X_OK), name


def test_root_programs_link_none_of_the_cli_libraries():
    for path in (DAEMON, os.path.join(LIBEXEC, "portcullis-wipe")):
        libs = needed(path)
        for bad in ("libsystemd", "libqrencode", "libfido2", "libudev"):
            assert not any(l.startswith(bad) for l in libs), (path, libs)
    # The check can fail: the CLI and the engine do link them.
    assert any(l.startswith("libfido2") for l in needed(os.path.join(PREFIX, "bin/portcullis")))
    assert any(l.startswith("libudev") for l in needed(os.path.join(LIBEXEC,
                                                                    "portcullis-engine")))
