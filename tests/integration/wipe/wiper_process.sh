#!/usr/bin/env bash
# wiper_process.sh - portcullis-wiper as the daemon will run it: started as root with an
# open block fd, it drops to nobody (uid, gid, no groups, no_new_privs) before reading
# its job, holds no fd beyond stdio, the medium and the job pipe, keeps the key out of
# argv, reports JSON lines, and refuses a job whose size does not match the device.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
truncate -s 16M "$SCRATCH/m.img"
attach "$SCRATCH/m.img"
dev=$DEV
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
mkfifo "$SCRATCH/job"
exec 7<>"$SCRATCH/job" # keeps the pipe open: the wiper waits for its job
"$WIPER" --fd 3 --job-fd 4 3<>"$dev" 4<"$SCRATCH/job" >"$SCRATCH/out" 2>"$SCRATCH/err" &
pid=$!
PIDS+=("$pid")
for _ in $(seq 50); do grep -q '^Uid:.*65534' "/proc/$pid/status" 2>/dev/null && break; sleep 0.1; done
st=/proc/$pid/status
grep -qP '^Uid:\t65534\t65534\t65534\t65534$' "$st" || fail "uid not dropped: $(grep Uid "$st")"
grep -qP '^Gid:\t65534\t65534\t65534\t65534$' "$st" || fail "gid not dropped: $(grep Gid "$st")"
grep -qP '^Groups:\s*$' "$st" || fail "supplementary groups kept: $(grep Groups "$st")"
grep -qP '^NoNewPrivs:\t1$' "$st" || fail "no_new_privs not set"
grep -qP '^CapEff:\t0+$' "$st" || fail "capabilities kept: $(grep CapEff "$st")"
fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 3 4 " ] || fail "unexpected fds held: $fds"
grep -q "$key" "/proc/$pid/cmdline" && fail "key in argv"
pass "wiper runs as nobody, no_new_privs, no capabilities, fds: $fds"

printf 'version=1\nkey=%s\nsize=%d\nchunk=1048576\ndiscard=1\n' "$key" $((16 << 20)) >&7
exec 7>&-
wait "$pid" || fail "wiper exited $?: $(cat "$SCRATCH/err")"
head -n 1 "$SCRATCH/out" | grep -q '^{"event":"start","size":16777216,' || fail "start line"
grep -q '"event":"progress","phase":"verify","done":16777216,"total":16777216' "$SCRATCH/out" ||
	fail "no final verify progress"
tail -n 1 "$SCRATCH/out" |
	grep -q '^{"event":"result","status":"ok","reason":"","err":0,"written":16777216,"verified":16777216,' ||
	fail "result line: $(tail -n 1 "$SCRATCH/out")"
pass "job done: $(tail -n 1 "$SCRATCH/out")"

# A job for another size is refused before any write.
dd if=/dev/zero of="$dev" bs=1M count=16 oflag=direct status=none
rc=0
"$WIPER" --fd 3 --job-fd 4 3<>"$dev" \
	4< <(printf 'version=1\nkey=%s\nsize=%d\n' "$key" $((32 << 20))) >"$SCRATCH/out" || rc=$?
[ "$rc" -eq 1 ] || fail "size mismatch: exit $rc"
grep -q '"status":"refused","reason":"device is 16777216 bytes, the job expects 33554432 (identity changed)"' \
	"$SCRATCH/out" || fail "size mismatch: $(cat "$SCRATCH/out")"
cmp -s -n $((16 << 20)) "$dev" /dev/zero || fail "size mismatch: the medium was written"
pass "job for another size refused, medium untouched"

# A malformed job is a usage error naming the field.
rc=0
"$WIPER" --fd 3 --job-fd 4 3<>"$dev" 4< <(printf 'version=1\nkey=zz\nsize=512\n') \
	>/dev/null 2>"$SCRATCH/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "<wipe job>:2: key: expected 64 hex digits" "$SCRATCH/err" ||
	fail "bad job: exit $rc, $(cat "$SCRATCH/err")"
rc=0
"$WIPER" --fd 3 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "usage: exit $rc"
pass "malformed job and usage errors refused: $(cat "$SCRATCH/err")"

# The parent does not take the wiper's word: a wiper that claims "ok" without writing
# (here a stand-in script in a copy of the install) is caught by the parent's own spot
# check of random blocks, and the certificate says failed.
prefix=$SCRATCH/prefix
mkdir -p "$prefix/bin" "$prefix/libexec/portcullis"
cp "$PCL" "$prefix/bin/portcullis"
cat >"$prefix/libexec/portcullis/portcullis-wiper" <<'SH'
#!/bin/bash
size=$(sed -n 's/^size=//p' <&4)
echo "{\"event\":\"start\",\"size\":$size,\"time\":1}"
echo "{\"event\":\"result\",\"status\":\"ok\",\"reason\":\"\",\"err\":0,\"written\":$size,\"verified\":$size,\"first_bad\":0,\"first_bad_block\":0,\"wrapped_to\":0,\"discarded\":false,\"write_seconds\":1,\"verify_seconds\":1,\"time\":2}"
SH
chmod 755 "$prefix/libexec/portcullis/portcullis-wiper"
rc=0
"$prefix/bin/portcullis" wipe --local --mkfs none --cert "$SCRATCH/liar" "$dev" \
	>/dev/null 2>"$SCRATCH/err" || rc=$?
[ "$rc" -eq 1 ] || fail "lying wiper: exit $rc, expected 1"
grep -q "wipe FAILED (mismatch): the wiper reported ok, but the 65536 bytes at byte 0 do not hold the pattern" \
	"$SCRATCH/err" || fail "lying wiper: $(cat "$SCRATCH/err")"
grep -q '"result":"failed"' "$SCRATCH/liar.json" || fail "lying wiper: certificate"
pass "lying wiper caught: $(tail -n 1 "$SCRATCH/err")"

# --json, as portcullisd runs it: progress lines, then one wipe-done record carrying the
# certificate and its file; a refusal is a wipe-refused record.
mkdir -p "$SCRATCH/cwd"
(cd "$SCRATCH/cwd" && "$PCL" wipe --local --json --mkfs none "$dev" >"$SCRATCH/records" 2>"$SCRATCH/err") ||
	fail "--json wipe: $(cat "$SCRATCH/err")"
/usr/bin/python3 - "$SCRATCH/records" "$SCRATCH/cwd" <<'PY' || fail "--json records: $(cat "$SCRATCH/records")"
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert all("progress" in r for r in recs[:-1]) and len(recs) >= 2, recs
last = recs[-1]
assert last["event.action"] == "wipe-done" and last["event.outcome"] == "success", last
c = last["wipe.certificate"]["certificate"]
assert c["result"] == "verified" and c["verified_bytes"] == 16 << 20, c
path = os.path.join(sys.argv[2], last["wipe.certificate_file"])
assert json.load(open(path))["certificate"] == c
PY
rc=0
"$PCL" wipe --local --json "/dev/$(basename "$(readlink -f "/sys/dev/block/$(stat -c '%Hd:%Ld' /)")")" \
	>"$SCRATCH/records" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "--json refusal: exit $rc"
/usr/bin/python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["event.action"] == "wipe-refused" and r["event.reason"] == "is the system disk (holds /)", r
' "$SCRATCH/records" || fail "--json refusal: $(cat "$SCRATCH/records")"
pass "--json: progress lines, wipe-done with the certificate; system disk: wipe-refused"
