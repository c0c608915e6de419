"""Benchmark: the transfer log through the running daemon with each backend, inside the
kernel test bed (Debian's kernel, where the eBPF backend loads; this machine's kernel
refuses fentry programs). Boots the bed with PCL_GUEST_SMP virtual CPUs (default 2), plugs
two QEMU usb-storage sticks with ext4 images, both allowed by the rules, and starts the
staged portcullisd in the guest once per backend (`xfer-backend = bpf`, then `fanotify`).
The watched stick is mounted where the daemon sees it; bench_guest_run.py then runs every
row of one phase in the guest: no logging, auditd, auditd + sha256sum on the other stick
(mounted where the daemon does not see it), portcullisd on the watched one. Prints a
markdown section for tests/bench/record.sh transfer-guest. Run by bench_guest.sh; root;
not a CTest test."""
import json
import os
import statistics
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../kernel"))
import bed as kbed  # noqa: E402

SMP = int(os.environ.get("PCL_GUEST_SMP", "2"))
RULES = """\
allow with-interface match-all { 09:00:* }
allow id 46f4:0001 serial "PCLWATCHED01" with-interface equals { 08:06:50 } label "WATCHED"
allow id 46f4:0001 serial "PCLPLAIN0001" with-interface equals { 08:06:50 } label "PLAIN"
"""
BACKENDS = ("bpf", "fanotify")
MODES = ("none", "auditd", "auditd+sha256sum", "portcullisd")


def partition(bed, name):
    out = bed.wait_for("ls /sys/bus/usb/devices/%s/%s:1.0/host*/target*/*/block/*/ | "
                       "grep -E '^sd[a-z]+1$'" % (name, name),
                       what="the stick's partition under %s" % name)
    part = out.split()[-1]
    bed.wait_for("[ -b /dev/%s ]" % part)
    return "/dev/" + part


def phase(bed, backend, plugged):
    opts = "/var/lib/pcl-xfer-%s.conf" % backend
    bed.run("cat > %s" % opts, input="xfer-backend = %s\n" % backend)
    bed.start_daemon(RULES, transfer_log=opts)
    if not plugged:
        for sid, serial in (("w", "PCLWATCHED01"), ("p", "PCLPLAIN0001")):
            img = os.path.join(bed.work, sid + ".img")
            kbed.make_image(img, "ext4", size_mb=160, partitioned=True)
            bed.plug_storage(sid, img, serial=serial)
    watched = partition(bed, bed.usb_name(serial="PCLWATCHED01"))
    plain = partition(bed, bed.usb_name(serial="PCLPLAIN0001"))
    bed.run("mkdir -p /mnt/pcl-w && mount %s /mnt/pcl-w" % watched)
    started = bed.wait_record(lambda r: r["event.action"] in ("xfer-watch-started",
                                                              "xfer-watch-failed"))
    if started.get("xfer.backend") != backend:
        raise AssertionError("asked for %s, the watcher says %s" % (backend, started))
    rc, out = bed.run("cd %s && unshare -m --propagation slave /usr/bin/python3 %s "
                      "/mnt/pcl-w %s %s/audit %s" % (
                          kbed.shquote(here), kbed.shquote(os.path.join(
                              here, "bench_guest_run.py")), plain, bed.daemon_dir, backend),
                      check=False, timeout=int(os.environ.get("PCL_GUEST_TIMEOUT", "3000")))
    if rc != 0:
        raise AssertionError("guest run failed (%d):\n%s\n%s" % (rc, out, bed.daemon_log()))
    bed.run("umount /mnt/pcl-w")
    # (the trail is large by now: looked for in the guest, not copied out)
    bed.wait_for("grep -q '\"event.action\":\"xfer-watch-stopped\"' %s/audit/trail-*.jsonl"
                 % bed.daemon_dir, timeout=120)
    bed.stop_daemon()
    result = json.loads(out.strip().split("\n")[-1])
    print("phase %s: %s" % (backend, json.dumps(result)), file=sys.stderr, flush=True)
    return started, result


def main():
    results = {}
    with kbed.Bed(hostname="council-pc", smp=SMP, memory=1536) as bed:
        version, accel = bed.version, bed.accel
        for k, backend in enumerate(BACKENDS):
            results[backend] = phase(bed, backend, k > 0)
    report(version, accel, results)


def report(version, accel, results):
    repeat = len(results[BACKENDS[0]][1]["times"]["none"])
    print("Run %s by `tests/bench/transfer/bench_guest.sh build`: inside the kernel test bed"
          " (Debian's kernel %s under QEMU, %d virtual CPUs, %s on this 2-core shared"
          " machine, load average %.1f at the end: absolute times of an emulated CPU mean"
          " nothing, compare the ratios), the staged portcullisd running in the guest"
          " (its trail on the guest's tmpfs), two QEMU usb-storage sticks with ext4, both"
          " allowed by the rules. 2000 x 4 KiB files by `cp -r` as root + `sync -f`; the"
          " portcullisd column is timed until every `file-written` record (SHA-256"
          " included) is in the trail. One daemon per backend (its `transfer-log` options file saying"
          " `xfer-backend = bpf`, then `fanotify`); in each phase every row runs in the same run, order alternating,"
          " medians of %d: no logging, auditd (`auditctl -w MNT -p rwa`) and auditd +"
          " `sha256sum` of every file on the other stick, mounted where the daemon does"
          " not see it.\n" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), version,
                              SMP, "KVM" if accel == "kvm" else "emulated without KVM",
                              os.getloadavg()[0], repeat))
    print("| backend | no logging | auditd | auditd + sha256sum | portcullisd |"
          " portcullisd / none | portcullisd / auditd | goal | copy and sync alone / none |")
    print("|---|---|---|---|---|---|---|---|---|")
    lines = []
    for backend in BACKENDS:
        started, r = results[backend]
        med = {m: statistics.median(r["times"][m]) for m in MODES}
        co = statistics.median(r["copy_only"])
        print(f"| {backend} | {med['none']:.2f} s | {med['auditd']:.2f} s |"
              f" {med['auditd+sha256sum']:.2f} s | {med['portcullisd']:.2f} s |"
              f" {med['portcullisd'] / med['none']:.2f}× |"
              f" {med['portcullisd'] / med['auditd']:.2f}× | ≤ 1.10× none, ≤ auditd |"
              f" {co / med['none']:.2f}× |")
        c = r["checks"]
        lines.append(f"{backend}: {c['lost']} records lost, {c['wrong']} wrong attributions"
                     f" ({c['quick']} files by writers that exit at once, uid 4343, all"
                     f" attributed to that uid and its shell), auditd wrote {c['auditd']}"
                     f" records for its rule")
    print("\n" + "; ".join(lines) + ".")


if __name__ == "__main__":
    main()
