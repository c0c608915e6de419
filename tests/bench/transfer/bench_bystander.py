"""Benchmark: what a watched medium costs the programs that never touch it.

The eBPF backend's tracepoint mode runs a program at the return of every system call of
every process (the kernel's sys_exit tracepoint), and at every fork, exec and exit, while a
medium is watched; fanotify marks only the medium's filesystem. This times, on the root
disk and away from the medium, with nothing watching and under each given watcher (an
ext4 loop medium mounted and watched, idle):
  - `dd bs=1` of 1 MiB from /dev/zero to /dev/null: two null system calls per byte;
  - `tar cf /dev/null /usr/share/doc`: opens, reads and closes of files elsewhere;
  - 300 runs of /bin/true: fork, exec and exit.
Each figure is the workload's CPU time (user + system, its children included): the
programs' own cost, less disturbed than the wall clock by other work on shared cores. Runs
alternate in order; the median per workload and its ratio to nothing watching.
Run as root: python3 bench_bystander.py RUNS NAME=XFERWATCH[@BACKEND]... |
tests/bench/record.sh transfer-bystander. Not a CTest test; prints a markdown section.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../integration/xfer"))
import xferlib  # noqa: E402

SPAWNS = 300
WORKLOADS = {
    "dd bs=1, 1 MiB (2 system calls per byte)":
        ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=1048576", "status=none"],
    "tar of /usr/share/doc to /dev/null":
        ["tar", "-C", "/usr/share", "-cf", "/dev/null", "doc"],
    f"{SPAWNS} runs of /bin/true":
        ["sh", "-c", f"i=0; while [ $i -lt {SPAWNS} ]; do /bin/true; i=$((i+1)); done"],
}


def watcher(kind, mnt):
    """portcullis-xferwatch on the medium, started in the backend asked for; None for
    'none'."""
    if kind == "none":
        return None
    path, _, backend = kind.partition("@")
    w = xferlib.Watcher(mnt, "xfer-backend=" + (backend or "fanotify"), watch=path)
    started = [r for r in w.records() if xferlib.get(r, "event.action") == "xfer-watch-started"]
    if backend and xferlib.get(started[0], "xfer.backend") != backend:
        w.stop()
        raise RuntimeError(f"{kind} did not run with {backend}: {started[0]}")
    return w


def timed(cmd):
    """CPU time (user + system) of cmd and its children: what the tracepoints add to each
    system call is charged there, and less of the other work on the shared cores is."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    watchers = dict(a.split("=", 1) for a in sys.argv[2:])
    kinds = ["none", *watchers]
    got = {(k, w): [] for k in kinds for w in WORKLOADS}
    load0 = os.getloadavg()[0]
    for cmd in WORKLOADS.values():
        timed(cmd)  # caches warm
    with xferlib.Medium("ext4", size_mb=64, base="/var/tmp") as m:
        for r in range(runs):
            for k in (kinds if r % 2 == 0 else kinds[::-1]):
                w = watcher(watchers.get(k, k), m.mnt)
                try:
                    for name, cmd in WORKLOADS.items():
                        got[(k, name)].append(timed(cmd))
                finally:
                    if w is not None:
                        w.stop()
    print("## transfer-bystander: what a watched medium costs the rest of the machine\n")
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python3"
          f" tests/bench/transfer/bench_bystander.py {runs}"
          + "".join(f" {k}=..." for k in watchers) + f"` on {os.cpu_count()} shared cores,"
          f" kernel {os.uname().release}, load average {load0:.1f} at the start,"
          f" {os.getloadavg()[0]:.1f} at the end. Programs on the root disk, none touching"
          " the watched medium (an idle ext4 loop device); CPU time of each workload (user +"
          " system), medians over"
          f" {runs} runs, order alternating; the ratio is to nothing watching.\n")
    print("| workload | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name in WORKLOADS:
        base = statistics.median(got[("none", name)])
        cells = [f"{base:.3f} s"]
        for k in kinds[1:]:
            med = statistics.median(got[(k, name)])
            cells.append(f"{med:.3f} s ({med / base:.2f}×)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
