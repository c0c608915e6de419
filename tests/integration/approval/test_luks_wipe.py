"""A service-run wipe of an encrypted stick (a LUKS2 container made by Debian's
cryptsetup on the real loop device behind the approved stick): "finish and wipe" through
the installed portcullisd crypto-erases it (headers and keyslots gone, the passphrase no
longer opens it), then overwrites every byte, and the certificate signed with the PC's
wipe key says Purge followed by Clear."""
import base64
import json
import os
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from approvals import PERSONAL, enrol, start
from harness import RealMedium, real, storage_in


@pytest.mark.loop_devices
def test_finish_and_wipe_crypto_erases_a_luks_stick_then_overwrites_it(pc, key):
    medium = RealMedium()
    try:
        keyfile = os.path.join(medium.tmp, "pass")
        with open(keyfile, "w") as f:
            f.write("correct horse battery staple")
        real(["cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2",
              "--pbkdf-force-iterations", "1000", "--key-file", keyfile, medium.loop],
             check=True)
        start(pc)
        assert enrol(pc, key).returncode == 0
        pc.add("stick-personal.umockdev", plug=True)
        pc.wait_record(lambda r: r["event.action"] == "device-blocked")
        pc.cli("approve", "1-2", "--read-write", "--reason", "minutes", "--key",
               "sim:" + key.sock)
        storage_in(pc, medium, PERSONAL, probe=True)
        pc.cli("wipe", "1-2")
        done = pc.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                              timeout=120)
        assert done["event.action"] == "wipe-done", done
        assert real(["cryptsetup", "isLuks", medium.loop]).returncode != 0
        assert real(["cryptsetup", "open", "--test-passphrase", "--key-file", keyfile,
                     medium.loop], stderr=subprocess.DEVNULL).returncode != 0
        with open(done["wipe.certificate_file"]) as f:
            signed = json.load(f)
        cert = signed["certificate"]
        assert cert["method_type"] == "Purge", cert
        assert cert["method"].startswith("Purge (cryptographic erase") and \
            "followed by Clear" in cert["method"], cert["method"]
        assert cert["verified_bytes"] == cert["media"]["capacity_bytes"] and cert["passes"] == 2
        body = json.dumps(cert, separators=(",", ":"), ensure_ascii=False).encode()
        Ed25519PublicKey.from_public_bytes(
            base64.b64decode(pc.wipe_public["wipe-public-key"])).verify(
                base64.b64decode(signed["signature"]["value"]), body)
    finally:
        medium.close()
