#!/usr/bin/env bash
# kernel.sh DIR - Debian's kernel for the kernel test bed (tests/kernel/bed.py).
# Downloads the linux-image package Debian's linux-image-amd64 depends on, with the
# machine's own apt sources (`apt-get download`), unpacks it under DIR/root, builds
# modules.dep (the package ships none) and the bed's initramfs (DIR/initrd: init.c and
# the modules that mount the host's root over virtio-9p). Idempotent and safe to run
# side by side (a lock); exits non-zero, loudly, when the package cannot be had.
set -euo pipefail
dir=${1:?usage: kernel.sh DIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
exec 9>"$dir/.lock"
flock 9
if [ -f "$dir/ready" ] && [ "$dir/ready" -nt "$src/init.c" ] && [ "$dir/ready" -nt "$0" ]; then
	exit 0
fi
rm -f "$dir/ready"
want() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}
pkg=$(want)
if [ -z "$pkg" ]; then # a machine whose package lists were never fetched
	DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
	pkg=$(want)
fi
if [ -z "$pkg" ]; then
	echo "kernel.sh: apt knows no linux-image-amd64 (apt-get update?): the kernel tests cannot run" >&2
	exit 1
fi
if ! ls "$dir/$pkg"_*.deb >/dev/null 2>&1; then
	rm -f "$dir"/linux-image-*.deb
	(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg") || {
		echo "kernel.sh: apt-get download $pkg failed: the kernel tests cannot run" >&2
		exit 1
	}
fi
rm -rf "$dir/root" "$dir/initramfs"
dpkg-deb -x "$dir/$pkg"_*.deb "$dir/root"
ver=$(ls "$dir/root/lib/modules")
depmod -b "$dir/root" "$ver"
ln -sfn "root/boot/vmlinuz-$ver" "$dir/vmlinuz"
echo "$ver" >"$dir/version"

# The initramfs: a static init and the modules for a virtio-9p root under an overlay.
ird=$dir/initramfs
mkdir -p "$ird/modules"
cc -static -Os -Wall -Werror -o "$ird/init" "$src/init.c"
: >"$ird/modules.order"
for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -d "$dir/root" -S "$ver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$ird/modules/"
	echo "/modules/$(basename "$ko")" >>"$ird/modules.order"
done
/usr/bin/python3 "$src/cpio.py" "$ird" "$dir/initrd"
touch "$dir/ready"
