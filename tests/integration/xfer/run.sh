#!/bin/sh
# run.sh TEST.py [FS]: run one transfer-logging integration test with pytest.
# A filesystem the kernel lacks fails: CTest runs the vfat test inside the kernel test bed
# (tests/kernel/in_guest.py), whose kernel has it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${2:-}" ]; then
	case $2 in
	vfat) grep -qw vfat /proc/filesystems || modprobe -q vfat 2>/dev/null ||
		{ echo "vfat: not in this kernel (run it in the kernel test bed)" >&2; exit 1; } ;;
	esac
	export XFER_FS=$2
fi
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$here/$1"
