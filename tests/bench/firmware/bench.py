#!/usr/bin/python3
"""Benchmark of the token firmware on an emulated Cortex-M33 (qemu-system-arm -M mps2-an505
-icount shift=0, one instruction per virtual nanosecond): instructions executed by the
board for one get-assertion (the real core + BearSSL, measured by the board outside its
waits), and for one bare BearSSL ECDSA P-256 signature; estimated time at the RP2350's
150 MHz. Prints a markdown section for tests/bench/record.sh firmware.

usage: bench.py FIRMWARE_BUILD_DIR [ROUNDS]
"""
import hashlib
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "integration", "firmware"))
from fido2.ctap2 import Ctap2  # noqa: E402
from qemu_token import QemuToken  # noqa: E402

RP = {"id": "council.example", "name": "Parish Council"}
USER = {"id": b"clerk-0001", "name": "clerk"}
MHZ = 150


def ecdsa_sign_insn(fwdir):
    out = subprocess.run(["qemu-system-arm", "-M", "mps2-an505", "-cpu", "cortex-m33",
                          "-nographic", "-semihosting", "-icount", "shift=0", "-kernel",
                          os.path.join(fwdir, "mps2-an505", "an505-crypto-selftest")],
                         capture_output=True, text=True, timeout=120, check=True)
    out = out.stdout + out.stderr
    return int(re.search(r"sign_insn=(\d+)", out).group(1))


def main():
    fwdir = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    t = QemuToken(os.path.join(fwdir, "mps2-an505", "an505-token"))
    try:
        ctap = Ctap2(t.device())
        h = hashlib.sha256(b"bench").digest()
        t.work_instructions()
        att = ctap.make_credential(h, RP, USER, [{"type": "public-key", "alg": -7}])
        mc = t.work_instructions()
        allow = [{"type": "public-key", "id": att.auth_data.credential_data.credential_id}]
        ga = []
        for i in range(rounds):
            h = hashlib.sha256(b"bench %d" % i).digest()
            t.work_instructions()
            a = ctap.get_assertion(RP["id"], h, allow)
            ga.append(t.work_instructions())
            a.verify(h, att.auth_data.credential_data.public_key)
    finally:
        t.close()
    sign = ecdsa_sign_insn(fwdir)
    med = statistics.median(ga)

    def ms(insn, cpi):
        return insn * cpi / (MHZ * 1000.0)

    print("## firmware")
    print()
    print("Token firmware on Cortex-M33: `qemu-system-arm -M mps2-an505 -icount shift=0`, "
          "instructions counted by the board (virtual time outside its UART waits), "
          f"run by `tests/bench/firmware/run.sh` ({rounds} get-assertions, median).")
    print()
    print("| operation | instructions | est. at 150 MHz, CPI 1.0 | CPI 1.5 |")
    print("|---|---:|---:|---:|")
    print(f"| get-assertion (core + BearSSL, whole request) | {med:,} | {ms(med, 1):.1f} ms "
          f"| {ms(med, 1.5):.1f} ms |")
    print(f"| make-credential | {mc:,} | {ms(mc, 1):.1f} ms | {ms(mc, 1.5):.1f} ms |")
    print(f"| bare BearSSL ECDSA P-256 sign (i31, m31) | {sign:,} | {ms(sign, 1):.1f} ms "
          f"| {ms(sign, 1.5):.1f} ms |")
    print()
    print(f"Ratios: get-assertion / bare ECDSA sign = {med / sign:.2f}; "
          f"estimated get-assertion / 100 ms goal = {ms(med, 1.5) / 100:.2f} (CPI 1.5). "
          "Instruction counts are exact for the emulated ISA; the time is an estimate "
          "(CPI of a Cortex-M33 running from XIP flash with its cache is not emulated), "
          "not a measurement on an RP2350. Debian's qemu-system-arm 7.2 ships no TCG "
          "plugins, hence the icount clock rather than an instruction-counting plugin.")


if __name__ == "__main__":
    main()
