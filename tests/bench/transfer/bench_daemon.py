"""Benchmark: the transfer log as users get it, through the running daemon.

The staged portcullisd runs under the umockdev gate bed (tests/integration/gate), with only
the shipped unit's capabilities (XFER_BENCH_CAPS=full: every capability of root), with an
approved stick whose disk is a real ext4 loop device (image on the root disk); the copy is
`cp -r` of 2,000 x 4 KiB files + `sync -f`, and one 256 MiB file + `sync -f`, timed from
outside until every `file-written` record is in the audit trail. In the same run, on a
second loop medium of the same size on the same disk: no logging at all, Linux's auditd
with a watch rule on the mount (`-w MNT -p rwa`), and auditd plus `sha256sum` of every
copied file; and the floor of any fanotify design with permission events,
tests/bench/transfer/fanotify_floor (built with the tests) marking that medium for
FAN_OPEN_PERM and answering every event at once, then again after reading the opener's
executable and uid (XFER_BENCH_ATTRIBUTION: cached, its default, as the watcher's remembered
process; proc; pidfd). While the small files are copied onto the approved stick, 20 writers that
exit as soon as their file is written run as another uid: each must be attributed to it.
Prints a markdown section for tests/bench/record.sh. Run as root, under umockdev-wrapper:
bench.sh [BUILD_DIR]. Not a CTest test.
"""
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../integration/gate"))
import harness  # noqa: E402
from test_media import PERSONAL, RULES  # noqa: E402

# The daemon runs with the shipped unit's capabilities only, as users get it (=full: as
# root with every capability, as the integration tests start it).
UNIT_CAPS = os.environ.get("XFER_BENCH_CAPS", "unit") != "full"


def approved_stick(pc, stick):
    pc.start(RULES, caps=harness.unit_capabilities() if UNIT_CAPS else None)
    pc.add("stick-personal.umockdev", plug=True)
    harness.storage_in(pc, stick, PERSONAL)

REPEAT = int(os.environ.get("XFER_BENCH_REPEAT", "3"))
CASES = os.environ.get("XFER_BENCH_CASES", "small,large").split(",")
ATTRIBUTION = os.environ.get("XFER_BENCH_ATTRIBUTION", "cached")
FLOOR = os.path.join(os.environ.get("PCL_BUILD_DIR", os.path.join(here, "../../../build")),
                     "tests/bench/transfer/fanotify_floor")
SMALL_N, SMALL_SIZE, LARGE_SIZE = 2000, 4096, 256 << 20
QUICK_UID, QUICK_N = 4343, 20
ACTION = b'"event.action":"file-written"'


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


# The trail is followed as a reader such as rsyslog's imfile follows it: each look reads
# only the whole lines added since the last, into one buffer kept for the run. Reading
# the whole trail into fresh memory at every look cost this script 17-32 ms for 2,000
# records (2.7 MB: the page faults of a new buffer), after `sync -f` had returned and
# long after the records were in the trail, and more with every round as the trail grew;
# it was counted as the daemon's time.
_BUF = bytearray(1 << 20)  # more than a record (16 KiB at most)
_SEEN = {}  # segment path -> (bytes looked at, file-written records in them)


def written(pc):
    n = 0
    for seg in glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl")):
        off, count = _SEEN.get(seg, (0, 0))
        with open(seg, "rb", buffering=0) as f:
            if os.fstat(f.fileno()).st_size < off:  # cut back (never in a benchmark)
                off, count = 0, 0
            f.seek(off)
            while (got := f.readinto(_BUF)) > 0:
                end = _BUF.rfind(b"\n", 0, got) + 1  # whole lines only
                if end == 0:
                    break
                count += _BUF.count(ACTION, 0, end)
                off += end
                f.seek(off)
        _SEEN[seg] = (off, count)
        n += count
    return n


def wait_written(pc, target, timeout=600):
    deadline = time.time() + timeout
    while written(pc) < target:
        if time.time() > deadline:
            raise AssertionError(f"records missing: {written(pc)} of {target}")
        time.sleep(0.005)


