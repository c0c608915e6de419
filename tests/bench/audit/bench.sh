#!/usr/bin/env bash
# tests/bench/audit/bench.sh [BUILD_DIR] - audit trail benchmark, recorded in the
# `audit` section of docs/benchmarks.md:
#  - durable append rate (fdatasync before each append returns; group commit across
#    1, 16, 64 and 256 threads) with the test writer;
#  - `portcullis audit verify` throughput on a large trail (AUDIT_BENCH_MB, default
#    1024) next to `sha256sum` of the same files in the same run, as a ratio.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$top/build}
mb=${AUDIT_BENCH_MB:-1024}
writer=$build/tests/integration/audit/audit_testwriter
cli=$build/tools/portcullis
work=$(mktemp -d /var/tmp/audit-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

rate() { # threads records -> records/s, the median of 5 runs (the disk is shared)
	local i
	for i in 1 2 3 4 5; do
		rm -rf "$work/r"
		AUDIT_TW_QUIET=1 AUDIT_TW_KEY="$work/r.key" "$writer" "$work/r" 1 >/dev/null
		AUDIT_TW_QUIET=1 "$writer" "$work/r" "$2" 0 "$1" |
			sed -E 's/.*: ([0-9]+) records\/s.*/\1/'
	done | sort -n | sed -n 3p
}
secs() { # command... -> wall seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

load=$(cut -d' ' -f1 /proc/loadavg)
r1=$(rate 1 300)
r16=$(rate 16 5000)
r64=$(rate 64 20000)
r256=$(rate 256 60000)

# A large trail written by the real writer (durable appends, 256 threads).
AUDIT_TW_QUIET=1 AUDIT_TW_KEY="$work/t.key" "$writer" "$work/t" 1 >/dev/null
records=$(( mb * 1024 * 1024 / 600 ))
AUDIT_TW_QUIET=1 "$writer" "$work/t" "$records" 0 256 >/dev/null
bytes=$(cat "$work"/t/trail-*.jsonl | wc -c)
cat "$work"/t/trail-*.jsonl >/dev/null # warm the page cache for both readers
sha=$(secs sha256sum "$work"/t/trail-*.jsonl)
ver=$(secs "$cli" audit verify --key "$work/t.key" "$work/t")
summary=$("$cli" audit verify --key "$work/t.key" "$work/t" | tail -n 1)
echo "$summary"
nrec=$(sed -E 's/^verified: ([0-9]+) records.*/\1/' <<<"$summary")
ratio=$(echo "$sha / $ver" | bc -l)
mbs() { echo "$bytes / 1048576 / $1" | bc -l; }

body=$(cat <<MD

\`tests/bench/audit/bench.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores shared with other builds, load average $load at the start, $(df -T /var/tmp | awk 'NR==2 {print $2}') on a virtual disk)

| measure | result |
|---|---|
| durable appends, 1 thread (median of 5 runs, as below) | $r1 records/s |
| durable appends, 16 threads (group commit) | $r16 records/s |
| durable appends, 64 threads (group commit) | $r64 records/s |
| durable appends, 256 threads (group commit) | $r256 records/s (goal ≥ 20,000) |
| trail verified | $(printf '%.0f' "$(echo "$bytes / 1048576" | bc -l)") MiB, $nrec records, all verified |
| \`sha256sum\` | $(printf '%.2f' "$sha") s, $(printf '%.0f' "$(mbs "$sha")") MiB/s |
| \`portcullis audit verify\` | $(printf '%.2f' "$ver") s, $(printf '%.0f' "$(mbs "$ver")") MiB/s |
| verify / sha256sum speed | **$(printf '%.2f' "$ratio")×** (goal ≥ 0.5×) |

MD
)
echo "$body"
echo "$body" | "$top/tests/bench/record.sh" audit
