#!/bin/sh
# bench.sh [BUILD_DIR]: run the transfer-logging benchmark (root) and record it
# in docs/benchmarks.md under the section "transfer".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../../build}
out=$(/usr/bin/python3 "$here/bench_transfer.py" "$(cd "$build" && pwd)")
printf '%s\n' "$out"
printf '%s\n' "$out" | "$here/../record.sh" transfer
