#!/bin/bash
# systemd_inside.sh - run by test_systemd.sh as a oneshot unit inside a container whose
# PID 1 is systemd: installs the package (postinst starts portcullisd.service), checks the
# service and the sandbox systemd put it in, reloads, stops, purges, and ends the container
# with `systemctl exit` and the number of failures. Input: our own package (trusted).
# usage: systemd_inside.sh MAX_EXPOSURE
set -uo pipefail
max=$1
unit=/pcl-test/portcullisd.service
key=/etc/portcullis/audit-enrolment.key

. /pcl-test/checks.sh
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
caps() { capsh --decode="$1" | sed 's/.*=//' | tr ',' '\n' | sort | paste -sd,; }
finish() {
	echo "systemd_inside: $failures failures"
	systemctl --no-block exit "$((failures > 100 ? 100 : failures))"
	exit 0
}

check "PID 1 is systemd" test "$(cat /proc/1/comm)" = systemd

# A package installed on the host shows through the overlay: purge it here, in the
# container's copy only, so the test starts from a machine without Portcullis.
if dpkg-query -W -f='${Status}' portcullis 2>/dev/null | grep -q installed; then
	echo "note: the host has portcullis installed; purging the container's view of it"
	dpkg --purge portcullis >/dev/null 2>&1 || fail "dpkg --purge of the host's package"
