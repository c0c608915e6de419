"""The trail's durable path through the running daemon, measured from outside.

A copy of many files onto an approved stick is made durable in groups: the engine's
fdatasync calls (strace on the running engine) stay far below one per file, none of them
on the engine's main thread (which reads the watcher's records), and every file has its
record with the right user."""
import codecs
import os
import re
import struct
import signal
import subprocess
import time

from harness import as_user, connected, read_lines_until
from test_media import HUB, OTHER_UID, PERSONAL, RULES, approved_stick

FILES = 500


def engine_pid(pc):
    """The engine: the daemon's child running as the engine user (nobody)."""
    for _ in range(500):
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/status" % d) as f:
                    st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
            except OSError:
                continue
            if int(st["PPid"]) == pc.daemon.pid and int(st["Uid"].split()[0]) == 65534:
                return int(d)
        time.sleep(0.02)
    raise AssertionError("no engine process")


def traced(pid):
    """Whether every thread of pid has a tracer."""
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                if "\nTracerPid:\t0\n" in f.read():
                    return False
        return True
    except OSError:
        return False


def stop_strace(st):
    st.send_signal(signal.SIGINT)
    try:
        st.wait(timeout=10)
    except subprocess.TimeoutExpired:  # its tracees are detached when it dies
        st.kill()
        st.wait()


def start_strace(out, calls, pids, *extra):
    """strace -f of pids (their threads included) for calls, into out; returns once every
    thread of each is traced."""
    args = ["strace", "-f", "-qq", *extra, "-e", "trace=" + calls, "-o", out]
    for pid in pids:
        args += ["-p", str(pid)]
    st = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if all(traced(pid) for pid in pids):
            break
        time.sleep(0.01)
    if not all(traced(pid) for pid in pids):
        stop_strace(st)
        raise AssertionError("strace did not attach")
    return st


def test_a_copy_of_many_files_is_made_durable_in_groups(pc, medium):
    approved_stick(pc, medium)
    medium.mount()
    pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
    pc.wait_quiet()
    src = os.path.join(pc.work, "reports")
    os.mkdir(src)
    for i in range(FILES):
        with open(os.path.join(src, "report-%04d.txt" % i), "wb") as f:
            f.write(os.urandom(4096))
    os.chmod(src, 0o755)
    eng = engine_pid(pc)
    out = os.path.join(pc.work, "strace.out")
    st = start_strace(out, "fdatasync", [eng])
    try:
        as_user(OTHER_UID, "cp", "-r", src, medium.mnt + "/reports")
        names = set()
        deadline = time.time() + 180
        while len(names) < FILES and time.time() < deadline:
            names = {r["file.path"] for r in pc.records()
                     if r.get("event.action") == "file-written"}
            time.sleep(0.1)
        # The last group reaches the disk shortly after its records are written.
        time.sleep(0.5)
    finally:
        stop_strace(st)
    assert names == {"reports/report-%04d.txt" % i for i in range(FILES)}
    for r in pc.records():
        if r.get("event.action") == "file-written":
            assert r["user.id"] == OTHER_UID and r["file.size"] == 4096
    with open(out) as f:
        calls = [l.split()[0] for l in f if "fdatasync(" in l]
    print("%d files copied: %d fdatasync by the engine (%d on its main thread)"
          % (FILES, len(calls), calls.count(str(eng))))
    assert calls.count(str(eng)) == 0  # the thread reading the watcher never waits
    # A group is what arrives in 10 ms, so the count follows the copy's duration, not the
    # number of files: 4-10 here, ~55 in a sanitizer build (records arrive slower), 501
    # with one sync per record.
    assert 1 <= len(calls) <= FILES // 4
    medium.umount()
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr


def calls_of(out):
    """strace's lines, each call on one: a call that another traced thread interrupted is
    printed as "... <unfinished ...>" and later "<... name resumed>...": joined here, at
    the place of its end."""
    began = {}
    with open(out) as f:
        for line in f:
            line = line.rstrip("\n")
            tid = line.split(" ", 1)[0]
            if line.endswith(" <unfinished ...>"):
                began[tid] = line[:-len(" <unfinished ...>")]
            elif " <... " in line and " resumed>" in line:
                yield began.pop(tid, tid + " ?(") + line.split(" resumed>", 1)[1]
            else:
                yield line


def traced_calls(out):
    """(thread id, call name, line) of each whole call of calls_of(out)."""
    for line in calls_of(out):
        parts = line.split()
        if len(parts) >= 2:
            yield parts[0], parts[1].split("(")[0], line


