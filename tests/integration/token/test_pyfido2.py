"""Conformance of portcullis-token-sim through an independent client: Debian's
python3-fido2 0.9.1 (Fido2Client, Ctap2, ClientPin with PIN/UV protocols 1 and 2, Ctap1)
over a custom CtapHidConnection. Run by CTest (token_pyfido2) with PCL_PREFIX set.
"""
import hashlib
import os
import struct
import threading

import pytest
from fido2.attestation import PackedAttestation, AttestationType
from fido2.client import Fido2Client
from fido2.ctap import CtapError
from fido2.ctap1 import ApduError, Ctap1
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.hid import CTAPHID
from fido2.server import Fido2Server

from simconn import Simulator

RP = {"id": "portcullis.test", "name": "Portcullis test"}
ORIGIN = "https://portcullis.test"
ES256 = [{"type": "public-key", "alg": -7}]


@pytest.fixture
def sim(tmp_path):
    s = Simulator(tmp_path)
    yield s
    s.stop()


def verify_self_attestation(att_obj, client_data_hash):
    result = PackedAttestation().verify(
        att_obj.att_statement, att_obj.auth_data, client_data_hash
    )
    assert result.attestation_type == AttestationType.SELF


def make_cred(ctap2, user=b"alice", rk=False, ext=None, **kw):
    cdh = os.urandom(32)
    att = ctap2.make_credential(
        cdh, RP, {"id": user, "name": user.decode()}, ES256,
        extensions=ext, options={"rk": True} if rk else None, **kw
    )
    return cdh, att


def test_get_info(sim):
    info = Ctap2(sim.start("--auto-touch").device()).info
    assert "FIDO_2_0" in info.versions and "U2F_V2" in info.versions
    assert len(info.aaguid) == 16
    assert info.options["rk"] is True and info.options["clientPin"] is False
    assert info.max_msg_size == 1200
    assert info.pin_uv_protocols == [2, 1]
    assert "credProtect" in info.extensions


def test_fido2client_register_and_authenticate_with_server(sim):
    dev = sim.start("--auto-touch").device()
    client = Fido2Client(dev, ORIGIN)
    server = Fido2Server(RP, attestation="direct")
    user = {"id": b"user-1", "name": "clerk"}
    options, state = server.register_begin(user, user_verification="discouraged")
    result = client.make_credential(options["publicKey"])
    att = result.attestation_object
    verify_self_attestation(att, result.client_data.hash)
    auth_data = server.register_complete(state, result.client_data, att)
    creds = [auth_data.credential_data]
    assert len(auth_data.credential_data.credential_id) == 64

    options, state = server.authenticate_begin(creds, user_verification="discouraged")
    sel = client.get_assertion(options["publicKey"])
    resp = sel.get_response(0)
    server.authenticate_complete(
        state, creds, resp.credential_id, resp.client_data,
        resp.authenticator_data, resp.signature,
    )
    assert resp.authenticator_data.counter > auth_data.counter


def test_user_presence_keepalive_timeout_and_touch(sim):
    dev = sim.start("--up-timeout", "700").device()
    ctap2 = Ctap2(dev)
    statuses = []
    with pytest.raises(CtapError) as e:
        make_cred(ctap2, on_keepalive=statuses.append)
    assert e.value.code == CtapError.ERR.USER_ACTION_TIMEOUT
    assert 2 in statuses  # KEEPALIVE UPNEEDED
    threading.Timer(0.3, sim.touch).start()
    cdh, att = make_cred(ctap2)
    verify_self_attestation(att, cdh)


def test_selection_waits_for_a_touch(sim):
    dev = sim.start("--up-timeout", "600").device()
    ctap2 = Ctap2(dev)
    with pytest.raises(CtapError) as e:
        ctap2.selection()
    assert e.value.code == CtapError.ERR.USER_ACTION_TIMEOUT
    threading.Timer(0.3, sim.touch).start()
    ctap2.selection()


def test_cancel_while_waiting_for_touch(sim):
    dev = sim.start("--up-timeout", "5000").device()
    ctap2 = Ctap2(dev)
    event = threading.Event()
    threading.Timer(0.3, event.set).start()
    with pytest.raises(CtapError) as e:
        make_cred(ctap2, event=event)
    assert e.value.code == CtapError.ERR.KEEPALIVE_CANCEL


