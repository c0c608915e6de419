#!/usr/bin/env python3
"""Crash test of the audit writer: kill -9 at random points, >= 200 times.

After every kill, every acknowledged record must be in the trail and verify with
`portcullis audit verify`; a half-written last line must be reported and never
accepted; the next writer start must drop it and carry on the same chain.
kill -9 cannot split a single write(2); a quarter of the iterations also leave
the torn start of a record, as a power cut during the write would.
Runs against the staged install (PCL_PREFIX) and the test writer in PCL_BUILD_DIR.
"""
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

ITERATIONS = int(os.environ.get("AUDIT_CRASH_ITERATIONS", "200"))
prefix = os.environ["PCL_PREFIX"]
build = os.environ["PCL_BUILD_DIR"]
cli = os.path.join(prefix, "bin", "portcullis")
writer = os.path.join(build, "tests", "integration", "audit", "audit_testwriter")
SUMMARY = re.compile(r"^(verified|FAILED): (\d+) records \(seq (\d+)\.\.(\d+)\)", re.M)


def segments(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith("trail-"))


def main():
    rng = random.Random(int(os.environ.get("AUDIT_CRASH_SEED", time.time_ns())))
    with tempfile.TemporaryDirectory(prefix="audit-crash-") as tmp:
        trail, key = os.path.join(tmp, "trail"), os.path.join(tmp, "key")
        subprocess.run([writer, trail, "1"], env=dict(os.environ, AUDIT_TW_QUIET="1",
                       AUDIT_TW_KEY=key), check=True, stdout=subprocess.DEVNULL)
        acked_max, partials, kills_with_acks = 1, 0, 0
        for i in range(ITERATIONS):
            acks = os.path.join(tmp, "acks")
            with open(acks, "wb") as out:
                threads = rng.choice(["1", "4"])
                p = subprocess.Popen([writer, trail, "0", str(rng.randint(2, 9)), threads],
                                     stdout=out, stderr=subprocess.PIPE)
                time.sleep(rng.uniform(0.0, 0.1))
                p.send_signal(signal.SIGKILL)
                _, err = p.communicate()
                if p.returncode != -signal.SIGKILL:
                    sys.exit(f"iteration {i}: writer exited {p.returncode}: {err.decode()}")
            with open(acks) as f:
                seqs = [int(l.split()[1]) for l in f if l.startswith("ack ")]
            if seqs:
                kills_with_acks += 1
                acked_max = max(acked_max, max(seqs))
            if rng.random() < 0.25:
                # kill -9 cannot split one write(2) to a file; a power cut can. Leave
                # the torn start of a record as such a crash would.
                seg = open(segments(trail)[-1], "rb").read()
                last = seg[:seg.rfind(b"\n")].split(b"\n")[-1]  # last complete line
                if len(last) > 1:
                    with open(segments(trail)[-1], "ab") as f:
                        f.write(last[:rng.randint(1, len(last) - 1)])
            data = b"".join(open(s, "rb").read() for s in segments(trail))
            complete = data.count(b"\n")
            partial = not data.endswith(b"\n")
            r = subprocess.run([cli, "audit", "verify", "--key", key, trail],
                               capture_output=True, text=True)
            m = SUMMARY.search(r.stdout)
            if m is None:
                sys.exit(f"iteration {i}: no summary:\n{r.stdout}{r.stderr}")
            records, last = int(m.group(2)), int(m.group(4))
            if partial:
                partials += 1
                ok = r.returncode == 1 and "incomplete record at end of file" in r.stdout \
                    and r.stdout.count("FAIL") == 2  # the line and the summary
            else:
                ok = r.returncode == 0
            if not ok or records != complete or last < acked_max:
                sys.exit(f"iteration {i}: partial={partial} complete={complete} "
                         f"acked={acked_max} rc={r.returncode}\n{r.stdout}")
        # A clean run after the last kill drops any half record and verifies.
        subprocess.run([writer, trail, "3"], env=dict(os.environ, AUDIT_TW_QUIET="1"),
                       check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run([cli, "audit", "verify", "--key", key, trail],
                           capture_output=True, text=True)
        print(r.stdout.strip())
        if r.returncode != 0:
            sys.exit("final verify failed")
        print(f"audit crash test: {ITERATIONS} kills ({kills_with_acks} after acks), "
              f"{partials} half records rejected then dropped, {acked_max} acked records kept")


if __name__ == "__main__":
    main()