# strace -y: a descriptor is printed with its file's path, 7</path>.
PWRITE = re.compile(r'^(\d+) +pwrite64\((\d+)(?:<[^>]*>)?, .*, (\d+), (\d+)\) += (\d+)$')
DSYNC = re.compile(r'^(\d+) +pwritev2\((\d+)(?:<[^>]*>)?, .*, (\d+), RWF_DSYNC\) += (\d+)$')
FDATASYNC = re.compile(r'^(\d+) +fdatasync\((\d+)')
# A write of "1" to a USB device's authorized file (strace -y), and its result.
GRANT = re.compile(r'^(\d+) +p?write(?:64)?\(\d+<[^>]*/authorized>, "1", 1(?:, 0)?\) += (-?\d+)')
# An entry of the trail's intent file (lib/audit/intent.c): its 72-byte header, escaped by
# strace, names the segment's month, the offset its bytes start at and their length.
INTENT = re.compile(r'pwritev2\(\d+(?:<[^>]*>)?, \[\{iov_base="(PCLINT1(?:[^"\\]|\\.)*)", iov_len=72\}')
# The engine's IPC_DEV_PREPARE and IPC_DEV_COMMIT requests on the wire (lib/ipc: magic
# "CP", version, type 11 or 12)
PREPARE = re.compile(r'iov_base="CP\\[0-7]+\\v')
COMMIT = re.compile(r'iov_base="CP\\[0-7]+\\f')


def intent_range(line):
    """(offset, end) in the segment of the bytes an intent entry write holds, or None."""
    m = INTENT.search(line)
    if m is None:
        return None
    hdr = codecs.escape_decode(m.group(1).encode("latin-1"))[0]
    off, n = struct.unpack_from("<QI", hdr, 24)
    return off, off + n


def unsynced_gaps(out):
    """Writes to the trail that a later durable write left outside its range: a power cut
    after that write could lose them while keeping it, a hole in the chain. Each RWF_DSYNC
    write into the trail must start at or before the first byte written since the last
    sync; an intent entry (RWF_DSYNC into the intent file) must hold the trail's bytes
    from at or before that first byte to the end of the last one written."""
    first, gaps, dsyncs, trail, end = {}, [], 0, None, {}
    for line in calls_of(out):
        m = PWRITE.match(line)
        if m and not GRANT.match(line):  # the engine's grant is no write to the trail
            fd, off, n = m.group(2), int(m.group(4)), int(m.group(5))
            first.setdefault(fd, off)
            end[fd] = off + n
            if '\\"audit.type\\"' in line:
                trail = fd
            continue
        r = intent_range(line)
        if r is not None:
            dsyncs += 1
            if trail is not None and ((trail in first and first[trail] < r[0]) or
                                      end.get(trail, 0) > r[1]):
                gaps.append(("intent", first.get(trail), end.get(trail), r))
            continue  # the trail itself is still to be synced
        m = DSYNC.match(line)
        if m:
            dsyncs += 1
            fd, off = m.group(2), int(m.group(3))
            if fd in first and first[fd] < off:
                gaps.append((fd, first[fd], off))
            first.pop(fd, None)
            continue
        m = FDATASYNC.match(line)
        if m:  # the writer syncs with its lock dropped: every write before is covered
            first.pop(m.group(2), None)
    return gaps, dsyncs


def renames(out):
    with open(out) as f:
        return sum(1 for l in f if len(l.split()) > 1 and l.split()[1].startswith("rename"))


