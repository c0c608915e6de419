#!/bin/sh
# bench.sh [BUILD_DIR]: run the transfer-logging benchmark through the running daemon
# (root; staged portcullisd under the umockdev gate bed, auditd as the peer) and record it
# in docs/benchmarks.md under the section "transfer". bench_transfer.py times the watcher
# on its own (no daemon): python3 bench_transfer.py BUILD_DIR.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../../build}" && pwd)
[ -x "$build/stage/sbin/portcullisd" ] || cmake --install "$build" --prefix "$build/stage" >/dev/null
out=$(PCL_PREFIX=$build/stage PCL_BUILD_DIR=$build PYTHONDONTWRITEBYTECODE=1 \
	umockdev-wrapper /usr/bin/python3 "$here/bench_daemon.py")
printf '%s\n' "$out"
printf '%s\n' "$out" | "$here/../record.sh" transfer
