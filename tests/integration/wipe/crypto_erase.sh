#!/usr/bin/env bash
# crypto_erase.sh - crypto-erase of an encrypted council stick, seen from outside: a LUKS2
# container made by Debian's cryptsetup (passphrase and key file) on a loop device. After `portcullis wipe --local --method crypto-erase` cryptsetup no
# longer finds a LUKS header, neither the passphrase nor the key file opens it, no header
# magic is left in the first MiBs or at the secondary header's offset, the encrypted data
# area is untouched ciphertext (the erase touched only the headers and keyslots), and the
# certificate names the method and verifies with the PC's wipe key (key-init's public
# half, python3-cryptography). crypto-erase+overwrite through portcullis-wipe (the
# service's program, under its seccomp filter) also overwrites every byte; a plain stick
# is refused untouched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
WIPE=$PCL_PREFIX/libexec/portcullis/portcullis-wipe
PBKDF=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000) # fast; the KDF is not under test

# luks_stick IMG: a 32 MiB LUKS2 stick with a passphrase and a key file, its data area
# filled with what an encrypted volume holds (these kernels have no device-mapper, so no
# filesystem is made through dm-crypt here); sets DEV to its loop device.
luks_stick() {
	local img=$1
	truncate -s 32M "$img"
	attach "$img" --direct-io=on
	cryptsetup luksFormat -q --type luks2 "${PBKDF[@]}" --key-file "$SCRATCH/pass" "$DEV"
	cryptsetup luksAddKey -q "${PBKDF[@]}" --key-file "$SCRATCH/pass" "$DEV" "$SCRATCH/keyfile"
	dd if=/dev/urandom of="$DEV" bs=1M seek=16 count=16 oflag=direct status=none
	printf 'PORTCULLIS-MARKER-LUKS' | dd of="$DEV" bs=512 seek=$((16 << 11)) conv=notrunc status=none
}

# opens DEV KEYFILE: 0 when cryptsetup accepts the key for DEV
opens() {
	cryptsetup open --test-passphrase --key-file "$2" "$1" >/dev/null 2>&1
}

# magic_left IMG: offsets of LUKS header magic (primary or secondary) in the first 16 MiB
magic_left() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read(16 << 20)
hits = [o for m in (b"LUKS\xba\xbe", b"SKUL\xba\xbe") for o in range(len(data)) if data.startswith(m, o)]
print(" ".join(map(str, sorted(hits))))
PY
}

printf 'correct horse battery staple' >"$SCRATCH/pass"
head -c 64 /dev/urandom >"$SCRATCH/keyfile"
"$PCL" wipe key-init --key-out "$SCRATCH/wipe.key" >"$SCRATCH/wipe.pub"
pub=$(awk '$1 == "wipe-public-key" {print $2}' "$SCRATCH/wipe.pub")

# 1. crypto-erase alone.
img=$SCRATCH/council.img
luks_stick "$img"
dev=$DEV
cryptsetup isLuks "$dev" || fail "test bed: no LUKS header"
opens "$dev" "$SCRATCH/pass" && opens "$dev" "$SCRATCH/keyfile" || fail "test bed: keys"
[ "$(magic_left "$img")" = "0 16384" ] || fail "test bed: header magic at $(magic_left "$img")"
data_before=$(tail -c +$((16 << 20 + 1)) "$img" | sha256sum)
pass "test bed: LUKS2 stick, both keys open it, headers at 0 and 16384"

"$PCL" wipe --local --method crypto-erase --mkfs none --no-discard --sign-key "$SCRATCH/wipe.key" \
	--operator "Parish Clerk" --cert "$SCRATCH/cert" "$dev" >"$SCRATCH/out" 2>"$SCRATCH/err" ||
	{ cat "$SCRATCH/out" "$SCRATCH/err"; fail "crypto-erase failed"; }
grep -q "crypto-erased: the LUKS headers and keyslot areas (16777216 bytes)" "$SCRATCH/out" ||
	{ cat "$SCRATCH/out"; fail "no crypto-erase line"; }