def test_grants_wait_for_one_sync_and_a_burst_gets_one_checkpoint(pc):
    """Five insertions of an allowed stick in a row: before each grant the engine's main
    thread syncs once, the trail file it has just written the decision record to (or writes
    the record with RWF_DSYNC, the record and its sync in one call; or writes the record
    to the trail and then, with RWF_DSYNC, an entry of the trail's intent file holding the
    trail's unsynced bytes, the record included), and
    nothing else (no fsync, no rename of the state, no sync for the previous removal
    record, which the flusher makes durable); the checkpoint that seals the burst is written
    once, by the trail's flusher thread, not once per insertion. So a power cut right after
    any grant finds its decision record on disk. The device-inserted record reaches the
    trail once, in the decision's write, not also in a write of its own before it. A sixth
    insertion, and kill -9 of the engine right after its grant: its decision record is in
    the trail and the trail verifies. The parent's checks of each device run while the
    engine reads it: the engine asks for the grant's prepare on the device's "add" uevent,
    before it opens the device's descriptors."""
    pc.start(RULES)
    eng, parent = engine_pid(pc), pc.daemon.pid
    out = os.path.join(pc.work, "strace.out")
    st = start_strace(out, "fdatasync,fsync,rename,renameat,renameat2,openat,write,pwrite64,"
                      "pwritev2,sendmsg", [eng, parent], "-y", "-s", "4096")
    try:
        for i in range(6):
            pc.add("stick-personal.umockdev", plug=True)
            pc.wait_attr(PERSONAL, "authorized", "1")
            if i == 5:
                break
            pc.unplug(PERSONAL)
            pc.wait_record(lambda r, n=i + 1: len(
                [x for x in pc.records() if x["event.action"] == "device-removed"]) >= n)
            if i == 4:  # the burst of five is over: its checkpoint follows
                for _ in range(2000):
                    if renames(out):
                        break
                    time.sleep(0.01)
                burst_renames = renames(out)
        os.kill(eng, signal.SIGKILL)  # right after the sixth grant: before its seal
    finally:
        stop_strace(st)
    allowed = [r for r in pc.records() if r["event.action"] == "device-allowed"]
    assert len(allowed) == 6 and allowed[-1]["volume.serial_number"] == "AA00000000011111"
    grants, main, since, durable, written, by_engine = 0, [], [], [], None, False
    inserted, seen = [], 0  # per grant: the engine's writes carrying device-inserted
    first, order = None, []  # per grant: the prepare or the read of the device, first
    granters = []  # per grant: the process whose write of "1" came first
    for tid, call, line in traced_calls(out):
        # The parent opens the device's authorized before the record's sync (the grant's
        # prepare, during the engine's write) and hands the engine a copy: the grant is
        # the first write of "1" to that file, the engine's; the parent's at the commit
        # that follows changes nothing (counted only if the engine did not write).
        g = GRANT.match(line)
        if g and tid == str(parent) and by_engine:
            by_engine = False
        elif g:
            by_engine = tid == str(eng)
            granters.append("engine" if by_engine else "parent")
            grants += 1
            main.append(since)
            durable.append(written is not None and written[1])
            inserted.append(seen)
            order.append(first)
            since, written, seen, first = [], None, 0, None
        elif tid == str(eng) and call == "sendmsg" and PREPARE.search(line):
            first = first or "prepare"
        elif tid == str(eng) and call == "openat" and '/1-2/descriptors"' in line:
            first = first or "read"
        elif tid == str(eng) and call in ("fdatasync", "fsync", "rename", "renameat",
                                          "renameat2"):
            since.append(call)
            if call == "fdatasync" and written and line.split("(")[1].split(")")[0] == \
                    written[0]:
                written = (written[0], True, None)
        elif tid == str(eng) and intent_range(line) is not None:
            # The durable write of an intent entry: its bytes cover the decision record
            # just written to the trail (checked by unsynced_gaps below).
            since.append("write+sync")
            r = intent_range(line)
            if written and written[2] is not None and r[0] <= written[2][0] and \
                    written[2][1] <= r[1]:
                written = (written[0], True, None)
        elif tid == str(eng) and call.startswith(("write", "pwrite")):
            dsync = "RWF_DSYNC" in line  # written and synced in one call
            if dsync:
                since.append("write+sync")
            if '\\"event.action\\":\\"device-inserted\\"' in line and \
                    '\\"audit.type\\"' in line:
                seen += 1
            if '\\"event.action\\":\\"device-allowed\\"' in line and \
                    '\\"audit.type\\"' in line:
                m = PWRITE.match(line)  # where it went, for an intent entry to cover
                written = (line.split("(")[1].split(",")[0], dsync,  # the trail's fd
                           (int(m.group(4)), int(m.group(4)) + int(m.group(5))) if m else None)
    print("grants %d; engine main thread before each grant: %s; state renames for the "
          "burst of five: %d; trail writes carrying device-inserted per grant: %s; first "
          "of the prepare and the engine's read of the device: %s"
          % (grants, main, burst_renames, inserted, order))
    assert grants == 6
    assert granters == ["engine"] * 6, granters
    assert order == ["prepare"] * 6, order
    # Each insertion's record reaches the trail once, in the decision's write (not also
    # in a write of its own that the sync then writes again; its copy in the intent
    # entry is not a write to the trail).
    assert inserted == [1] * 6, inserted
    # Before every grant, the removal of the previous insertion included: one sync, the
    # decision's (fdatasync, or its record written with RWF_DSYNC), and it covers the
    # decision record.
    assert all(m in (["fdatasync"], ["write+sync"]) for m in main), main
    assert all(durable), durable
    # And what was written before the decision (device-inserted, the previous removal)
    # is inside that sync too: a power cut right after the grant leaves no hole.
    gaps, dsyncs = unsynced_gaps(out)
    print("RWF_DSYNC writes: %d; writes left outside one: %s" % (dsyncs, gaps))
    assert gaps == []
    # One checkpoint for the burst (two if it outlasted the seal delay), not five.
    assert 1 <= burst_renames <= 2
    pc.stop()
    v = pc.verify()
    assert v.returncode == 0, v.stdout + v.stderr


