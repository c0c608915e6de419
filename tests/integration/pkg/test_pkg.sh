#!/bin/bash
# test_pkg.sh - the Debian package end to end on this machine: build it with cpack,
# `dpkg -i`, check files, conffiles, the engine user, directories, the enrolled audit trail,
# the unit (enabled; verified), run the installed portcullisd, then `dpkg --purge` and check
# nothing is left. Runs as root, alone (RUN_SERIAL): it adds and removes a system user.
# Exit 0: pass; 1: fail; 77: the machine is not one this test may change (reported skipped).
set -uo pipefail

build=${PCL_BUILD_DIR:?PCL_BUILD_DIR is not set}
key=/etc/portcullis/audit-enrolment.key
unit=/usr/lib/systemd/system/portcullisd.service
wants=/etc/systemd/system/sysinit.target.wants/portcullisd.service
leftovers=(/etc/portcullis /var/lib/portcullis /var/log/portcullis /run/portcullis
	/usr/sbin/portcullisd /usr/bin/portcullis /usr/libexec/portcullis /usr/share/portcullis
	/etc/xdg/autostart/portcullis-notify.desktop "$unit" "$wants"
	/usr/lib/sysusers.d/portcullis.conf /usr/lib/tmpfiles.d/portcullis.conf
	/usr/lib/udev/rules.d/60-portcullis.rules /usr/share/man/man1/portcullis.1
	/usr/share/man/man5/portcullis-rules.5 /usr/share/man/man5/portcullisd.conf.5
	/usr/share/man/man8/portcullisd.8 /usr/bin/portcullis-fleet-enrol
	/usr/lib/systemd/system/portcullis-fleet-verify.service
	/usr/lib/systemd/system/portcullis-fleet-verify.timer
	/usr/lib/systemd/system/portcullis-fleet-purge.service
	/usr/lib/systemd/system/portcullis-fleet-purge.timer)
installed=0
daemon_pid=
work=$(mktemp -d /tmp/pcl-pkg.XXXXXX)

. "$(dirname "$0")/checks.sh"

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	if [ "$installed" = 1 ]; then
		dpkg --purge portcullis >/dev/null 2>&1
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# Never touch a machine where Portcullis is installed some other way.
if [ "$(id -u)" != 0 ]; then
	echo "test_pkg: must run as root (dpkg -i)"
	exit 77
fi
# One run at a time on this machine, whichever build tree it comes from.
exec 9>/run/lock/portcullis-pkg-test.lock
if ! flock -w 900 9; then
	echo "FAIL: another package test held the lock for 15 minutes"
	exit 1
fi
if dpkg-query -W -f='${Status}' portcullis 2>/dev/null | grep -q installed; then
	echo "test_pkg: a portcullis package is already installed here; not touching it"
	exit 77
fi
for p in "${leftovers[@]}"; do
	if [ -e "$p" ]; then
		echo "test_pkg: $p exists before the test; not touching this machine"
		exit 77
	fi
done
if getent passwd portcullis >/dev/null || getent group portcullis >/dev/null; then
	echo "test_pkg: a user or group 'portcullis' exists before the test; not touching it"
	exit 77
fi

# Build the package from this build tree.
if ! (cd "$build" && cpack -G DEB -B "$work" >"$work/cpack.log" 2>&1); then
	cat "$work/cpack.log"
	echo "FAIL: cpack"
	exit 1
fi
deb=$(ls "$work"/portcullis_*.deb)
ok "built $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#' >"$work/contents"
for f in /usr/sbin/portcullisd /usr/bin/portcullis "$unit" /usr/lib/sysusers.d/portcullis.conf \
	/usr/libexec/portcullis/portcullis-wiper /usr/libexec/portcullis/portcullis-xferwatch \
	/usr/libexec/portcullis/portcullis-engine /usr/libexec/portcullis/portcullis-wipe \
	/usr/share/portcullis/profiles/watton.profile /etc/xdg/autostart/portcullis-notify.desktop \
	/usr/lib/tmpfiles.d/portcullis.conf /usr/lib/udev/rules.d/60-portcullis.rules \
	/etc/portcullis/portcullisd.conf /etc/portcullis/rules.conf \
	/usr/share/man/man1/portcullis.1 /usr/share/man/man5/portcullis-rules.5 \
	/usr/share/man/man5/portcullisd.conf.5 /usr/share/man/man8/portcullisd.8 \
	/usr/bin/portcullis-fleet-enrol /usr/share/portcullis/rsyslog/portcullis-audit-pc.conf \
	/usr/share/portcullis/rsyslog/portcullis-audit-collector.conf \
	/usr/share/portcullis/rsyslog/portcullis-audit-council.conf \
	/usr/share/portcullis/monitoring/portcullis-fleet-alerts.yml \
	/usr/lib/systemd/system/portcullis-fleet-verify.service \
	/usr/lib/systemd/system/portcullis-fleet-verify.timer \
	/usr/lib/systemd/system/portcullis-fleet-purge.service \
	/usr/lib/systemd/system/portcullis-fleet-purge.timer; do
	check "package ships $f" grep -qx "$f" "$work/contents"
