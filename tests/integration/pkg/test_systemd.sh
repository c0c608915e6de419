#!/bin/bash
# test_systemd.sh - the Debian package under a real systemd as PID 1: boots systemd in a
# systemd-nspawn container whose root is a throw-away overlay over this machine's root
# file system (writes land in a tmpfs and vanish), installs the package there with dpkg
# (postinst starts portcullisd.service), and runs systemd_inside.sh as a unit of that
# systemd; it checks the service and its sandbox as systemd applied them, stops it, and
# purges the package. Nothing on this machine changes. Runs as root, alone (RUN_SERIAL).
# usage: test_systemd.sh MAX_EXPOSURE
# Exit 0: pass; 1: fail; 77: cannot run here (reported skipped).
set -uo pipefail

build=${PCL_BUILD_DIR:?PCL_BUILD_DIR is not set}
max=${1:?usage: test_systemd.sh MAX_EXPOSURE}
here=$(cd "$(dirname "$0")" && pwd)
work=
nspawn_pid=

cleanup() {
	if [ -n "$nspawn_pid" ]; then
		kill "$nspawn_pid" 2>/dev/null
		wait "$nspawn_pid" 2>/dev/null
	fi
	if [ -n "$work" ]; then
		umount -l "$work/root" 2>/dev/null
		umount -l "$work/lower" 2>/dev/null
		umount -l "$work/tmpfs" 2>/dev/null
		rm -rf "$work"
	fi
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "test_systemd: must run as root (mounts, systemd-nspawn)"
	exit 77
fi
if ! command -v systemd-nspawn >/dev/null; then
	echo "test_systemd: systemd-nspawn is missing (apt-get install systemd-container)"
	exit 77
fi
# The container shares this machine's sysfs (read-only) and network namespace: do not
# start a USB gate where there is a USB bus or a removable disk.
for b in /sys/class/block/*; do
	if [ "$(cat "$b/removable" 2>/dev/null)" = 1 ]; then
		echo "test_systemd: removable disk $(basename "$b") here; not running the daemon"
		exit 77
	fi
done
if [ -n "$(ls /sys/bus/usb/devices 2>/dev/null)" ]; then
	echo "test_systemd: a USB bus is present here; not running the daemon"
	exit 77
fi
# One package test at a time on this machine (test_pkg.sh installs on the host itself,
# which the overlay would see half-done). A finished install on the host is seen through
# the overlay and purged inside the container first (systemd_inside.sh).
exec 9>/run/lock/portcullis-pkg-test.lock
if ! flock -w 900 9; then
	echo "FAIL: another package test held the lock for 15 minutes"
	exit 1
fi
work=$(mktemp -d /tmp/pcl-systemd.XXXXXX)
if ! (cd "$build" && cpack -G DEB -B "$work/deb" >"$work/cpack.log" 2>&1); then
	cat "$work/cpack.log"
	echo "FAIL: cpack"
	exit 1
fi
deb=$(ls "$work"/deb/portcullis_*.deb)

# The container's root: this machine's root file system (that mount only, not the ones
# on top of it) as the read-only lower layer, a tmpfs as the upper one.
mkdir -p "$work/lower" "$work/tmpfs" "$work/root"
mount --bind / "$work/lower" && mount -o remount,bind,ro "$work/lower" &&
	mount -t tmpfs -o mode=755 tmpfs "$work/tmpfs" &&
	mkdir "$work/tmpfs/upper" "$work/tmpfs/work" &&
	mount -t overlay overlay \
		-o "lowerdir=$work/lower,upperdir=$work/tmpfs/upper,workdir=$work/tmpfs/work" \
		"$work/root" || {
	echo "FAIL: cannot build the container's root"
	exit 1
}
root=$work/root
# Boot only what the test needs: sysinit.target (journald, sysusers, tmpfiles) and the
# test unit, none of the services this machine enables for its multi-user target.
rm -rf "$root/pcl-test"
mkdir -p "$root/pcl-test" "$root/etc/systemd/system/pcl-test.target.wants"
cp "$deb" "$root/pcl-test/portcullis.deb"
cp "$here/systemd_inside.sh" "$here/checks.sh" "$here/../../../udev/portcullisd.service" \
	"$root/pcl-test/"
cat >"$root/etc/systemd/system/pcl-test.target" <<'EOF'
[Unit]
Description=Portcullis package test
Requires=sysinit.target
After=sysinit.target
EOF
cat >"$root/etc/systemd/system/pcl-test.service" <<EOF
[Unit]
Description=Portcullis package test: install, check, purge
After=sysinit.target
[Service]
Type=oneshot
StandardOutput=file:/pcl-test/inside.log
StandardError=inherit
ExecStart=/bin/bash /pcl-test/systemd_inside.sh $max
# The script ends the container itself; if it fails before that (a shell error), end
# it here, failed.
ExecStopPost=/bin/sh -c '[ "\$SERVICE_RESULT" != exit-code ] || systemctl --no-block exit 99'
EOF
ln -s ../pcl-test.service "$root/etc/systemd/system/pcl-test.target.wants/"

# The container exits with the test's status (systemctl exit in systemd_inside.sh);
# 120 s is far more than a run takes (about 10 s).
timeout -k 10 120 systemd-nspawn --quiet --directory="$root" --machine=pcl-test \
	--register=no --keep-unit --link-journal=no --uuid="$(cat /proc/sys/kernel/random/uuid)" \
	--boot -- systemd.unit=pcl-test.target systemd.show_status=false \
	>"$work/boot.log" 2>&1 &
nspawn_pid=$!
wait "$nspawn_pid"
rc=$?
nspawn_pid=
echo "--- inside the container (systemd $(systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p') as PID 1)"
cat "$root/pcl-test/inside.log" 2>/dev/null || echo "(no log: the test unit did not run)"
if [ "$rc" != 0 ]; then
	echo "--- systemd-nspawn"
	tail -n 40 "$work/boot.log"
	echo "test_systemd: FAIL (container exit status $rc)"
	exit 1
fi
echo "test_systemd: pass"
exit 0
