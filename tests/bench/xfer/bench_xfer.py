"""Benchmark: copying 2,000 x 4 KiB files and one 256 MiB file onto an ext4
loop medium with and without portcullis-xferwatch, in the same run. With the
watcher, the time runs until every file-written record (SHA-256 included) has
been emitted. Prints a markdown section for tests/bench/record.sh xfer.
Run as root: bench.sh [BUILD_DIR]. Not a CTest test."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../integration/xfer"))
import xferlib  # noqa: E402

REPEAT = int(os.environ.get("XFER_BENCH_REPEAT", "3"))
SMALL_N, SMALL_SIZE, LARGE_SIZE = 2000, 4096, 256 << 20


def make_sources():
    src = tempfile.mkdtemp(prefix="xfer-bench-", dir="/dev/shm")
    small = os.path.join(src, "small")
    os.mkdir(small)
    for i in range(SMALL_N):
        with open(os.path.join(small, f"f{i:04d}"), "wb") as f:
            f.write(os.urandom(SMALL_SIZE))
    large = os.path.join(src, "large.bin")
    with open(large, "wb") as f:
        for _ in range(LARGE_SIZE >> 20):
            f.write(os.urandom(1 << 20))
    return src, small, large


def wait_written(path, expect, timeout=600):
    """Count file-written records as they arrive (cheap: no JSON parsing)."""
    seen, deadline = 0, time.time() + timeout
    with open(path, "rb") as f:
        tail = b""
        while seen < expect:
            chunk = f.read()
            if chunk:
                data = tail + chunk
                cut = data.rfind(b"\n") + 1
                seen += data[:cut].count(b'"action":"file-written"')
                tail = data[cut:]
            elif time.time() > deadline:
                raise AssertionError("records missing")
            else:
                time.sleep(0.002)


def copy(args, mnt, watcher, expect):
    t0 = time.perf_counter()
    subprocess.run(["cp", "-r", *args], check=True)
    subprocess.run(["sync", "-f", mnt], check=True)
    if watcher is not None:
        wait_written(watcher.out_path, expect)
    return time.perf_counter() - t0


def run_case(m, name, args_fn, expect):
    plain, watched = [], []
    for i in range(REPEAT):
        for mode in ("plain", "watched"):
            dst = os.path.join(m.mnt, f"{name}-{mode}-{i}")
            w = xferlib.Watcher(m.mnt) if mode == "watched" else None
            try:
                t = copy(args_fn(dst), m.mnt, w, expect)
            finally:
                if w is not None:
                    recs = w.stop()
                    assert len(xferlib.action(recs, "file-written")) == expect
            (watched if w else plain).append(t)
            shutil.rmtree(dst) if os.path.isdir(dst) else os.unlink(dst)
            subprocess.run(["fstrim", m.mnt], stderr=subprocess.DEVNULL)
    return statistics.median(plain), statistics.median(watched)


def main():
    if len(sys.argv) > 1:
        xferlib.WATCH = os.path.join(sys.argv[1], "lib/xfer/portcullis-xferwatch")
    src, small, large = make_sources()
    try:
        with xferlib.Medium("ext4", size_mb=768) as m:
            s_plain, s_watch = run_case(m, "small", lambda d: [small, d], SMALL_N)
            l_plain, l_watch = run_case(m, "large", lambda d: [large, d], 1)
    finally:
        shutil.rmtree(src)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `tests/bench/xfer/bench.sh`"
          f" on {os.cpu_count()} cores ({cpu}), kernel {os.uname().release}: `cp -r` as root onto"
          " an ext4 loop device (image on tmpfs), `sync -f` included; with the watcher the time"
          " runs until every `file-written` record, SHA-256 included, is out. Median of"
          f" {REPEAT} alternating runs.\n")
    print("| copy | without watcher | with watcher | ratio | goal |")
    print("|---|---|---|---|---|")
    print(f"| {SMALL_N} x 4 KiB files | {s_plain:.3f} s | {s_watch:.3f} s |"
          f" {s_watch / s_plain:.2f}x | <= 1.25x |")
    print(f"| one 256 MiB file | {l_plain:.3f} s | {l_watch:.3f} s |"
          f" {l_watch / l_plain:.2f}x | <= 1.10x |")


if __name__ == "__main__":
    main()
