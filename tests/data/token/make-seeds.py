#!/usr/bin/python3
"""Write the seed corpora of the token fuzz harnesses (tests/fuzz/token).

Run from this directory: ./make-seeds.py. Seeds are small valid requests, so the fuzzers
start from inputs that reach deep into the CTAP2 and CTAPHID code.
"""
import os
import struct


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    raise ValueError(n)


def enc(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        items.sort(key=lambda kv: (len(kv[0]), kv[0]))
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


CDH = bytes(range(32))
ES256 = [{"alg": -7, "type": "public-key"}]
CRED_ID = bytes([1]) + bytes(63)
PEER = {1: 2, 3: -25, -1: 1, -2: bytes(range(32)), -3: bytes(range(32, 64))}

cbor_seeds = {
    "getinfo": b"\x04",
    "mc": b"\x01" + enc({1: CDH, 2: {"id": "rp.test", "name": "RP"},
                         3: {"id": b"user", "name": "u", "displayName": "U"}, 4: ES256}),
    "mc-rk-protect": b"\x01" + enc({1: CDH, 2: {"id": "rp.test"}, 3: {"id": b"user"},
                                    4: ES256, 5: [{"id": CRED_ID, "type": "public-key"}],
                                    6: {"credProtect": 3}, 7: {"rk": True}}),
    "mc-pin": b"\x01" + enc({1: CDH, 2: {"id": "rp.test"}, 3: {"id": b"u"}, 4: ES256,
                             8: bytes(32), 9: 2}),
    "ga": b"\x02" + enc({1: "rp.test", 2: CDH,
                         3: [{"id": CRED_ID, "type": "public-key"}], 5: {"up": False}}),
    "ga-rk": b"\x02" + enc({1: "rp.test", 2: CDH}),
    "pin-retries": b"\x06" + enc({1: 1, 2: 1}),
    "pin-ka": b"\x06" + enc({1: 2, 2: 2}),
    "pin-set": b"\x06" + enc({1: 1, 2: 3, 3: PEER, 4: bytes(16), 5: bytes(64)}),
    "pin-change": b"\x06" + enc({1: 2, 2: 4, 3: PEER, 4: bytes(32), 5: bytes(80),
                                 6: bytes(32)}),
    "pin-token": b"\x06" + enc({1: 2, 2: 9, 3: PEER, 6: bytes(32), 9: 3, 10: "rp.test"}),
    "reset": b"\x07",
    "gna": b"\x08",
}


def reports(cid, cmd, data):
    out = [struct.pack(">IBH", cid, cmd, len(data)) + data[:57]]
    off, seq = 57, 0
    while off < len(data):
        out.append(struct.pack(">IB", cid, seq) + data[off:off + 59])
        off += 59
        seq += 1
    return [r.ljust(64, b"\0") for r in out]


def stream(flags, *msgs):
    out = bytes([flags])
    for cid, cmd, data in msgs:
        for r in reports(cid, cmd, data):
            out += b"\x00" + r
    return out


BC = 0xFFFFFFFF
INIT = (BC, 0x86, bytes(range(8)))
ctaphid_seeds = {
    "init-ping": stream(0, INIT, (1, 0x81, b"hello" * 30)),
    "init-getinfo": stream(0, INIT, (1, 0x90, b"\x04")),
    "init-mc": stream(1, INIT, (1, 0x90, cbor_seeds["mc"])),
    "init-ga": stream(1, INIT, (1, 0x90, cbor_seeds["ga-rk"])),
    "init-u2f-version": stream(0, INIT, (1, 0x83, bytes([0, 3, 0, 0, 0, 0, 0]))),
    "init-u2f-register": stream(1, INIT, (1, 0x83, bytes([0, 1, 0, 0, 0, 0, 64]) +
                                           bytes(64) + b"\0\0")),
    "init-wink-cancel": stream(0, INIT, (1, 0x88, b""), (1, 0x91, b"")),
    "busy": stream(0, INIT, INIT, (1, 0x81, bytes(100))[:3], (2, 0x81, b"x")),
}

for name, corpus in (("fuzz-cbor", cbor_seeds), ("fuzz-ctaphid", ctaphid_seeds)):
    os.makedirs(name, exist_ok=True)
    for seed, data in corpus.items():
        with open(os.path.join(name, seed), "wb") as f:
            f.write(data)
