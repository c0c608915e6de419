"""Clerk approvals end to end: the installed portcullisd under umockdev, the approver's
key simulated by portcullis-token-sim, driven by the portcullis CLI (libfido2) and, for
forged answers, by python3-fido2."""
import datetime
import os
import re
import time

import hashlib
import signal
import subprocess

import pytest
from fido2.ctap2 import Ctap2

import harness

from approvals import (COUNCIL_HID, PERSONAL, TWIN, b64, control, credential, edit, enrol,
                       export, info, reverify, sign, start, submit)


def refusals(pc):
    return [r for r in pc.records() if r["event.action"] == "exception-refused"]


def refused(pc, result, words):
    """The CLI failed naming the reason, and the refusal is in the audit trail."""
    assert result.returncode == 1, result.stdout
    assert words in result.stderr, result.stderr
    r = pc.wait_record(lambda r: r["event.action"] == "exception-refused" and
                       words in r.get("event.reason", ""))
    assert r["event.outcome"] == "failure"
    return r


def test_clerk_approves_a_personal_stick_at_the_pc(pc, key):
    start(pc)
    r = enrol(pc, key)
    assert r.returncode == 0, r.stderr
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    assert pc.attr(PERSONAL, "authorized") == "0"
    r = pc.cli("approve", "1-2", "--read-write", "--reason", "agenda for Tuesday",
               "--key", "sim:" + key.sock)
    assert "1-2 approved by Jane Clerk (read-write)" in r.stdout
    assert "Touch the key" in r.stderr and "agenda for Tuesday" in r.stderr
    pc.wait_attr(PERSONAL, "authorized", "1")
    rec = pc.wait_record(lambda r: r["event.action"] == "exception-approved")
    assert rec["approval.approver"] == "Jane Clerk"
    assert rec["approval.scope"] == "read-write"
    assert rec["volume.device_name"] == "1-2"
    # Until unplug, yet no longer than Watton's longest exception (8 hours).
    assert rec["approval.until"] == 0
    assert time.time() + 7 * 3600 < rec["approval.ends_by"] <= time.time() + 8 * 3600
    # The IT provider re-verifies the approval from the record alone.
    request = reverify(rec)
    assert "device.serial: AA00000000011111\n" in request
    assert "reason: agenda for Tuesday\n" in request
    assert "requested-by.uid: 0\n" in request
    # The enrolment is recorded with its attestation.
    enr = pc.wait_record(lambda r: r["event.action"] == "approver-enrolled")
    assert enr["approval.attestation.fmt"] == "packed"
    assert enr["approval.enrolled_by"] == "root at the PC"
    assert pc.verify().returncode == 0
    # The same response a second time is a replay.
    resp = rec["approval.response"]
    refused(pc, submit(pc, resp), "already used")


