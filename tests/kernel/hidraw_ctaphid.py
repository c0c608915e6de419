"""hidraw_ctaphid.py - a raw CTAPHID client on a hidraw node, run inside the kernel test
bed's guest (tests/kernel/test_usbredir.py): allocates a channel, sends the first packet of
a 100-byte PING, waits GAP milliseconds, sends the continuation, and prints what the token
answered on that channel as one JSON line: {"cid": ..., "answers": [[cmd, payload hex]],
"ping": the PING payload in hex}; keepalives are left out.

    python3 hidraw_ctaphid.py /dev/hidrawN GAP_MS

Reports are written with the report ID byte 0 (the token's reports have no ID), 65 bytes,
as libfido2 writes them. Its input is the token's answers, checked for length.
"""
import json
import os
import select
import sys
import time

BROADCAST = 0xFFFFFFFF
INIT, PING, ERROR, KEEPALIVE = 0x86, 0x81, 0xBF, 0xBB


def write(fd, cid, body):
    pkt = cid.to_bytes(4, "big") + body
    os.write(fd, b"\0" + pkt + bytes(64 - len(pkt)))


def read(fd, timeout):
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return None
    pkt = os.read(fd, 64)
    if len(pkt) != 64:
        raise SystemExit("short report from the token: %d bytes" % len(pkt))
    return pkt


def messages(fd, cid, timeout):
    """Whole messages for cid until nothing comes for `timeout` seconds."""
    out = []
    while True:
        pkt = read(fd, timeout)
        if pkt is None:
            return out
        if int.from_bytes(pkt[:4], "big") != cid or not pkt[4] & 0x80:
            continue
        cmd, n = pkt[4], pkt[5] << 8 | pkt[6]
        data = pkt[7:7 + n]
        while len(data) < n:
            cont = read(fd, 2)
            if cont is None:
                raise SystemExit("the token stopped mid-message")
            data += cont[5:5 + n - len(data)]
        if cmd != KEEPALIVE:
            out.append([cmd, data.hex()])


def main():
    path, gap = sys.argv[1], int(sys.argv[2]) / 1000.0
    fd = os.open(path, os.O_RDWR)
    nonce = os.urandom(8)
    write(fd, BROADCAST, bytes([INIT, 0, 8]) + nonce)
    while True:
        pkt = read(fd, 5)
        if pkt is None:
            raise SystemExit("no INIT answer from the token")
        if pkt[4] == INIT and pkt[7:15] == nonce:
            cid = int.from_bytes(pkt[15:19], "big")
            break
    payload = bytes(range(100))
    write(fd, cid, bytes([PING, 0, 100]) + payload[:57])
    time.sleep(gap)
    write(fd, cid, bytes([0]) + payload[57:])
    print(json.dumps({"cid": cid, "answers": messages(fd, cid, 1.5),
                      "ping": payload.hex()}))


main()
