#!/bin/sh
# run.sh TEST.py [FS]: run one transfer-logging integration test with pytest.
# A filesystem the kernel lacks (vfat here) exits 77, which CTest reports as skipped.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${2:-}" ]; then
	case $2 in
	vfat) grep -qw vfat /proc/filesystems || { echo "vfat: not in this kernel, not tested"; exit 77; } ;;
	esac
	export XFER_FS=$2
fi
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$here/$1"
