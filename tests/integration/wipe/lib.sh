# lib.sh - shared helpers of the wipe integration tests (sourced; bash, run as root).
# Every test works in its own scratch directory and detaches what it attached.
set -euo pipefail

PCL=${PCL_PREFIX:?run under ctest}/bin/portcullis
WIPER=$PCL_PREFIX/libexec/portcullis/portcullis-wiper
SCRATCH=$(mktemp -d /var/tmp/wipe-test.XXXXXX)
LOOPS=()
MOUNTS=()
PIDS=()

cleanup() {
	local m l p
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "ok: $*"
}

[ "$(id -u)" -eq 0 ] || fail "integration tests need root (loop devices, mounts)"

# attach FILE [losetup options...]: set DEV to a new loop device over FILE (not in a
# subshell, so cleanup knows about it)
attach() {
	local f=$1
	shift
	DEV=$(losetup -f --show "$@" "$f")
	LOOPS+=("$DEV")
	# A read-only flag set on the device (BLKROSET, as a read-only grant or a plain
	# council stick gets) outlives the loop device's detach: unless asked to be
	# read-only, a new medium starts writable.
	case " $* " in
	*" -r "* | *" --read-only "*) ;;
	*) blockdev --setrw "$DEV" ;;
	esac
}

# detach DEV: detach it now, and forget it, so that cleanup does not detach the number
# again once another test may have been given it
detach() {
	local l keep=()
	losetup -d "$1"
	for l in "${LOOPS[@]}"; do [ "$l" = "$1" ] || keep+=("$l"); done
	LOOPS=("${keep[@]}")
}

# count_markers FILE: how many times our marker appears in the raw bytes
count_markers() {
	{ grep -a -o 'PORTCULLIS-MARKER-[0-9A-Z]*' "$1" || true; } | wc -l
}

# recovered FILE: how many files PhotoRec carves out of the raw image. A fresh vfat made
# after the wipe is itself carved as f0000000.fat (its boot sector, at sector 0): that one
# is the new empty filesystem, not recovered data, and is not counted. The carved files
# stay in $SCRATCH/carved (listed in CARVED) for carved_ours.
recovered() {
	local img=$1 out=$SCRATCH/carved
	rm -rf "$out"
	mkdir -p "$out"
	(cd "$out" && photorec /log /d "$out/rec" /cmd "$img" \
		partition_none,options,paranoid,fileopt,everything,enable,search >/dev/null 2>&1) ||
		fail "photorec failed on $img"
	CARVED=$(find "$out" -path "$out/rec*" -type f ! -name report.xml ! -name f0000000.fat | sort)
	[ -z "$CARVED" ] && echo 0 || wc -l <<<"$CARVED"
}

# carved_ours: how many of the last carved files are our data (the planted archive and
# text types, or anything holding a marker)
carved_ours() {
	local f n=0
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		case $f in *.zip | *.txt) n=$((n + 1)); continue ;; esac
		[ "$(count_markers "$f")" -eq 0 ] || n=$((n + 1))
	done <<<"$CARVED"
	echo "$n"
}

# make_markers DIR: three uncompressed zip archives and a text file with markers
make_markers() {
	/usr/bin/python3 - "$1" <<'PY'
import sys, zipfile, os
d = sys.argv[1]
for i in range(3):
    with zipfile.ZipFile(os.path.join(d, f"minutes{i}.zip"), "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"minutes{i}.txt", ("PORTCULLIS-MARKER-%d confidential minutes\n" % i) * 3000)
with open(os.path.join(d, "notes.txt"), "w") as f:
    f.write("PORTCULLIS-MARKER-TXT councillor notes\n" * 2000)
PY
}
