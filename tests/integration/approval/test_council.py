"""One council, several PCs: the approver's one key approves on each PC, at the PC and
by request and response files; answers are checked against the request each PC issued.
Two simulated PCs (separate umockdev beds, state, trails and daemons), the token
simulator as the Clerk's key."""
import os
import time

from approvals import PERSONAL, TWIN, approve_elsewhere, credential, edit, enrol, export, \
    sign, start, submit


def blocked(pc, *fixtures):
    for f in fixtures:
        pc.add(f, plug=True)
    for port in ("1-2", "1-3")[:len(fixtures)]:
        pc.wait_record(lambda r: r["event.action"] == "device-blocked" and
                       r["volume.device_name"] == port)


def remote(pc, key, tmp_path, name, *opts):
    """The whole round trip by files: export at the PC, approve elsewhere, import."""
    req = tmp_path / ("%s.txt" % name)
    pc.cli("request", "export", "1-2", "--out", str(req), *opts)
    r = approve_elsewhere(pc, key, req)
    assert r.returncode == 0, r.stderr
    return pc.cli("request", "import", str(req) + ".resp", check=False)


def test_one_key_approves_on_two_pcs_locally_and_remotely(pc, pc2, key, tmp_path):
    start(pc)
    start(pc2)
    # The Clerk enrols the same key at both PCs, the first one first.
    assert enrol(pc, key).returncode == 0
    assert enrol(pc2, key).returncode == 0
    assert credential(pc) != credential(pc2)  # one key, a credential for each enrolment
    blocked(pc, "stick-personal.umockdev", "stick-personal-twin.umockdev")
    blocked(pc2, "stick-personal.umockdev", "stick-personal-twin.umockdev")
    # By request and response on the PC enrolled first: the key must sign with the
    # credential that PC knows, not with its newest one.
    r = remote(pc, key, tmp_path, "pc1", "--for", "2h")
    assert r.returncode == 0, r.stderr
    assert "approved by Jane Clerk" in r.stdout
    pc.wait_attr(PERSONAL, "authorized", "1")
    r = remote(pc2, key, tmp_path, "pc2", "--for", "2h")
    assert r.returncode == 0, r.stderr
    pc2.wait_attr(PERSONAL, "authorized", "1")
    # At each PC.
    for p in (pc, pc2):
        r = p.cli("approve", "1-3", "--key", "sim:" + key.sock, check=False)
        assert r.returncode == 0, r.stderr
        p.wait_attr(TWIN, "authorized", "1")
    for p in (pc, pc2):
        assert [x["volume.device_name"] for x in p.records()
                if x["event.action"] == "exception-approved"] == ["1-2", "1-3"]
        assert not [x for x in p.records() if x["event.action"] == "exception-refused"]


def test_a_clerk_of_two_councils_approves_in_each(pc, pc2, key, tmp_path):
    start(pc, "watton")
    start(pc2, "model")
    assert enrol(pc, key).returncode == 0
    assert enrol(pc2, key, "Jane Clerk", "Clerk to the Council").returncode == 0
    # A second credential of the same council on the key (an earlier enrolment at
    # another Watton PC): the key holds three for two councils.
    assert enrol(pc, key, "Jane Clerk (old PC)", "Clerk",
                 "--by", "sim:" + key.sock).returncode == 0
    blocked(pc, "stick-personal.umockdev")
    blocked(pc2, "stick-personal.umockdev")
    for p in (pc, pc2):
        r = remote(p, key, tmp_path, p.conf["profile"].rsplit("/", 1)[1], "--for", "1h")
        assert r.returncode == 0, r.stderr
        p.wait_attr(PERSONAL, "authorized", "1")
    shown = pc2.cli("request", "show", str(tmp_path / "model.profile.txt")).stdout
    assert "council:    model" in shown and "approvers:  1 credential(s)" in shown, shown


def test_an_edited_request_is_refused_at_verification(pc, key, tmp_path):
    start(pc)
    assert enrol(pc, key).returncode == 0
    cred = credential(pc)
    blocked(pc, "stick-personal.umockdev")
    # What the PC issued: read-write for two hours, so the Watton profile owes a wipe.
    text = export(pc, "1-2", "--read-write", "--for", "2h", "--reason", "planning")
    assert "wipe: yes\n" in text
    # The requester edits the e-mailed file before the Clerk signs: each edit is signed
    # by the real key (the signature is good), and each is refused.
    far = str(int(time.time()) + 300 * 24 * 3600)
    turned = edit(edit(edit(text, "scope", "read-only"), "direction", "bring-in"), "wipe", "no")
    for field, value in (("wipe", "no"), ("until", "unplug"), ("until", far),
                         ("answer-by", far), ("direction", turned),
                         ("requested-by.uid", "1000"), ("reason", "minutes")):
        edited = turned if field == "direction" else edit(text, field, value)
        r = submit(pc, sign(key, edited, cred))
        assert r.returncode == 1 and "not the one this PC issued" in r.stderr, \
            (field, r.stderr)
    # A scope that contradicts the signed direction is not even a request.
    r = submit(pc, sign(key, edit(text, "scope", "read-only"), cred))
    assert r.returncode == 1 and "direction: a bring-in is read-only" in r.stderr, r.stderr
    # A request this PC never issued (a fresh nonce), however well signed.
    r = submit(pc, sign(key, edit(text, "nonce", os.urandom(16).hex()), cred))
    assert r.returncode == 1 and "no request this PC has waiting" in r.stderr, r.stderr
    refusals = [x for x in pc.records() if x["event.action"] == "exception-refused"]
    assert len(refusals) == 9
    assert pc.attr(PERSONAL, "authorized") == "0"
    # The request as issued is still good, once.
    r = submit(pc, sign(key, text, cred))
    assert r.returncode == 0, r.stderr
    pc.wait_attr(PERSONAL, "authorized", "1")
    assert pc.verify().returncode == 0


def test_issued_requests_survive_a_restart(pc, key, tmp_path):
    start(pc)
    assert enrol(pc, key).returncode == 0
    pc.cli("policy", "sign", pc.conf["rules"], "--key", "sim:" + key.sock)
    blocked(pc, "stick-personal.umockdev")
    req = tmp_path / "req.txt"
    pc.cli("request", "export", "1-2", "--for", "1h", "--out", str(req))
    r = approve_elsewhere(pc, key, req)
    assert r.returncode == 0, r.stderr
    # The answer comes back after the PC was restarted.
    pc.stop()
    start(pc)
    r = pc.cli("request", "import", str(req) + ".resp", check=False)
    assert r.returncode == 0, r.stderr
    pc.wait_attr(PERSONAL, "authorized", "1")


def test_one_user_cannot_crowd_out_the_requests_waiting(pc, key):
    from approvals import control
    start(pc)
    assert enrol(pc, key).returncode == 0
    blocked(pc, "stick-personal.umockdev")
    ask = {"cmd": "approval-request", "device": "1-2", "remote": True}
    for _ in range(16):
        assert "request" in control(pc, ask, uid=65534)
    ans = control(pc, ask, uid=65534)
    assert "16 of your requests are waiting" in ans.get("error", ""), ans
    # Another user's request is still kept, and answered.
    text = export(pc, "1-2")
    r = submit(pc, sign(key, text, credential(pc)))
    assert r.returncode == 0, r.stderr
