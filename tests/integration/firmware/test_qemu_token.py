"""The real token core and BearSSL, built for Cortex-M33, under qemu-system-arm
(mps2-an505), driven by python3-fido2: make credential, get assertion, PIN protocols 1
and 2, and every signature verified on the host with OpenSSL (python3-cryptography).

Run by CTest (firmware_qemu_token) with PCL_FW_IMAGE pointing at the an505-token ELF.
"""
import hashlib
import os

import pytest
from fido2.attestation import Attestation
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.base import AttestedCredentialData
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2

from qemu_token import QemuToken

RP = {"id": "council.example", "name": "Parish Council"}
USER = {"id": b"clerk-0001", "name": "clerk"}
ES256 = [{"type": "public-key", "alg": -7}]


@pytest.fixture(scope="module")
def token():
    t = QemuToken(os.environ["PCL_FW_IMAGE"])
    try:
        yield t
    finally:
        t.close()


@pytest.fixture(scope="module")
def ctap(token):
    return Ctap2(token.device())


def cdh(label):
    return hashlib.sha256(label.encode()).digest()


def make_verified_credential(ctap, client_hash, **kw):
    att = ctap.make_credential(client_hash, RP, USER, ES256, **kw)
    assert att.fmt == "packed"
    # Self attestation: the credential key signs authData || clientDataHash.
    Attestation.for_type(att.fmt)().verify(att.att_statement, att.auth_data, client_hash)
    assert att.auth_data.flags & 0x01, "UP flag must be set after a touch"
    return att, att.auth_data.credential_data


def test_get_info_names_fido2_and_the_pin_protocols(ctap):
    info = ctap.info
    assert "FIDO_2_0" in info.versions
    assert 1 in info.pin_uv_protocols or 2 in info.pin_uv_protocols
    assert "clientPin" in info.options


def test_make_credential_and_get_assertion_verify_on_the_host(ctap, token):
    h = cdh("make-credential")
    att, cred = make_verified_credential(ctap, h)
    assert isinstance(cred, AttestedCredentialData)
    allow = [{"type": "public-key", "id": cred.credential_id}]

    counters = []
    for i in range(2):
        h = cdh(f"assert-{i}")
        token.work_instructions()  # reset the board's counter
        a = ctap.get_assertion(RP["id"], h, allow)
        insn = token.work_instructions()
        print(f"get_assertion_insn={insn}")
        a.verify(h, cred.public_key)  # OpenSSL via python3-cryptography
        with pytest.raises(Exception):
            a.verify(cdh("some other request"), cred.public_key)
        counters.append(a.auth_data.counter)
        assert insn > 100000, "a P-256 signature cannot take fewer instructions"
    assert counters[1] > counters[0], "signature counter must increase"
    path = os.environ.get("PCL_FW_BENCH_OUT")
    if path:
        with open(path, "w") as f:
            f.write(f"{insn}\n")


def test_no_touch_means_no_signature(ctap, token):
    att, cred = make_verified_credential(ctap, cdh("for-up-test"))
    allow = [{"type": "public-key", "id": cred.credential_id}]
    token.auto_touch = False
    try:
        with pytest.raises(CtapError) as e:
            ctap.get_assertion(RP["id"], cdh("nobody touched"), allow)
        assert e.value.code == CtapError.ERR.USER_ACTION_TIMEOUT
    finally:
        token.auto_touch = True
    h = cdh("touched again")
    ctap.get_assertion(RP["id"], h, allow).verify(h, cred.public_key)


def test_unknown_credential_is_refused(ctap):
    bogus = [{"type": "public-key", "id": os.urandom(64)}]
    with pytest.raises(CtapError) as e:
        ctap.get_assertion(RP["id"], cdh("x"), bogus)
    assert e.value.code == CtapError.ERR.NO_CREDENTIALS


@pytest.mark.parametrize("proto", [PinProtocolV2, PinProtocolV1])
def test_pin_protocol_token_gives_uv_credentials(ctap, proto):
    client = ClientPin(ctap, proto())
    if not ctap.get_info().options.get("clientPin"):
        client.set_pin("4321")
    assert ctap.get_info().options.get("clientPin") is True
    retries = client.get_pin_retries()[0]
    assert retries == 8

    perms = ClientPin.PERMISSION.MAKE_CREDENTIAL | ClientPin.PERMISSION.GET_ASSERTION
    with pytest.raises(CtapError) as e:
        client.get_pin_token("0000", perms, RP["id"])
    assert e.value.code == CtapError.ERR.PIN_INVALID
    assert client.get_pin_retries()[0] == retries - 1

    pin_token = client.get_pin_token("4321", perms, RP["id"])
    assert client.get_pin_retries()[0] == 8, "a correct PIN resets the retry counter"
    h = cdh("with-pin")
    att, cred = make_verified_credential(
        ctap, h, pin_uv_param=client.protocol.authenticate(pin_token, h),
        pin_uv_protocol=client.protocol.VERSION)
    assert att.auth_data.flags & 0x04, "UV flag must be set with a PIN token"

    h = cdh("assert-with-pin")
    a = ctap.get_assertion(RP["id"], h, [{"type": "public-key", "id": cred.credential_id}],
                           pin_uv_param=client.protocol.authenticate(pin_token, h),
                           pin_uv_protocol=client.protocol.VERSION)
    a.verify(h, cred.public_key)
    assert a.auth_data.flags & 0x05 == 0x05

    # A pinUvAuthParam made with the wrong token is refused.
    h = cdh("bad-token")
    with pytest.raises(CtapError) as e:
        ctap.make_credential(h, RP, USER, ES256,
                             pin_uv_param=client.protocol.authenticate(os.urandom(32), h),
                             pin_uv_protocol=client.protocol.VERSION)
    assert e.value.code == CtapError.ERR.PIN_AUTH_INVALID
