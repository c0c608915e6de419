#!/usr/bin/env bash
# run.sh [BUILD_DIR]: build the firmware (BUILD_FIRMWARE=ON) and record the Cortex-M33
# instruction counts into docs/benchmarks.md (section "firmware").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
build=${1:-$top/build}
cmake -S "$top" -B "$build" -DBUILD_FIRMWARE=ON >/dev/null
cmake --build "$build" -j2 --target firmware_arm >/dev/null
/usr/bin/python3 "$here/bench.py" "$build/firmware-arm" 5 | tee /dev/stderr | "$top/tests/bench/record.sh" firmware
