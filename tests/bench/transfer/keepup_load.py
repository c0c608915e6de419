"""Check: does portcullis-xferwatch keep up under CPU load, and attribute every file?

On an ext4 loop device (image in /var/tmp), portcullis-xferwatch (-o xfer-backend=fanotify)
watches while `cp -r` copies N files (default 30,000 of 1 byte) and 20 writers that exit at
once write a file each as uid 4343, beside BUSY busy loops (default 4) started here. Counts
file-written records, wrong attributions (cp's files: uid 0 and /cp; the writers': uid 4343
and their shell), xfer-overflow and fail-closed records. Run as root:
python3 keepup_load.py XFERWATCH [RUNS]; environment N, SIZE, BUSY. Not a CTest test: it
loads the machine on purpose.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

QUICK_UID, QUICK_N = 4343, 20


def main():
    watch = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    n, size, busy = (int(os.environ.get(k, d)) for k, d in
                     (("N", 30000), ("SIZE", 1), ("BUSY", 4)))
    tmp = tempfile.mkdtemp(prefix="xfer-keepup-", dir="/var/tmp")
    os.chmod(tmp, 0o755)
    img, mnt, out = (os.path.join(tmp, x) for x in ("img", "mnt", "out.jsonl"))
    os.mkdir(mnt)
    with open(img, "wb") as f:
        f.truncate(512 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-N", str(2 * n + 1000), img], check=True)
    subprocess.run(["mount", "-o", "loop", img, mnt], check=True)
    os.chmod(mnt, 0o777)
    src = tempfile.mkdtemp(prefix="xfer-keepup-src-", dir="/dev/shm")
    os.mkdir(os.path.join(src, "s"))
    for i in range(n):
        with open(os.path.join(src, "s", f"f{i:05d}"), "wb") as f:
            f.write(os.urandom(size))
    hogs, proc = [], None
    try:
        with open(out, "w") as f:
            proc = subprocess.Popen([watch, "-o", "xfer-backend=fanotify", mnt], stdout=f)
        while b"xfer-watch-started" not in open(out, "rb").read():
            if proc.poll() is not None:
                raise RuntimeError("the watcher exited")
            time.sleep(0.02)
        hogs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(busy)]
        for r in range(runs):
            quick = [subprocess.Popen(["setpriv", f"--reuid={QUICK_UID}",
                                       f"--regid={QUICK_UID}", "--clear-groups", "sh", "-c",
                                       f"echo {r}-{i} > {mnt}/r{r}-q{i}"])
                     for i in range(QUICK_N)]
            subprocess.run(["cp", "-r", os.path.join(src, "s"), f"{mnt}/c{r}"], check=False)
            for q in quick:
                q.wait()
            want, deadline = (n + QUICK_N) * (r + 1), time.time() + 300
            while open(out, "rb").read().count(b'"file-written"') < want:
                if proc.poll() is not None or time.time() > deadline or \
                        b"xfer-fail-closed" in open(out, "rb").read():
                    break
                time.sleep(0.1)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
        if proc:
            proc.terminate()
            proc.wait()
        text = open(out).read() if os.path.exists(out) else ""
        subprocess.run(["umount", mnt])
        shutil.rmtree(tmp)
        shutil.rmtree(src)
    written = wrong = 0
    for line in text.splitlines():
        rec = json.loads(line)
        if rec.get("event.action") != "file-written":
            continue
        written += 1
        exe = rec.get("process.executable", "")
        if "-q" in rec.get("file.path", ""):
            ok = rec.get("user.id") == QUICK_UID and exe.endswith(("/dash", "/sh"))
        else:
            ok = rec.get("user.id") == 0 and exe.endswith("/cp")
        wrong += not ok
    print(f"{runs} run(s) of {n} files + {QUICK_N} quick writers beside {busy} busy loops:"
          f" {written} of {(n + QUICK_N) * runs} file-written records, {wrong} wrongly"
          f" attributed, {text.count('xfer-overflow')} xfer-overflow,"
          f" {text.count('xfer-fail-closed')} xfer-fail-closed; load average"
          f" {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
