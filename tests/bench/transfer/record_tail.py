"""Where the records' tail goes, through the running daemon.

As profile_daemon.py (the staged portcullisd under the umockdev gate bed, an approved
ext4 loop stick, 2,000 x 4 KiB files by `cp -r` + `sync -f`), once: prints how long `cp`
and `sync -f` took, and, from the trail, when the last file-written record was created
by the watcher (`event.created`) and stamped by the engine (`@timestamp`), relative to
`sync -f` returning (negative: before), and when this script saw it in the trail. As
root, under umockdev-wrapper:

  PCL_PREFIX=build/stage umockdev-wrapper python3 record_tail.py

With a tool on the command line, the watcher and the engine are traced by it during the
copy, run as TOOL... -p WATCHER,ENGINE as by profile_daemon.py. The script then also
prints when `cp` started and `sync -f` returned, in seconds since the epoch (as
`strace -ttt`) and, for `sync -f`, on CLOCK_MONOTONIC (as `perf record -k mono`), to set
beside the tool's own times:

  PCL_PREFIX=build/stage umockdev-wrapper python3 record_tail.py perf record -q -k mono \
      -o /tmp/tail.data -e syscalls:sys_enter_pwrite64,syscalls:sys_exit_pwrite64 ...

Not a CTest test (a timing).
"""
import datetime
import glob
import json
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../integration/gate"))
sys.path.insert(0, here)
import harness  # noqa: E402
from bench_daemon import (SMALL_N, approved_stick, descendants, make_sources,  # noqa: E402
                          wait_written, written)


def stamp(s):
    return datetime.datetime.strptime(s.replace("Z", "+0000"),
                                      "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def main():
    tool = sys.argv[1:]
    src, small, _ = make_sources()
    pc = harness.Testbed()
    pc.add("pc-xhci.umockdev")
    stick = harness.RealMedium(size_mb=256)
    try:
        approved_stick(pc, stick)
        stick.mount()
        pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=30)
        pc.wait_quiet()
        tracer = None
        if tool:
            procs = descendants(pc.daemon.pid)
            pids = [p for p, n in procs.items() if n.startswith(("portcullis-xfer",
                                                                   "portcullis-engi"))]
            assert len(pids) == 2, procs
            env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
            tracer = subprocess.Popen(tool + ["-p", ",".join(map(str, pids))], env=env)
            time.sleep(2)  # attached
        before = written(pc)
        t0 = time.time()
        harness.real(["cp", "-r", small, stick.mnt + "/small"], check=True)
        t_cp = time.time()
        harness.real(["sync", "-f", stick.mnt], check=True)
        t_sync, m_sync = time.time(), time.monotonic()
        wait_written(pc, before + SMALL_N)
        t_seen = time.time()
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=120)
        created, stamped = [], []
        for seg in glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl")):
            with open(seg) as f:
                for line in f:
                    if '"file-written"' in line:
                        r = json.loads(line)
                        created.append(stamp(r["event.created"]))
                        stamped.append(stamp(r["@timestamp"]))
        print(f"cp {1000 * (t_cp - t0):.0f} ms, sync -f {1000 * (t_sync - t_cp):.0f} ms; "
              f"the last record, after sync -f returned: created "
              f"{1000 * (max(created) - t_sync):+.0f} ms, stamped "
              f"{1000 * (max(stamped) - t_sync):+.0f} ms, seen {1000 * (t_seen - t_sync):+.0f} ms;"
              f" load average {os.getloadavg()[0]:.1f}")
        if tool:
            print(f"cp started {t0:.6f}, sync -f returned {t_sync:.6f} (monotonic "
                  f"{m_sync:.6f}), seen {t_seen:.6f}")
    finally:
        pc.close()
        stick.close()
        harness.real(["rm", "-rf", src])


if __name__ == "__main__":
    main()
