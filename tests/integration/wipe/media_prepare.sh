#!/usr/bin/env bash
# media_prepare.sh - `portcullis media prepare` refuses, from outside, what must not become
# a council stick, and leaves it untouched: a mounted disk, a disk that is neither
# removable nor on USB (a loop device), a caller who is not root; a passphrase is never
# taken from the command line and one of passphrase or key file is required. (Making a
# stick needs dm-crypt, which these kernels lack: tests/kernel/test_media.py makes one on
# a USB stick under Debian's kernel.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
img=$SCRATCH/disk.img
truncate -s 32M "$img"
mkfs.ext4 -q -F "$img"
attach "$img"
dev=$DEV
head -c 64 /dev/urandom >"$SCRATCH/key"

# expect RC TEXT CMD...: exit status RC and TEXT on stderr
expect() {
	local want=$1 text=$2 rc=0
	shift 2
	"$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$SCRATCH/err"; fail "$*: exit $rc, want $want"; }
	grep -q -- "$text" "$SCRATCH/err" || { cat "$SCRATCH/err"; fail "$*: no '$text'"; }
}

mkdir -p "$SCRATCH/mnt"
mount "$dev" "$SCRATCH/mnt"
MOUNTS+=("$SCRATCH/mnt")
expect 1 "$dev: refused: .*mounted" "$PCL" media prepare --key-file "$SCRATCH/key" "$dev"
umount "$SCRATCH/mnt"
MOUNTS=()
cryptsetup isLuks "$dev" && fail "the mounted disk was formatted"
pass "a mounted disk is refused"
before=$(sha256sum <"$dev") # mounting itself wrote to it

expect 1 "$dev: refused: not a removable disk" "$PCL" media prepare --key-file "$SCRATCH/key" "$dev"
pass "a disk that is neither removable nor on USB is refused"
expect 1 "must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$PCL" media prepare --key-file "$SCRATCH/key" "$dev"
pass "not root: refused"
expect 2 "bad option '--passphrase=secret'" "$PCL" media prepare --passphrase=secret "$dev"
expect 2 "usage" "$PCL" media prepare --passphrase secret "$dev"
expect 2 "give --passphrase" "$PCL" media prepare "$dev"
expect 2 "want exfat or vfat" "$PCL" media prepare --key-file "$SCRATCH/key" --fs ntfs "$dev"
expect 2 "want 100 to 60000 ms" "$PCL" media prepare --key-file "$SCRATCH/key" --iter-time 5 "$dev"
pass "no passphrase on the command line; a key is required; bad options are usage errors"
[ "$(sha256sum <"$dev")" = "$before" ] || fail "the refused disk changed"
pass "every refused disk is unchanged"
