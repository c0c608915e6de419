"""The transfer log's backends from outside: the staged portcullis-xferwatch on a real
ext4 loop device. The backend in use and why are in xfer-watch-started; writers that exit
the moment they have written (200 at once, each its own uid) are each attributed to the
right user and process, with the right SHA-256, once. Each eBPF test runs in the program's
tracepoint mode (opens recorded at the system call's return, closes from fanotify: the
mode of kernels that refuse fentry, such as this machine's), and, with
XFER_BPF_REQUIRED=1 (the kernel test bed, Debian's kernel, which has fentry), with fentry
as well. The watcher's own choice is tested, and the fanotify fallback is forced. Root
only."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from xferlib import NOBODY, WATCH, Medium, Watcher, action, as_user, get

REQUIRED = os.environ.get("XFER_BPF_REQUIRED") == "1"
# The eBPF modes asked for; each must load (the watcher refuses to start otherwise).
MODES = ["bpf", "bpf-tracepoint"] if REQUIRED else ["bpf-tracepoint"]
BASE_UID = 30000
N = 200


def started(recs):
    s = action(recs, "xfer-watch-started")
    assert len(s) == 1, s
    return s[0]


def content(i):
    return hashlib.sha256(b"exit-at-once-%d" % i).digest() * (1 + i % 7)


def spawn_writers(mnt, n):
    """n processes, each as uid BASE_UID + i: write w<i>.bin and exit at once."""
    pids = {}
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setresgid(BASE_UID + i, BASE_UID + i, BASE_UID + i)
                os.setresuid(BASE_UID + i, BASE_UID + i, BASE_UID + i)
                fd = os.open(os.path.join(mnt, "w%03d.bin" % i),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                os.write(fd, content(i))
                os.close(fd)
                os._exit(0)
            except BaseException:
                os._exit(1)
        pids[i] = pid
    for i, pid in pids.items():
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, f"writer {i} failed"
    return pids


def check_writers(recs, pids):
    got = {}
    for r in action(recs, "file-written"):
        p = get(r, "file.path")
        assert p not in got, f"{p} logged twice"
        got[p] = r
    for i, pid in pids.items():
        name = "w%03d.bin" % i
        assert name in got, f"{name}: record lost"
        r = got[name]
        assert get(r, "user.id") == BASE_UID + i, f"{name} misattributed: {r}"
        assert get(r, "process.pid") == pid, f"{name}: wrong process {r}"
        assert get(r, "portcullis.attribution") == "open", r
        assert get(r, "file.hash.sha256") == hashlib.sha256(content(i)).hexdigest(), r
        assert get(r, "file.size") == len(content(i))


@pytest.mark.parametrize("mode", MODES)
def test_writers_that_exit_at_once_are_attributed(mode):
    with Medium("ext4", size_mb=64) as m:
        w = Watcher(m.mnt, "xfer-backend=" + mode)
        pids = spawn_writers(m.mnt, N)
        recs = w.wait_for(lambda rs: len(action(rs, "file-written")) >= N)
        recs = w.stop()
        s = started(recs)
        assert get(s, "xfer.backend") == mode, s
        check_writers(recs, pids)
        if mode == "bpf":
            # The kernel's task name comes with each record of the fentry programs.
            assert all(get(r, "process.name") for r in action(recs, "file-written"))


TOOLS = os.path.join(os.environ.get("PCL_BUILD_DIR", ""), "tests/integration/xfer")
URING = os.path.join(TOOLS, "xfer_uring_writer")
INT80 = os.path.join(TOOLS, "xfer_int80_writer")


def tool_writers(mode, tool, n, attributions):
    """n runs of a writer program (tool UID PATH TEXT, exits without closing), each as its
    own uid, with the watcher in mode: every file attributed to its writer's user, process
    and program, with its SHA-256."""
    with Medium("ext4", size_mb=32) as m:
        w = Watcher(m.mnt, "xfer-backend=" + mode)
        procs = {i: subprocess.Popen([tool, str(BASE_UID + i),
                                      os.path.join(m.mnt, "t%02d.bin" % i), "text %d" % i])
                 for i in range(n)}
        for i, p in procs.items():
            assert p.wait(timeout=60) == 0, f"writer {i} failed"
        w.wait_for(lambda rs: len(action(rs, "file-written")) >= n)
        recs = w.stop()
    assert get(started(recs), "xfer.backend") == mode
    got = {get(r, "file.path"): r for r in action(recs, "file-written")}
    for i, p in procs.items():
        r = got.get("t%02d.bin" % i)
        assert r is not None, f"t{i:02d}.bin: record lost"
        assert get(r, "user.id") == BASE_UID + i, f"t{i:02d}.bin misattributed: {r}"
        assert get(r, "process.pid") == p.pid, r
        assert get(r, "process.executable") == tool, r
        assert get(r, "portcullis.attribution") in attributions, r
        assert get(r, "file.hash.sha256") == hashlib.sha256(b"text %d" % i).hexdigest(), r


@pytest.mark.parametrize("mode", MODES + ["fanotify"])
def test_io_uring_writers_that_exit_at_once_are_attributed(mode):
    """A file opened and written through io_uring (no open system call) by a process that
    exits at once without closing it: still attributed to its user and process (in the
    tracepoint mode from the kernel's record of its exit)."""
    tool_writers(mode, URING, 20, ("open", "exit"))


def fork_as_pid(pid, uid, fd, tries=50):
    """A child of this process with process id pid (ns_last_pid set before each fork; other
    processes fork too), as uid, holding fd: once told (a byte on its pipe) it writes to fd
    and exits, its copy of fd being the last. Its pid, or None if pid could not be had."""
    for _ in range(tries):
        r, w = os.pipe()
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = os.fork()
        if child == 0:
            try:
                os.close(w)
                if os.getpid() == pid:
                    os.setgroups([])
                    os.setresgid(uid, uid, uid)
                    os.setresuid(uid, uid, uid)
                    if os.read(r, 1) == b"g":
                        os.write(fd, b"written by the process that reused the pid\n")
                        os._exit(0)
            finally:
                os._exit(3)
        os.close(r)
        if child == pid:
            return child, w
        os.close(w)
        os.waitpid(child, 0)
    return None, None


def held_records(recs, pid):
    """The file-written records of held.txt by pid (no path: its open was never seen)."""
    return [r for r in action(recs, "file-written")
            if get(r, "process.pid") == pid and get(r, "file.path") in ("held.txt", None)]


@pytest.mark.parametrize("mode", MODES)
def test_a_reused_pid_is_never_attributed_to_its_old_io_uring_process(mode):
    """User A's io_uring writer exits as pid P; later user B's process gets pid P, holds a
    file on the medium opened before the watcher started (no open record of it), writes to
    it and exits, its copy being the last. The close must not be attributed to A, whose
    exit the kernel recorded for P."""
    a_uid, b_uid = BASE_UID + 1, BASE_UID + 2
    with Medium("ext4", size_mb=32) as m:
        held = os.path.join(m.mnt, "held.txt")
        fd = os.open(held, os.O_WRONLY | os.O_CREAT, 0o666)
        try:
            w = Watcher(m.mnt, "xfer-backend=" + mode)
            for attempt in range(10):
                a = subprocess.Popen([URING, str(a_uid),
                                      os.path.join(m.mnt, "a%d.bin" % attempt), "user A"])
                assert a.wait(timeout=60) == 0
                w.wait_for(lambda rs: len(action(rs, "file-written")) > attempt)
                child, go = fork_as_pid(a.pid, b_uid, fd)
                if child is not None:
                    break
            else:
                pytest.skip("no process could be had with the pid of the exited writer")
            os.close(fd)
            fd = -1
            os.write(go, b"g")
            os.close(go)
            _, status = os.waitpid(child, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            # The file's record: under fentry without a path (its open was never seen).
            w.wait_for(lambda rs: held_records(rs, child))
            recs = w.stop()
        finally:
            if fd >= 0:
                os.close(fd)
    a_recs = [r for r in action(recs, "file-written") if r not in held_records(recs, child)]
    assert all(get(r, "user.id") == a_uid for r in a_recs), a_recs
    r = held_records(recs, child)
    assert len(r) == 1, r
    r = r[0]
    assert get(r, "user.id") != a_uid, f"the old process's user named: {r}"
    assert get(r, "process.executable") != URING, f"the old process's program named: {r}"
    if get(r, "user.id") is None:
        assert get(r, "portcullis.attribution") == "close", r
    else:
        assert get(r, "user.id") == b_uid, r


def spawn_at(pid, args, tries=50):
    """args started with process id pid (ns_last_pid set before each try, through a shell
    that execs them only with that id), or None if pid could not be had."""
    for _ in range(tries):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        p = subprocess.Popen(["sh", "-c", 'test $$ = "$0" && exec "$@"', str(pid), *args])
        if p.pid == pid:
            return p
        p.wait(timeout=60)
    return None


@pytest.mark.parametrize("mode", MODES)
def test_io_uring_writers_whose_pids_are_equal_modulo_1024_are_both_attributed(mode):
    """Two io_uring writers with process ids P and P + 1024, of two users, exit while the
    watcher is stopped (SIGSTOP): the kernel's records of both exits are read together, and
    each file is still attributed to its own writer."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    if pid_max < 4096:
        pytest.skip(f"pid_max {pid_max} is too small")
    with open("/proc/sys/kernel/ns_last_pid") as f:
        base = int(f.read())
    with Medium("ext4", size_mb=32) as m:
        w = Watcher(m.mnt, "xfer-backend=" + mode)
        assert get(started(w.records()), "xfer.backend") == mode
        uids, written = None, 0
        w.proc.send_signal(signal.SIGSTOP)
        try:
            # Other processes fork too and may take P or P + 1024: a few pairs are tried.
            for attempt in range(5):
                base += 200
                if base + 1024 >= pid_max:
                    base = 2000
                pair = {base: BASE_UID + 1, base + 1024: BASE_UID + 2}
                procs = []
                for pid, uid in pair.items():
                    p = spawn_at(pid, [URING, str(uid), os.path.join(m.mnt, "p%d" % pid),
                                       "writer %d" % pid])
                    if p is None:
                        break
                    assert p.wait(timeout=60) == 0
                    procs.append(p)
                written += len(procs)
                if len(procs) == 2:
                    uids = pair
                    break
        finally:
            w.proc.send_signal(signal.SIGCONT)
        if uids is None:
            w.stop()
            pytest.skip("no process ids P and P + 1024 could be had")
        w.wait_for(lambda rs: len(action(rs, "file-written")) >= written)
        recs = w.stop()
    got = {get(r, "file.path"): r for r in action(recs, "file-written")}
    for pid, uid in uids.items():
        r = got.get("p%d" % pid)
        assert r is not None, f"p{pid}: record lost"
        assert get(r, "process.pid") == pid, r
        assert get(r, "user.id") == uid, f"p{pid} misattributed: {r}"
        assert get(r, "process.executable") == URING, r


@pytest.mark.parametrize("mode", MODES + ["fanotify"])
def test_writers_through_32_bit_system_calls_are_attributed(mode):
    """A 64-bit process may open with x86's 32-bit system call (int 0x80), whose numbers
    differ: its file is still attributed at the open, to its user and process."""
    probe = subprocess.run([INT80, "0", "/nonexistent/dir/x", "-"], capture_output=True)
    if probe.returncode == 77:
        pytest.skip("this kernel refuses 32-bit system calls (int 0x80)")
    tool_writers(mode, INT80, 10, ("open",))


def test_the_watchers_own_choice_says_which_and_why():
    """auto: eBPF with fentry where the kernel has it, else its tracepoint mode (this
    machine), else fanotify; xfer-watch-started names the choice and its reason."""
    with Medium("ext4", size_mb=32) as m:
        with Watcher(m.mnt) as w:
            s = started(w.records())
    backend, why = get(s, "xfer.backend"), get(s, "xfer.backend_reason")
    assert backend in ("bpf", "bpf-tracepoint", "fanotify"), s
    assert why, s
    if REQUIRED:
        assert backend == "bpf", s
    if backend == "bpf-tracepoint":
        assert why.startswith("eBPF loaded: opens at tp_btf/sys_exit"), why
        assert "fentry refused: loading the eBPF program (fentry" in why, why


@pytest.mark.parametrize("mode", MODES)
def test_reads_are_recorded_with_the_reader(mode):
    opts = ["xfer-backend=" + mode]
    with Medium("ext4", size_mb=32) as m:
        with open(os.path.join(m.mnt, "report.odt"), "wb") as f:
            f.write(b"council minutes" * 100)
        with Watcher(m.mnt, *opts) as w:
            subprocess.run(["setpriv", f"--reuid={BASE_UID}", f"--regid={BASE_UID}",
                            "--clear-groups", "cat", os.path.join(m.mnt, "report.odt")],
                           check=True, stdout=subprocess.DEVNULL)
            recs = w.wait_for(lambda rs: action(rs, "file-read"))
        r = action(recs, "file-read")[0]
        assert get(r, "file.path") == "report.odt"
        assert get(r, "user.id") == BASE_UID
        assert get(r, "process.executable") == "/usr/bin/cat"
        assert get(r, "file.hash.sha256") == hashlib.sha256(b"council minutes" * 100).hexdigest()


@pytest.mark.parametrize("mode", MODES)
def test_files_renamed_right_after_close_are_hashed(mode):
    """rsync writes each file as a temporary and renames it at once: every file is still
    hashed (fentry: found by its inode when its first name is gone; tracepoint mode:
    hashed through the close event's descriptor) and attributed."""
    opts = ["xfer-backend=" + mode]
    src = tempfile.mkdtemp(prefix="xfer-rsync-")
    os.chmod(src, 0o755)
    want = {}
    for i in range(30):
        data = hashlib.sha256(b"rsync-%d" % i).digest() * 100
        with open(os.path.join(src, "r%02d" % i), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(src, "r%02d" % i), 0o644)
        want[hashlib.sha256(data).hexdigest()] = "r%02d" % i
    try:
        with Medium("ext4", size_mb=32) as m:
            with Watcher(m.mnt, *opts) as w:
                as_user(NOBODY, "rsync", "-r", src + "/", os.path.join(m.mnt, "d") + "/")
                recs = w.stop()
    finally:
        shutil.rmtree(src)
    written = action(recs, "file-written")
    assert not [r for r in written if get(r, "portcullis.hash_error")], written
    got = {get(r, "file.hash.sha256"): r for r in written}
    for digest, name in want.items():
        r = got.get(digest)
        assert r is not None, f"{name}: no record with its SHA-256"
        assert get(r, "user.id") == NOBODY
        assert get(r, "process.executable") == "/usr/bin/rsync"
        assert get(r, "file.path").startswith(("d/" + name, "d/." + name)), r


BURST = 1500
SLOW_MIB = 128


@pytest.mark.parametrize("mode", MODES)
def test_a_burst_of_small_files_is_held_back_not_failed_closed(mode):
    """Hashing falls behind a copy: one hash worker, a queue of one job, and first a sparse
    file of SLOW_MIB MiB to hash (zeros: long to hash, quick to write), then cp -r of BURST
    small files, with a 64 KiB ring buffer (about 130 files' records; the watcher reads it
    every 10 ms, and in the tracepoint mode before it answers held opens). The watcher
    holds the opens back instead of losing records: nothing overflows or fails closed, the
    copy completes, and every file has its file-written record with the right SHA-256 and
    the copier as its writer."""
    opts = ["bpf-ring-kib=64", "hash-threads=1", "hash-queue=1", "xfer-backend=" + mode]
    src = tempfile.mkdtemp(prefix="xfer-burst-")
    want = {}
    for d in range(BURST // 100):
        os.mkdir(os.path.join(src, "d%02d" % d))
    for i in range(BURST):
        name = "d%02d/f%04d" % (i // 100, i)
        data = hashlib.sha256(b"burst-%d" % i).digest() * (1 + i % 9)
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
        want["b/" + name] = hashlib.sha256(data).hexdigest()
    subprocess.run(["chmod", "-R", "a+rX", src], check=True)
    try:
        with Medium("ext4", size_mb=64) as m:
            with Watcher(m.mnt, *opts) as w:
                os.chmod(m.mnt, 0o777)
                as_user(NOBODY, "truncate", "-s", "%dM" % SLOW_MIB, os.path.join(m.mnt, "slow"))
                cp = as_user(NOBODY, "cp", "-r", src, os.path.join(m.mnt, "b"),
                             check=False, capture_output=True, text=True, timeout=400)
                # The log may still be catching up with the copy: wait for it, unless the
                # watcher gave up (overflow, fail closed).
                recs = w.wait_for(lambda rs: action(rs, "xfer-overflow") or
                                  action(rs, "xfer-fail-closed") or
                                  len(action(rs, "file-written")) >= BURST + 1, timeout=300)
                recs = w.stop()
    finally:
        shutil.rmtree(src)
    assert get(started(recs), "xfer.backend") == mode
    written = action(recs, "file-written")
    ov = action(recs, "xfer-overflow")
    assert not ov, (get(ov[0], "message"), len(written), cp.returncode)
    assert not action(recs, "xfer-fail-closed"), action(recs, "xfer-fail-closed")
    assert not action(recs, "xfer-watch-failed"), action(recs, "xfer-watch-failed")
    assert cp.returncode == 0, cp.stderr[-2000:]
    got = {}
    for r in written:
        p = get(r, "file.path")
        assert p not in got, f"{p} logged twice"
        got[p] = r
    assert "slow" in got and get(got["slow"], "file.size") == SLOW_MIB << 20, got.get("slow")
    missing = sorted(set(want) - set(got))
    assert not missing, f"{len(missing)} files without a record, e.g. {missing[:5]}"
    for name, digest in want.items():
        r = got[name]
        assert get(r, "file.hash.sha256") == digest, r
        assert get(r, "user.id") == NOBODY, r
        assert get(r, "process.executable") == "/usr/bin/cp", r
        assert get(r, "portcullis.attribution") == "open", r


@pytest.mark.parametrize("mode", MODES)
def test_lost_ring_records_fail_closed(mode):
    """The watcher stopped (SIGSTOP) while more records arrive than its ring buffer holds
    (16 KiB): nobody waits for it, the loss is recorded once it runs again, and the medium
    fails closed: read-only, and every later open refused and logged. A file opened before
    and closed after that still gets its record (the watcher does not wait on itself)."""
    opts = ["bpf-ring-kib=16", "xfer-backend=" + mode]
    with Medium("ext4", size_mb=32) as m:
        old = os.path.join(m.mnt, "old.txt")
        with open(old, "w") as f:
            f.write("kept\n")
        os.chmod(old, 0o644)
        with open(os.path.join(m.mnt, "held.txt"), "w") as f:
            f.write("held\n")
        w = Watcher(m.mnt, *opts)
        assert get(started(w.records()), "xfer.backend") == mode
        held = os.open(os.path.join(m.mnt, "held.txt"), os.O_RDONLY)
        w.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(300):
                with open(os.path.join(m.mnt, "f%03d" % i), "wb") as f:
                    f.write(b"x" * i)
        finally:
            w.proc.send_signal(signal.SIGCONT)
        w.wait_for(lambda rs: action(rs, "xfer-medium-read-only"))
        wr = as_user(NOBODY, "sh", "-c", f"echo new > {m.mnt}/new.txt", check=False,
                     capture_output=True, text=True)
        rd = as_user(NOBODY, "cat", old, check=False, capture_output=True, text=True)
        os.close(held)
        w.wait_for(lambda rs: [r for r in action(rs, "file-read")
                               if get(r, "file.path") == "held.txt"])
        recs = w.stop()
    ov = action(recs, "xfer-overflow")
    assert len(ov) >= 1 and "eBPF ring buffer full" in get(ov[0], "message"), ov
    assert get(ov[0], "portcullis.on_overflow") == "fail-closed"
    assert len(action(recs, "xfer-fail-closed")) == 1
    ro = action(recs, "xfer-medium-read-only")
    assert len(ro) == 1 and get(ro[0], "portcullis.remount_ok") is True
    assert wr.returncode != 0 and "Read-only file system" in wr.stderr
    assert rd.returncode != 0 and "Operation not permitted" in rd.stderr
    denied = action(recs, "open-denied")
    assert [get(r, "file.path") for r in denied] == ["old.txt"]
    assert get(denied[0], "user.id") == NOBODY


def test_the_ebpf_backend_needs_cap_bpf_and_cap_perfmon_or_cap_sys_admin():
    """Without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (dropped from the bounding set) the
    eBPF program cannot load: asked for eBPF the watcher refuses to start and says why.
    CAP_SYS_ADMIN alone, which the watcher keeps for fanotify, is enough: the kernel's
    bpf_capable() and perfmon_capable() accept it, so the unit need not add the other two."""
    with Medium("ext4", size_mb=32) as m:
        r = subprocess.run(["setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin", WATCH,
                            "-o", "xfer-backend=bpf", m.mnt], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 1
        assert "xfer-backend = bpf: loading the eBPF program" in r.stderr, r.stderr
        assert "Operation not permitted" in r.stderr, r.stderr
        for mode in MODES:
            out = tempfile.NamedTemporaryFile("w+", suffix=".jsonl")
            p = subprocess.Popen(["setpriv", "--bounding-set=-bpf,-perfmon", WATCH, "-o",
                                  "xfer-backend=" + mode, m.mnt], stdout=out,
                                 stderr=subprocess.PIPE)
            try:
                deadline = time.time() + 60
                while b"xfer-watch-started" not in open(out.name, "rb").read():
                    assert p.poll() is None and time.time() < deadline, p.stderr.read()
                    time.sleep(0.05)
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=60)
            recs = [json.loads(line) for line in open(out.name).read().splitlines()]
            assert get(started(recs), "xfer.backend") == mode


def test_fanotify_forced_still_records():
    with Medium("ext4", size_mb=32) as m:
        w = Watcher(m.mnt, "xfer-backend=fanotify")
        pids = spawn_writers(m.mnt, 20)
        w.wait_for(lambda rs: len(action(rs, "file-written")) >= 20)
        recs = w.stop()
        s = started(recs)
        assert get(s, "xfer.backend") == "fanotify"
        assert get(s, "xfer.backend_reason") == "xfer-backend = fanotify"
        check_writers(recs, pids)


def test_backend_option_is_checked():
    r = subprocess.run([WATCH, "-o", "xfer-backend=kernel", "/"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert "xfer-backend: expected auto, bpf, bpf-tracepoint or fanotify" in r.stderr
    r = subprocess.run([WATCH, "-o", "xfer-backend=bpf", "-o", "clamd-socket=/run/c.sock", "/"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "xfer-backend = bpf cannot scan with clamd-socket" in r.stderr
    r = subprocess.run([WATCH, "-o", "bpf-ring-kib=24", "/"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert "bpf-ring-kib: expected a power of two from 4 to 65536" in r.stderr
