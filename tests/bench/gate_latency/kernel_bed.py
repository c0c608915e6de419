#!/usr/bin/env python3
"""kernel_bed.py - the gate's latency on Debian's kernel (tests/kernel/bed.py, QEMU):
for each insertion of an allowed usb-storage stick, the kernel's "add" uevent, udevd's
re-broadcast of it and the first write of the stick's `authorized` file, stamped in the
guest by uevent_stamps.py. Prints per insertion and a summary (medians, and udevd's
share of the gate's time). Emulated CPU: compare ratios, not absolute times.

Usage (env PCL_BUILD_DIR, PCL_SOURCE_DIR as for the kernel tests):
  kernel_bed.py N PREFIX [PREFIX ...]   N insertions per round, rounds alternating the
                                        staged installs given (A B B A ...), one boot;
                                        PCL_BENCH_SMP=2: two virtual CPUs (default one)."""
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../kernel"))
import bed as kbed  # noqa: E402

RULES = """\
allow with-interface match-all { 09:00:* }
allow id 46f4:0001 serial "COUNCIL0001" with-interface equals { 08:06:50 } label "PC-STICK-01"
"""


def one_round(b, prefix, n, img, tag):
    kbed.DAEMON = os.path.join(prefix, "sbin/portcullisd")
    kbed.CLI = os.path.join(prefix, "bin/portcullis")
    b.start_daemon(RULES)
    out = os.path.join(b.work, "stamps-%s.jsonl" % tag)
    b.run("rm -f %s %s.ready; python3 %s %s %d 300 >%s.log 2>&1 </dev/null &"
          % (out, out, os.path.join(HERE, "uevent_stamps.py"), out, n, out))
    b.wait_for("[ -e %s.ready ]" % out)
    for i in range(n):
        b.plug_storage("s%d" % i, img, serial="COUNCIL0001")
        name = b.usb_name(serial="COUNCIL0001")
        b.wait_for("[ $(cat /sys/bus/usb/devices/%s/authorized) = 1 ]" % name)
        b.run("udevadm settle --timeout=60", check=False)
        b.unplug("s%d" % i)
        b.run("udevadm settle --timeout=60", check=False)
    rc, _ = b.run("end=$((SECONDS + 60)); while [ $SECONDS -lt $end ]; do "
                  "[ $(wc -l < %s) -ge %d ] && exit 0; sleep 0.5; done; exit 1" % (out, n),
                  check=False, timeout=90)
    if rc != 0:
        print(b.out("cat %s %s.log" % (out, out), check=False))
    b.stop_daemon()
    rows = [json.loads(line) for line in open(out) if line.strip()]
    return rows


def main():
    n = int(sys.argv[1])
    prefixes = sys.argv[2:]
    smp = int(os.environ.get("PCL_BENCH_SMP", "1"))
    with kbed.Bed(hostname="council-pc", smp=smp) as b:
        img = os.path.join(b.work, "stick.img")
        kbed.make_image(img, "vfat", size_mb=16, partitioned=True)
        print("accel %s, kernel %s, %d vCPU" % (b.accel, b.version, smp))
        order = []
        for r in range(max(2, len(prefixes)) * (2 if len(prefixes) > 1 else 1)):
            k = r % (2 * len(prefixes))
            order.append(prefixes[k if k < len(prefixes) else 2 * len(prefixes) - 1 - k])
        res = {p: [] for p in prefixes}
        for r, p in enumerate(order):
            rows = one_round(b, p, n, img, "r%d" % r)
            for row in rows:
                ok = "incomplete" not in row
                udev = (row["udev"] - row["kernel"]) * 1e3 if ok else None
                gate = (row["authorized"] - row["kernel"]) * 1e3 if ok else None
                print("round %d %s seq %s udev %s ms gate %s ms at-watch %s" % (
                    r, p, row.get("seqnum"), udev and "%.1f" % udev, gate and "%.1f" % gate,
                    row.get("authorized_at_watch")))
                if ok:
                    res[p].append((udev, gate))
            sys.stdout.flush()
        for p in prefixes:
            u = [x for x, _ in res[p]]
            g = [y for _, y in res[p]]
            if not g:
                print("%s: no complete insertion" % p)
                continue
            print("%s: %d insertions; median kernel->udev %.1f ms, kernel->authorized %.1f ms,"
                  " udevd's share (median of udev/gate) %.2f; min gate %.1f, max %.1f" % (
                      p, len(g), statistics.median(u), statistics.median(g),
                      statistics.median([x / y for x, y in res[p] if y > 0]), min(g), max(g)))


if __name__ == "__main__":
    main()
