"""Benchmark: copying 2,000 x 4 KiB files and one 256 MiB file onto an ext4
loop medium with and without portcullis-xferwatch, in the same run. With the
watcher, the time runs until every file-written record (SHA-256 included) has
been emitted. Prints a markdown section for tests/bench/record.sh transfer.
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

REPEAT = int(os.environ.get("XFER_BENCH_REPEAT", "5"))
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
                seen += data[:cut].count(b'"event.action":"file-written"')
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
    plain, watched, ratios = [], [], []
    for i in range(REPEAT):
        pair = {}
        for mode in (("plain", "watched") if i % 2 == 0 else ("watched", "plain")):
            dst = os.path.join(m.mnt, f"{name}-{mode}-{i}")
            w = xferlib.Watcher(m.mnt) if mode == "watched" else None
            try:
                pair[mode] = copy(args_fn(dst), m.mnt, w, expect)
            finally:
                if w is not None:
                    recs = w.stop()
                    assert len(xferlib.action(recs, "file-written")) == expect
            shutil.rmtree(dst) if os.path.isdir(dst) else os.unlink(dst)
            subprocess.run(["sync", "-f", m.mnt], check=True)
            subprocess.run(["fstrim", m.mnt], stderr=subprocess.DEVNULL)
        plain.append(pair["plain"])
        watched.append(pair["watched"])
        ratios.append(pair["watched"] / pair["plain"])
    return statistics.median(plain), statistics.median(watched), statistics.median(ratios)


def main():
    if len(sys.argv) > 1:
        xferlib.WATCH = os.path.join(sys.argv[1], "lib/xfer/portcullis-xferwatch")
    src, small, large = make_sources()
    rows = []
    try:
        for base, label in (("/dev/shm", "tmpfs"), ("/var/tmp", "root disk")):
            with xferlib.Medium("ext4", size_mb=768, base=base) as m:
                rows.append((label, f"{SMALL_N} x 4 KiB files", "1.25",
                             run_case(m, "small", lambda d: [small, d], SMALL_N)))
                rows.append((label, "one 256 MiB file", "1.10",
                             run_case(m, "large", lambda d: [large, d], 1)))
    finally:
        shutil.rmtree(src)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by"
          f" `tests/bench/transfer/bench.sh` on {os.cpu_count()} shared cores ({cpu}), kernel"
          f" {os.uname().release}, load average {load:.1f} at the end: `cp -r` as root onto"
          " an ext4 loop device whose image is on tmpfs (a medium faster than SHA-256) or on"
          " the root disk, `sync -f` included. With `portcullis-xferwatch` the time runs until"
          " every `file-written` record, SHA-256 included, is out. Medians of"
          f" {REPEAT} paired runs (order alternating); the ratio is the median of the"
          " per-pair ratios.\n")
    print("| medium image | copy | without watcher | with watcher | ratio | goal |")
    print("|---|---|---|---|---|---|")
    for label, what, goal, (p, w, r) in rows:
        print(f"| {label} | {what} | {p:.3f} s | {w:.3f} s | {r:.2f}x | <= {goal}x |")


if __name__ == "__main__":
    main()
