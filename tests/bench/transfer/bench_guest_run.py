"""The guest half of bench_guest.py: runs inside the kernel test bed, as root, in a mount
namespace of its own whose mounts the daemon does not see (`unshare -m --propagation
slave`: the daemon's medium, mounted before, is visible here; the plain medium mounted
here is not visible to the daemon, so it gets no watcher).

bench_guest_run.py WATCHED_MNT PLAIN_DEV TRAIL_DIR LABEL: 2,000 x 4 KiB files copied by
`cp -r` + `sync -f`, REPEAT times per mode, order alternating: no logging, auditd with a
watch rule, auditd + sha256sum of every file (all three on PLAIN_DEV), and portcullisd
(on WATCHED_MNT, timed until every `file-written` record is in TRAIL_DIR). During each
portcullisd copy 20 writers that exit at once run as another uid. Prints one JSON object:
the times per mode, records lost and wrong attributions. Not a CTest test."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPEAT = int(os.environ.get("XFER_BENCH_REPEAT", "3"))
N, SIZE = 2000, 4096
QUICK_UID, QUICK_N = 4343, 20
ACTION = b'"event.action":"file-written"'
MODES = ("none", "auditd", "auditd+sha256sum", "portcullisd")


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)


class Trail:
    """Counts file-written records as the daemon appends them (reads only new bytes)."""

    def __init__(self, d):
        self.d, self.off, self.n = d, {}, 0

    def count(self):
        for seg in sorted(glob.glob(os.path.join(self.d, "trail-*.jsonl"))):
            with open(seg, "rb") as f:
                f.seek(self.off.get(seg, 0))
                data = f.read()
            end = data.rfind(b"\n") + 1
            self.n += data[:end].count(ACTION)
            self.off[seg] = self.off.get(seg, 0) + end
        return self.n

    def records(self):
        out = []
        for seg in sorted(glob.glob(os.path.join(self.d, "trail-*.jsonl"))):
            with open(seg, "rb") as f:
                for line in f:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue
                    if r.get("event.action") == "file-written":
                        out.append(r)
        return out


class Auditd:
    def start(self):
        self.log = tempfile.mkdtemp(prefix="pcl-auditd-")
        conf = os.path.join(self.log, "auditd.conf")
        with open(conf, "w") as f:
            f.write(f"log_file = {self.log}/audit.log\nlog_format = ENRICHED\n"
                    "flush = INCREMENTAL_ASYNC\nfreq = 50\nmax_log_file = 1024\n"
                    "max_log_file_action = ROTATE\nspace_left = 2\nadmin_space_left = 1\n"
                    "disk_full_action = SUSPEND\ndisk_error_action = SUSPEND\n")
        os.chmod(conf, 0o640)
        self.proc = subprocess.Popen(["/usr/sbin/auditd", "-n", "-c", self.log],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(400):
            r = subprocess.run(["auditctl", "-s"], capture_output=True, text=True)
            if f"pid {self.proc.pid}" in r.stdout:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("auditd did not register with the kernel")
        sh(["auditctl", "-e", "0"], stdout=subprocess.DEVNULL)

    def watch(self, mnt, on):
        if on:
            sh(["auditctl", "-w", mnt, "-p", "rwa", "-k", "pclbench"])
            sh(["auditctl", "-e", "1"], stdout=subprocess.DEVNULL)
        else:
            sh(["auditctl", "-e", "0"], stdout=subprocess.DEVNULL)
            sh(["auditctl", "-W", mnt, "-p", "rwa", "-k", "pclbench"])

    def records(self):
        try:
            with open(os.path.join(self.log, "audit.log"), "rb") as f:
                return f.read().count(b'key="pclbench"')
        except OSError:
            return 0

    def stop(self):
        subprocess.run(["auditctl", "-D"], stdout=subprocess.DEVNULL)
        self.proc.terminate()
        self.proc.wait(timeout=60)
        subprocess.run(["auditctl", "-e", "0"], stdout=subprocess.DEVNULL)


def main(watched, plain_dev, trail_dir, label):
    src = tempfile.mkdtemp(prefix="xfer-src-")
    for i in range(N):
        with open(os.path.join(src, f"f{i:04d}"), "wb") as f:
            f.write(os.urandom(SIZE))
    plain = "/mnt/pcl-plain"
    os.makedirs(plain, exist_ok=True)
    sh(["mount", plain_dev, plain])
    sh(["chmod", "1777", plain, watched])
    trail, auditd = Trail(trail_dir), Auditd()
    auditd.start()
    times = {m: [] for m in MODES}
    copy_only = []
    checks = {"lost": 0, "wrong": 0, "quick": 0}
    try:
        for i in range(REPEAT):
            for mode in (MODES if i % 2 == 0 else tuple(reversed(MODES))):
                mnt = watched if mode == "portcullisd" else plain
                dst = os.path.join(mnt, f"{label}-{i}")
                if mode.startswith("auditd"):
                    auditd.watch(mnt, True)
                quick, target = [], 0
                if mode == "portcullisd":
                    time.sleep(1)  # the previous clean-up's records out
                    target = trail.count() + N + QUICK_N
                t0 = time.perf_counter()
                if mode == "portcullisd":
                    quick = [subprocess.Popen(
                        ["setpriv", f"--reuid={QUICK_UID}", f"--regid={QUICK_UID}",
                         "--clear-groups", "sh", "-c", f"echo q{k} > {mnt}/{label}-{i}-q{k}"])
                        for k in range(QUICK_N)]
                sh(["cp", "-r", src, dst])
                sh(["sync", "-f", mnt])
                t1 = time.perf_counter()
                if mode == "auditd+sha256sum":
                    sh(f"find {dst} -type f -print0 | xargs -0 sha256sum >/dev/null")
                if mode == "portcullisd":
                    for q in quick:
                        q.wait()
                    deadline = time.time() + 900
                    while trail.count() < target:
                        if time.time() > deadline:
                            raise RuntimeError(f"records missing: {trail.count()} of {target}")
                        time.sleep(0.02)
                    copy_only.append(t1 - t0)
                times[mode].append(time.perf_counter() - t0)
                if mode.startswith("auditd"):
                    auditd.watch(mnt, False)
                if mode == "portcullisd":
                    check(trail, label, i, checks)
                sh(["rm", "-rf", dst] + [f"{mnt}/{label}-{i}-q{k}" for k in range(QUICK_N)])
                sh(["sync", "-f", mnt])
                subprocess.run(["fstrim", mnt], stderr=subprocess.DEVNULL)
        checks["auditd"] = auditd.records()
    finally:
        auditd.stop()
        subprocess.run(["umount", plain])
        shutil.rmtree(src)
    print(json.dumps({"times": times, "copy_only": copy_only, "checks": checks}))


def check(trail, label, i, checks):
    want = {f"{label}-{i}/f{k:04d}" for k in range(N)}
    got = {}
    for r in trail.records():
        got.setdefault(r.get("file.path"), r)
    checks["lost"] += len(want - set(got))
    for p in want & set(got):
        r = got[p]
        if r.get("user.id") != 0 or not r.get("process.executable", "").endswith("/cp"):
            checks["wrong"] += 1
    for k in range(QUICK_N):
        r = got.get(f"{label}-{i}-q{k}")
        if r is None:
            checks["lost"] += 1
        elif r.get("user.id") != QUICK_UID or \
                not r.get("process.executable", "").endswith(("/dash", "/sh")):
            checks["wrong"] += 1
        else:
            checks["quick"] += 1


if __name__ == "__main__":
    main(*sys.argv[1:5])
