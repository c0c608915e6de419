#!/usr/bin/env bash
# bad_media.sh FAKEDEV - issue 7: a fake-capacity medium whose upper half maps onto its
# lower half is detected (status "wrapped", naming the address it wrapped to), and a
# medium that returns wrong data on read-back fails verification with the first bad
# block; a cancelled wipe and a medium that dies mid-wipe fail too. Every certificate
# says failed, the exit status is 1 and no filesystem is made.
# The media are loop devices over a FUSE file (tests/integration/wipe/fakedev.c), as
# device-mapper is not available in the test kernels.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
fakedev=$1
size=$((64 << 20))

# run_fake MODE [--at N]: mount the fake medium, wipe it, leave results in $SCRATCH/MODE.*
# and the exit status in RC (no subshell, so cleanup knows the mounts and pids)
run_fake() {
	local mode=$1 mnt=$SCRATCH/fuse-$1
	RC=0
	shift
	mkdir -p "$mnt"
	"$fakedev" "$mnt" --size "$size" --mode "$mode" "$@" &
	PIDS+=($!)
	for _ in $(seq 50); do [ -e "$mnt/disk" ] && break; sleep 0.1; done
	[ -e "$mnt/disk" ] || fail "$mode: fake medium did not appear"
	MOUNTS+=("$mnt")
	attach "$mnt/disk"
	"$PCL" wipe --local --cert "$SCRATCH/$mode" "$DEV" >"$SCRATCH/$mode.out" \
		2>"$SCRATCH/$mode.err" || RC=$?
	losetup -d "$DEV"
	umount "$mnt"
}

run_fake good
rc=$RC
[ "$rc" -eq 0 ] || { cat "$SCRATCH/good.err"; fail "good fake medium: exit $rc"; }
pass "control: the same FUSE-backed medium, behaving, wipes and verifies"

run_fake wrap
rc=$RC
[ "$rc" -eq 1 ] || fail "wrap: exit $rc, expected 1"
grep -q "wipe FAILED (wrapped): fake capacity, addresses wrap: read back the pattern written for byte 33554432 (block 65536) at byte 0 (block 0)" \
	"$SCRATCH/wrap.err" || { cat "$SCRATCH/wrap.err"; fail "wrap: wrong diagnosis"; }
/usr/bin/python3 - "$SCRATCH/wrap.json" <<'PY' || fail "wrap: certificate"
import json, sys
c = json.load(open(sys.argv[1]))["certificate"]
assert c["result"] == "failed" and c["status"] == "wrapped", c
assert c["first_bad_block"] == 0 and c["verified_bytes"] == 0 and c["filesystem"] == "none"
assert "fake capacity" in c["reason"]
PY
grep -q "FAILED (wrapped)" "$SCRATCH/wrap.txt" || fail "wrap: text certificate"
pass "fake capacity: $(tail -n 1 "$SCRATCH/wrap.err")"

bad=$((40 << 20 | 777)) # a byte in block 81921
run_fake corrupt --at "$bad"
rc=$RC
[ "$rc" -eq 1 ] || fail "corrupt: exit $rc, expected 1"
grep -q "wipe FAILED (mismatch): read-back differs from the written pattern at byte $((bad & ~15)) (block $((bad / 512)))" \
	"$SCRATCH/corrupt.err" || { cat "$SCRATCH/corrupt.err"; fail "corrupt: wrong diagnosis"; }
/usr/bin/python3 - "$SCRATCH/corrupt.json" "$((bad / 512))" <<'PY' || fail "corrupt: certificate"
import json, sys
c = json.load(open(sys.argv[1]))["certificate"]
assert c["result"] == "failed" and c["status"] == "mismatch", c
assert c["first_bad_block"] == int(sys.argv[2]) and c["filesystem"] == "none"
assert c["verified_bytes"] == 40 << 20, c["verified_bytes"]
PY
pass "wrong read-back: $(tail -n 1 "$SCRATCH/corrupt.err")"

# Cancelled mid-wipe (SIGTERM to the CLI, as systemd or Ctrl-C would): the wiper stops
# between chunks, the certificate says failed/cancelled and no filesystem is made.
mnt=$SCRATCH/fuse-cancel
mkdir -p "$mnt"
"$fakedev" "$mnt" --size $((128 << 20)) --mode good &
PIDS+=($!)
for _ in $(seq 50); do [ -e "$mnt/disk" ] && break; sleep 0.1; done
MOUNTS+=("$mnt")
attach "$mnt/disk"
"$PCL" wipe --local --cert "$SCRATCH/cancel" "$DEV" >"$SCRATCH/cancel.out" 2>"$SCRATCH/cancel.err" &
cli=$!
for _ in $(seq 100); do grep -q '%' "$SCRATCH/cancel.err" && break; sleep 0.05; done
kill -TERM "$cli"
rc=0
wait "$cli" || rc=$?
[ "$rc" -eq 1 ] || fail "cancel: exit $rc, expected 1"
grep -q "wipe FAILED (cancelled): cancelled during" "$SCRATCH/cancel.err" ||
	{ cat "$SCRATCH/cancel.err"; fail "cancel: no cancelled result"; }
grep -q '"result":"failed".*"status":"cancelled"' "$SCRATCH/cancel.json" || fail "cancel: certificate"
grep -q '"filesystem":"none"' "$SCRATCH/cancel.json" || fail "cancel: filesystem made"
pass "cancelled: $(tail -n 1 "$SCRATCH/cancel.err")"

# The medium dies mid-wipe (its FUSE server is killed, so every request fails): the
# wipe stops with an I/O error and a failed certificate.
mnt=$SCRATCH/fuse-dead
mkdir -p "$mnt"
"$fakedev" "$mnt" --size $((128 << 20)) --mode good &
server=$!
PIDS+=("$server")
for _ in $(seq 50); do [ -e "$mnt/disk" ] && break; sleep 0.1; done
MOUNTS+=("$mnt")
attach "$mnt/disk"
"$PCL" wipe --local --cert "$SCRATCH/dead" "$DEV" >"$SCRATCH/dead.out" 2>"$SCRATCH/dead.err" &
cli=$!
for _ in $(seq 100); do grep -q '%' "$SCRATCH/dead.err" && break; sleep 0.05; done
kill -KILL "$server"
rc=0
wait "$cli" || rc=$?
[ "$rc" -eq 1 ] || fail "dead medium: exit $rc, expected 1"
grep -Eq "wipe FAILED \((io-error|device-gone)\)" "$SCRATCH/dead.err" ||
	{ cat "$SCRATCH/dead.err"; fail "dead medium: no I/O failure reported"; }
grep -q '"result":"failed"' "$SCRATCH/dead.json" || fail "dead medium: certificate"
pass "medium died: $(tail -n 1 "$SCRATCH/dead.err")"
