"""Where the transfer log's time goes, through the running daemon.

The staged portcullisd under the umockdev gate bed with an approved stick (a real ext4
loop device), as bench_daemon.py (the unit's capabilities; XFER_BENCH_CAPS=full: all); while 2,000 x 4 KiB files are copied onto it (`cp -r` +
`sync -f`, until every `file-written` record is in the trail), the watcher and the engine
are traced by a tool given on the command line, run as TOOL... -p WATCHER,ENGINE (or
-p WATCHER then -p ENGINE with TRACE_APART=1). Examples, as root, under umockdev-wrapper:

  PCL_PREFIX=build/stage profile_daemon.py strace -c -f -o /tmp/sc.txt
  PCL_PREFIX=build/stage profile_daemon.py perf record -F 1999 -g -o /tmp/perf.data

The tool's own output is where it writes it; this prints the copy's time and the threads'
CPU. Not a CTest test.
"""
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../integration/gate"))
sys.path.insert(0, here)
import harness  # noqa: E402
from bench_daemon import (SMALL_N, approved_stick, cpu_seconds, descendants,  # noqa: E402
                          make_sources, timed_copy, wait_written, written)


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
        procs = descendants(pc.daemon.pid)
        watcher = [p for p, n in procs.items() if n.startswith("portcullis-xfer")]
        engine = [p for p, n in procs.items() if n.startswith("portcullis-engi")]
        assert len(watcher) == 1 and len(engine) == 1, procs
        tracer = None
        if tool:
            env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
            tracer = subprocess.Popen(tool + ["-p", f"{watcher[0]},{engine[0]}"], env=env)
            time.sleep(2)  # attached
        before, cpu0 = written(pc), cpu_seconds(pc)
        copy, total = timed_copy([small, stick.mnt + "/small"], stick.mnt,
                                 lambda: wait_written(pc, before + SMALL_N))
        cpu1 = cpu_seconds(pc)
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=120)
        print(f"copy and sync {copy:.3f} s, until the last record {total:.3f} s; CPU: "
              f"watcher {cpu1['watcher'] - cpu0['watcher']:.3f} s, "
              f"engine {cpu1['engine'] - cpu0['engine']:.3f} s; "
              f"load average {os.getloadavg()[0]:.1f}; pids watcher {watcher[0]} "
              f"engine {engine[0]}")
        stick.umount()
    finally:
        pc.close()
        stick.close()
        harness.real(["rm", "-rf", src])


if __name__ == "__main__":
    main()
