"""Benchmark: what one open on a watched medium costs the opening program, by watcher.

On an ext4 loop device (image in /var/tmp), a loop in this process creates 2,000 files of
4 KiB (open O_CREAT, write, close), timing each open: with nothing watching; under
fanotify_floor (its modes: allow, cached, proc, pidfd; tests/bench/transfer/fanotify_floor.c)
and its own CPU per event; under portcullis-xferwatch builds given on the command line
(NAME=PATH, with -o xfer-backend=fanotify; NAME=PATH@BACKEND with that backend, e.g.
@bpf-tracepoint, whose opens wait for nobody), each run waiting for every file-written
record before the next. Runs alternate in order; per watcher: the median over runs of
each run's median, mean and 99th percentile open latency, the loop's time and the
watcher's CPU. Permission round trip alone versus the watcher's own work on it, without
the daemon's other noise. Run as root: python3 bench_floor.py BUILD_DIR [RUNS]
[NAME=XFERWATCH[@BACKEND]]... | tests/bench/record.sh transfer-floor. Not a CTest test; prints a
markdown section.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../integration/xfer"))
import xferlib  # noqa: E402

FILES, SIZE = 2000, 4096
FLOOR_MODES = ("allow", "cached", "proc", "pidfd")


def written(path):
    with open(path, "rb") as f:
        return f.read().count(b'"event.action":"file-written"')


class Runner:
    """One watcher for one run: started before the loop, stopped after its records."""

    def __init__(self, floor, kind, mnt, out):
        self.kind, self.out, self.cpu, self.proc = kind, out, None, None
        if kind == "none":
            return
        if kind in FLOOR_MODES:
            self.proc = subprocess.Popen([floor, kind, mnt], stdout=subprocess.PIPE, text=True)
            if self.proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"fanotify_floor {kind} did not start")
            return
        path, _, backend = kind.partition("@")
        with open(out, "w") as f:
            self.proc = subprocess.Popen([path, "-o", "xfer-backend=" + (backend or "fanotify"),
                                          mnt], stdout=f)
        deadline = time.time() + 20
        while b"xfer-watch-started" not in open(out, "rb").read():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{kind} did not start")
            time.sleep(0.02)

    def finish(self):
        if self.proc is None:
            return
        if self.kind not in FLOOR_MODES:
            deadline = time.time() + 120
            while written(self.out) < FILES:
                if time.time() > deadline:
                    raise AssertionError(f"records missing: {written(self.out)} of {FILES}")
                time.sleep(0.02)
            self.proc.terminate()
            _, _, ru = os.wait4(self.proc.pid, 0)
            self.cpu = (ru.ru_utime + ru.ru_stime) / FILES * 1e6
            return
        self.proc.terminate()
        out = self.proc.communicate(timeout=10)[0].split()
        if int(out[out.index("answered") + 1]) < FILES:
            raise AssertionError(f"fanotify_floor {self.kind} answered too few")
        self.cpu = float(out[out.index("cpu-us-per-event") + 1])


def one_run(mnt, dst, data, runner):
    os.mkdir(dst)
    lat = []
    t0 = time.perf_counter()
    for i in range(FILES):
        a = time.perf_counter_ns()
        fd = os.open(f"{dst}/f{i:04d}", os.O_CREAT | os.O_WRONLY, 0o644)
        lat.append((time.perf_counter_ns() - a) / 1000)
        os.write(fd, data)
        os.close(fd)
    loop = time.perf_counter() - t0
    runner.finish()
    lat.sort()
    return statistics.median(lat), statistics.mean(lat), lat[int(len(lat) * 0.99)], loop


def main():
    floor = os.path.join(sys.argv[1], "tests/bench/transfer/fanotify_floor")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    watchers = dict(a.split("=", 1) for a in sys.argv[3:])
    kinds = ["none", *FLOOR_MODES, *watchers]
    got = {k: [] for k in kinds}
    data = os.urandom(SIZE)
    load0 = os.getloadavg()[0]
    with xferlib.Medium("ext4", size_mb=256, base="/var/tmp") as m:
        out = tempfile.mktemp(prefix="xfer-floor-", suffix=".jsonl")
        try:
            for r in range(runs):
                for k in (kinds if r % 2 == 0 else kinds[::-1]):
                    runner = Runner(floor, watchers.get(k, k), m.mnt, out)
                    dst = os.path.join(m.mnt, f"r{r}")
                    got[k].append((*one_run(m.mnt, dst, data, runner), runner.cpu))
                    subprocess.run(["rm", "-rf", dst], check=True)
                    subprocess.run(["sync", "-f", m.mnt], check=True)
        finally:
            if os.path.exists(out):
                os.unlink(out)
    print("## transfer-floor: what one open on a watched medium costs the opener\n")
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python3"
          f" tests/bench/transfer/bench_floor.py build {runs}"
          + "".join(f" {k}=..." for k in watchers) + f"` on {os.cpu_count()} shared cores,"
          f" kernel {os.uname().release}, load average {load0:.1f} at the start,"
          f" {os.getloadavg()[0]:.1f} at the end. {FILES} files of {SIZE // 1024} KiB created"
          f" one by one on an ext4 loop device; medians over {runs} runs, order alternating.\n")
    print("| watcher | open, median | open, mean | open, p99 | loop | watcher CPU per file |")
    print("|---|---|---|---|---|---|")
    for k in kinds:
        med = [statistics.median(x[i] for x in got[k]) for i in range(4)]
        cpu = [x[4] for x in got[k] if x[4] is not None]
        name = k if k == "none" or k in watchers else f"fanotify_floor {k}"
        print(f"| {name} | {med[0]:.1f} µs | {med[1]:.1f} µs | {med[2]:.0f} µs |"
              f" {med[3]:.3f} s | {f'{statistics.median(cpu):.1f} µs' if cpu else '-'} |")


if __name__ == "__main__":
    main()
