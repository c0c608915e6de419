#!/usr/bin/env bash
# tests/bench/token/run.sh BUILD_DIR [SECONDS]: measure the token core and record the
# figures in docs/benchmarks.md (section "token"). Needs valgrind for the instruction
# count; starts and stops its own simulator.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
secs=${2:-2}
top=$(cd "$(dirname "$0")/../../.." && pwd)
bench=$build/tests/bench/token/bench_token
sim=$build/firmware/host/portcullis-token-sim
work=$(mktemp -d)
"$sim" --socket "$work/sock" --state "$work/state" --auto-touch 2>/dev/null &
simpid=$!
trap 'kill $simpid 2>/dev/null; wait $simpid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$work/sock" ] && break; sleep 0.05; done

table=$("$bench" --seconds "$secs" --sim "sim:$work/sock")
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
	--toggle-collect=tcrypto_p256_sign "$bench" --one-assertion >/dev/null 2>"$work/cg.log"
sign_ir=$(callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
valgrind --tool=callgrind --callgrind-out-file="$work/cg2.out" \
	--toggle-collect=ctap2_request "$bench" --one-assertion >/dev/null 2>"$work/cg2.log"
ga_ir=$(callgrind_annotate "$work/cg2.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')

{
	echo "## token"
	echo
	echo "\`tests/bench/token/run.sh build $secs\` on $(nproc) shared cores, $(date -u +%Y-%m-%d)."
	echo "Host build (RelWithDebInfo, BearSSL i31 from Debian); in-process figures call"
	echo "\`ctap2_request\` directly, simulator figures go through libfido2, lib/fidosim and"
	echo "the socket (each counter step is an fdatasync of the state file). OpenSSL's P-256"
	echo "signing is the reference peer. Operations per second vary with the load of the shared"
	echo "machine; the callgrind counts are exact and repeat run after run (deterministic RNG"
	echo "of the test board layer, RFC 6979 signatures)."
	echo
	echo "| measurement | value |"
	echo "|---|---|"
	echo "$table"
	echo "| callgrind: instructions in \`tcrypto_p256_sign\` for one getAssertion | $sign_ir |"
	echo "| callgrind: instructions in \`ctap2_request\` for one getAssertion | $ga_ir |"
} | tee /dev/stderr | "$top/tests/bench/record.sh" token