@pytest.mark.parametrize("protocol", [PinProtocolV1, PinProtocolV2])
def test_client_pin_protocols(sim, protocol):
    ctap2 = Ctap2(sim.start("--auto-touch").device())
    pin = ClientPin(ctap2, protocol())
    pin.set_pin("2468")
    assert pin.get_pin_retries()[0] == 8
    # CTAP 2.1: a token request without permissions is incomplete
    with pytest.raises(CtapError) as e:
        pin.get_pin_token("2468")
    assert e.value.code == CtapError.ERR.MISSING_PARAMETER
    assert pin.get_pin_retries()[0] == 8
    with pytest.raises(CtapError) as e:
        pin.get_pin_token("1111", ClientPin.PERMISSION.GET_ASSERTION)
    assert e.value.code == CtapError.ERR.PIN_INVALID
    assert pin.get_pin_retries()[0] == 7
    pin.change_pin("2468", "13579")
    assert pin.get_pin_retries()[0] == 8
    token = pin.get_pin_token(
        "13579", ClientPin.PERMISSION.MAKE_CREDENTIAL, RP["id"]
    )
    cdh = os.urandom(32)
    att = ctap2.make_credential(
        cdh, RP, {"id": b"u"}, ES256,
        pin_uv_param=pin.protocol.authenticate(token, cdh),
        pin_uv_protocol=pin.protocol.VERSION,
    )
    assert att.auth_data.flags & 0x04  # UV
    verify_self_attestation(att, cdh)
    # the token is for makeCredential at this RP only
    with pytest.raises(CtapError) as e:
        ctap2.get_assertion(
            RP["id"], cdh, pin_uv_param=pin.protocol.authenticate(token, cdh),
            pin_uv_protocol=pin.protocol.VERSION,
        )
    assert e.value.code == CtapError.ERR.PIN_AUTH_INVALID
    # without the PIN, makeCredential is refused
    with pytest.raises(CtapError) as e:
        make_cred(ctap2)
    assert e.value.code == CtapError.ERR.PIN_REQUIRED


def test_pin_lockout_three_per_power_cycle_eight_in_all(sim):
    sim.start("--auto-touch")
    pin = ClientPin(Ctap2(sim.device()), PinProtocolV1())
    pin.set_pin("1234")
    codes = []
    for cycle in range(3):
        if cycle:
            sim.restart("--auto-touch")
            pin = ClientPin(Ctap2(sim.device()), PinProtocolV1())
        for _ in range(3):
            with pytest.raises(CtapError) as e:
                pin.get_pin_token("0000", ClientPin.PERMISSION.GET_ASSERTION)
            codes.append(e.value.code)
    E = CtapError.ERR
    assert codes[:3] == [E.PIN_INVALID, E.PIN_INVALID, E.PIN_AUTH_BLOCKED]
    assert codes[3:6] == [E.PIN_INVALID, E.PIN_INVALID, E.PIN_AUTH_BLOCKED]
    assert codes[6:] == [E.PIN_INVALID, E.PIN_BLOCKED, E.PIN_BLOCKED]
    assert pin.get_pin_retries()[0] == 0
    with pytest.raises(CtapError) as e:
        pin.get_pin_token("1234", ClientPin.PERMISSION.GET_ASSERTION)
    assert e.value.code == E.PIN_BLOCKED


def test_reset_window(sim):
    ctap2 = Ctap2(sim.start("--auto-touch", "--reset-window", "0").device())
    with pytest.raises(CtapError) as e:
        ctap2.reset()
    assert e.value.code == CtapError.ERR.NOT_ALLOWED
    ctap2 = Ctap2(sim.restart("--auto-touch", "--reset-window", "5000").device())
    cdh, att = make_cred(ctap2)
    ctap2.reset()
    cred = {"type": "public-key", "id": att.auth_data.credential_data.credential_id}
    with pytest.raises(CtapError) as e:
        ctap2.get_assertion(RP["id"], os.urandom(32), allow_list=[cred])
    assert e.value.code == CtapError.ERR.NO_CREDENTIALS


def test_cred_protect_and_discoverable_credentials(sim):
    ctap2 = Ctap2(sim.start("--auto-touch").device())
    _, a1 = make_cred(ctap2, b"one", rk=True)
    _, a2 = make_cred(ctap2, b"two", rk=True)
    _, a3 = make_cred(ctap2, b"three", rk=True, ext={"credProtect": 3})
    assert a3.auth_data.extensions == {"credProtect": 3}
    cdh = os.urandom(32)
    first = ctap2.get_assertion(RP["id"], cdh)
    assert first.number_of_credentials == 2  # level 3 is hidden without UV
    rest = ctap2.get_next_assertion()
    users = [first.user["id"], rest.user["id"]]
    assert users == [b"two", b"one"]  # newest first
    for assertion, att in ((first, a2), (rest, a1)):
        assertion.verify(cdh, att.auth_data.credential_data.public_key)
    with pytest.raises(CtapError) as e:
        ctap2.get_next_assertion()
    assert e.value.code == CtapError.ERR.NOT_ALLOWED


