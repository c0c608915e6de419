#!/bin/bash
# guest-init.sh - PID 1 of the kernel test bed's guest (tests/kernel/bed.py), started by
# init.c on the overlay over the host's read-only root. Mounts the kernel filesystems,
# the Debian kernel's module tree (9p tag "modules") and the bed's shared work directory
# (9p tag "work", at the host's own path), sets the host name, loads the drivers the
# tests need, starts systemd-udevd and the command agent on the virtio-serial port
# "pcl.agent", then reaps orphans. Its input is the bed's kernel command line: trusted.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
arg() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
# The tree under test (sources, build, staged install) when it lies in a directory the
# tmpfs mounts below hide (a clone in /tmp, say): held by a bind mount first, moved back
# to its own path after.
masked() { case "$1" in /run/* | /tmp/* | /var/tmp/* | /var/lib/* | /var/log/*) return 0 ;; esac; return 1; }
keep=$(arg pcl.keep)
n=0
for d in ${keep//,/ }; do
	if masked "$d" && [ -d "$d" ]; then
		mkdir -p "/.keep/$n"
		mount --bind "$d" "/.keep/$n"
	fi
	n=$((n + 1))
done
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /var/tmp
mount -t tmpfs -o mode=0755 tmpfs /var/lib
mount -t tmpfs -o mode=0755 tmpfs /var/log
mount -t configfs none /sys/kernel/config 2>/dev/null
mount -t debugfs none /sys/kernel/debug 2>/dev/null
n=0
for d in ${keep//,/ }; do
	if [ -d "/.keep/$n" ] && mountpoint -q "/.keep/$n"; then
		mkdir -p "$d"
		mount --move "/.keep/$n" "$d"
	fi
	n=$((n + 1))
done
hostname "$(arg pcl.host)"
mkdir -p /lib/modules
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro modules /lib/modules
work=$(arg pcl.work)
mkdir -p "$work"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none work "$work"
# The USB host controller, storage, HID, file systems (vfat needs its code pages).
for m in virtio_console xhci_pci usb_storage sd_mod usbhid hid_generic nls_cp437 \
	nls_iso8859-1 nls_utf8 vfat exfat ext4 loop; do
	modprobe "$m" || echo "guest-init: modprobe $m failed" >&2
done
echo "guest-init: modules at $(cut -d" " -f1 /proc/uptime) s" >/dev/console
/lib/systemd/systemd-udevd --daemon
# Only what the tests look at: the rest would load drivers for nothing (slow under TCG).
udevadm trigger --action=add --subsystem-match=usb --subsystem-match=block \
	--subsystem-match=scsi --subsystem-match=hidraw --subsystem-match=virtio-ports
udevadm settle --timeout=60
echo "guest-init: up after $(cut -d" " -f1 /proc/uptime) s" >/dev/console
# Without its agent the guest is of no use: power off, and the bed sees QEMU end.
(/usr/bin/python3 "$(dirname "$0")/agent.py" >/dev/console 2>&1
	echo "guest-init: the agent exited" >/dev/console
	echo o >/proc/sysrq-trigger) &
while :; do
	wait
	sleep 1
done
