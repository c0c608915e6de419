#!/usr/bin/env bash
# The Portcullis demo: a simulated council PC (umockdev), end to end.
# Usage: tests/demo/demo.sh BUILD_DIR   (after `cmake --install BUILD_DIR --prefix BUILD_DIR/stage`)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
export PCL_PREFIX=$build/stage PCL_SOURCE_DIR=$top PYTHONDONTWRITEBYTECODE=1
exec umockdev-wrapper /usr/bin/python3 "$top/tests/demo/demo.py"