cryptsetup isLuks "$dev" && fail "cryptsetup still finds a LUKS header"
opens "$dev" "$SCRATCH/pass" && fail "the old passphrase still opens it"
opens "$dev" "$SCRATCH/keyfile" && fail "the old key file still opens it"
[ -z "$(magic_left "$img")" ] || fail "LUKS header magic left at $(magic_left "$img")"
[ "$(tail -c +$((16 << 20 + 1)) "$img" | sha256sum)" = "$data_before" ] ||
	fail "the encrypted data area changed: crypto-erase touches only the headers and keyslots"
pass "crypto-erase: no LUKS header (isLuks, no magic in 16 MiB), passphrase and key file refused"

/usr/bin/python3 - "$SCRATCH/cert.json" "$pub" <<'PY' || fail "crypto-erase certificate"
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
doc = json.load(open(sys.argv[1]))
c = doc["certificate"]
assert c["status"] == "ok" and c["result"] == "verified", c
assert c["method_type"] == "Purge", c["method_type"]
assert c["method"].startswith("Purge (cryptographic erase"), c["method"]
assert "no LUKS header loads" in c["verification"], c["verification"]
assert c["verified_bytes"] == 16 << 20 and c["passes"] == 1, c
assert c["operator"] == "Parish Clerk"
body = json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode()
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(sys.argv[2]))
key.verify(base64.b64decode(doc["signature"]["value"]), body)
PY
grep -q "Method type *Purge" "$SCRATCH/cert.txt" || fail "text certificate: method type"
pass "certificate: Purge by cryptographic erase, verifies with the PC's wipe key"
detach "$dev"

# 2. crypto-erase+overwrite through portcullis-wipe (the service's program, seccomp on).
img2=$SCRATCH/council2.img
luks_stick "$img2"
dev=$DEV
"$WIPE" --local --json --method crypto-erase+overwrite --mkfs none --no-discard \
	--sign-key "$SCRATCH/wipe.key" --cert "$SCRATCH/cert2" "$dev" >"$SCRATCH/out2" 2>"$SCRATCH/err2" ||
	{ cat "$SCRATCH/out2" "$SCRATCH/err2"; fail "crypto-erase+overwrite failed"; }
cryptsetup isLuks "$dev" && fail "+overwrite: a LUKS header is left"
opens "$dev" "$SCRATCH/keyfile" && fail "+overwrite: the key file still opens it"
[ "$(count_markers "$img2")" -eq 0 ] || fail "+overwrite: marker left"
/usr/bin/python3 - "$SCRATCH/out2" "$pub" <<'PY' || fail "+overwrite outcome"
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
out = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
o = [l for l in out if "event.action" in l][-1]
assert o["event.action"] == "wipe-done", o
doc = o["wipe.certificate"]
c = doc["certificate"]
assert c["method_type"] == "Purge" and "followed by Clear" in c["method"], c["method"]
assert c["verified_bytes"] == 32 << 20 and c["passes"] == 2, c
body = json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode()
Ed25519PublicKey.from_public_bytes(base64.b64decode(sys.argv[2])).verify(
    base64.b64decode(doc["signature"]["value"]), body)
PY
pass "crypto-erase+overwrite (portcullis-wipe, seccomp): headers gone, every byte overwritten"
detach "$dev"

# 3. A plain stick cannot be crypto-erased: refused, nothing written.
img3=$SCRATCH/plain.img
truncate -s 32M "$img3"
mkfs.vfat -n PLAIN "$img3" >/dev/null
before=$(sha256sum <"$img3")
attach "$img3" --direct-io=on
rc=0
"$PCL" wipe --local --method crypto-erase --cert "$SCRATCH/cert3" "$DEV" >"$SCRATCH/out3" 2>"$SCRATCH/err3" || rc=$?
[ "$rc" -eq 1 ] || fail "plain stick: exit $rc, want 1"
grep -q "refused: crypto-erase: no LUKS header" "$SCRATCH/err3" || { cat "$SCRATCH/err3"; fail "plain stick: message"; }
[ "$(sha256sum <"$img3")" = "$before" ] || fail "plain stick: changed"
[ ! -e "$SCRATCH/cert3.json" ] || fail "plain stick: a certificate for a refusal"
rc=0
"$PCL" wipe --local --method shred "$DEV" 2>"$SCRATCH/err4" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--method 'shred'" "$SCRATCH/err4" || fail "unknown method: exit $rc"
pass "plain stick refused untouched; an unknown method is a usage error"
