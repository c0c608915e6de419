"""Benchmark: what the copying program itself pays on a watched medium, by backend.

On an ext4 loop device (image in /var/tmp), `cp -r` of 2,000 files of 4 KiB with nothing
watching and under portcullis-xferwatch in each given backend (each run waits for every
file-written record before the next): the copy's wall time, its own CPU (user and system,
from its rusage) and the `sync -f` after it. The daemon's copy (bench_daemon.py) also
pays for the watcher's and engine's work on the same cores; this isolates the part the
kernel adds in the copier's own system calls (the tracepoint program, fanotify's events).
Runs alternate in order; medians. Run as root: python3 bench_copier.py BUILD_DIR [RUNS]
[BACKEND...] (default: bpf-tracepoint fanotify). Not a CTest test; prints a markdown table.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../integration/xfer"))
import xferlib  # noqa: E402

FILES, SIZE = 2000, 4096


def written(recs):
    return sum(xferlib.get(r, "event.action") == "file-written" for r in recs)


def one(watch, backend, src, mnt):
    w = None if backend == "none" else xferlib.Watcher(mnt, "xfer-backend=" + backend,
                                                       watch=watch)
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(["cp", "-r", src, mnt + "/d"], check=True)
        t1 = time.perf_counter()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["sync", "-f", mnt], check=True)
        t2 = time.perf_counter()
        if w is not None:
            w.wait_for(lambda recs: written(recs) >= FILES, timeout=120)
    finally:
        if w is not None:
            w.stop()
    subprocess.run(["rm", "-rf", mnt + "/d"], check=True)
    subprocess.run(["sync", "-f", mnt], check=True)
    return (t1 - t0, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
            t2 - t1)


def main():
    watch = os.path.join(sys.argv[1], "stage/libexec/portcullis/portcullis-xferwatch")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    kinds = ["none", *(sys.argv[3:] or ["bpf-tracepoint", "fanotify"])]
    got = {k: [] for k in kinds}
    load0 = os.getloadavg()[0]
    src = tempfile.mkdtemp(prefix="xfer-copier-", dir="/var/tmp")
    try:
        for i in range(FILES):
            with open(f"{src}/f{i:04d}", "wb") as f:
                f.write(os.urandom(SIZE))
        with xferlib.Medium("ext4", size_mb=256, base="/var/tmp") as m:
            for r in range(runs):
                for k in (kinds if r % 2 == 0 else kinds[::-1]):
                    got[k].append(one(watch, k, src, m.mnt))
    finally:
        subprocess.run(["rm", "-rf", src], check=True)
    print(f"`python3 tests/bench/transfer/bench_copier.py build {runs}"
          + "".join(f" {k}" for k in kinds[1:]) + f"`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
          f" load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end;"
          f" `cp -r` of {FILES} files of {SIZE // 1024} KiB onto an ext4 loop device,"
          f" medians of {runs}:\n")
    print("| watcher | cp, wall | cp, user CPU | cp, system CPU | cp's CPU / none | sync -f |")
    print("|---|---|---|---|---|---|")
    base = None
    for k in kinds:
        med = [statistics.median(x[i] for x in got[k]) for i in range(4)]
        cpu = med[1] + med[2]
        base = base or cpu
        print(f"| {k} | {med[0]:.3f} s | {med[1]:.3f} s | {med[2]:.3f} s | {cpu / base:.2f}× |"
              f" {med[3]:.3f} s |")


if __name__ == "__main__":
    main()
