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

A decision's record is durable once its entry in the trail's intent file is (one
RWF_DSYNC overwrite of a preallocated slot; the segment itself is synced later). So,
chosen at random per run, the writer appends durable records alone (each through the
intent file; the flusher syncs the segment only within its 1 s intent window, a kill
comes sooner), and the cut falls anywhere at or after
the segment's own synced offset (the writer's "trail" mark, or the newest whole intent
entry's start, which was on disk when the entry was written), often exactly there:
possibly before records durable only in the intent file. After the reopen they must be
back (replayed from the intent file, said by an audit-intent-replayed record).
Runs against the staged install (PCL_PREFIX) and the test writer in PCL_BUILD_DIR.
"""
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import struct
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


INTENT_SLOT, INTENT_HDR = 64 * 1024, 72


def newest_intent(d):
    """The newest whole entry of the intent file (lib/audit/audit_int.h): (month, offset)."""
    try:
        with open(os.path.join(d, "intent"), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    best = None
    for at in range(0, len(data) - INTENT_SLOT + 1, INTENT_SLOT):
        s = data[at:at + INTENT_SLOT]
        if s[:8] != b"PCLINT1\n":
            continue
        gen, month, off, n = struct.unpack_from("<Q8sQI", s, 8)
        if n == 0 or INTENT_HDR + n > INTENT_SLOT or \
                hashlib.sha256(s[:40] + s[INTENT_HDR:INTENT_HDR + n]).digest() != s[40:72]:
            continue
        if best is None or gen > best[0]:
            best = (gen, month.rstrip(b"\0").decode(), off)
    return best and best[1:]


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


def cut(trail, floor, rng, synced=None):
    """Cut the last segment at a random byte at or after the end of record `floor`; with
    synced (the newest intent entry's month and start), at or after that start too, and
    at that very byte half the time."""
    seg = segments(trail)[-1]
    data = open(seg, "rb").read()
    start, pos = 0, 0
    for line in data.split(b"\n")[:-1]:
        pos += len(line) + 1
        m = SEQ.match(line)
        if m and int(m.group(1)) <= floor:
            start = pos
    if synced and os.path.basename(seg) == "trail-%s.jsonl" % synced[0]:
        start = max(start, synced[1])
    where = start if synced and rng.random() < 0.5 else rng.randint(start, len(data))
    with open(seg, "r+b") as f:
        f.truncate(where)
    return where < len(data)


def started(p, acks, timeout=60):
    """Wait until the writer has acknowledged its first record (or has exited)."""
    deadline = time.time() + timeout
    while os.path.getsize(acks) == 0 and p.poll() is None:
        if time.time() > deadline:
            sys.exit(f"the writer acknowledged no record in {timeout} s")
        time.sleep(0.002)


def replayed(trail, seq):
    """Whether record seq (in the last segment) is the reopen's audit-intent-replayed."""
    with open(segments(trail)[-1], "rb") as f:
        for line in f:
            m = SEQ.match(line)
            if m and int(m.group(1)) == seq:
                return json.loads(line).get("event.action") == "audit-intent-replayed"
    return False


def main():
    rng = random.Random(int(os.environ.get("AUDIT_POWER_CUT_SEED", time.time_ns())))
    with tempfile.TemporaryDirectory(prefix="audit-power-cut-") as tmp:
        trail, key = os.path.join(tmp, "trail"), os.path.join(tmp, "key")
        subprocess.run([writer, trail, "1"], env=dict(os.environ, AUDIT_TW_QUIET="1",
                       AUDIT_TW_KEY=key), check=True, stdout=subprocess.DEVNULL)
        kept, lost, cuts, max_lost, replays, intent_runs = 1, 0, 0, 0, 0, 0
        for i in range(ITERATIONS):
            # Grouped records one at a time, or written together as groups of 16 or 64
            # (audit_append_group: the engine's path for a transfer log's records); or
            # durable records alone, each through the intent file, the segment's sync
            # left to the flusher's intent window.
            intent = rng.random() < 0.5
            intent_runs += intent
            if intent:
                env = dict(os.environ, AUDIT_TW_MARKS="1")
                args = [writer, trail, "0", "0", "1"]
            else:
                env = dict(os.environ, AUDIT_TW_GROUPED="1",
                           AUDIT_TW_GROUP=rng.choice(["1", "16", "64"]))
                args = [writer, trail, "0", str(rng.randint(20, 200)), rng.choice(["1", "4"])]
            acks = os.path.join(tmp, "acks")
            with open(acks, "wb") as out:
                p = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.PIPE)
                # Mostly killed while it appends: the random delay counts from its first
                # acknowledged record, so that a slow start (a loaded machine, a sanitizer
                # build) does not leave the run without records to lose or replay; now
                # and then killed while it still opens the trail.
                if rng.random() < 0.9:
                    started(p, acks)
                time.sleep(rng.uniform(0.01, 0.15))
                p.send_signal(signal.SIGKILL)
                _, err = p.communicate()
                if p.returncode != -signal.SIGKILL:
                    sys.exit(f"iteration {i}: writer exited {p.returncode}: {err.decode()}")
            acked, durable, synced = kept, kept, kept
            with open(acks) as f:
                for line in f:
                    w = line.split()
                    if len(w) == 6 and w[0] == "ack" and w[2] == "durable" and w[4] == "trail":
                        acked, durable = max(acked, int(w[1])), max(durable, int(w[3]))
                        synced = max(synced, int(w[5]))
            if durable > acked or synced > durable:
                sys.exit(f"iteration {i}: marks out of order: acked {acked}, durable "
                         f"{durable}, trail {synced}")
            floor = max(durable, state_ckpt(trail))
            if intent:
                cuts += cut(trail, max(synced, state_ckpt(trail)), rng, newest_intent(trail))
            else:
                cuts += cut(trail, floor, rng)
            # The writer restarts after the power cut: drops a torn tail, same chain.
            r = subprocess.run([writer, trail, "2"], env=dict(os.environ, AUDIT_TW_QUIET="1"),
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"iteration {i}: reopen after the cut failed: {r.stderr}")
            r, last = verify(key, trail)
            if r.returncode != 0:
                sys.exit(f"iteration {i}: trail does not verify after the cut:\n{r.stdout}")
            # Records of this run still there: up to last - 3 (2 records + a checkpoint),
            # last - 4 when the reopen first put back bytes from the intent file.
            survived = last - 3
            if replayed(trail, survived):
                survived -= 1
                replays += 1
            if survived < floor:
                sys.exit(f"iteration {i}: durable record lost ({survived} < {floor})")
            gone = max(0, acked - survived)
            lost += gone
            max_lost = max(max_lost, gone)
            kept = last
        print(f"audit power-cut test: {ITERATIONS} kills, {cuts} tails cut, "
              f"{lost} unsynced records lost in all (at most {max_lost} at one cut), "
              f"every durable record kept, trail verifies ({kept} records); "
              f"{intent_runs} runs cut from the segment's own synced end on, "
              f"{replays} replays from the intent file")
        # Half of those cuts fall exactly at the segment's synced end, behind records
        # durable only in the intent file: the replay is exercised, not just allowed.
        if intent_runs >= 5 and replays == 0:
            sys.exit("no cut needed the intent file: the test did not test it")


if __name__ == "__main__":
    main()