def test_counter_never_repeats_across_restarts(sim):
    ctap2 = Ctap2(sim.start("--auto-touch").device())
    _, att = make_cred(ctap2)
    cred = {"type": "public-key", "id": att.auth_data.credential_data.credential_id}
    seen = [att.auth_data.counter]
    for _ in range(3):
        ctap2 = Ctap2(sim.restart("--auto-touch").device())
        a = ctap2.get_assertion(RP["id"], os.urandom(32), allow_list=[cred])
        seen.append(a.auth_data.counter)
    assert seen == sorted(set(seen))


def test_ctap1_register_and_authenticate(sim):
    ctap1 = Ctap1(sim.start("--auto-touch").device())
    assert ctap1.get_version() == "U2F_V2"
    app = hashlib.sha256(b"https://portcullis.test").digest()
    chal = os.urandom(32)
    reg = ctap1.register(chal, app)
    reg.verify(app, chal)
    with pytest.raises(ApduError) as e:
        ctap1.authenticate(chal, app, reg.key_handle, check_only=True)
    assert e.value.code == 0x6985  # known key handle
    sig = ctap1.authenticate(chal, app, reg.key_handle)
    sig.verify(app, chal, reg.public_key)
    sig2 = ctap1.authenticate(chal, app, reg.key_handle)
    assert sig2.counter > sig.counter
    with pytest.raises(ApduError) as e:
        ctap1.authenticate(chal, hashlib.sha256(b"other").digest(), reg.key_handle)
    assert e.value.code == 0x6A80


def test_ctap1_needs_a_touch(sim):
    ctap1 = Ctap1(sim.start().device())
    with pytest.raises(ApduError) as e:
        ctap1.register(os.urandom(32), os.urandom(32))
    assert e.value.code == 0x6985


def test_malformed_cbor_gets_spec_errors(sim):
    dev = sim.start("--auto-touch").device()
    cases = [
        (b"\x01\xa2\x01\x40\x01\x40", 0x12),  # duplicate key
        (b"\x01\xa1\x18\x01\x40", 0x12),  # non-canonical integer
        (b"\x01\xa1\x01\x5f\x41\x00\xff", 0x12),  # indefinite length
        (b"\x01\xa1\x01\x5a\xff\xff\xff\xff", 0x03),  # huge length
        (b"\x01\x81\x81\x81\x81\x81\x80", 0x12),  # too deep
        (b"\x02\xa2\x01\x01\x02\x58\x20" + bytes(32), 0x11),  # rpId not text
        (b"\x01\xa0", 0x14),  # missing parameters
        (b"\x55", 0x01),  # unknown command
    ]
    for req, status in cases:
        resp = dev.call(CTAPHID.CBOR, req)
        assert resp[0] == status, (req.hex(), resp.hex())
    # still healthy afterwards
    assert Ctap2(dev).get_info().versions


def test_ctaphid_ping_wink_and_framing(sim):
    dev = sim.start().device()
    msg = os.urandom(1000)
    assert dev.ping(msg) == msg
    dev.wink()
    conn = dev._connection
    # a continuation out of sequence: ERR_INVALID_SEQ (0x04)
    cid = struct.pack(">I", dev._channel_id)
    conn.write_packet((cid + bytes([0x81, 0, 100]) + bytes(57)).ljust(64, b"\0"))
    conn.write_packet((cid + bytes([5]) + bytes(59)).ljust(64, b"\0"))
    resp = conn.read_packet()
    assert resp[:4] == cid and resp[4] == 0xBF and resp[7] == 0x04
    # an unallocated channel: ERR_INVALID_CHANNEL (0x0b)
    conn.write_packet(bytes([0, 0, 0x77, 0x77, 0x81, 0, 1, 0]).ljust(64, b"\0"))
    resp = conn.read_packet()
    assert resp[4] == 0xBF and resp[7] == 0x0B
    assert dev.ping(b"ok") == b"ok"


def test_simulator_drops_datagrams_that_are_not_one_report(sim):
    import socket

    sim.start()
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    raw.connect(sim.sock)
    raw.send(b"\xff" * 10)
    raw.send(b"\xff" * 65)
    raw.send(b"")
    dev = sim.device()
    assert dev.ping(b"still here") == b"still here"
    raw.close()


def test_simulator_refuses_a_state_file_of_the_wrong_size(sim):
    import subprocess

    with open(sim.state, "wb") as f:
        f.write(b"\0" * 100)
    p = subprocess.run(
        [sim.binary, "--socket", sim.sock, "--state", sim.state],
        stderr=subprocess.PIPE, timeout=10,
    )
    assert p.returncode == 1
    assert sim.state.encode() in p.stderr
    assert os.path.getsize(sim.state) == 100  # left as it was
    p = subprocess.run([sim.binary, "--socket", sim.sock], stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 2 and b"usage" in p.stderr
