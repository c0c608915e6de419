#!/usr/bin/env python3
"""tests/bench/fleet/bench.py [BUILD_DIR] - the collector's continuous verification,
recorded in the `fleet` section of docs/benchmarks.md.

Writes FLEET_BENCH_MAX (default 1000) real trails with fleet_writer (40 records and their
checkpoints each), files them as a collector would (COLLECTED/<council>/<pc>/trail.log),
and for fleets of 100, 300 and 1000 PCs times `portcullis fleet verify`:
 - the first run over the first quarter of every trail (catch-up),
 - three next runs, each after another quarter arrived (about 10 records per PC: one
   minute of 1,000 PCs at 10 records per minute), the steady state of the one-minute
   timer: the median is shown,
 - a run with nothing new.
Records per second and seconds per PC show whether the cost grows linearly with the PCs.
Not a test: nothing here asserts a speed."""
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

top = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "build")
CLI = os.path.join(build, "tools", "portcullis")
WRITER = os.path.join(build, "tests", "integration", "fleet", "fleet_writer")
MAX = int(os.environ.get("FLEET_BENCH_MAX", "1000"))
SIZES = [n for n in (100, 300, 1000) if n <= MAX]
COUNCILS = 20


def names(i):
    return "council%02d" % (i % COUNCILS), "pc%04d" % i


def make(tmp, i):
    c, p = names(i)
    trail = os.path.join(tmp, "trails", c, p)
    os.makedirs(os.path.dirname(trail), exist_ok=True)
    key = os.path.join(tmp, "keys", "%s-%s.key" % (c, p))
    subprocess.run([WRITER, trail, "%s/%s" % (c, p), "40", key], check=True)
    lines = []
    for seg in sorted(os.listdir(trail)):
        if seg.startswith("trail-"):
            lines += open(os.path.join(trail, seg), "rb").read().splitlines(keepends=True)
    return c, p, key, lines


def timed(*args):
    t0 = time.monotonic()
    r = subprocess.run(list(args), capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("%s: %s%s" % (" ".join(args), r.stdout[-2000:], r.stderr))
    return dt


def main():
    with tempfile.TemporaryDirectory(prefix="fleet-bench-", dir="/var/tmp") as tmp:
        os.makedirs(os.path.join(tmp, "keys"))
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as ex:
            pcs = list(ex.map(lambda i: make(tmp, i), range(MAX)))
        gen = time.monotonic() - t0
        rows = []
        load = open("/proc/loadavg").read().split()[0]
        for n in SIZES:
            fleet, col = os.path.join(tmp, "fleet%d" % n), os.path.join(tmp, "col%d" % n)
            first = 0
            for c, p, key, lines in pcs[:n]:
                subprocess.run([CLI, "fleet", "add", "--fleet", fleet, "--council", c,
                                "--pc", p, "--key", key], check=True, capture_output=True)
                d = os.path.join(col, c, p)
                os.makedirs(d)
                q = len(lines) // 4
                open(os.path.join(d, "trail.log"), "wb").writelines(lines[:q])
                first += q
            args = [CLI, "fleet", "verify", "--quiet", "--fleet", fleet, "--collected", col]
            t_first = timed(*args)
            runs = []
            for k in (1, 2, 3):
                arrived = 0
                for c, p, key, lines in pcs[:n]:
                    q = len(lines) // 4
                    part = lines[k * q:(k + 1) * q if k < 3 else len(lines)]
                    with open(os.path.join(col, c, p, "trail.log"), "ab") as f:
                        f.writelines(part)
                    arrived += len(part)
                runs.append((timed(*args), arrived))
            runs.sort()
            t_next, second = runs[1]
            t_idle = timed(*args)
            rows.append((n, first, t_first, second, t_next, t_idle))
            print(rows[-1], flush=True)
        out = ["## fleet: continuous verification on the collector", "",
               "`tests/bench/fleet/bench.py` (%s, 2 cores shared with other builds, load "
               "average %s at the start): real trails from `fleet_writer` (%d PCs in %d "
               "councils, generated in %.0f s), filed as rsyslog files them; "
               "`portcullis fleet verify` timed for each fleet size. \"Next run\": every PC "
               "has about 10 new records, one minute of 1,000 PCs at 10 records per minute; "
               "median of three such runs. Each run that finds new records for a PC saves "
               "its witness with fsync (file and directory), so the cost per PC follows the "
               "shared disk's fsync latency more than the CPU."
               % (time.strftime("%Y-%m-%d"), load, MAX, COUNCILS, gen), "",
               "| PCs | first run: records | s | records/s | next run: records | s | "
               "records/s | ms per PC | nothing new: s |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for n, first, tf, second, tn, ti in rows:
            out.append("| %d | %d | %.2f | %.0f | %d | %.2f | %.0f | %.2f | %.2f |" % (
                n, first, tf, first / tf, second, tn, second / tn, 1000 * tn / n, ti))
        n, _, _, second, tn, _ = rows[-1]
        per_pc = [1000 * r[4] / r[0] for r in rows]
        out += ["", "Growth: %s ms per PC per run from %d to %d PCs (linear when flat). "
                "%d PCs' minute of records verified in %.1f s: %.0f%% of the one-minute "
                "timer period (goal: keep up, < 100%%)." % (
                    " / ".join("%.2f" % x for x in per_pc), rows[0][0], n, n, tn,
                    100 * tn / 60)]
        text = "\n".join(out) + "\n"
        print(text)
        subprocess.run([os.path.join(top, "tests", "bench", "record.sh"), "fleet"],
                       input=text, text=True, check=True)


if __name__ == "__main__":
    main()
