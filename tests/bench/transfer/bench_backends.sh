#!/bin/sh
# bench_backends.sh [BUILD_DIR]: the transfer log's fanotify and eBPF backends against no
# logging, inside the kernel test bed (Debian's kernel, where fentry programs load; this
# machine's kernel refuses them), recorded in docs/benchmarks.md, section
# "transfer-backends". Root; boots the bed with tests/kernel/in_guest.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../../build}" && pwd)
cmake --install "$build" --prefix "$build/stage" >/dev/null
[ -f "$build/kernel/ready" ] || "$here/../../kernel/kernel.sh" "$build/kernel"
out=$(cd "$here" && PCL_PREFIX=$build/stage PCL_BUILD_DIR=$build PCL_KERNEL_DIR=$build/kernel \
	PCL_GUEST_TIMEOUT=1500 PYTHONDONTWRITEBYTECODE=1 \
	/usr/bin/python3 "$here/../../kernel/in_guest.py" /usr/bin/python3 "$here/bench_backends.py")
out=$(printf '%s\n' "$out" | grep -v '^guest: ')
printf '%s\n' "$out"
printf '%s\n' "$out" | "$here/../record.sh" transfer-backends
