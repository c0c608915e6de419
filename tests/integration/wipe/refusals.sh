#!/usr/bin/env bash
# refusals.sh - issue 7: `portcullis wipe` refuses, without writing a byte, a mounted
# device (kernel mount and FUSE fuseblk mount), a busy device (O_EXCL held elsewhere; one
# held for a moment only is waited for),
# the system disk, a partition, a device whose identity changed since it was recorded,
# a non-block-device, and a non-root caller of --local.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mnt=$SCRATCH/mnt
mkdir -p "$mnt"

# refused WHAT EXPECTED-MESSAGE ARGS...: the wipe exits 1 with the message on stderr
refused() {
	local what=$1 msg=$2 rc=0
	shift 2
	"$PCL" wipe "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$SCRATCH/err"; fail "$what: exit $rc, expected 1"; }
	grep -qF -- "$msg" "$SCRATCH/err" || { cat "$SCRATCH/err"; fail "$what: no '$msg'"; }
	pass "$what: $(cat "$SCRATCH/err")"
}

unchanged() {
	[ "$(sha256sum <"$1")" = "$2" ] || fail "$3: the medium was modified"
}

# Mounted (kernel ext4 mount).
truncate -s 32M "$SCRATCH/a.img"
mkfs.ext4 -q "$SCRATCH/a.img"
sum_a=$(sha256sum <"$SCRATCH/a.img")
attach "$SCRATCH/a.img"
dev=$DEV
mount -o ro "$dev" "$mnt"
MOUNTS+=("$mnt")
refused "mounted" "$dev: refused: is mounted on $mnt" --local "$dev"
refused "mounted (--check)" "refused: is mounted on $mnt" --check "$dev"
umount "$mnt"
unchanged "$SCRATCH/a.img" "$sum_a" mounted

# Mounted through FUSE (fuseblk reports an anonymous device number; matched by source).
truncate -s 32M "$SCRATCH/x.img"
mkfs.exfat "$SCRATCH/x.img" >/dev/null
sum_x=$(sha256sum <"$SCRATCH/x.img")
attach "$SCRATCH/x.img"
xdev=$DEV
mount.exfat-fuse -o ro "$xdev" "$mnt" >/dev/null
refused "mounted by fuseblk" "$xdev: refused: is mounted on $mnt" --local "$xdev"
umount "$mnt"
unchanged "$SCRATCH/x.img" "$sum_x" "fuseblk mounted"

# Busy: another program holds the device open with O_EXCL.
/usr/bin/python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
print("held", flush=True)
time.sleep(120)' "$dev" >"$SCRATCH/holder" &
PIDS+=($!)
for _ in $(seq 50); do grep -q held "$SCRATCH/holder" && break; sleep 0.1; done
grep -q held "$SCRATCH/holder" || fail "busy: the holder did not start"
refused "busy" "$dev: refused: busy (mounted, or opened exclusively elsewhere)" --local "$dev"
kill "${PIDS[-1]}"
unchanged "$SCRATCH/a.img" "$sum_a" busy

# Briefly busy: a program that lets the medium go within half a second (its last
# descriptor closing just after an unmount) does not make the wipe fail: EBUSY is tried
# again for up to two seconds.
truncate -s 8M "$SCRATCH/c.img"
attach "$SCRATCH/c.img"
cdev=$DEV
/usr/bin/python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
print("held", flush=True)
time.sleep(0.5)' "$cdev" >"$SCRATCH/brief" &
brief=$!
for _ in $(seq 50); do grep -q held "$SCRATCH/brief" && break; sleep 0.1; done
grep -q held "$SCRATCH/brief" || fail "briefly busy: the holder did not start"
"$PCL" wipe --local --cert "$SCRATCH/c.cert" "$cdev" >"$SCRATCH/out" 2>"$SCRATCH/err" ||
	{ cat "$SCRATCH/err"; fail "briefly busy: the wipe gave up while the holder let go"; }
wait "$brief" || true
grep -q "wiped and verified" "$SCRATCH/out" || fail "briefly busy: no success line"
pass "briefly busy: wiped once the holder let go"

# The system disk: the block device holding / (its whole disk when / is on a partition).
rootdev=$(stat -c '%Hd:%Ld' /)
if [ -e "/sys/dev/block/$rootdev" ]; then
	name=$(basename "$(readlink -f "/sys/dev/block/$rootdev")")
	if [ -e "/sys/dev/block/$rootdev/partition" ]; then
		refused "partition of the system disk" "refused: is a partition" --local "/dev/$name"
		name=$(basename "$(dirname "$(readlink -f "/sys/dev/block/$rootdev")")")
	fi
	refused "system disk" "/dev/$name: refused: is the system disk (holds /)" --local "/dev/$name"
	refused "system disk (--check)" "refused: is the system disk" --check "/dev/$name"