done

# Install.
installed=1
if ! dpkg -i "$deb" >"$work/install.log" 2>&1; then
	cat "$work/install.log"
	echo "FAIL: dpkg -i"
	exit 1
fi
cat "$work/install.log"
check "dpkg says installed" \
	sh -c "dpkg-query -W -f='\${Status}' portcullis | grep -qx 'install ok installed'"
for f in /etc/portcullis/portcullisd.conf /etc/portcullis/rules.conf \
	/etc/xdg/autostart/portcullis-notify.desktop; do
	check "$f is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' portcullis | grep -q ' $f '"
done
for f in /usr/sbin/portcullisd /usr/bin/portcullis /usr/bin/portcullis-fleet-enrol; do
	check "$f is executable" test -x "$f"
done
check "trail shipping stays off until the PC is enrolled" \
	test ! -e /etc/rsyslog.d/60-portcullis-audit.conf
check "the collector's timer is not enabled on a PC" \
	test ! -e /etc/systemd/system/timers.target.wants/portcullis-fleet-verify.timer
check "the collector's purge timer is not enabled on a PC" \
	test ! -e /etc/systemd/system/timers.target.wants/portcullis-fleet-purge.timer
check "man portcullis-rules finds the page" sh -c 'man -w portcullis-rules | grep -q portcullis-rules.5'

# The engine user and its directories.
pw=$(getent passwd portcullis)
check "user portcullis exists" test -n "$pw"
uid=$(cut -d: -f3 <<<"$pw")
check "portcullis is a system user (uid $uid < 1000)" test "${uid:-1000}" -lt 1000
check "portcullis cannot log in" test "$(cut -d: -f7 <<<"$pw")" = /usr/sbin/nologin
for d in /var/lib/portcullis /var/log/portcullis; do
	check "$d is portcullis:portcullis 750" \
		test "$(stat -c '%U:%G %a' "$d")" = "portcullis:portcullis 750"
done

# The audit trail enrolled by postinst, its key root-only and never printed.
check "audit trail enrolled" test -e /var/log/portcullis/state
check "key file is root:root 600" test "$(stat -c '%U:%G %a' "$key" 2>/dev/null)" = "root:root 600"
check "postinst names the key file" grep -q "$key" "$work/install.log"
check "the wipe key is root:root 600" \
	test "$(stat -c '%U:%G %a' /etc/portcullis/wipe.key 2>/dev/null)" = "root:root 600"
check "its public half is kept for the IT provider" \
	grep -q '^wipe-public-key ' /etc/portcullis/wipe.key.pub
keytext=$(head -c 4096 "$key" 2>/dev/null | tr -d '\n')
check "key file is not empty" test -n "$keytext"
if [ -n "$keytext" ] && grep -qF -- "$keytext" "$work/install.log"; then
	fail "the key appears in the dpkg output"
else
	ok "the key is not in the dpkg output"
fi

# The unit: installed, enabled, verified against the installed binaries and man pages.
check "unit installed" test -f "$unit"
if [ "$(ps -p 1 -o comm=)" = systemd ]; then
	check "unit enabled" systemctl is-enabled --quiet portcullisd.service
	check "unit active" systemctl is-active --quiet portcullisd.service
else
	echo "note: systemd is not PID 1 here; the unit is enabled but not started"
	check "unit enabled (sysinit.target.wants link)" \
		test "$(readlink -f "$wants")" = "$(readlink -f "$unit")"
fi
check "systemd-analyze verify on the installed unit" systemd-analyze verify "$unit"
systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -n 1

# The installed daemon checks its installed configuration and rules.
out=$(/usr/sbin/portcullisd -n -c /etc/portcullis/portcullisd.conf 2>&1)
echo "$out"
check "portcullisd -n accepts the installed configuration" \
	grep -q 'rules.conf: 2 rules, configuration OK' <<<"$out"

