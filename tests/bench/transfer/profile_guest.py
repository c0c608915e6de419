"""Where the time of a copy through the daemon goes, eBPF backend, in the kernel test bed:
the staged portcullisd in the guest (`xfer-backend = bpf`), one ext4 usb-storage stick it
watches, 2,000 x 4 KiB files copied by `cp -r` + `sync -f` while `perf record -e cpu-clock
-a` samples every CPU of the guest, until every `file-written` record is in the trail.
Prints perf's report by process and by process and symbol. Run as root with the
environment of bench_guest.sh (PCL_PREFIX, PCL_BUILD_DIR, PCL_KERNEL_DIR); not a CTest
test."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../kernel"))
import bed as kbed  # noqa: E402
from bench_guest import RULES, partition  # noqa: E402

GUEST = r"""
set -e
python3 -c '
import os
os.mkdir("/tmp/src")
for i in range(2000):
    open("/tmp/src/f%04d" % i, "wb").write(os.urandom(4096))'
n0=$(cat TRAIL/trail-*.jsonl | grep -c '"event.action":"file-written"' || true)
perf record -q -e cpu-clock -F 499 -a -g -o /tmp/perf.data -- sh -c '
cp -r /tmp/src /mnt/pcl-w/p && sync -f /mnt/pcl-w
until [ $(cat TRAIL/trail-*.jsonl | grep -c "\"event.action\":\"file-written\"") -ge $(('$n0' + 2000)) ]
do sleep 0.2; done' >/dev/null 2>&1
echo "== by process"
perf report -i /tmp/perf.data --no-children --sort comm --stdio -g none 2>/dev/null | grep -v '^#' | grep . | head -15
echo "== by process and symbol"
perf report -i /tmp/perf.data --no-children --sort comm,sym --stdio -g none 2>/dev/null | grep -v "^#" | grep . | head -30
echo "== by process and shared object"
perf report -i /tmp/perf.data --no-children --sort comm,dso --stdio -g none 2>/dev/null | grep -v "^#" | grep . | head -25
"""


def main():
    with kbed.Bed(hostname="council-pc", smp=int(os.environ.get("PCL_GUEST_SMP", "2")),
                  memory=1536) as bed:
        opts = "/var/lib/pcl-xfer-bpf.conf"
        bed.run("cat > %s" % opts, input="xfer-backend = bpf\n")
        bed.start_daemon(RULES, transfer_log=opts)
        img = os.path.join(bed.work, "w.img")
        kbed.make_image(img, "ext4", size_mb=160, partitioned=True)
        bed.plug_storage("w", img, serial="PCLWATCHED01")
        dev = partition(bed, bed.usb_name(serial="PCLWATCHED01"))
        bed.run("mkdir -p /mnt/pcl-w && mount %s /mnt/pcl-w" % dev)
        bed.wait_record(lambda r: r["event.action"] == "xfer-watch-started")
        rc, out = bed.run(GUEST.replace("TRAIL", bed.daemon_dir + "/audit"), check=False,
                          timeout=1200)
        print("guest: Debian kernel %s (%s), %d CPUs, rc %d" % (bed.version, bed.accel,
                                                               bed.smp, rc))
        print(out)


if __name__ == "__main__":
    main()
