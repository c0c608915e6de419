#!/usr/bin/env bash
# The Portcullis demo: a council of two simulated PCs (umockdev) and its IT provider, end
# to end. Exits non-zero when any step does not do what it says.
# Usage: tests/demo/demo.sh BUILD_DIR   (after `cmake --install BUILD_DIR --prefix BUILD_DIR/stage`)
# The files it makes (bundle, request and response, certificates, the council's report)
# are left in BUILD_DIR/demo.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
export PCL_PREFIX=$build/stage PCL_SOURCE_DIR=$top PCL_DEMO_DIR=$build/demo PYTHONDONTWRITEBYTECODE=1
exec umockdev-wrapper /usr/bin/python3 "$top/tests/demo/demo.py"
