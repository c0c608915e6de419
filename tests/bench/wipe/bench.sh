#!/usr/bin/env bash
# bench.sh [BUILD_DIR] [SIZE_MIB] [ROUNDS] - wipe throughput on one loop device, run as
# root. Not a CTest test. On the same loop device (backed by a file on the real disk,
# --direct-io=on so the loop itself bypasses the page cache) and in one run:
#   dd if=/dev/zero bs=4M oflag=direct       the raw write limit
#   nwipe --method=zero --verify=last ...     Debian's wiper: zero pass + verify
#   portcullis-wiper                          keyed pattern + full verify (ours)
# Best of ROUNDS per tool; prints a markdown section on stdout. Record with
#   tests/bench/wipe/bench.sh build | tests/bench/record.sh wipe
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
mib=${2:-1024}
rounds=${3:-2}
wiper=$build/daemon/wiper/portcullis-wiper
engine=$build/tests/bench/wipe/bench_wipe_engine
[ -x "$wiper" ] && [ -x "$engine" ] || { echo "bench: build with -DBUILD_TESTS=ON first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
command -v nwipe >/dev/null || { echo "bench: nwipe missing (apt-get install nwipe)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/wipe-bench.XXXXXX)
dev=
cleanup() {
	[ -n "$dev" ] && losetup -d "$dev" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
bytes=$((mib << 20))
# A fully allocated backing file, so every run writes into existing blocks.
fallocate -l "$bytes" "$work/disk.img"
dev=$(losetup -f --show --direct-io=on "$work/disk.img")
# Untimed warm-up: the first write into fallocated (unwritten) extents is slower.
dd if=/dev/zero of="$dev" bs=4M count=$((mib / 4)) oflag=direct status=none

now() { date +%s.%N; }
best() { printf '%s\n' "$@" | sort -g | head -n 1; }

# nwipe_run NAME FLAGS...: time one nwipe run, check it verified, print seconds
nwipe_run() {
	local t0 t1
	t0=$(now)
	nwipe --method=zero --verify=last --autonuke --nogui --nowait "$@" \
		--logfile="$work/nwipe.log" "$dev" >/dev/null 2>&1
	t1=$(now)
	grep -Eq "Verified pass 1 of 1|Verified that .* is empty" "$work/nwipe.log" ||
		{ echo "bench: nwipe did not verify" >&2; exit 1; }
	rm -f "$work/nwipe.log"
	echo "$t1 - $t0" | bc -l
}

dd_s=() nw_s=() nb_s=() our_w=() our_v=() our_t=()
for r in $(seq "$rounds"); do
	t0=$(now)
	dd if=/dev/zero of="$dev" bs=4M count=$((mib / 4)) oflag=direct status=none
	t1=$(now)
	dd_s+=("$(echo "$t1 - $t0" | bc -l)")

	nw_s+=("$(nwipe_run)")
	nb_s+=("$(nwipe_run --noblank)")

	key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	t0=$(now)
	"$wiper" --fd 3 --job-fd 4 3<>"$dev" \
		4< <(printf 'version=1\nkey=%s\nsize=%d\ndiscard=0\n' "$key" "$bytes") >"$work/ours.json"
	t1=$(now)
	res=$(tail -n 1 "$work/ours.json")
	grep -q '"status":"ok"' <<<"$res" || { echo "bench: our wipe failed: $res" >&2; exit 1; }
	our_w+=("$(sed -E 's/.*"write_seconds":([0-9.]+).*/\1/' <<<"$res")")
	our_v+=("$(sed -E 's/.*"verify_seconds":([0-9.]+).*/\1/' <<<"$res")")
	our_t+=("$(echo "$t1 - $t0" | bc -l)")
done

# Double buffering: the same engine with and without its worker thread.
"$engine" "$dev" >"$work/engine.txt"
val() { awk -v k="$1" '$1 == k { print $2 }' "$work/engine.txt"; }
pat=$(val pattern_1GiB) sw=$(val single_write) sv=$(val single_verify)
dw=$(val double_write) dv=$(val double_verify)

dd_b=$(best "${dd_s[@]}") nw_b=$(best "${nw_s[@]}") nb_b=$(best "${nb_s[@]}")
w_b=$(best "${our_w[@]}") v_b=$(best "${our_v[@]}") t_b=$(best "${our_t[@]}")
mbps() { printf '%.1f' "$(echo "$bytes / $1 / 1000000" | bc -l)"; }
ratio() { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
secs() { printf '%.2f' "$1"; }
cat <<MD
## wipe: overwrite and verify a ${mib} MiB loop device

\`tests/bench/wipe/bench.sh\`, $(date -u +%Y-%m-%d), best of $rounds rounds, $(nproc) CPUs
shared with other work (expect noise), kernel $(uname -r). One loop device over a fully
allocated file on the real disk, \`losetup --direct-io=on\`; every tool writes with O_DIRECT
except nwipe, which writes through the page cache and syncs (its own design). Our verify
reads with O_DIRECT, so it reads the medium, not the page cache.

| tool | what | seconds | MB/s |
|---|---|---|---|
| dd if=/dev/zero bs=4M oflag=direct | zero write, no verify | $(secs "$dd_b") | $(mbps "$dd_b") |
| nwipe --method=zero --verify=last --autonuke --nogui --nowait | zero pass + blanking pass + verify | $(secs "$nw_b") | $(mbps "$nw_b") |
| same with --noblank | zero pass + verify | $(secs "$nb_b") | $(mbps "$nb_b") |
| portcullis-wiper, write pass | keyed AES-256-CTR pattern | $(secs "$w_b") | $(mbps "$w_b") |
| portcullis-wiper, verify pass | regenerate + compare | $(secs "$v_b") | $(mbps "$v_b") |
| portcullis-wiper, whole job | write + flush + verify, process start to exit | $(secs "$t_b") | $(mbps "$t_b") |

Double buffering (\`bench_wipe_engine\`, same device, one run each): pattern generation
alone runs at $(printf '%.0f' "$(echo "1073.741824 / $pat" | bc -l)") MB/s on one core. With everything in one
thread the write pass took $(secs "$sw") s and the verify $(secs "$sv") s; with the worker
thread $(secs "$dw") s and $(secs "$dv") s (write $(ratio "$dw" "$sw")x, verify
$(ratio "$dv" "$sv")x the single-thread time).

- Our write pass / dd: **$(ratio "$w_b" "$dd_b")x** the time (goal: within 1.10x).
- Our write+verify / nwipe zero+verify (--noblank): **$(ratio "$t_b" "$nb_b")x** the time
  (goal: below 1); against nwipe's default flags (which add a blanking pass):
  **$(ratio "$t_b" "$nw_b")x**.
- All rounds (s): dd ${dd_s[*]}; nwipe ${nw_s[*]}; nwipe --noblank ${nb_s[*]}; ours write ${our_w[*]}, verify ${our_v[*]}, job ${our_t[*]}.
MD