# Run the installed daemon for a moment, under the unit's mounts and capabilities (systemd
# itself may not be running here). It gates no USB and detaches no removable disk on this
# machine: refuse to run it where it would.
removable=
for b in /sys/class/block/*; do
	[ "$(cat "$b/removable" 2>/dev/null)" = 1 ] && removable="$removable $(basename "$b")"
done
usb=
if [ -d /sys/bus/usb/devices ]; then
	usb=$(ls /sys/bus/usb/devices)
fi
if [ -n "$removable$usb" ]; then
	echo "NOT RUN: the daemon would act on real devices here:$removable ${usb:+USB bus present}"
	daemon_ran=0
else
	# Under the unit's file-system and capability sandbox (sandbox_run.sh). The parent has
	# no CAP_CHOWN there: a file root leaves in the audit directory stops it, with the
	# command that fixes it.
	sandbox=$(dirname "$0")/sandbox_run.sh
	check "sandbox: /etc is read-only" \
		sh -c "! '$sandbox' '$unit' -- touch /etc/portcullis/x 2>/dev/null"
	# sysfs: each write puts back the value already there, so it changes nothing even
	# where it succeeds.
	ksm=/sys/kernel/mm/ksm/sleep_millisecs
	if [ -w "$ksm" ]; then
		"$sandbox" "$unit" -- sh -c "v=\$(cat $ksm) && echo \$v >$ksm" >"$work/ro.log" 2>&1
		check "sandbox: $ksm is read-only" grep -q 'Read-only file system' "$work/ro.log"
	fi
	blk=$(ls -d /sys/class/block/*/queue/read_ahead_kb | head -n 1)
	check "sandbox: $blk (a symlink into /sys/devices) is writable" \
		"$sandbox" "$unit" -- sh -c "v=\$(cat $blk) && echo \$v >$blk"
	check "sandbox: /proc/sys is hidden (ProcSubset=pid)" \
		"$sandbox" "$unit" -- sh -c '! test -e /proc/sys'
	for d in /var/lib/portcullis /var/log/portcullis /run/portcullis; do
		check "sandbox: $d is mounted read-write" \
			sh -c "'$sandbox' '$unit' -- findmnt -no OPTIONS $d | grep -q '^rw'"
	done
	touch /var/log/portcullis/left-by-root
	if "$sandbox" "$unit" -- \
		/usr/sbin/portcullisd -f -c /etc/portcullis/portcullisd.conf >"$work/nocap.log" 2>&1; then
		fail "portcullisd started with a root-owned file it cannot hand over"
	else
		cat "$work/nocap.log"
		check "without CAP_CHOWN it names the file and the command" grep -q \
			'no CAP_CHOWN; run .chown -h portcullis: /var/log/portcullis/left-by-root' \
			"$work/nocap.log"
	fi
	rm -f /var/log/portcullis/left-by-root
	"$sandbox" "$unit" -- /usr/sbin/portcullisd -f -c /etc/portcullis/portcullisd.conf \
		>"$work/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		[ -S /run/portcullis/control.sock ] && break
		sleep 0.1
	done
	check "the daemon opens its control socket" test -S /run/portcullis/control.sock
	check "portcullis devices talks to it" sh -c 'portcullis devices --json >/dev/null'
	check "engine runs as portcullis" \
		sh -c "ps -o user= --ppid $daemon_pid | grep -qx portcullis"
	want=$(sed -nE 's/^CapabilityBoundingSet=(.*)/\1/p' "$unit" | tr 'A-Z ' 'a-z\n' | sort | paste -sd,)
	eff=$(capsh --decode="$(awk '/^CapEff/ { print $2 }' /proc/$daemon_pid/status)" |
		sed 's/.*=//' | tr ',' '\n' | sort | paste -sd,)
	echo "parent's effective capabilities: $eff"
	check "the parent runs with exactly the unit's capabilities" test "$eff" = "$want"
	kill "$daemon_pid"
	wait "$daemon_pid"
	daemon_pid=
	cat "$work/daemon.log"
	check "no engine process left" sh -c '! pgrep -u portcullis >/dev/null'

	# Once more under strace: every system call the parent and the engine make from start
	# to stop must pass the unit's SystemCallFilter= (seccomp is not emulated above).
	"$sandbox" "$unit" -- strace -f -qq -o /dev/fd/3 \
		/usr/sbin/portcullisd -f -c /etc/portcullis/portcullisd.conf \
		3>"$work/strace.log" >"$work/daemon2.log" 2>&1 &
	tracer=$!
	# The first run's socket file may still be there: wait until this daemon answers.
	for _ in $(seq 150); do
		portcullis devices --json >/dev/null 2>&1 && break
		sleep 0.1
	done
	portcullis devices --json >/dev/null || fail "portcullis devices (under strace)"
	daemon_pid=$(pgrep -P "$tracer" -x portcullisd)
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid"
	else
		fail "no portcullisd under strace"
		kill "$tracer"
	fi
	wait "$tracer"
	daemon_pid=
	cat "$work/daemon2.log"
	check "every system call is allowed by the unit" \
		/usr/bin/python3 "$(dirname "$0")/syscalls_check.py" "$unit" "$work/strace.log"
	check "the engine's trail verifies with the enrolment key" \
		sh -c "portcullis audit verify --key $key /var/log/portcullis/trail-*.jsonl >$work/verify.log 2>&1"
	cat "$work/verify.log"
	check "the trail holds the engine's records" grep -Eq ' [1-9][0-9]* records' "$work/verify.log"
	daemon_ran=1
fi

# Purge: nothing left.
if ! dpkg --purge portcullis >"$work/purge.log" 2>&1; then
	cat "$work/purge.log"
	fail "dpkg --purge"
fi
installed=0
check "dpkg forgot the package" sh -c '! dpkg-query -W -f="\${Status}" portcullis 2>/dev/null | grep -q installed'
for p in "${leftovers[@]}"; do
	check "purge removed $p" test ! -e "$p"
done
check "purge removed the user" sh -c '! getent passwd portcullis'
check "purge removed the group" sh -c '! getent group portcullis'

echo "test_pkg: $failures failures"
[ "$failures" = 0 ] || exit 1
[ "$daemon_ran" = 1 ] || exit 77
exit 0
