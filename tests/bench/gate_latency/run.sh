#!/usr/bin/env bash
# tests/bench/gate_latency/run.sh BUILD_DIR [N]: uevent -> `authorized` latency of the
# staged portcullisd and of Debian's usbguard-daemon, N insertions (default 1000) per
# case, with a 10-rule and a 10,000-rule policy, a device allowed by the policy's last
# rule and a look-alike no rule matches. Records docs/benchmarks.md (section
# "gate_latency"). Run as root; needs umockdev, usbguard. Starts and stops its own
# daemons; never touches /etc/usbguard.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
n=${2:-1000}
top=$(cd "$(dirname "$0")/../../.." && pwd)
bench=$build/tests/bench/gate_latency/gate-latency-bench
stage=$build/stage
fixtures=$top/tests/data/devices
[ -x "$stage/sbin/portcullisd" ] || cmake --install "$build" --prefix "$stage" >/dev/null
[ -x "$bench" ] || { echo "run.sh: build $bench first" >&2; exit 1; }
work=$(mktemp -d /tmp/pcl-gatebench.XXXXXX)
chmod 755 "$work"
# A tmpfs of the benchmark's own for the diagnostic rows (not /dev/shm: umockdev's
# preload treats every path under /dev as a device node it may emulate).
mkdir "$work/tmpfs"
mount -t tmpfs -o size=256m,mode=755 portcullis-bench "$work/tmpfs"
trap 'umount "$work/tmpfs"; rm -rf "$work"' EXIT

HUB=/sys/devices/pci0000:00/0000:00:14.0/usb1
ALLOWED=$HUB/1-2   # stick-personal: allowed by the last rule of either policy
LOOKALIKE=$HUB/1-3 # stick-personal-twin: same VID:PID, other serial: no rule matches

# The PC: the xHCI controller and both sticks just plugged (authorized=0), without
# interfaces (the kernel creates them only once a device is authorised).
{
	awk 'BEGIN { RS = ""; ORS = "\n\n" } /E: DEVTYPE=usb_interface/ { next } { print }' \
		"$fixtures/pc-xhci.umockdev"
	for f in stick-personal stick-personal-twin; do
		awk 'BEGIN { RS = ""; ORS = "\n\n" } /E: DEVTYPE=usb_interface/ { next }
			{ sub(/A: authorized=1\\n/, "A: authorized=0\\n"); print }' "$fixtures/$f.umockdev"
	done
} >"$work/devices.umockdev"

# A council's policy: ten rules, the device under test allowed by the last one.
cat >"$work/council.rules" <<'EOF'
allow with-interface match-all { 09:00:* }
allow id 0781:5581 serial "4C530001140516116522" with-interface equals { 08:06:50 } label "PC-STICK-01"
allow id 046d:c31c with-interface all-of { 03:01:01 03:00:00 }
allow id 1050:0407 with-interface all-of { 03:00:00 }
reject id 18d1:*
block id 0951:1666
allow id 13fd:0840 with-interface equals { 08:02:50 }
allow id 0bda:0129 with-interface equals { ff:06:50 }
allow id 0bda:8153
allow id 090c:1000 serial "AA00000000011111" label "CLLR-STICK-07"
EOF
cp "$work/council.rules" "$work/rules-10"
# A large estate's policy: 9,990 registered sticks, then the same ten rules.
awk 'BEGIN {
	for (i = 0; i < 9990; i++)
		printf "allow id %04x:%04x serial \"%08X%08d\" name \"USB DISK %d\" with-interface equals { 08:06:50 }\n",
			0x2000 + int(i / 97), 0x1000 + i % 97, 0x5A17C000 + i, i, i % 7
}' >"$work/rules-10000"
cat "$work/council.rules" >>"$work/rules-10000"

