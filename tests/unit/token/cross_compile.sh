#!/usr/bin/env bash
# cross_compile.sh CC SRCDIR: the token core compiles for a Cortex-M33 as C99 freestanding
# with only picolibc's headers (no OS, no board header) and -Werror; prints its size and
# its largest stack frames (for the board's stack budget).
# Run by CTest (token_core_cortex_m33).
set -euo pipefail
cc=$1
src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for f in "$src"/firmware/core/*.c; do
	"$cc" --specs=picolibc.specs -std=c99 -pedantic -ffreestanding -mcpu=cortex-m33 -mthumb -Os \
		-Wall -Wextra -Wno-unused-parameter -Werror -fstack-usage \
		-I"$src/firmware/core" -I"$src/firmware/hal" -I/usr/include/bearssl \
		-c "$f" -o "$out/$(basename "${f%.c}").o"
done
arm-none-eabi-size -t "$out"/*.o | tail -n 1
echo "largest stack frames (bytes):"
sort -t"$(printf '\t')" -k2 -n -r "$out"/*.su | sed -n 1,5p
# the core's objects must not call anything an MCU lacks (files, processes, allocation)
bad=$(arm-none-eabi-nm -u "$out"/*.o | awk '{print $2}' | grep -E '^(malloc|free|calloc|realloc|printf|fprintf|open|read|write|exit|abort|time|getrandom)$' || true)
if [ -n "$bad" ]; then
	echo "cross_compile.sh: core needs hosted symbols: $bad" >&2
	exit 1
fi
