"""The bed's own check that it is a real kernel: Debian's, with its real USB stack."""
import os

import bed as kbed


def test_the_guest_runs_debians_kernel(bed):
    assert bed.out("uname -r").strip() == bed.version
    assert bed.version.endswith("-amd64")
    assert bed.out("hostname").strip() == "council-pc"
    # The Debian package's own modules, not the host's.
    assert "/lib/modules/%s/kernel/drivers/usb/storage/usb-storage.ko" % bed.version in \
        bed.out("modinfo -n usb-storage")


def test_a_stick_is_bound_by_usb_storage_and_its_disk_appears(bed):
    img = os.path.join(bed.work, "bed-stick.img")
    kbed.make_image(img, "vfat", partitioned=True)
    bed.plug_storage("bedstick", img, serial="BEDCHECK0001")
    name = bed.usb_name(serial="BEDCHECK0001")
    # No daemon: the kernel's own default authorises it and usb-storage binds.
    bed.wait_for("[ -e /sys/bus/usb/drivers/usb-storage/%s:1.0 ]" % name)
    bed.wait_for("ls /sys/bus/usb/devices/%s/%s:1.0/host*/target*/*/block/sd?/sd?1" %
                 (name, name))
    bed.unplug("bedstick")
    rc, _ = bed.run("[ -e /sys/bus/usb/devices/%s ]" % name, check=False)
    assert rc != 0


def test_work_directory_is_shared_both_ways(bed):
    with open(os.path.join(bed.work, "from-host"), "w") as f:
        f.write("host\n")
    assert bed.out("cat %s/from-host" % bed.work) == "host\n"
    bed.run("echo guest > %s/from-guest" % bed.work)
    with open(os.path.join(bed.work, "from-guest")) as f:
        assert f.read() == "guest\n"


def test_qmp_reaches_the_xhci(bed):
    assert bed.qmp("qom-get", path="/machine/peripheral/xhci", property="type") == "qemu-xhci"