results=$work/results
: >"$results"
run_portcullisd() { # RULES CASE SYSPATH [AUDIT_PARENT]
	local audit_parent=${4:-$work}
	local d=$work/pcl-$1-$2-$(basename "$audit_parent")
	mkdir -p "$d/run"
	local audit
	audit=$(mktemp -d "$audit_parent/pcl-audit.XXXXXX")
	chmod 755 "$d" "$audit"
	cat >"$d/portcullisd.conf" <<-EOF
		rules = $work/rules-$1
		audit-log = $audit
		state-dir = $d/state
		control-socket = $d/run/control.sock
		engine-user = nobody
	EOF
	"$stage/bin/portcullis" audit enrol --dir "$audit" --origin "portcullis/$(hostname)" \
		--key-out "$d/audit.key" --no-qr >/dev/null
	umockdev-wrapper "$bench" --daemon portcullisd --devices "$work/devices.umockdev" \
		--syspath "$3" --expect "$([ "$2" = allow ] && echo allow || echo block)" \
		--n "$n" --audit "$audit" --log "$d/daemon.log" --label "rules=$1 trail=$(stat -f -c %T "$audit")" \
		-- "$stage/sbin/portcullisd" -c "$d/portcullisd.conf" -f
	[ "$audit_parent" = "$work" ] || rm -rf "$audit"
}
run_usbguard() { # RULES CASE SYSPATH
	local d=$work/ug-$1-$2
	mkdir -p "$d/devices"
	cp "$work/devices.umockdev" "$d/devices/"
	install -m 600 "$work/rules-$1" "$d/rules.conf"
	install -m 600 /dev/stdin "$d/usbguard-daemon.conf" <<-EOF
		RuleFile=$d/rules.conf
		ImplicitPolicyTarget=block
		PresentDevicePolicy=apply-policy
		PresentControllerPolicy=keep
		InsertedDevicePolicy=apply-policy
		AuthorizedDefault=none
		RestoreControllerDeviceState=false
		DeviceManagerBackend=umockdev
		IPCAllowedUsers=root
		IPCAllowedGroups=
		DeviceRulesWithPort=false
		AuditBackend=FileAudit
		AuditFilePath=$d/audit.log
		HidePII=false
	EOF
	USBGUARD_UMOCKDEV_DEVICEDIR=$d/devices umockdev-wrapper "$bench" --daemon usbguard \
		--syspath "$3" --expect "$([ "$2" = allow ] && echo allow || echo block)" \
		--n "$n" --log "$d/daemon.log" --label "rules=$1 trail=$(stat -f -c %T "$d")" \
		-- /usr/sbin/usbguard-daemon -k -c "$d/usbguard-daemon.conf"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
for rules in 10 10000; do
	run_portcullisd "$rules" allow "$ALLOWED" | tee -a "$results"
	run_usbguard "$rules" allow "$ALLOWED" | tee -a "$results"
	run_portcullisd "$rules" no-match "$LOOKALIKE" | tee -a "$results"
	run_usbguard "$rules" no-match "$LOOKALIKE" | tee -a "$results"
done
# Diagnosis: the allow case with portcullisd's trail on tmpfs (no disk syncs) ...
for rules in 10 10000; do
	run_portcullisd "$rules" allow "$ALLOWED" "$work/tmpfs" | sed 's/^/diag /' | tee -a "$results"
done
# ... and where its time goes on disk: perf trace's syscall summary of the daemon's
# processes for 10 s of the 10-rule allow case.
syscalls=$work/syscalls
: >"$syscalls"
if command -v perf >/dev/null; then
	mkdir -p "$work/perf"
	(n=300 run_portcullisd 10 allow "$ALLOWED" "$work/perf" >"$work/perf/result") &
	bench_pid=$!
	pids=
	for _ in $(seq 100); do
		# the parent, and the engine it execs (libexec/portcullis/portcullis-engine)
		pids=$( (pgrep -f "^$stage/sbin/portcullisd -c $work/pcl-10-allow-perf/"
			pgrep -f "/portcullis-engine -c $work/pcl-10-allow-perf/") | paste -sd, || true)
		[ -n "$pids" ] && [ -e "$work/pcl-10-allow-perf/run/control.sock" ] && break
		sleep 0.1
	done
	sleep 1
	[ -n "$pids" ] && timeout -s INT 10 perf trace -s -p "$pids" -o "$work/perf/trace" 2>/dev/null || true
	wait "$bench_pid" || true
	# per process: authorisations (the parent's writes) and time in the syncing calls
	awk '/^ [^ ].*\([0-9]+\), [0-9]+ events/ { proc = $1 " " $2 }
		$1 ~ /^(fdatasync|fsync|rename|write|pwrite64|pwritev2)$/ && proc != "" {
			sub(/,$/, "", proc); printf "%s %s %s %s %s\n", proc, $1, $2, $4, $6 }' "$work/perf/trace" >"$syscalls" || true
fi
# Disk syncs per insertion: strace over the daemon's processes for a 10-rule allow run;
# insertions are counted as the parent's writes of "1" to `authorized` (the daemon's only
# one-byte write of "1").
per_insertion=
if command -v strace >/dev/null; then
	mkdir -p "$work/strace"
	(n=200 run_portcullisd 10 allow "$ALLOWED" "$work/strace" >"$work/strace/result") &
	bench_pid=$!
	pids=
	for _ in $(seq 100); do
		# the engine (it made the control socket) and the parent, found once both run
		pids=
		[ -e "$work/pcl-10-allow-strace/run/control.sock" ] &&
			pgrep -f "/portcullis-engine -c $work/pcl-10-allow-strace/" >/dev/null &&
			pids=$(pgrep -f " -c $work/pcl-10-allow-strace/portcullisd.conf" || true)
		[ "$(wc -w <<<"$pids")" -ge 2 ] && break
		sleep 0.1
	done
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2046
		strace -f -qq -e trace=fdatasync,fsync,rename,write,pwrite64,pwritev2 -o "$work/strace/trace" \
			$(printf -- '-p %s ' $pids) 2>/dev/null &
		strace_pid=$!
		wait "$bench_pid" || true
		kill -INT "$strace_pid" 2>/dev/null || true
		wait "$strace_pid" || true
		# The engine's grant (pwrite of 1 at offset 0 through the prepare's descriptor)
		# is counted apart from the trail's writes; the parent's commit writes 1 after it.
		per_insertion=$(awk '/ pwrite64\([0-9]+, "1", 1, 0\)/ { e++; next }
			/ write\([0-9]+, "1", 1\)/ { g++ } / fdatasync\(/ { d++ }
			/ fsync\(/ { f++ } / rename\(/ { r++ } / pwritev2\(.*RWF_DSYNC/ { w++ }
			/ pwrite64\(/ { p++ }
			END { if (g) printf "%d %.2f %.2f %.3f %.2f %.2f %.2f", g, d / g, f / g, r / g, w / g, p / g, e / g }' "$work/strace/trace")
	else
		wait "$bench_pid" || true
	fi
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# field NAME LINE -> value of NAME=... in a result line
field() { sed -E "s/.*[ ^]$1=([^ ]+).*/\1/" <<<" $2"; }
row() { grep -v '^diag' "$results" | grep "daemon=$1 rules=$2 " | grep "case=$3 " || true; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

{
	echo "## gate_latency"
	echo
	echo "\`tests/bench/gate_latency/run.sh build $n\` on $(date -u +%Y-%m-%d), $(nproc) shared cores,"
	echo "kernel $(uname -r), load average $load_before before and $load_after after"
	echo "($(($(date +%s) - t_start)) s). Time from the \"add\" uevent to the daemon's first write"
	echo "of the device's \`authorized\` file (inotify), or for portcullisd's no-match case,"
	echo "which writes nothing because the device is already 0, to its device-blocked audit"
	echo "record. $n insertions per row after 20 unmeasured; devices, rules and trail on"
	echo "$(stat -f -c %T "$work") unless said. USBGuard is Debian's usbguard-daemon"
	echo "$(dpkg-query -W -f='${Version}' usbguard) with its umockdev backend (see docs/architecture.md)."
	echo
	echo "| daemon | rules | device | p50 µs | p99 µs | mean µs |"
	echo "|---|---|---|---|---|---|"
	while read -r line; do
		case $line in diag*) continue ;; esac
		echo "| $(field daemon "$line") | $(field rules "$line") | $(field case "$line") |" \
			"$(field p50_us "$line") | $(field p99_us "$line") | $(field mean_us "$line") |"
	done <"$results"
	echo
	echo "| ratio | value |"
	echo "|---|---|"
	for rules in 10 10000; do
		for c in allow no-match; do
			p=$(row portcullisd "$rules" "$c")
			u=$(row usbguard "$rules" "$c")
			[ -n "$p" ] && [ -n "$u" ] || continue
			echo "| USBGuard p50 / portcullisd p50, $rules rules, $c (goal ≥ 2) |" \
				"$(ratio "$(field p50_us "$u")" "$(field p50_us "$p")") |"
		done
	done
	for d in portcullisd usbguard; do
		for c in allow no-match; do
			a=$(row "$d" 10 "$c")
			b=$(row "$d" 10000 "$c")
			[ -n "$a" ] && [ -n "$b" ] || continue
			echo "| $d p50 10,000 rules / 10 rules, $c (goal < 1.10 for portcullisd) |" \
				"$(ratio "$(field p50_us "$b")" "$(field p50_us "$a")") |"
		done
	done
	if grep -q '^diag' "$results"; then
		echo
		echo "Diagnosis, same run: portcullisd, allowed device, its trail on tmpfs (no disk syncs):"
		echo
		echo "| daemon | rules | p50 µs | p99 µs | USBGuard p50 (ext4) / this p50 |"
		echo "|---|---|---|---|---|"
		for rules in 10 10000; do
			dl=$(grep '^diag' "$results" | grep " rules=$rules " || true)
			u=$(row usbguard "$rules" allow)
			[ -n "$dl" ] && [ -n "$u" ] || continue
			echo "| portcullisd | $rules | $(field p50_us "$dl") | $(field p99_us "$dl") |" \
				"$(ratio "$(field p50_us "$u")" "$(field p50_us "$dl")") |"
		done
	fi
	if [ -n "$per_insertion" ]; then
		read -r g d f r w p e <<<"$per_insertion"
		echo
		echo "Disk syncs per insertion, \`strace -f\` over portcullisd's processes for $g insertions"
		echo "of the allowed device (10 rules, trail on $(stat -f -c %T "$work")); each insertion is"
		echo "followed by its removal, whose record the flusher syncs with whatever else it"
		echo "holds; the checkpoint is one per burst:"
		echo
		echo "| per insertion | value |"
		echo "|---|---|"
		echo "| durable writes before the grant, \`pwritev2(RWF_DSYNC)\` (an entry of the trail's intent file holding \`device-inserted\`, the decision and the bytes not yet synced; or the trail itself) | $w |"
		echo "| \`pwrite64\` to the trail without a sync (the two records, which the flusher syncs; the removal record; checkpoints) | $p |"
		echo "| fdatasync (flusher: the trail after intent entries, removal records, checkpoints) | $d |"
		echo "| the engine's write of 1 through the prepare's descriptor (the parent's commit writes 1 after it) | $e |"
		echo "| fsync (checkpoint: state file and directory) | $f |"
		echo "| rename of the state (checkpoint) | $r |"
	fi
	if [ -s "$syscalls" ]; then
		echo
		echo "\`perf trace -s\` over portcullisd's processes for 10 s of the 10-rule allow case"
		echo "on $(stat -f -c %T "$work"); the engine writes \`authorized\` (its \`pwrite64\` of 1) and the trail and its intent entry, the parent its commit's \`write\` of 1:"
		echo
		echo "| process | syscall | calls | total ms | mean ms |"
		echo "|---|---|---|---|---|"
		awk '{ printf "| %s %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$syscalls"
	fi
} | tee /dev/stderr | "$top/tests/bench/record.sh" gate_latency
