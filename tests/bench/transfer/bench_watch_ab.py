"""A/B of two portcullis-xferwatch binaries on one copy: `cp -r` of 2,000 x 4 KiB files +
`sync -f` onto an ext4 loop medium until every file-written record (SHA-256 included) is
out, watcher A and watcher B in alternating order, REPEAT rounds; prints each round's
seconds and B/A, and the median ratio. Options for both watchers from XFER_AB_OPTS
(default `xfer-backend=bpf`). Used for the eBPF backend's holding back under fentry (in
the kernel test bed: tests/kernel/in_guest.py). Root; not a CTest test.
Usage: bench_watch_ab.py WATCHER_A WATCHER_B"""
import os
import shutil
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../integration/xfer"))
import xferlib  # noqa: E402
from bench_backends import N, make_source  # noqa: E402
from bench_transfer import copy  # noqa: E402

REPEAT = int(os.environ.get("XFER_BENCH_REPEAT", "5"))


def main(a, b):
    opts = os.environ.get("XFER_AB_OPTS", "xfer-backend=bpf").split()
    src = make_source()
    ratios = []
    try:
        with xferlib.Medium("ext4", size_mb=256) as m:
            for i in range(REPEAT):
                t = {}
                for name in (("A", "B") if i % 2 == 0 else ("B", "A")):
                    dst = os.path.join(m.mnt, f"{name}-{i}")
                    w = xferlib.Watcher(m.mnt, *opts, watch=a if name == "A" else b)
                    try:
                        t[name] = copy([src, dst], m.mnt, w, N)
                    finally:
                        recs = w.stop()
                    assert len(xferlib.action(recs, "file-written")) == N
                    assert not xferlib.action(recs, "xfer-overflow")
                    shutil.rmtree(dst)
                    subprocess.run(["sync", "-f", m.mnt], check=True)
                ratios.append(t["B"] / t["A"])
                print(f"round {i + 1}: A {t['A']:.3f} s, B {t['B']:.3f} s, B/A {ratios[-1]:.3f}",
                      flush=True)
    finally:
        shutil.rmtree(src)
    print(f"median B/A over {REPEAT} rounds: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
