#!/bin/bash
# check_unit.sh - the files of udev/ as systemd and udev would take them, without
# installing anything: `systemd-analyze verify` and `security --offline` on the unit (its
# ExecStart pointed at the built daemon, nothing else changed), systemd-sysusers and
# systemd-tmpfiles applied to a scratch root, and the udev rules held to tagging, plus the
# one rule that gates the root hubs.
# usage: check_unit.sh SOURCE_DIR DAEMON MAX_EXPOSURE
set -uo pipefail
src=$(realpath "$1") daemon=$(realpath "$2") max=$3
work=$(mktemp -d /tmp/pcl-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# The unit.
grep -q '/usr/sbin/portcullisd ' "$src/udev/portcullisd.service" ||
	fail "portcullisd.service does not start /usr/sbin/portcullisd"
sed "s#/usr/sbin/portcullisd #$daemon #" "$src/udev/portcullisd.service" >"$work/portcullisd.service"
if out=$(systemd-analyze verify --man=no "$work/portcullisd.service" 2>&1) && [ -z "$out" ]; then
	echo "ok: systemd-analyze verify"
else
	echo "$out"
	fail "systemd-analyze verify"
fi
systemd-analyze security --offline=true "$work/portcullisd.service" >"$work/security" 2>&1
grep '✗' "$work/security"
score=$(sed -nE 's/.*Overall exposure level for portcullisd.service: ([0-9.]+).*/\1/p' "$work/security")
if [ -z "$score" ]; then
	cat "$work/security"
	fail "systemd-analyze security printed no score"
elif awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
	echo "ok: exposure $score (at most $max)"
else
	fail "exposure $score is above $max"
fi

# sysusers and tmpfiles, on a scratch root.
mkdir -p "$work/root/etc"
systemd-sysusers --root="$work/root" "$src/udev/portcullis.sysusers" >/dev/null 2>&1 ||
	fail "systemd-sysusers"
grep -Eq '^portcullis:x:[0-9]+:[0-9]+:Portcullis engine:/var/lib/portcullis:/usr/sbin/nologin$' \
	"$work/root/etc/passwd" 2>/dev/null || fail "sysusers did not create the user portcullis"
systemd-tmpfiles --root="$work/root" --create "$src/udev/portcullis.tmpfiles" || fail "systemd-tmpfiles"
uid=$(awk -F: '$1 == "portcullis" { print $3 }' "$work/root/etc/passwd" 2>/dev/null)
for d in var/lib/portcullis:750 var/log/portcullis:750 run/portcullis:755; do
	got=$(stat -c '%u:%g %a' "$work/root/${d%:*}" 2>/dev/null)
	[ "$got" = "$uid:$uid ${d#*:}" ] || fail "${d%:*} is '$got', expected '$uid:$uid ${d#*:}'"
done
# The wipe certificates' directory is root's: the wipe makes them without CAP_DAC_OVERRIDE.
got=$(stat -c '%u:%g %a' "$work/root/var/lib/portcullis/certificates" 2>/dev/null)
[ "$got" = "0:0 755" ] || fail "var/lib/portcullis/certificates is '$got', expected '0:0 755'"
# The boot marker's directory is root's alone (the engine user cannot fake a first start).
got=$(stat -c '%u:%g %a' "$work/root/run/portcullisd" 2>/dev/null)
[ "$got" = "0:0 700" ] || fail "run/portcullisd is '$got', expected '0:0 700'"

# udev rules: tagging only, but for the gate of the root hubs (exactly this line). Every
# other rule line adds a tag, and no key other than TAG+= assigns.
gate='ACTION=="add", SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", KERNEL=="usb[0-9]*", ATTR{authorized_default}="0", ATTR{interface_authorized_default}="0"'
grep -qxF "$gate" "$src/udev/60-portcullis.rules" || fail "no rule gating the root hubs"
n=0
while IFS= read -r line; do
	case "$line" in '' | '#'*) continue ;; esac
	[ "$line" = "$gate" ] && continue
	n=$((n + 1))
	grep -q 'TAG+="portcullis"' <<<"$line" || fail "rule without TAG+=\"portcullis\": $line"
	rest=$(sed -E 's/TAG\+="portcullis"//; s/[A-Za-z{}_*]+(==|!=)"[^"]*"//g; s/[ ,]//g' <<<"$line")
	[ -z "$rest" ] || fail "rule does more than tag ($rest): $line"
done <"$src/udev/60-portcullis.rules"
[ "$n" -gt 0 ] || fail "no rules in 60-portcullis.rules"

echo "check_unit: $failures failures"
[ "$failures" = 0 ]
