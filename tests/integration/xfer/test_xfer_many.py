"""20,000 small files copied onto the medium by two users at once: every file
gets exactly one file-written record, with the right uid and SHA-256."""
import os
import shutil
import subprocess

from xferlib import NOBODY, OTHER_UID, Medium, Watcher, action, get, make_source, sha256sum

N = 10000  # per user


def test_20000_files_no_lost_or_misattributed_record():
    src_a = make_source(N, 600, "A")
    src_b = make_source(N, 700, "B")
    try:
        with Medium("ext4", size_mb=200, inodes=60000) as m, Watcher(m.mnt) as w:
            procs = [subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}",
                                       "--clear-groups", "cp", "-r", src,
                                       os.path.join(m.mnt, d)])
                     for uid, src, d in ((NOBODY, src_a, "a"), (OTHER_UID, src_b, "b"))]
            assert [p.wait() for p in procs] == [0, 0]
            recs = w.stop()
            for d, src, uid in (("a", src_a, NOBODY), ("b", src_b, OTHER_UID)):
                names = sorted(os.listdir(src))
                want = sha256sum(names, os.path.join(m.mnt, d))
                assert want == sha256sum(names, src)
                got = {}
                for r in action(recs, "file-written"):
                    p = get(r, "file.path")
                    if p.startswith(d + "/"):
                        assert p not in got, f"{p} logged twice"
                        got[p] = r
                assert len(got) == N, f"{d}: {N - len(got)} records lost"
                for n in names:
                    r = got[f"{d}/{n}"]
                    assert get(r, "user.id") == uid, f"{d}/{n} misattributed"
                    assert get(r, "process.executable") == "/usr/bin/cp"
                    assert get(r, "portcullis.attribution") == "open"
                    assert get(r, "file.hash.sha256") == want[n]
            assert len(action(recs, "file-written")) == 2 * N
            assert not action(recs, "xfer-overflow")
    finally:
        shutil.rmtree(src_a)
        shutil.rmtree(src_b)
