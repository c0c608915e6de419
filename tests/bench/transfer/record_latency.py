"""How long after a lone file's close its record leaves portcullis-xferwatch.

One file of 4 KiB at a time is written and closed on an ext4 loop medium (30 ms apart,
so the watcher is idle before each), and the time from close() returning to its
file-written line arriving on the watcher's stdout (a pipe read by this script) is
taken. Builds given on the command line (staged prefixes, e.g. build/stage) are run in
turn, ROUNDS times each, N files a round; prints the median and 90th percentile per
build with the load average, and how often the watcher's threads went to sleep (voluntary
context switches, /proc/PID/task/*/status) in the second after a round's last record.
Run as root:

  python3 record_latency.py /work/main/build/stage build/stage

Not a CTest test (a timing).
"""
import glob
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../integration/xfer"))
import xferlib  # noqa: E402

N = int(os.environ.get("N", "40"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))


def sleeps(pid):
    n = 0
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        with open(status) as f:
            n += sum(int(line.split()[1]) for line in f
                     if line.startswith("voluntary_ctxt_switches"))
    return n


def one_round(prefix, mnt):
    watch = os.path.join(prefix, "libexec/portcullis/portcullis-xferwatch")
    proc = subprocess.Popen([watch, "--device-id", "0781:5581", mnt], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    arrived, lock = {}, threading.Condition()

    def reader():
        for line in proc.stdout:
            now = time.perf_counter()
            with lock:
                if b'"xfer-watch-started"' in line:
                    arrived["started"] = now
                elif b'"file-written"' in line:
                    name = line.split(b'"file.path":"', 1)[1].split(b'"', 1)[0].decode()
                    arrived[name] = now
                lock.notify_all()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    with lock:
        assert lock.wait_for(lambda: "started" in arrived, timeout=20), "watcher did not start"
    lat = []
    data = os.urandom(4096)
    for i in range(N):
        name = f"lat-{i:03d}"
        time.sleep(0.03)
        fd = os.open(os.path.join(mnt, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.close(fd)
        closed = time.perf_counter()
        with lock:
            assert lock.wait_for(lambda: name in arrived, timeout=10), f"no record for {name}"
            lat.append(arrived[name] - closed)
    before = sleeps(proc.pid)
    time.sleep(1.0)
    quiet = sleeps(proc.pid) - before
    proc.terminate()
    proc.wait(timeout=60)
    t.join(timeout=10)
    for i in range(N):
        os.unlink(os.path.join(mnt, f"lat-{i:03d}"))
    return lat, quiet


def main():
    prefixes = sys.argv[1:]
    if not prefixes:
        sys.exit("usage: record_latency.py STAGED_PREFIX...")
    lat = {p: [] for p in prefixes}
    quiet = {p: [] for p in prefixes}
    with xferlib.Medium("ext4", size_mb=64) as m:
        for _ in range(ROUNDS):
            for p in prefixes:
                v, q = one_round(p, m.mnt)
                lat[p] += v
                quiet[p].append(q)
    for p in prefixes:
        v = sorted(lat[p])
        print(f"{p}: {len(v)} files, close to record median {1000 * statistics.median(v):.2f} ms,"
              f" p90 {1000 * v[int(0.9 * (len(v) - 1))]:.2f} ms; sleeps in the second after:"
              f" {quiet[p]}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