def test_remote_approval_by_request_and_response_files(pc, key, tmp_path):
    start(pc)
    assert enrol(pc, key).returncode == 0
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    req = tmp_path / "request.txt"
    resp = tmp_path / "response.txt"
    pc.cli("request", "export", "1-2", "--for", "2h", "--reason", "minutes", "--out", str(req))
    shown = pc.cli("request", "show", str(req)).stdout
    assert "090c:1000" in shown and "read-only" in shown
    # --for 2h: a date and time the Clerk can read, and no wipe for a read-only stick.
    assert re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d", shown), shown
    assert "wipe no" in shown, shown
    # On the Clerk's own PC: no daemon, only the file and the key.
    env = {k: v for k, v in pc.env().items() if k not in ("PORTCULLIS_SOCKET", "LD_PRELOAD")}
    env["PORTCULLIS_SOCKET"] = "/nonexistent"
    r = subprocess.run([pc.cli_path(), "approve", "--request", str(req), "--out", str(resp),
                        "--key", "sim:" + key.sock], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert "minutes" in r.stderr  # the Clerk saw what they approved
    assert pc.attr(PERSONAL, "authorized") == "0"  # nothing until it is imported
    r = pc.cli("request", "import", str(resp))
    assert "approved by Jane Clerk (read-only)" in r.stdout
    pc.wait_attr(PERSONAL, "authorized", "1")
    rec = pc.wait_record(lambda r: r["event.action"] == "exception-approved")
    assert rec["approval.until"] > time.time() + 7000
    reverify(rec)


def test_forgeries_are_refused_and_recorded(pc, key, other_key):
    for f in ("hub-genesys.umockdev", "stick-council.umockdev", "stick-personal.umockdev",
              "stick-personal-twin.umockdev", "stick-council-hid.umockdev"):
        pc.add(f)
    start(pc)
    assert enrol(pc, key).returncode == 0
    cred = credential(pc)
    text = export(pc, "1-2")

    # Wrong key: a key that was never enrolled.
    Ctap2(other_key.device()).make_credential(
        b"\0" * 32, {"id": "portcullis:watton"}, {"id": b"x", "name": "x"},
        [{"type": "public-key", "alg": -7}], options={"rk": True})
    other = sign(other_key, text)
    refused(pc, submit(pc, other), "not enrolled")
    # The enrolled credential id with another key's signature.
    forged = other.split("\n")
    forged[1] = "credential: " + b64(cred)
    refused(pc, submit(pc, "\n".join(forged)), "does not verify")
    # Edited request: signed, then the scope and direction changed.
    good = sign(key, text, cred)
    refused(pc, submit(pc, edit(edit(good, "scope", "read-write"), "direction", "take-out")),
            "does not verify")
    # No user presence (a silent assertion).
    refused(pc, submit(pc, sign(key, text, cred, up=False)), "no user presence")
    # Another PC: the Clerk signed a request naming another machine.
    refused(pc, submit(pc, sign(key, edit(text, "pc.machine-id", "f" * 32), cred)),
            "another PC")
    # Expired: the answer came after its answer-by time.
    old = edit(edit(text, "issued", str(int(time.time()) - 7200)), "answer-by",
               str(int(time.time()) - 3600))
    refused(pc, submit(pc, sign(key, old, cred)), "expired")
    # Another device with the same VID:PID and serial but other descriptors: an approval
    # for the council stick presented where its lookalike (hidden keyboard) sits.
    genuine = export(pc, "1-1.1")
    lookalike = edit(genuine, "device.port", "1-4")
    refused(pc, submit(pc, sign(key, lookalike, cred)), "not the one this PC issued")
    assert pc.attr(COUNCIL_HID, "authorized") == "0"
    # Counter going backwards: two answers, the later one used first.
    t1, t2 = export(pc, "1-2"), export(pc, "1-2")
    a1 = sign(key, t1, cred)
    a2 = sign(key, t2, cred)
    r = submit(pc, a2)
    assert r.returncode == 0, r.stderr
    refused(pc, submit(pc, a1), "cloned")
    # Replay of an answer already used.
    refused(pc, submit(pc, a2), "already used")
    # Malformed response: named by line and field, nothing crashes.
    r = submit(pc, a2.replace("signature: ", "signature: !"))
    assert r.returncode == 1 and "response:4: signature" in r.stderr, r.stderr
    # Nothing but the one good answer let anything in.
    assert pc.attr(TWIN, "authorized") == "0"
    assert [r["volume.device_name"] for r in pc.records()
            if r["event.action"] == "exception-approved"] == ["1-2"]
    assert len(refusals(pc)) >= 10
    assert pc.daemon.poll() is None
    assert pc.verify().returncode == 0


def test_missing_pin_is_refused_when_the_profile_requires_it(pc, key):
    start(pc, "fakenham")  # 4.1.5: MFA mandatory
    # A credential enrolled without credProtect, so the key itself would sign without
    # the PIN: the daemon's own check is what refuses.
    nonce = os.urandom(32)
    fields = [b"fakenham", b"Jane Clerk", b"Clerk", nonce]
    h = hashlib.sha256(b"portcullis/approver-enrol/v1\0")
    for f in fields:
        h.update(len(f).to_bytes(4, "big") + f)
    att = Ctap2(key.device()).make_credential(
        h.digest(), {"id": "portcullis:fakenham"}, {"id": b"jane", "name": "Jane Clerk"},
        [{"type": "public-key", "alg": -7}], options={"rk": True})
    ans = control(pc, {"cmd": "approver-enrol", "name": "Jane Clerk", "role": "Clerk",
                       "nonce": b64(nonce), "fmt": att.fmt,
                       "credential": b64(att.auth_data.credential_data.credential_id),
                       "authdata": b64(att.auth_data),
                       "sig": b64(att.att_statement["sig"])})
    assert ans.get("enrolled") == "Jane Clerk", ans
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    text = export(pc, "1-2")
    refused(pc, submit(pc, sign(key, text, credential(pc), rp="portcullis:fakenham")), "PIN")
    assert pc.attr(PERSONAL, "authorized") == "0"


def test_no_exceptions_under_the_hednesford_profile(pc, key):
    start(pc, "hednesford")  # 1.1.8: no removable storage, no exception route
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    r = pc.cli("approve", "1-2", "--key", "sim:" + key.sock, check=False)
    refused(pc, r, "allows no exceptions")
    assert pc.attr(PERSONAL, "authorized") == "0"


def test_enrolment_needs_root_first_then_an_approvers_touch(pc, key, other_key):
    start(pc)
    ans = control(pc, {"cmd": "approver-enrol", "name": "Mallory", "role": "Clerk",
                       "nonce": "AAAAAAAAAAAAAAAAAAAAAA==", "fmt": "packed",
                       "credential": "AA==", "authdata": "AA==", "sig": "AA=="}, uid=65534)
    # Refused for who asks, before the attestation is read; recorded.
    assert "the first approver is enrolled by root at the PC" in ans["error"], ans
    assert pc.wait_record(lambda r: r["event.action"] == "approver-refused")["user.id"] == 65534
    assert enrol(pc, key).returncode == 0
    r = enrol(pc, other_key, "Deputy", "Deputy Clerk")
    assert r.returncode == 1 and "existing approver's touch" in r.stderr, r.stderr
    r = enrol(pc, other_key, "Deputy", "Deputy Clerk", "--by", "sim:" + key.sock)
    assert r.returncode == 0, r.stderr
    assert [a["name"] for a in info(pc)["approvers"]] == ["Jane Clerk", "Deputy"]
    rec = pc.wait_record(lambda r: r.get("approval.approver") == "Deputy" and
                         r["event.action"] == "approver-enrolled")
    assert rec["approval.enrolled_by"] == "Jane Clerk"
    # The approvers survive a restart (which, now that there are approvers, needs a signed
    # rule file); the deputy can approve.
    pc.cli("policy", "sign", pc.conf["rules"], "--key", "sim:" + other_key.sock)
    pc.stop()
    start(pc)
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    r = pc.cli("approve", "1-2", "--key", "sim:" + other_key.sock)
    assert "approved by Deputy" in r.stdout


# The real kernel, outside umockdev's preload: for the loop device itself.
REAL = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}


