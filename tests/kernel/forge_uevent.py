#!/usr/bin/env python3
"""forge_uevent.py - run in the kernel test bed's guest by test_gate.py: sends a forged
uevent for a USB device on the uevent netlink family, in the kernel's format to group 1
and in libudev's format (with the subsystem hash libudev's filters check) to group 2.
Usage: forge_uevent.py ACTION DEVPATH BUSNUM DEVNUM [GROUPS] (GROUPS: "1", "2" or
"12", the default). Prints, per group, "sent" or the
error the kernel gave."""
import socket
import struct
import sys

NETLINK_KOBJECT_UEVENT = 15


def murmur2(data, seed=0):
    """MurmurHash2, 32 bits, as libudev hashes a subsystem for its socket filter."""
    m, r = 0x5bd1e995, 24
    h = (seed ^ len(data)) & 0xffffffff
    i = 0
    while len(data) - i >= 4:
        k = struct.unpack_from("<I", data, i)[0]
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
        i += 4
    rest = data[i:]
    if len(rest) >= 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if len(rest) >= 1:
        h ^= rest[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h


def main():
    action, devpath, busnum, devnum = sys.argv[1:5]
    groups = sys.argv[5] if len(sys.argv) > 5 else "12"
    props = ("ACTION=%s\0DEVPATH=%s\0SUBSYSTEM=usb\0DEVTYPE=usb_device\0BUSNUM=%s\0"
             "DEVNUM=%s\0SEQNUM=4000000000\0" % (action, devpath, busnum, devnum)).encode()
    kernel = ("%s@%s\0" % (action, devpath)).encode() + props
    # libudev reads its header in host order except the magic and the hashes.
    hdr = b"libudev\0" + struct.pack("!I", 0xfeedcafe) + struct.pack(
        "=III", 40, 40, len(props)) + struct.pack("!II", murmur2(b"usb"),
                                                  murmur2(b"usb_device")) + b"\0" * 8
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
    s.bind((0, 0))
    for group, msg in ((1, kernel), (2, hdr + props)):
        if str(group) not in groups:
            continue
        try:
            s.sendto(msg, (0, group))
            print("group %d: sent" % group)
        except OSError as e:
            print("group %d: %s" % (group, e.strerror))


if __name__ == "__main__":
    main()
