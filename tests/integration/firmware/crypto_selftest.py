#!/usr/bin/python3
"""Run the BearSSL Cortex-M33 self-test image under qemu-system-arm (mps2-an505) and
re-verify its ECDSA P-256 signature on the host with OpenSSL (python3-cryptography).

usage: crypto_selftest.py IMAGE.elf
Trust: the image's output is parsed as untrusted text; any missing field fails the test.
"""
import subprocess
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def run_qemu(image):
    cmd = ["qemu-system-arm", "-M", "mps2-an505", "-cpu", "cortex-m33", "-nographic",
           "-semihosting", "-icount", "shift=0", "-kernel", image]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def main():
    rc, out = run_qemu(sys.argv[1])
    print(out)
    fields = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
    if rc != 0 or "SELFTEST OK" not in out:
        sys.exit(f"crypto_selftest: target reported failure (exit {rc})")
    for k in ("pub", "sig", "msg", "sign_insn"):
        if k not in fields:
            sys.exit(f"crypto_selftest: field '{k}' missing from target output")
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                       bytes.fromhex(fields["pub"]))
    sig = bytes.fromhex(fields["sig"])
    msg = fields["msg"].encode()
    pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
    print("host: OpenSSL verified the target's signature")
    bad = bytearray(msg)
    bad[0] ^= 1
    try:
        pub.verify(sig, bytes(bad), ec.ECDSA(hashes.SHA256()))
        sys.exit("crypto_selftest: signature verified over a different message")
    except InvalidSignature:
        print("host: signature over an altered message rejected")


if __name__ == "__main__":
    main()
