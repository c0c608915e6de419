#!/usr/bin/env python3
"""Power cut during grouped (file transfer) records: what docs/transfer-log.md promises.

The writer appends grouped records (audit_append_grouped: made durable by the trail's
flusher thread, one fdatasync per group; or, chosen at random per run, written 16 or 64
at a time by audit_append_group, one write per group, as the engine writes a transfer
log's records) with a security record now and then (its own
sync and a checkpoint; with one writer thread it is alone at the trail, so it is written
with pwritev2(RWF_DSYNC) together with the grouped records not yet synced, the daemon's
path for a decision before a grant), and is killed with SIGKILL at random points. A power cut then
takes away what the disk did not yet hold: the test cuts the last segment at a random
byte at or after the end of the last record known durable (the writer's own durable
mark, or the checkpoint in the state file, whichever is later), as a power cut could,
torn record included. After every cut the writer must reopen the trail, carry on the
same chain, and the whole trail must verify; every record the writer had reported
durable must still be there. The records lost are counted: at most the last group.
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

ITERATIONS = int(os.environ.get("AUDIT_POWER_CUT_ITERATIONS", "30"))
prefix = os.environ["PCL_PREFIX"]
build = os.environ["PCL_BUILD_DIR"]
cli = os.path.join(prefix, "bin", "portcullis")
writer = os.path.join(build, "tests", "integration", "audit", "audit_testwriter")
SUMMARY = re.compile(r"^(verified|FAILED): (\d+) records \(seq (\d+)\.\.(\d+)\)", re.M)
SEQ = re.compile(rb'^\{"seq":(\d+),')


def segments(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith("trail-"))


def state_ckpt(d):
    with open(os.path.join(d, "state")) as f:
        for line in f:
            if line.startswith("ckpt-seq "):
                return int(line.split()[1])
    return 0


def verify(key, trail):
    r = subprocess.run([cli, "audit", "verify", "--key", key, trail],
                       capture_output=True, text=True)
    m = SUMMARY.search(r.stdout)
    if m is None:
        sys.exit(f"no summary:\n{r.stdout}{r.stderr}")
    return r, int(m.group(4))


def cut(trail, floor, rng):
    """Cut the last segment at a random byte at or after the end of record `floor`."""
    seg = segments(trail)[-1]
    data = open(seg, "rb").read()
    start, pos = 0, 0
    for line in data.split(b"\n")[:-1]:
        pos += len(line) + 1
        m = SEQ.match(line)
        if m and int(m.group(1)) <= floor:
            start = pos
    where = rng.randint(start, len(data))
    with open(seg, "r+b") as f:
        f.truncate(where)
    return where < len(data)


def main():
    rng = random.Random(int(os.environ.get("AUDIT_POWER_CUT_SEED", time.time_ns())))
    with tempfile.TemporaryDirectory(prefix="audit-power-cut-") as tmp:
        trail, key = os.path.join(tmp, "trail"), os.path.join(tmp, "key")
        subprocess.run([writer, trail, "1"], env=dict(os.environ, AUDIT_TW_QUIET="1",
                       AUDIT_TW_KEY=key), check=True, stdout=subprocess.DEVNULL)
        kept, lost, cuts, max_lost = 1, 0, 0, 0
        for i in range(ITERATIONS):
            # Grouped records one at a time, or written together as groups of 16 or 64
            # (audit_append_group: the engine's path for a transfer log's records).
            env = dict(os.environ, AUDIT_TW_GROUPED="1",
                       AUDIT_TW_GROUP=rng.choice(["1", "16", "64"]))
            acks = os.path.join(tmp, "acks")
            with open(acks, "wb") as out:
                p = subprocess.Popen([writer, trail, "0", str(rng.randint(20, 200)),
                                      rng.choice(["1", "4"])],
                                     env=env, stdout=out, stderr=subprocess.PIPE)
                time.sleep(rng.uniform(0.01, 0.15))
                p.send_signal(signal.SIGKILL)
                _, err = p.communicate()
                if p.returncode != -signal.SIGKILL:
                    sys.exit(f"iteration {i}: writer exited {p.returncode}: {err.decode()}")
            acked, durable = kept, kept
            with open(acks) as f:
                for line in f:
                    w = line.split()
                    if len(w) == 4 and w[0] == "ack" and w[2] == "durable":
                        acked, durable = max(acked, int(w[1])), max(durable, int(w[3]))
            if durable > acked:
                sys.exit(f"iteration {i}: durable mark {durable} beyond acked {acked}")
            floor = max(durable, state_ckpt(trail))
            cuts += cut(trail, floor, rng)
            # The writer restarts after the power cut: drops a torn tail, same chain.
            r = subprocess.run([writer, trail, "2"], env=dict(os.environ, AUDIT_TW_QUIET="1"),
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"iteration {i}: reopen after the cut failed: {r.stderr}")
            r, last = verify(key, trail)
            if r.returncode != 0:
                sys.exit(f"iteration {i}: trail does not verify after the cut:\n{r.stdout}")
            # Records of this run still there: up to last - 3 (2 records + a checkpoint).
            survived = last - 3
            if survived < floor:
                sys.exit(f"iteration {i}: durable record lost ({survived} < {floor})")
            gone = max(0, acked - survived)
            lost += gone
            max_lost = max(max_lost, gone)
            kept = last
        print(f"audit power-cut test: {ITERATIONS} kills, {cuts} tails cut, "
              f"{lost} unsynced records lost in all (at most {max_lost} at one cut), "
              f"every durable record kept, trail verifies ({kept} records)")


if __name__ == "__main__":
    main()