fi
cursor=$(journalctl -n 0 --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p')
check "no user portcullis before the install" sh -c '! getent passwd portcullis'

# Install: postinst creates the user and directories, enrols the trail, enables the
# unit and, with systemd running, starts it.
if ! dpkg -i /pcl-test/portcullis.deb >/pcl-test/install.log 2>&1; then
	cat /pcl-test/install.log
	fail "dpkg -i"
	finish
fi
ok "dpkg -i (postinst started the service)"
check "unit enabled" systemctl is-enabled --quiet portcullisd.service
for _ in $(seq 100); do
	portcullis devices --json >/dev/null 2>&1 && break
	sleep 0.1
done
check "unit active" systemctl is-active --quiet portcullisd.service
check "the control socket answers portcullis devices" \
	sh -c 'portcullis devices --json >/dev/null'
pid=$(systemctl show -p MainPID --value portcullisd.service)
if [ -z "$pid" ] || [ "$pid" = 0 ]; then
	fail "no main process"
	journalctl -u portcullisd.service --no-pager
	finish
fi
check "the main process is portcullisd -f" \
	sh -c "tr '\0' ' ' </proc/$pid/cmdline | grep -q '^/usr/sbin/portcullisd -f '"

# The sandbox systemd applied, read from the kernel's view of the process. The shell
# running this script is the container's baseline (systemd-nspawn's own filter).
check "NoNewPrivs is set on the parent" test "$(status "$pid" NoNewPrivs)" = 1
check "NoNewPrivs is not set on this shell (baseline)" test "$(status $$ NoNewPrivs)" = 0
check "the parent runs under seccomp filters" test "$(status "$pid" Seccomp)" = 2
base=$(status $$ Seccomp_filters)
check "the parent has more seccomp filters than this shell ($(status "$pid" Seccomp_filters) > $base)" \
	test "$(status "$pid" Seccomp_filters)" -gt "$base"
want=$(sed -nE 's/^CapabilityBoundingSet=(.*)/\1/p' "$unit" | tr 'A-Z ' 'a-z\n' | sort | paste -sd,)
bnd=$(caps "$(status "$pid" CapBnd)")
echo "parent's bounding set: $bnd"
check "the parent's bounding set is exactly the unit's" test "$bnd" = "$want"
# The engine is its own program, exec'd by the parent (its name cut to 15 characters).
engine=$(pgrep -P "$pid" -x portcullis-engi | head -n 1)
check "the engine runs as portcullis" test "$(ps -o user= -p "${engine:-0}")" = portcullis
check "the engine has no capabilities" test "$(status "${engine:-1}" CapEff)" = 0000000000000000
check "the engine runs under seccomp filters too ($(status "${engine:-1}" Seccomp_filters) > $base)" \
	test "$(status "${engine:-1}" Seccomp_filters)" -gt "$base"

# File system as the service sees it (its mount namespace).
in_unit() { nsenter --target "$pid" --mount "$@"; }
for p in /etc/portcullis /usr/sbin /var/lib /sys/kernel/mm; do
	check "$p is read-only for the service" \
		sh -c "nsenter --target $pid --mount findmnt -no OPTIONS -T $p | grep -q '^ro'"
done
check "writing /etc/portcullis fails for the service" \
	sh -c "! nsenter --target $pid --mount touch /etc/portcullis/probe 2>/dev/null"
check "/etc/portcullis is writable outside the service" \
	sh -c 'touch /etc/portcullis/probe && rm /etc/portcullis/probe'
for p in /var/lib/portcullis /var/log/portcullis /run/portcullis; do
	check "$p is read-write for the service" \
		sh -c "nsenter --target $pid --mount findmnt -no OPTIONS -T $p | grep -q '^rw'"
done
# ReadWritePaths=/sys/devices: its own mount in the service's namespace. It stays
# read-only here because systemd-nspawn mounts the container's sysfs read-only (its
# writability is checked by test_pkg.sh through sandbox_run.sh).
check "/sys/devices is a mount of its own for the service" \
	test "$(in_unit findmnt -no TARGET -T /sys/devices)" = /sys/devices
echo probe >/tmp/pcl-host-probe
check "PrivateTmp: the service does not see this /tmp" \
	in_unit sh -c '! test -e /tmp/pcl-host-probe'
check "ProtectHome: /home is empty for the service" \
	in_unit sh -c 'test -z "$(ls -A /home 2>/dev/null)"'
check "ProcSubset=pid: /proc/sys is hidden from the service" \
	sh -c "! test -e /proc/$pid/root/proc/sys"

# The score systemd gives the loaded unit (not the file alone).
systemd-analyze security portcullisd.service >/pcl-test/security.txt 2>&1
score=$(sed -nE 's/.*Overall exposure level for portcullisd.service: ([0-9.]+).*/\1/p' \
	/pcl-test/security.txt)
echo "exposure of the running unit: ${score:-none} (at most $max)"
check "exposure of the running unit is at most $max" \
	awk -v s="${score:-99}" -v m="$max" 'BEGIN { exit !(s + 0 <= m + 0) }'

# Directories from tmpfiles.d (ExecStartPre=+), so the parent needed no CAP_CHOWN.
for d in /var/lib/portcullis:750 /var/log/portcullis:750 /run/portcullis:755; do
	check "${d%:*} is portcullis:portcullis ${d#*:}" \
		test "$(stat -c '%U:%G %a' "${d%:*}")" = "portcullis:portcullis ${d#*:}"
done
# The wipe certificates' directory is root's (the wipe needs no CAP_DAC_OVERRIDE).
check "/var/lib/portcullis/certificates is root:root 755" \
	test "$(stat -c '%U:%G %a' /var/lib/portcullis/certificates)" = "root:root 755"
check "postinst handed the enrolment's files to portcullis" \
	test -z "$(find /var/log/portcullis -maxdepth 1 -type f ! -user portcullis)"
# A file root leaves there later cannot be handed over by the parent (no CAP_CHOWN): the
# service refuses to start and says what to do; once handed over, it starts.
systemctl stop portcullisd.service
touch /var/log/portcullis/left-by-root
systemctl start portcullisd.service # Type=simple: returns once the process runs
msg='no CAP_CHOWN; run .chown -h portcullis: /var/log/portcullis/left-by-root'
for _ in $(seq 100); do
	journalctl -u portcullisd.service --no-pager -o cat | grep -q "$msg" && break
	sleep 0.1
done
check "the journal names the file and the command" \
	sh -c "journalctl -u portcullisd.service --no-pager -o cat | grep -q '$msg'"
check "with a root-owned file in the audit directory the service fails" \
	test "$(systemctl show -p Result --value portcullisd.service)" = exit-code
check "and nothing answers on the control socket" \
	sh -c '! portcullis devices --json >/dev/null 2>&1'
chown -h portcullis: /var/log/portcullis/left-by-root
check "once handed over, it starts" systemctl restart portcullisd.service
for _ in $(seq 100); do
	portcullis devices --json >/dev/null 2>&1 && break
	sleep 0.1
done
pid=$(systemctl show -p MainPID --value portcullisd.service)

# Reload (SIGHUP through ExecReload=), then stop.
loads() { journalctl -u portcullisd.service --no-pager -o cat | grep -c 'rules loaded from'; }
before=$(loads)
check "systemctl reload" systemctl reload portcullisd.service
for _ in $(seq 50); do
	[ "$(loads)" -gt "$before" ] && break
	sleep 0.1
done
check "the engine reloaded its rules" test "$(loads)" -gt "$before"
check "still active after reload, same main process" \
	test "$(systemctl show -p MainPID --value portcullisd.service)" = "$pid"
check "still answering after reload" sh -c 'portcullis devices --json >/dev/null'
check "systemctl stop" systemctl stop portcullisd.service
check "unit inactive" sh -c '! systemctl is-active --quiet portcullisd.service'
check "no process of the engine user left" sh -c '! pgrep -u portcullis >/dev/null'
check "the control socket is removed on stop" test ! -e /run/portcullis/control.sock
check "the trail verifies with the enrolment key" \
	sh -c "portcullis audit verify --key $key /var/log/portcullis/trail-*.jsonl >/pcl-test/verify.log 2>&1"
cat /pcl-test/verify.log
check "the trail holds the service's records" grep -Eq ' [1-9][0-9]* records' /pcl-test/verify.log
echo "--- journal of portcullisd.service"
journalctl -u portcullisd.service --no-pager -o cat ${cursor:+--after-cursor="$cursor"} |
	tail -n 25

# Purge.
check "dpkg --purge" sh -c 'dpkg --purge portcullis >/pcl-test/purge.log 2>&1'
check "unit file gone" test ! -e /usr/lib/systemd/system/portcullisd.service
check "systemd forgot the unit" \
	sh -c '! systemctl cat portcullisd.service >/dev/null 2>&1'
check "user portcullis gone" sh -c '! getent passwd portcullis'
for p in /etc/portcullis /var/lib/portcullis /var/log/portcullis; do
	check "$p gone" test ! -e "$p"
done
finish
