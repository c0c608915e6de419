#!/usr/bin/env bash
# tests/bench/gate_latency/ab.sh STAGE_A STAGE_B [N] [ROUNDS] [TRAIL] [watch]: the same gate latency
# as run.sh (uevent -> `authorized`, allowed device, 10 rules) for two staged installs,
# rounds alternating A, B, B, A..., each daemon's trail on a tmpfs (TRAIL tmpfs, the
# default) so that the disk's noise on a shared machine drops out and what is left is the
# daemon's own work (reading the device, deciding, writing the records), or on the disk
# under /tmp (TRAIL disk: with the decision record's sync, what users get). With "watch",
# a `portcullis watch` client follows each daemon's records, as the desktop's notices do.
# Prints one line per round and the medians. Root; needs umockdev. Not a CTest test.
set -euo pipefail
a=$(cd "$1" && pwd)
b=$(cd "$2" && pwd)
n=${3:-300}
rounds=${4:-4}
trail=${5:-tmpfs}
watch=${6:-}
case $trail in tmpfs | disk) ;; *) echo "ab.sh: TRAIL is tmpfs or disk, not $trail" >&2; exit 2 ;; esac
case $watch in '' | watch) ;; *) echo "ab.sh: the sixth argument is watch or nothing" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/../../.." && pwd)
bench=$top/build/tests/bench/gate_latency/gate-latency-bench
fixtures=$top/tests/data/devices
work=$(mktemp -d /tmp/pcl-gateab.XXXXXX)
chmod 755 "$work"
mkdir "$work/tmpfs"
mount -t tmpfs -o size=256m,mode=755 portcullis-ab "$work/tmpfs"
trap 'umount "$work/tmpfs"; rm -rf "$work"' EXIT
ALLOWED=/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2
{
	awk 'BEGIN { RS = ""; ORS = "\n\n" } /E: DEVTYPE=usb_interface/ { next } { print }' \
		"$fixtures/pc-xhci.umockdev"
	awk 'BEGIN { RS = ""; ORS = "\n\n" } /E: DEVTYPE=usb_interface/ { next }
		{ sub(/A: authorized=1\\n/, "A: authorized=0\\n"); print }' \
		"$fixtures/stick-personal.umockdev"
} >"$work/devices.umockdev"
# The council's ten rules of run.sh, the device allowed by the last one.
sed -n '/^cat >"$work\/council.rules" <<.EOF.$/,/^EOF$/p' "$top/tests/bench/gate_latency/run.sh" |
	sed '1d;$d' >"$work/rules"
one() { # STAGE ROUND NAME
	local d=$work/$3-$2
	mkdir -p "$d/run"
	local audit
	audit=$(mktemp -d "$work/$([ "$trail" = disk ] || echo tmpfs/)audit.XXXXXX")
	chmod 755 "$d" "$audit"
	printf 'rules = %s\naudit-log = %s\nstate-dir = %s/state\ncontrol-socket = %s/run/c.sock\nengine-user = nobody\n' \
		"$work/rules" "$audit" "$d" "$d" >"$d/portcullisd.conf"
	"$1/bin/portcullis" audit enrol --dir "$audit" --origin "portcullis/$(hostname)" \
		--key-out "$d/audit.key" --no-qr >/dev/null
	local watcher=
	if [ -n "$watch" ]; then # connects once the daemon is up, before the measured insertions
		(for _ in $(seq 200); do [ -S "$d/run/c.sock" ] && break; sleep 0.05; done
			PORTCULLIS_SOCKET=$d/run/c.sock exec "$1/bin/portcullis" watch >/dev/null 2>&1) &
		watcher=$!
	fi
	umockdev-wrapper "$bench" --daemon portcullisd --devices "$work/devices.umockdev" \
		--syspath "$ALLOWED" --expect allow --n "$n" --audit "$audit" --log "$d/daemon.log" \
		--label "stage=$3" -- "$1/sbin/portcullisd" -c "$d/portcullisd.conf" -f
	if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true; fi
	rm -rf "$audit"
}
echo "watching client: ${watch:-none}"
echo "trail on: $trail ($(stat -f -c %T "$work/$([ "$trail" = disk ] || echo tmpfs)"))"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
	if [ $((r % 2)) = 1 ]; then one "$a" "$r" A; one "$b" "$r" B; else one "$b" "$r" B; one "$a" "$r" A; fi
done | tee "$work/results"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in A B; do
	grep -F "stage=$s " "$work/results" | sed -E 's/.* p50_us=([^ ]+).*/\1/' | sort -n |
		awk -v s="$s" '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "median of the %d rounds'"'"' p50: %s %.1f µs\n", NR, s, m }'
done
echo "A = $a, B = $b"
