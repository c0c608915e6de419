#!/bin/bash
# sandbox_run.sh - run a command under the file-system and capability parts of a systemd
# unit's sandbox, for machines where systemd is not PID 1: a private mount namespace with
# the top-level directories read-only (ProtectSystem=strict), /sys read-only
# (ProtectKernelTunables=yes), the unit's ReadWritePaths= and RuntimeDirectory= (if any) writable,
# a private /tmp, a minimal /dev (PrivateDevices=yes), /proc with ProcSubset= and
# ProtectProc=, and the unit's CapabilityBoundingSet= and NoNewPrivileges= applied by
# setpriv. Not emulated: seccomp (SystemCallFilter=, RestrictAddressFamilies=), namespaces
# other than mounts, the device cgroup. Input: our own unit file (trusted).
# usage: sandbox_run.sh UNIT [-drop CAP] -- COMMAND...
set -euo pipefail
unit=$1
shift
drop=
if [ "${1:-}" = -drop ]; then
	drop=$2
	shift 2
fi
[ "${1:-}" = -- ] && shift

value() { sed -nE "s/^$1=(.*)/\1/p" "$unit"; }
caps=$(value CapabilityBoundingSet | tr ' ' '\n' | grep -v "^$drop\$" | sed -E 's/^CAP_/+/' |
	tr 'A-Z' 'a-z' | paste -sd, -)
[ -n "$caps" ] || { echo "sandbox_run: no CapabilityBoundingSet= in $unit" >&2; exit 1; }
rw=$(value ReadWritePaths | tr ' ' '\n' | sed '/^$/d')
runtime=$(value RuntimeDirectory)
[ "$(value ProtectSystem)" = strict ] || { echo "sandbox_run: ProtectSystem is not strict" >&2; exit 1; }

proc=
[ "$(value ProcSubset)" = pid ] && proc=subset=pid
[ -n "$(value ProtectProc)" ] && proc="${proc:+$proc,}hidepid=$(value ProtectProc)"
devices=$(value PrivateDevices)

export SANDBOX_CAPS="-all,$caps" SANDBOX_RW="$rw" SANDBOX_RUNTIME="$runtime"
export SANDBOX_PROC="$proc" SANDBOX_DEVICES="$devices"
exec unshare -m --propagation private bash -euo pipefail -c '
	[ -z "$SANDBOX_RUNTIME" ] || mkdir -p "/run/$SANDBOX_RUNTIME"
	for d in /*; do
		case $d in /dev | /proc | /sys | /tmp) continue ;; esac
		[ -d "$d" ] && [ ! -L "$d" ] || continue
		mount -n --rbind "$d" "$d"
		mount -n -o remount,bind,ro "$d"
	done
	mount -n --rbind /sys /sys
	mount -n -o remount,bind,ro /sys
	mount -n -t tmpfs -o mode=1777 tmpfs /tmp
	if [ -n "$SANDBOX_PROC" ]; then
		mount -n -t proc -o "nosuid,nodev,noexec,$SANDBOX_PROC" proc /proc
	fi
	if [ "$SANDBOX_DEVICES" = yes ]; then
		# The nodes PrivateDevices= keeps; the host nodes are bind-mounted onto files of a
		# fresh tmpfs, so nothing else (block devices, hidraw) is reachable.
		mkdir -p /tmp/.dev
		mount -n -t tmpfs -o mode=755,nosuid tmpfs /tmp/.dev
		for n in null zero full random urandom tty; do
			touch "/tmp/.dev/$n"
			mount -n --bind "/dev/$n" "/tmp/.dev/$n"
		done
		ln -s /proc/self/fd /tmp/.dev/fd
		mkdir /tmp/.dev/shm /tmp/.dev/pts
		mount -n --move /tmp/.dev /dev
	fi
	for p in $SANDBOX_RW ${SANDBOX_RUNTIME:+"/run/$SANDBOX_RUNTIME"}; do
		optional=
		case $p in -*) optional=1; p=${p#-} ;; esac
		if [ ! -e "$p" ]; then
			[ -n "$optional" ] && continue
			echo "sandbox_run: $p does not exist" >&2
			exit 1
		fi
		mount -n --bind "$p" "$p"
		mount -n -o remount,bind,rw "$p"
	done
	exec setpriv --bounding-set "$SANDBOX_CAPS" --inh-caps -all --ambient-caps -all \
		--no-new-privs "$@"
' sandbox_run "$@"
