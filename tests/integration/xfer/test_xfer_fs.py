"""Transfer logging on a real filesystem (XFER_FS = ext4, exfat, ntfs, vfat):
files written with cp and rsync and read back as another uid are each logged
with the right uid, size and SHA-256 (checked against sha256sum), with the watcher's own
choice of backend and with fanotify, its fallback."""
import os
import shutil
import subprocess

import pytest

from xferlib import (NOBODY, OTHER_UID, Medium, Watcher, action, as_user, get, make_source,
                     sha256sum)

FS = os.environ.get("XFER_FS", "ext4")
FID_FS = {"ext4": True, "vfat": True, "exfat": False, "ntfs": False}


@pytest.fixture
def medium():
    with Medium(FS, size_mb=96) as m:
        yield m


def check_common(rec):
    assert get(rec, "device.id") == "0781:5581"
    assert get(rec, "device.serial_number") == "4C530001234"
    assert get(rec, "portcullis.approval.id") == "apr-test-1"
    assert get(rec, "observability.open_close") is True
    assert get(rec, "observability.create_delete_rename") is FID_FS[FS]
    if not FID_FS[FS]:
        assert set(get(rec, "observability.unobserved")) == {"create", "delete", "rename"}
        assert "refused" in get(rec, "observability.reason")


BACKENDS = ("auto", "fanotify")


@pytest.mark.parametrize("backend", BACKENDS)
def test_cp_write_and_read_back_are_logged(medium, backend):
    src = make_source(12, 3000, "cp")
    sizes = [0, 1, 4096, 70000, 1 << 20]
    for i, size in enumerate(sizes):  # a few sizes beyond the 3000-byte files
        p = os.path.join(src, f"s{i}.bin")
        with open(p, "wb") as f:
            f.write(os.urandom(size))
        os.chmod(p, 0o644)
    names = sorted(os.listdir(src))
    want = sha256sum(names, src)
    try:
        with Watcher(medium.mnt, "xfer-backend=" + backend) as w:
            dst = os.path.join(medium.mnt, "out")
            as_user(NOBODY, "mkdir", dst)
            as_user(NOBODY, "cp", *[os.path.join(src, n) for n in names], dst + "/")
            sink = subprocess.DEVNULL
            for n in names:
                as_user(OTHER_UID, "cat", os.path.join(dst, n), stdout=sink)
            recs = w.stop()
        on_medium = sha256sum(names, dst)
        assert on_medium == want
        written = {get(r, "file.path"): r for r in action(recs, "file-written")}
        read = {get(r, "file.path"): r for r in action(recs, "file-read")}
        for n in names:
            path = f"out/{n}"
            for recset, uid, exe in ((written, NOBODY, "/usr/bin/cp"),
                                     (read, OTHER_UID, "/usr/bin/cat")):
                assert path in recset, f"{path} not logged"
                r = recset[path]
                check_common(r)
                assert get(r, "user.id") == uid
                assert get(r, "process.executable") == exe
                assert get(r, "portcullis.attribution") == "open"
                assert get(r, "file.hash.sha256") == want[n]
                assert get(r, "file.size") == os.path.getsize(os.path.join(src, n))
            assert get(written[path], "user.name") == "nobody"
            assert get(read[path], "user.name") is None  # uid 4242 has no name
        assert len(action(recs, "file-written")) == len(names)
        assert len(action(recs, "file-read")) == len(names)
        created = [get(r, "file.path") for r in action(recs, "file-created")]
        if FID_FS[FS]:
            assert created == ["out"]  # files are covered by file-written
            assert get(action(recs, "file-created")[0], "file.type") == "dir"
        else:
            assert created == []
    finally:
        shutil.rmtree(src)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rsync_copy_is_logged_by_content(medium, backend):
    src = make_source(20, 5000, "rsync")
    names = sorted(os.listdir(src))
    want = sha256sum(names, src)
    try:
        with Watcher(medium.mnt, "xfer-backend=" + backend) as w:
            as_user(NOBODY, "rsync", "-r", src + "/", os.path.join(medium.mnt, "r") + "/")
            recs = w.stop()
        written = action(recs, "file-written")
        # rsync writes a temporary ".name.XXXXXX" and renames it: match by content.
        by_hash = {}
        for r in written:
            check_common(r)
            assert get(r, "user.id") == NOBODY
            assert get(r, "process.executable") == "/usr/bin/rsync"
            by_hash.setdefault(get(r, "file.hash.sha256"), []).append(r)
        for n in names:
            rs = by_hash.get(want[n])
            assert rs, f"{n}: no file-written record with its SHA-256"
            p = get(rs[0], "file.path")
            assert p == f"r/{n}" or p.startswith(f"r/.{n}."), p
            assert get(rs[0], "file.size") == 5000
        if FID_FS[FS]:
            renamed = {get(r, "file.path") for r in action(recs, "file-renamed")}
            assert {f"r/{n}" for n in names} <= renamed
    finally:
        shutil.rmtree(src)
