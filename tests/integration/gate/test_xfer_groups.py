"""A transfer log's file records reach the trail in groups, measured from outside.

Through the running daemon, a copy of many files onto an approved stick: the engine's
thread that reads the watcher writes the trail far fewer times than there are files (one
write per group of records, strace on the running engine), every file still has exactly
one record with its user, size, the stick's identity and the watcher's own time as
event.created, the records' fields are what a single record carries, and the trail
verifies. The engine's fields (the stick's identity, its state and rule, the volume and
port) come last in each line, after the watcher's; a client following the records
(`portcullis watch --json`) is told every file record whole, the trail's record without
its frame. A record the watcher sends between file records (the watch stopping) keeps its
place."""
import json
import os
import re
import subprocess
import time

from harness import as_user, connected, read_lines_until
from test_durability import engine_pid, stop_strace, traced
from test_media import OTHER_UID, approved_stick

FILES = 400
WRITE = re.compile(r'^(\d+) +(pwrite64|pwritev2)\((\d+)<([^>]*)>')
FRAME = {"seq", "epoch", "prev", "audit.type", "@timestamp", "host.name", "boot_id", "salt",
         "mac"}
ENGINES = ("usb.", "volume.", "rule.", "approval.", "council.", "portcullis.state")


def test_file_records_are_written_in_groups(pc, medium):
    approved_stick(pc, medium)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    pc.wait_quiet()
    src = os.path.join(pc.work, "minutes")
    os.mkdir(src)
    for i in range(FILES):
        with open(os.path.join(src, "m-%04d.txt" % i), "wb") as f:
            f.write(os.urandom(2048))
    os.chmod(src, 0o755)
    w = subprocess.Popen([pc.cli_path(), "watch", "--json"], env=pc.env(),
                         stdout=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not connected(w.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # its request read by the engine before the copy
    eng = engine_pid(pc)
    out = os.path.join(pc.work, "strace.out")
    st = subprocess.Popen(["strace", "-f", "-qq", "-y", "-e", "trace=pwrite64,pwritev2",
                           "-o", out, "-p", str(eng)], stderr=subprocess.DEVNULL)
    try:
        for _ in range(1000):
            if traced(eng):
                break
            time.sleep(0.01)
        assert traced(eng), "strace did not attach"
        as_user(OTHER_UID, "cp", "-r", src, medium.mnt + "/minutes")
        deadline = time.time() + 180
        written = []
        while len(written) < FILES and time.time() < deadline:
            written = [r for r in pc.records() if r.get("event.action") == "file-written"]
            time.sleep(0.1)
    finally:
        stop_strace(st)
    told = []
    try:
        # A client too slow for the burst is dropped (never waited for): what it was told
        # before, up to the end of its stream, or every record.
        def all_told(_line):
            return sum('"file-written"' in t for t in told) >= FILES
        read_lines_until(w, told, all_told, time.monotonic() + 10)
    finally:
        w.terminate()
        w.wait()
    told = {r["file.path"]: r for r in map(json.loads, told)
            if r.get("event.action") == "file-written"}
    print("the watching client was told %d file records" % len(told))
    assert told
    paths = [r["file.path"] for r in written]
    assert sorted(paths) == ["minutes/m-%04d.txt" % i for i in range(FILES)]
    for r in written:
        assert r["user.id"] == OTHER_UID and r["file.size"] == 2048, r
        assert r["process.executable"].endswith("/cp"), r
        assert r["volume.serial_number"] == "AA00000000011111" and r["usb.port"] == "1-2"
        assert r["volume.device_name"] == medium.name, r
        assert r["event.created"] and "@timestamp" in r, r
        assert r["observability.open_close"] is True, r
        keys = list(r)
        first = min(i for i, k in enumerate(keys) if k.startswith(ENGINES))
        assert all(k.startswith(ENGINES) or k == "mac" for k in keys[first:]), keys
        if r["file.path"] in told:
            assert told[r["file.path"]] == {k: v for k, v in r.items() if k not in FRAME}, r
    writes = []
    with open(out) as f:
        for line in f:
            m = WRITE.match(line)
            if m and "/trail-" in m.group(4) and m.group(1) == str(eng):
                writes.append(line)
    print("%d files copied: %d trail writes by the engine's main thread"
          % (FILES, len(writes)))
    # One write per record would be FILES; groups are what one read of the watcher's
    # channel holds (16 KiB: about 15 records).
    assert 1 <= len(writes) <= FILES // 4
    medium.umount()
    stopped = pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-stopped",
                             timeout=20)
    assert stopped["seq"] > max(r["seq"] for r in written)
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr
