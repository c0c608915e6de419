#!/bin/sh
# bench_guest.sh [BUILD_DIR]: the transfer log through the running daemon, eBPF and
# fanotify backends, against no logging, auditd and auditd + sha256sum, inside the kernel
# test bed (Debian's kernel, where the eBPF backend loads), 2 virtual CPUs
# (PCL_GUEST_SMP). Recorded in docs/benchmarks.md, section "transfer-guest". Root.
# Installs into BUILD_DIR/stage-bench so that a rebuild during the run changes nothing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../../build}" && pwd)
cmake --install "$build" --prefix "$build/stage-bench" >/dev/null
[ -f "$build/kernel/ready" ] || "$here/../../kernel/kernel.sh" "$build/kernel"
out=$(PCL_PREFIX=$build/stage-bench PCL_BUILD_DIR=$build PCL_KERNEL_DIR=$build/kernel \
	PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$here/bench_guest.py")
printf '%s\n' "$out"
printf '%s\n' "$out" | "$here/../record.sh" transfer-guest
