"""Benchmark of the transfer log's two backends where both load: Debian's kernel in the
kernel test bed (tests/kernel, fentry allowed). 2,000 x 4 KiB files copied by `cp -r` +
`sync -f` onto an ext4 loop medium with no watcher, with portcullis-xferwatch on fanotify
(`xfer-backend = fanotify`) and on eBPF (`xfer-backend = bpf`), in the same run, order
rotating; with a watcher the time runs until every file-written record (SHA-256 included)
is out. Then, per backend, 200 writers that each write one file as their own uid and exit
at once: records lost and misattributed. Prints a markdown section for
tests/bench/record.sh transfer-backends. Run by bench_backends.sh; not a CTest test."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../integration/xfer"))
import xferlib  # noqa: E402
import test_xfer_bpf as quick  # noqa: E402
from bench_transfer import copy  # noqa: E402

REPEAT = int(os.environ.get("XFER_BENCH_REPEAT", "3"))
N, SIZE = 2000, 4096
MODES = ("none", "fanotify", "bpf")


def make_source():
    src = tempfile.mkdtemp(prefix="xfer-bench-src-")
    for i in range(N):
        with open(os.path.join(src, f"f{i:04d}"), "wb") as f:
            f.write(os.urandom(SIZE))
    return src


def timed(m, mode, src, i):
    dst = os.path.join(m.mnt, f"{mode}-{i}")
    w = xferlib.Watcher(m.mnt, f"xfer-backend={mode}") if mode != "none" else None
    try:
        t = copy([src, dst], m.mnt, w, N)
    finally:
        if w is not None:
            recs = w.stop()
            assert xferlib.get(quick.started(recs), "xfer.backend") == mode
            assert len(xferlib.action(recs, "file-written")) == N
    shutil.rmtree(dst)
    subprocess.run(["sync", "-f", m.mnt], check=True)
    return t


def quick_writers(m, mode):
    """(lost, misattributed) among 200 writers that exit at once."""
    w = xferlib.Watcher(m.mnt, f"xfer-backend={mode}")
    pids = quick.spawn_writers(m.mnt, quick.N)
    w.wait_for(lambda rs: len(xferlib.action(rs, "file-written")) >= quick.N, timeout=300)
    recs = w.stop()
    got = {xferlib.get(r, "file.path"): r for r in xferlib.action(recs, "file-written")}
    lost = wrong = 0
    for i, pid in pids.items():
        r = got.get("w%03d.bin" % i)
        if r is None:
            lost += 1
        elif (xferlib.get(r, "user.id") != quick.BASE_UID + i or
              xferlib.get(r, "process.pid") != pid):
            wrong += 1
    for name in os.listdir(m.mnt):
        if name.startswith("w") and name.endswith(".bin"):
            os.unlink(os.path.join(m.mnt, name))
    return lost, wrong


def main():
    src = make_source()
    times = {mode: [] for mode in MODES}
    quality = {}
    try:
        with xferlib.Medium("ext4", size_mb=256) as m:
            for i in range(REPEAT):
                for k in range(len(MODES)):
                    mode = MODES[(i + k) % len(MODES)]
                    times[mode].append(timed(m, mode, src, i))
            for mode in MODES[1:]:
                quality[mode] = quick_writers(m, mode)
    finally:
        shutil.rmtree(src)
    med = {mode: statistics.median(v) for mode, v in times.items()}
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by"
          " `tests/bench/transfer/bench_backends.sh build`: inside the kernel test bed"
          f" (Debian's kernel {os.uname().release} under QEMU, {os.cpu_count()} virtual CPU,"
          " emulated without KVM on this machine: absolute times are slow, compare the"
          " ratios), `portcullis-xferwatch` on its own (not through the daemon), an ext4"
          f" loop medium. {N} x 4 KiB files by `cp -r` as root + `sync -f`, timed until every"
          " `file-written` record (SHA-256 included) is out. Medians of"
          f" {REPEAT} runs per column, order rotating. The eBPF backend is not in the"
          " `transfer` table above: that machine's kernel refuses fentry programs.\n")
    print("| copy | no watcher | fanotify | eBPF | fanotify / none | eBPF / none |"
          " eBPF / fanotify |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {N} x 4 KiB | {med['none']:.3f} s | {med['fanotify']:.3f} s |"
          f" {med['bpf']:.3f} s | {med['fanotify'] / med['none']:.2f}× |"
          f" {med['bpf'] / med['none']:.2f}× | {med['bpf'] / med['fanotify']:.2f}× |")
    print()
    print(f"{quick.N} writers that each write one file as their own uid and exit at once,"
          " all in parallel: " + "; ".join(
              f"{mode}: {lost} records lost, {wrong} misattributed"
              for mode, (lost, wrong) in quality.items()) + ".")


if __name__ == "__main__":
    main()