def scsi_disk(pc, iface, loop, size_sectors):
    """What the kernel does once usb-storage binds: a SCSI disk under the interface. The
    disk is named after a real loop device standing in for the stick's medium, and
    carries its device number."""
    name = os.path.basename(loop)
    st = os.stat(loop)
    path = "%s/block/%s" % (harness.scsi_device(pc, iface, 9), name)
    pc.tb.add_from_string(
        "P: %s\nE: DEVTYPE=disk\nE: SUBSYSTEM=block\nA: removable=1\\n\nA: ro=0\\n\n"
        "A: dev=%d:%d\\n\nA: size=%d\\n\n"
        % (path[len("/sys"):], os.major(st.st_rdev), os.minor(st.st_rdev), size_sectors))
    return path


@pytest.mark.loop_devices
def test_read_only_grant_reaches_the_block_layer_then_expires(pc, key, tmp_path):
    image = tmp_path / "stick.img"
    with open(image, "wb") as f:
        f.truncate(4 << 20)
    loop = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True,
                          text=True, check=True, env=REAL).stdout.strip()
    subprocess.run(["blockdev", "--setrw", loop], check=True, env=REAL)  # an earlier user's
    name = os.path.basename(loop)
    try:
        start(pc)
        assert enrol(pc, key).returncode == 0
        pc.add("stick-personal.umockdev", plug=True)
        pc.wait_record(lambda r: r["event.action"] == "device-blocked")
        pc.cli("approve", "1-2", "--read-only", "--for", "30s", "--key", "sim:" + key.sock)
        pc.wait_attr(PERSONAL, "authorized", "1")
        pc.kernel_configure(PERSONAL)
        pc.wait_attr(PERSONAL + "/1-2:1.0", "authorized", "1")
        scsi_disk(pc, PERSONAL + "/1-2:1.0", loop, 8192)
        r = pc.wait_record(lambda r: r["event.action"] == "medium-read-only")
        assert r["event.outcome"] == "success" and name in r["event.reason"], r["event.reason"]
        # The medium is read-only below any filesystem: nothing has mounted it, and a
        # raw write fails.
        ro = subprocess.run(["blockdev", "--getro", loop], capture_output=True, text=True,
                            env=REAL)
        assert ro.stdout.strip() == "1"
        fd = os.open(loop, os.O_WRONLY)
        try:
            os.write(fd, b"x" * 512)
            os.fsync(fd)
            raise AssertionError("a write to the read-only medium succeeded")
        except OSError as e:
            assert e.errno in (1, 30), e  # EPERM or EROFS
        finally:
            os.close(fd)
        # Expiry: a warning first (the grant ends within five minutes), then the device
        # is de-authorised.
        w = pc.wait_record(lambda r: r["event.action"] == "exception-expiring", timeout=20)
        assert "ends in" in w["event.reason"]
        ended = pc.wait_record(lambda r: r["event.action"] == "exception-expired", timeout=50)
        pc.wait_attr(PERSONAL, "authorized", "0")
        # At the signed expiry, to the second: not at the engine's next 10 s clock tick,
        # which could leave the stick in up to 10 s longer than the Clerk approved.
        until = [r for r in pc.records()
                 if r["event.action"] == "exception-approved"][-1]["approval.until"]
        at = datetime.datetime.strptime(ended["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
        at = at.replace(tzinfo=datetime.timezone.utc).timestamp()
        assert until <= at < until + 3, (until, ended["@timestamp"])
        assert pc.verify().returncode == 0
    finally:
        subprocess.run(["blockdev", "--setrw", loop], env=REAL)
        subprocess.run(["losetup", "-d", loop], env=REAL)


PERSONAL_RULE = ('allow id 090c:1000 serial "AA00000000011111" with-interface equals '
                 '{ 08:06:50 } label "registered to Cllr Brown, asset WTC-0042"\n')


def reload(pc, action):
    n = len([r for r in pc.records() if r["event.action"] == action])
    pc.daemon.send_signal(signal.SIGHUP)
    pc.wait_record(lambda r: len([x for x in pc.records() if x["event.action"] == action]) > n)
    return [r for r in pc.records() if r["event.action"] == action][-1]


def test_standing_approvals_need_a_signed_policy(pc, key):
    from approvals import RULES
    start(pc)
    assert enrol(pc, key).returncode == 0
    rules = pc.conf["rules"]
    # The council registers Cllr Brown's stick (Wellington 4.2 style: owner and asset).
    with open(rules, "a") as f:
        f.write(PERSONAL_RULE)
    # Unsigned: refused, the policy in force stays.
    r = reload(pc, "policy-refused")
    assert "not signed" in r["event.reason"]
    r = pc.cli("policy", "sign", rules, "--key", "sim:" + key.sock)
    assert os.path.exists(rules + ".sig"), r.stderr
    r = reload(pc, "policy-verified")
    assert r["approval.approver"] == "Jane Clerk"
    shown = pc.cli("policy", "show", "--verify").stdout
    assert "asset WTC-0042" in shown and "signed by Jane Clerk (Clerk)" in shown
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_attr(PERSONAL, "authorized", "1")
    # Tampered: a rule added after signing. Refused; the signed policy stays in force.
    with open(rules, "a") as f:
        f.write('allow id 090c:1000 serial "AA00000000022222"\n')
    r = reload(pc, "policy-refused")
    assert "changed after it was signed" in r["event.reason"]
    r = pc.cli("policy", "show", "--verify", check=False)
    assert r.returncode == 1 and "changed after it was signed" in r.stderr
    pc.add("stick-personal-twin.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked" and
                   r["volume.device_name"] == "1-3")
    assert pc.attr(TWIN, "authorized") == "0"
    # A restart with the tampered file keeps the last good policy too.
    pc.stop()
    start(pc)
    assert pc.attr(TWIN, "authorized") == "0"
    assert "keeping the last good policy" in pc.log()
    # A signature whose signed-at was edited (to pass for another version) is refused.
    with open(rules, "w") as f:
        f.write(RULES)
    r = pc.cli("policy", "sign", rules, "--key", "sim:" + key.sock)
    with open(rules + ".sig") as f:
        sig = f.read()
    with open(rules + ".sig", "w") as f:
        f.write(edit(sig, "signed-at", "1700000000"))
    r = reload(pc, "policy-refused")
    assert "does not verify" in r["event.reason"] or "older" in r["event.reason"]
    assert pc.verify().returncode == 0


def request_code(usb_hash):
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    d = hashlib.sha256(b"portcullis-request-code-v1\0" + usb_hash.encode()).digest()
    v = int.from_bytes(d[:5], "big")
    s = "".join(crockford[(v >> (5 * i)) & 31] for i in range(7, -1, -1))
    return s[:4] + "-" + s[4:]


def test_the_clerk_approves_by_the_request_code_the_councillor_quotes(pc, key):
    start(pc)
    assert enrol(pc, key).returncode == 0
    pc.add("stick-personal.umockdev", plug=True)
    pc.add("stick-personal-twin.umockdev", plug=True)
    blocked = pc.wait_record(lambda r: r["event.action"] == "device-blocked" and
                             r["volume.device_name"] == "1-3")
    # The code the councillor reads off `portcullis status` (its derivation is checked
    # independently in tests/integration/people).
    status = pc.cli("status").stdout
    codes = re.findall(r"request code:\s+([0-9A-Z]{4}-[0-9A-Z]{4})", status)
    assert len(codes) == 2, status
    twin = [c for c in codes if c == request_code(blocked["usb.hash"])][0]
    wrong = pc.cli("approve", "ZZZZ-ZZZZ", "--key", "sim:" + key.sock, check=False)
    assert wrong.returncode == 1 and "no device plugged in has the request code" in wrong.stderr
    typed = twin.lower().replace("-", " ")  # as a Clerk might type it
    r = pc.cli("approve", typed, "--read-only", "--key", "sim:" + key.sock)
    assert "1-3 approved by Jane Clerk (read-only)" in r.stdout, r.stdout + r.stderr
    pc.wait_attr(TWIN, "authorized", "1")
    assert pc.attr(PERSONAL, "authorized") == "0"