def descendants(root):
    """{pid: command name} of every process under root."""
    kids, names = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
        names[int(d)] = name
    out, todo = {}, [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out[k] = names[k]
            todo.append(k)
    return out


def cpu_seconds(pc):
    """CPU time of the watcher's and of the engine's threads so far (schedstat: ns)."""
    got = {"watcher": 0.0, "engine": 0.0}
    for pid, name in descendants(pc.daemon.pid).items():
        who = "watcher" if name.startswith("portcullis-xfer") else \
            "engine" if name.startswith("portcullis-engi") else None
        if who is None:
            continue
        try:
            for t in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    got[who] += int(f.read().split()[0]) / 1e9
        except OSError:
            continue
    return got


def quick_writers(mnt, tag):
    """Writers that exit as soon as their file is written (another uid)."""
    return [subprocess.Popen(["setpriv", f"--reuid={QUICK_UID}", f"--regid={QUICK_UID}",
                              "--clear-groups", "sh", "-c", f"echo {tag}-{i} > {mnt}/{tag}-q{i}"])
            for i in range(QUICK_N)]


class Auditd:
    """Debian's auditd with a watch rule on a mount point (started and stopped here)."""

    def __init__(self):
        self.proc = None

    def start(self):
        self.log = tempfile.mkdtemp(prefix="pcl-auditd-")
        conf = os.path.join(self.log, "auditd.conf")
        with open(conf, "w") as f:
            f.write(f"log_file = {self.log}/audit.log\nlog_format = ENRICHED\n"
                    "flush = INCREMENTAL_ASYNC\nfreq = 50\nmax_log_file = 1024\n"
                    "max_log_file_action = ROTATE\nspace_left = 2\nadmin_space_left = 1\n"
                    "disk_full_action = SUSPEND\ndisk_error_action = SUSPEND\n")
        os.chmod(conf, 0o640)
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
        self.proc = subprocess.Popen(["/usr/sbin/auditd", "-n", "-c", self.log], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            r = harness.real(["auditctl", "-s"], capture_output=True, text=True)
            if f"pid {self.proc.pid}" in r.stdout:
                break
            time.sleep(0.05)
        harness.real(["auditctl", "-e", "0"], check=True, stdout=subprocess.DEVNULL)

    def watch(self, mnt):
        """The rule and the kernel's audit switch, for the auditd rows only (an enabled
        audit subsystem costs every system call a little, other rows included)."""
        harness.real(["auditctl", "-w", mnt, "-p", "rwa", "-k", "pclbench"], check=True)
        harness.real(["auditctl", "-e", "1"], check=True, stdout=subprocess.DEVNULL)

    def unwatch(self, mnt):
        harness.real(["auditctl", "-e", "0"], check=True, stdout=subprocess.DEVNULL)
        harness.real(["auditctl", "-W", mnt, "-p", "rwa", "-k", "pclbench"], check=True)

    def records(self):
        """Lines auditd wrote for the watch rule so far."""
        try:
            with open(os.path.join(self.log, "audit.log"), "rb") as f:
                return f.read().count(b'key="pclbench"')
        except OSError:
            return 0

    def stop(self):
        if self.proc:
            harness.real(["auditctl", "-D"], stdout=subprocess.DEVNULL)
            self.proc.terminate()
            self.proc.wait(timeout=30)
            harness.real(["auditctl", "-e", "0"], stdout=subprocess.DEVNULL)
            shutil.rmtree(self.log, ignore_errors=True)


class Floor:
    """fanotify_floor MODE MNT for one row: marked before the copy, gone after it."""

    def __init__(self, mode, mnt):
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
        self.proc = subprocess.Popen([FLOOR, mode, mnt], stdout=subprocess.PIPE, text=True,
                                     env=env)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise AssertionError(f"fanotify_floor {mode} {mnt} did not start")

    def stop(self):
        """The number of opens it answered."""
        self.proc.terminate()
        try:
            out = self.proc.communicate(timeout=5)[0]
        except subprocess.TimeoutExpired:  # the signal came before its blocking read
            self.proc.kill()
            out = self.proc.communicate()[0]
        words = out.split()
        return int(words[words.index("answered") + 1]) if "answered" in words else 0


def timed_copy(args, mnt, after=None):
    """(seconds until the copy and sync are done, seconds until `after` is done too)"""
    t0 = time.perf_counter()
    harness.real(["cp", "-r", *args], check=True)
    harness.real(["sync", "-f", mnt], check=True)
    t1 = time.perf_counter()
    if after:
        after()
    return t1 - t0, time.perf_counter() - t0


def clean(mnt, dst):
    harness.real(["rm", "-rf", dst], check=True)
    harness.real(["sync", "-f", mnt], check=True)
    harness.real(["fstrim", mnt], stderr=subprocess.DEVNULL)


def main():
    src, small, large = make_sources()
    pc = harness.Testbed()
    pc.add("pc-xhci.umockdev")
    stick, plain, auditd = harness.RealMedium(size_mb=768), harness.RealMedium(size_mb=768), \
        Auditd()
    times = {}
    checks = {"lost": 0, "wrong": 0, "quick": 0}
    try:
        approved_stick(pc, stick)
        stick.mount()
        started = pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started",
                                 timeout=30)
        checks["backend"] = started.get("xfer.backend", "?")
        plain.mount()
        auditd.start()
        cases = tuple(c for c in (("small", f"{SMALL_N} x 4 KiB files", small, SMALL_N),
                                  ("large", "one 256 MiB file", large, 1)) if c[0] in CASES)
        modes = ("none", "auditd", "auditd+sha256sum", "fanotify", "fanotify+attribution",
                 "portcullisd")
        for i in range(REPEAT):
            for case, _, source, n in cases:
                order = modes if i % 2 == 0 else tuple(reversed(modes))
                for mode in order:
                    mnt = stick.mnt if mode == "portcullisd" else plain.mnt
                    dst = os.path.join(mnt, f"{case}-{i}")
                    after = None
                    if mode.startswith("auditd"):
                        auditd.watch(mnt)
                    if mode == "auditd+sha256sum":
                        def after(dst=dst):
                            harness.real(["sh", "-c", f"find {dst} -type f -print0 | "
                                          "xargs -0 sha256sum"], check=True,
                                         stdout=subprocess.DEVNULL)
                    quick = []
                    if mode == "portcullisd":
                        pc.wait_quiet(settle=0.5, timeout=60)
                        base = written(pc)
                        target = base + n + (QUICK_N if case == "small" else 0)

                        def after(target=target):
                            wait_written(pc, target)
                        if case == "small":
                            quick = quick_writers(mnt, f"{case}-{i}")
                    floor = Floor("allow" if mode == "fanotify" else ATTRIBUTION, mnt) \
                        if mode.startswith("fanotify") else None
                    cpu0 = cpu_seconds(pc) if mode == "portcullisd" else None
                    t_copy, t = timed_copy([source, dst], mnt, after)
                    if floor:
                        # Every open of the copy waited for it (cp opens each source
                        # elsewhere, each destination here; sync -f opens the mount).
                        if floor.stop() < n:
                            raise AssertionError(f"fanotify_floor answered fewer than {n}")
                    if mode == "portcullisd":
                        times.setdefault((case, "copy only"), []).append(t_copy)
                        cpu1 = cpu_seconds(pc)
                        for who in cpu1:
                            times.setdefault((case, "cpu " + who), []).append(
                                cpu1[who] - cpu0[who])
                    for q in quick:
                        q.wait()
                    if mode.startswith("auditd"):
                        auditd.unwatch(mnt)
                    times.setdefault((case, mode), []).append(t)
                    if mode == "portcullisd":
                        check(pc, case, i, n, checks)
                    clean(mnt, dst)
                    for q in range(QUICK_N if quick else 0):
                        os.unlink(os.path.join(mnt, f"{case}-{i}-q{q}"))
        pc.stop()
        v = pc.verify()
        verified = v.returncode == 0
        checks["auditd"] = auditd.records()
    finally:
        auditd.stop()
        if pc.daemon:
            pc.stop()
        stick.close()
        plain.close()
        pc.close()
        shutil.rmtree(src)
    report(cases, modes, times, checks, verified)


def wrong(r):
    """A wrongly attributed record, on standard error (the table only counts them)."""
    print("wrong attribution: " + json.dumps({k: v for k, v in r.items() if k.startswith(
        ("file.path", "user.", "process.", "portcullis.attribution"))}), file=sys.stderr)


def check(pc, case, i, n, checks):
    """Every file of this copy has its record, attributed to cp (root) or to the quick
    writer's uid and shell."""
    want = {f"{case}-{i}/f{k:04d}" for k in range(n)} if case == "small" else {f"{case}-{i}"}
    got = {}
    for r in pc.records():
        if r.get("event.action") == "file-written":
            got.setdefault(r["file.path"], r)
    checks["lost"] += len(want - set(got))
    for p in want & set(got):
        r = got[p]
        if r.get("user.id") != 0 or not r.get("process.executable", "").endswith("/cp"):
            checks["wrong"] += 1
            wrong(r)
    if case == "small":
        for q in range(QUICK_N):
            r = got.get(f"{case}-{i}-q{q}")
            if r is None:
                checks["lost"] += 1
            elif r.get("user.id") != QUICK_UID or \
                    not r.get("process.executable", "").endswith(("/dash", "/sh")):
                checks["wrong"] += 1
                wrong(r)
            else:
                checks["quick"] += 1


ATTRIBUTION_HOW = {
    "cached": "the exe by `readlink`, the uid by `PIDFD_GET_INFO` on a pidfd kept from the"
              " process's first open, as the watcher's remembered process",
    "proc": "the exe by `readlink`, the uid from `/proc/PID/status`",
    "pidfd": "a group with `FAN_REPORT_PIDFD`: the exe by `readlink`, the uid by"
             " `PIDFD_GET_INFO` on the event's pidfd, then closed"}


def report(cases, modes, times, checks, verified):
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    print("## transfer\n")
    env = ("" if REPEAT == 3 else f"XFER_BENCH_REPEAT={REPEAT} ") + \
        ("" if UNIT_CAPS else "XFER_BENCH_CAPS=full ") + \
        ("" if CASES == ["small", "large"] else f"XFER_BENCH_CASES={','.join(CASES)} ") + \
        ("" if ATTRIBUTION == "cached" else f"XFER_BENCH_ATTRIBUTION={ATTRIBUTION} ")
    caps = ("with only the shipped unit's capabilities (`CapabilityBoundingSet=`: no"
            " CAP_SYS_NICE, so the watcher's event thread keeps the default priority)"
            if UNIT_CAPS else "with every capability of root (the watcher's event thread at"
            " nice -10)")
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by"
          f" `{env}tests/bench/transfer/bench.sh build` on {os.cpu_count()} shared cores ({cpu}),"
          f" kernel {os.uname().release}, load average {os.getloadavg()[0]:.1f} at the end"
          " (the machine was shared with other work: figures are noisy). Through the"
          f" running daemon: the staged portcullisd under the umockdev gate bed, {caps}, an approved"
          " stick whose disk is a real ext4 loop device (768 MiB image on the root disk),"
          " `cp -r` as root + `sync -f`, timed until every `file-written` record (SHA-256"
          " included) is in the audit trail. Same run, second loop medium of the same size"
          " on the same disk: no logging; auditd (Debian's, `auditctl -w MNT -p rwa`);"
          " auditd + `sha256sum` of every copied file; `fanotify_floor` (tests/bench/transfer)"
          " marking that medium's filesystem for `FAN_OPEN_PERM` as the watcher does and"
          " answering every open with `FAN_ALLOW` at once, the floor of any fanotify design"
          " with permission events, then answering after reading `/proc/PID/exe` and the"
          f" uid ({ATTRIBUTION_HOW[ATTRIBUTION]}). Medians of"
          f" {REPEAT} runs per row, order alternating. portcullisd's watcher ran with the"
          f" backend `{checks['backend']}` (its own choice on this kernel).\n")
    print("| copy | no logging | auditd | auditd + sha256sum | fanotify permission answered"
          " at once | ... + attribution | portcullisd | portcullisd / none | portcullisd /"
          " auditd | goal | floor / none, + attribution / none | portcullisd, copy and sync"
          " alone |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    share = []
    for case, label, _, _ in cases:
        med = {m: statistics.median(times[(case, m)]) for m in modes}
        goal = "≤ 1.10× none, ≤ auditd" if case == "small" else "≤ 1.10× none"
        print(f"| {label} | {med['none']:.3f} s | {med['auditd']:.3f} s |"
              f" {med['auditd+sha256sum']:.3f} s | {med['fanotify']:.3f} s |"
              f" {med['fanotify+attribution']:.3f} s | {med['portcullisd']:.3f} s |"
              f" {med['portcullisd'] / med['none']:.2f}× |"
              f" {med['portcullisd'] / med['auditd']:.2f}× | {goal} |"
              f" {med['fanotify'] / med['none']:.2f}×, "
              f"{med['fanotify+attribution'] / med['none']:.2f}× |"
              f" {statistics.median(times[(case, 'copy only')]):.3f} s |")
        extra = med["portcullisd"] - med["none"]
        if extra > 0 and case == "small":  # one open for the large file: no floor to speak of
            share.append(f"{label}: {100 * (med['fanotify'] - med['none']) / extra:.0f} % the"
                         " round trip alone,"
                         f" {100 * (med['fanotify+attribution'] - med['none']) / extra:.0f} %"
                         " with the attribution")
    print(f"\nRecords lost: {checks['lost']}; wrong attributions: {checks['wrong']}"
          f" ({checks['quick']} files by writers that exit at once, run as uid {QUICK_UID}"
          " during the small copies, all attributed to that uid and its shell); the trail"
          f" {'verifies' if verified else 'DOES NOT VERIFY'} with the IT provider's key."
          f" auditd wrote {checks['auditd']} records for its watch rule. The last column is"
          " the time of `cp` and `sync -f` alone under portcullisd, before the wait for the"
          " last record.")
    if share:
        print("\nOf portcullisd's time above no logging, the floor rows account for: "
              + "; ".join(share) + " (the rest is the watcher's and the engine's own work,"
              " and noise).")
    print("\nCPU time (medians, the threads' run time from /proc/PID/task/TID/schedstat) of"
          " portcullisd's processes during its copies: "
          + "; ".join(f"{label}: watcher {statistics.median(times[(case, 'cpu watcher')]):.3f} s,"
                      f" engine {statistics.median(times[(case, 'cpu engine')]):.3f} s"
                      for case, label, _, _ in cases) + ".")


if __name__ == "__main__":
    main()