def test_watchers_hear_of_a_grant_after_it(pc):
    """A watching client (the desktop's notices, `portcullis watch`) is told of an
    insertion's records once the parent has written the device's authorized, not on the
    grant's path before it: the engine's send of device-allowed to the client follows the
    parent's write of "1" (strace of both), and the client still gets both records, in
    order."""
    pc.start(RULES)
    w = subprocess.Popen([pc.cli_path(), "watch"], env=pc.env(), stdout=subprocess.PIPE)
    eng, parent = engine_pid(pc), pc.daemon.pid
    out = os.path.join(pc.work, "strace-watch.out")
    st = None
    lines = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not connected(w.pid):
            time.sleep(0.05)
        time.sleep(0.3)  # its request read by the engine before the plug
        st = start_strace(out, "write,pwrite64,sendto", [eng, parent], "-y", "-s", "4096")
        pc.add("stick-personal.umockdev", plug=True)
        pc.wait_attr(PERSONAL, "authorized", "1")
        read_lines_until(w, lines, lambda l: "device-allowed" in l, deadline)
    finally:
        if st is not None:
            stop_strace(st)
        w.terminate()
        w.wait()
    assert len(lines) >= 2, lines
    assert "device-inserted" in lines[0] and "device-allowed" in lines[1], lines
    events = []
    for tid, call, line in traced_calls(out):
        if GRANT.match(line):
            events.append("grant" if tid == str(eng) else "commit")
        elif tid == str(eng) and call == "sendto" and \
                '\\"event.action\\":\\"device-allowed\\"' in line:
            events.append("told")
    print("engine's grant, parent's commit and engine's send to the watcher, in order: %s"
          % events)
    assert events == ["grant", "commit", "told"], events


def test_the_engine_writes_authorized_itself_before_the_commit(pc):
    """The allowed device's authorized is written by the engine process, through the
    descriptor the parent opened and checked at the prepare, after the decision record's
    sync and before the engine asks for the commit; the parent's write at the commit
    follows (strace -y of both processes: the descriptor's file is the device's own). A
    device the rules block gets no write at all, by either process, and the engine keeps
    no descriptor of it once decided."""
    pc.start(RULES)
    eng, parent = engine_pid(pc), pc.daemon.pid
    out = os.path.join(pc.work, "strace-grant.out")
    st = start_strace(out, "write,pwrite64,pwritev2,fdatasync,sendmsg", [eng, parent], "-y",
                      "-s", "256")
    try:
        pc.add("stick-personal.umockdev", plug=True)
        pc.wait_attr(PERSONAL, "authorized", "1")
        pc.wait_record(lambda r: r["event.action"] == "device-allowed")
        pc.add("stick-personal-twin.umockdev", plug=True)  # same VID:PID, other serial
        pc.wait_record(lambda r: r["event.action"] == "device-blocked")
        pc.wait_quiet()
    finally:
        stop_strace(st)
    events = []
    for tid, call, line in traced_calls(out):
        g = GRANT.match(line)
        if g:
            who = "engine" if tid == str(eng) else "parent" if tid == str(parent) else tid
            events.append("%s-write=%s" % (who, g.group(2)))
        elif tid == str(eng) and call == "sendmsg" and COMMIT.search(line):
            events.append("commit-sent")
        elif tid == str(eng) and (call == "fdatasync" or "RWF_DSYNC" in line):
            events.append("sync")
    print("the engine's syncs, grant writes and commit, in order: %s" % events)
    grants = [e for e in events if e != "sync"]
    # One grant: the engine writes 1 (and succeeds) before it sends the commit, after the
    # decision's sync; the parent's write comes with the commit.
    assert grants == ["engine-write=1", "commit-sent", "parent-write=1"], events
    assert "sync" in events[:events.index("engine-write=1")], events
    assert pc.attr(PERSONAL, "authorized") == "1"
    assert pc.attr(HUB + "/1-3", "authorized") == "0"
    # The engine holds no authorized file once both devices are decided.
    held = [os.readlink("/proc/%d/fd/%s" % (eng, fd)) for fd in os.listdir("/proc/%d/fd" % eng)]
    assert not [p for p in held if p.endswith("/authorized")], held
    pc.stop()