else
	echo "NOT TESTED here: / is not on a block device ($rootdev); the unit test covers it"
fi

# A partition: wipe whole disks only.
truncate -s 32M "$SCRATCH/p.img"
/usr/bin/python3 - "$SCRATCH/p.img" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    entry = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x0C, b"\0\0\0", 2048, 32768)
    f.seek(446); f.write(entry); f.seek(510); f.write(b"\x55\xaa")
PY
attach "$SCRATCH/p.img" -P
pdev=$DEV
for _ in $(seq 50); do [ -b "${pdev}p1" ] && break; sleep 0.1; done
if [ -b "${pdev}p1" ]; then
	refused "partition" "${pdev}p1: refused: is a partition: wipe the whole disk" --local "${pdev}p1"
else
	# Kernels without CONFIG_MSDOS_PARTITION never create loopNp1.
	echo "NOT TESTED here: this kernel reads no partition tables; the unit test covers it"
fi

# Identity changed since it was recorded: size, and another medium altogether.
truncate -s 32M "$SCRATCH/b.img"
attach "$SCRATCH/b.img"
bdev=$DEV
"$PCL" wipe --identify "$bdev" >"$SCRATCH/b.id"
grep -q '"size":33554432' "$SCRATCH/b.id" || fail "identify: $(cat "$SCRATCH/b.id")"
"$PCL" wipe --check --identity "$SCRATCH/b.id" "$bdev" >/dev/null || fail "identity: same medium refused"
truncate -s 48M "$SCRATCH/b.img"
losetup -c "$bdev"
sum_b=$(sha256sum <"$SCRATCH/b.img")
refused "identity changed (size)" \
	"refused: identity changed: size was 33554432 bytes, now 50331648" \
	--local --identity "$SCRATCH/b.id" "$bdev"
unchanged "$SCRATCH/b.img" "$sum_b" "identity changed"
"$PCL" wipe --identify "$dev" >"$SCRATCH/a.id"
attach "$SCRATCH/x.img"
refused "identity changed (other medium)" "refused: identity changed: serial was" \
	--local --identity "$SCRATCH/b.id" "$DEV"
echo '{"vendor":"x","size":"big"}' >"$SCRATCH/bad.id"
refused "bad identity record" "$SCRATCH/bad.id: field 'model': missing or not a string" --local --identity "$SCRATCH/bad.id" "$dev"

# Not a block device; not root.
refused "not a block device" "/etc/passwd: refused: not a block device" --local /etc/passwd

# Every refusal also gives portcullisd its outcome record (--json), naming the reason.
json_refused() { # name, expected reason text, args...
	local name=$1 want=$2 out
	shift 2
	out=$("$PCL" wipe --json "$@" 2>/dev/null) && fail "$name: exit 0"
	printf '%s\n' "$out" | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin if l.strip()]
assert len(recs) == 1 and recs[0]["event.action"] == "wipe-refused", recs
assert sys.argv[1] in recs[0]["event.reason"], recs[0]
' "$want" || fail "$name (--json): $out"
	pass "$name (--json): $out"
}
json_refused "identity changed" "identity changed: serial was" \
	--local --identity "$SCRATCH/b.id" "$DEV"
json_refused "bad identity record" "cannot be read" --local --identity "$SCRATCH/bad.id" "$dev"
json_refused "not a block device" "not a block device" --local /etc/passwd
# What portcullisd verified is re-checked once the medium is open: another device number,
# another size, another USB device, or a signing key that cannot be read, and nothing is
# written.
sum_a=$(sha256sum <"$SCRATCH/a.img")
json_refused "other device number" "the open device is" --local --expect-dev 1:3 "$dev"
json_refused "other size" "not the 1048576 expected" --local --expect-size 1048576 "$dev"
json_refused "bad USB ids" "want VID:PID" --local --usb-ids 12345 "$dev"
json_refused "unreadable wipe key" "not a readable Ed25519 private key" \
	--local --sign-key "$SCRATCH/bad.id" "$dev"
unchanged "$SCRATCH/a.img" "$sum_a" "expected identity"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCL" wipe --local "$bdev" 2>"$SCRATCH/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "must run as root" "$SCRATCH/err" || fail "not root: exit $rc $(cat "$SCRATCH/err")"
pass "not root: $(cat "$SCRATCH/err")"
rc=0
"$PCL" wipe 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "usage: exit $rc"
pass "usage error exits 2"
