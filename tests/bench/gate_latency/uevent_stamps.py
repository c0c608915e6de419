#!/usr/bin/env python3
"""uevent_stamps.py - run as root in the kernel test bed's guest: stamps, with
CLOCK_MONOTONIC, each USB device's "add" as the kernel sends it (netlink group 1), as
systemd-udevd re-broadcasts it after its rules (group 2, matched by SEQNUM), and the first
write to the device's `authorized` file (inotify IN_MODIFY, watched from the kernel's
add on). Prints one JSON line per device once all three are seen (or the timeout ends).
Usage: uevent_stamps.py OUT COUNT [TIMEOUT_S]. Inputs: the kernel's and udevd's uevents."""
import ctypes
import json
import os
import select
import socket
import struct
import sys
import time

NETLINK_KOBJECT_UEVENT = 15
IN_MODIFY = 0x2
libc = ctypes.CDLL(None, use_errno=True)


def props(buf):
    if buf.startswith(b"libudev\0"):
        off, length = struct.unpack_from("=II", buf, 16)
        body = buf[off:off + length]
    else:
        body = buf[buf.index(b"\0") + 1:]
    out = {}
    for kv in body.split(b"\0"):
        k, sep, v = kv.partition(b"=")
        if sep:
            out[k.decode()] = v.decode(errors="replace")
    return out


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 600
    socks = {}
    for group in (1, 2):
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((0, group))
        socks[s.fileno()] = (s, group)
    ino = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    ready = open(out + ".ready", "w")
    ready.close()
    pending, wd_of, done = {}, {}, 0
    end = time.monotonic() + timeout
    with open(out, "a") as f:
        while done < count and time.monotonic() < end:
            r, _, _ = select.select(list(socks) + [ino], [], [], 1.0)
            for fd in r:
                now = time.clock_gettime(time.CLOCK_MONOTONIC)
                if fd == ino:
                    data = os.read(ino, 4096)
                    o = 0
                    while o < len(data):
                        wd, mask, _, ln = struct.unpack_from("iIII", data, o)
                        o += 16 + ln
                        ent = pending.get(wd_of.get(wd))
                        if ent is not None and "authorized" not in ent:
                            ent["authorized"] = now
                    continue
                s, group = socks[fd]
                p = props(s.recv(1 << 16))
                if p.get("SUBSYSTEM") != "usb" or p.get("DEVTYPE") != "usb_device" or \
                        p.get("ACTION") != "add":
                    continue
                seq = p.get("SEQNUM")
                ent = pending.setdefault(seq, {"devpath": p.get("DEVPATH")})
                if group == 1:
                    ent["kernel"] = now
                    path = "/sys" + p["DEVPATH"] + "/authorized"
                    wd = libc.inotify_add_watch(ino, path.encode(), IN_MODIFY)
                    if wd >= 0:
                        wd_of[wd] = seq
                    with open(path) as a:
                        ent["authorized_at_watch"] = a.read().strip()
                else:
                    ent["udev"] = now
            for seq, ent in list(pending.items()):
                if all(k in ent for k in ("kernel", "udev", "authorized")):
                    ent["seqnum"] = seq
                    f.write(json.dumps(ent) + "\n")
                    f.flush()
                    del pending[seq]
                    done += 1
        for seq, ent in pending.items():
            ent["seqnum"] = seq
            ent["incomplete"] = True
            f.write(json.dumps(ent) + "\n")


if __name__ == "__main__":
    main()
