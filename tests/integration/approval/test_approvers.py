"""Approvers who come and go: removal with another approver's touch, the lost-key path
(the IT provider's recovery key, kept offline, with root at the PC), and an exception
ended early. The installed portcullisd under umockdev, the token simulator as keys."""
import hashlib

from fido2.ctap2 import Ctap2

from approvals import PERSONAL, b64, control, credential, enrol, export, info, sign, \
    start, submit


def plugged(pc):
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")


def names(pc):
    return [a["name"] for a in info(pc)["approvers"]]


def removal_consent(key, council, removed_cred, by_cred):
    """An approver's assertion over the removal, made outside the CLI."""
    h = hashlib.sha256(b"portcullis/approver-remove/v1\0")
    for f in (council.encode(), removed_cred):
        h.update(len(f).to_bytes(4, "big") + f)
    a = Ctap2(key.device()).get_assertion("portcullis:" + council, h.digest(),
                                          allow_list=[{"type": "public-key", "id": by_cred}])
    return {"credential": b64(a.credential["id"]), "authdata": b64(a.auth_data),
            "sig": b64(a.signature)}


def test_an_approver_is_removed_with_another_approvers_touch(pc, key, other_key):
    start(pc)
    assert enrol(pc, key).returncode == 0
    assert enrol(pc, other_key, "Sam Deputy", "Deputy Clerk",
                 "--by", "sim:" + key.sock).returncode == 0
    deputy = credential(pc, 1)
    plugged(pc)
    text = export(pc, "1-2")
    assert "credentials: %s %s\n" % (b64(credential(pc, 0)), b64(deputy)) in text
    # Nobody removes themselves: the key is offered every credential but its own.
    r = pc.cli("approver", "remove", "--name", "Sam Deputy", "--by", "sim:" + other_key.sock,
               check=False)
    assert r.returncode == 1, r.stdout
    assert names(pc) == ["Jane Clerk", "Sam Deputy"]
    # Nor with a forged consent by their own credential, sent to the socket directly.
    ans = control(pc, {"cmd": "approver-remove", "credential": b64(deputy),
                       "by": removal_consent(other_key, "watton", deputy, deputy)})
    assert "another approver's touch" in ans.get("error", ""), ans
    r = pc.cli("approver", "remove", "--name", "Sam Deputy", "--by", "sim:" + key.sock)
    assert "Sam Deputy removed (consent of Jane Clerk)" in r.stdout
    assert names(pc) == ["Jane Clerk"]
    rec = pc.wait_record(lambda r: r["event.action"] == "approver-removed")
    assert rec["approval.approver"] == "Sam Deputy"
    assert rec["approval.removed_by"] == "Jane Clerk"
    assert rec["approval.credential"] == b64(deputy)
    # The deputy's answer to a request issued while they were enrolled is refused now.
    r = submit(pc, sign(other_key, text, deputy))
    assert r.returncode == 1 and "not enrolled" in r.stderr, r.stderr
    assert pc.attr(PERSONAL, "authorized") == "0"
    # New requests name only the approvers left; the Clerk still approves.
    assert "credentials: %s\n" % b64(credential(pc, 0)) in export(pc, "1-2")
    r = pc.cli("approve", "1-2", "--key", "sim:" + key.sock)
    pc.wait_attr(PERSONAL, "authorized", "1")
    assert pc.verify().returncode == 0


def test_the_lost_key_path_with_the_recovery_key_and_root(pc, key, other_key):
    start(pc)
    assert enrol(pc, key).returncode == 0
    # At installation the IT provider enrols its recovery key, then keeps it offline.
    r = enrol(pc, other_key, "IT provider recovery", "IT provider", "--by", "sim:" + key.sock,
              "--recovery")
    assert r.returncode == 0, r.stderr
    rec = pc.wait_record(lambda r: r["event.action"] == "approver-enrolled" and
                         r["approval.approver"] == "IT provider recovery")
    assert rec["approval.recovery"] is True
    listed = pc.cli("approver", "list").stdout
    assert "recovery key, kept offline" in listed
    recovery = credential(pc, 1)
    clerk = credential(pc, 0)
    plugged(pc)
    # The recovery key approves nothing, and requests do not offer it to keys.
    text = export(pc, "1-2")
    assert b64(recovery) not in text
    r = submit(pc, sign(other_key, text, recovery))
    assert r.returncode == 1 and "recovery key cannot approve" in r.stderr, r.stderr
    # The Clerk's key is lost. Without root, the recovery key's consent is refused...
    ans = control(pc, {"cmd": "approver-remove", "credential": b64(clerk),
                       "by": removal_consent(other_key, "watton", clerk, recovery)}, uid=65534)
    assert "root at the PC" in ans.get("error", ""), ans
    assert names(pc) == ["Jane Clerk", "IT provider recovery"]
    # ...with root at the PC it removes the lost key's credential, recorded.
    r = pc.cli("approver", "remove", "--name", "Jane Clerk", "--by", "sim:" + other_key.sock)
    assert "Jane Clerk removed (consent of IT provider recovery)" in r.stdout, r.stderr
    rec = pc.wait_record(lambda r: r["event.action"] == "approver-removed")
    assert rec["approval.recovery"] is True and rec["user.id"] == 0
    # The Clerk's new key (here: the same key, a new credential) is enrolled the same way.
    r = enrol(pc, key, "Jane Clerk", "Clerk", "--by", "sim:" + other_key.sock)
    assert r.returncode == 0, r.stderr
    assert credential(pc, 1) != clerk
    # The old credential's answer is refused; the new one approves.
    r = submit(pc, sign(key, text, clerk))
    assert r.returncode == 1 and "not enrolled" in r.stderr, r.stderr
    r = pc.cli("approve", "1-2", "--key", "sim:" + key.sock)
    assert "approved by Jane Clerk" in r.stdout
    assert pc.verify().returncode == 0


def test_an_exception_is_ended_early_and_recorded(pc, key):
    start(pc)
    assert enrol(pc, key).returncode == 0
    plugged(pc)
    r = pc.cli("approve", "1-2", "--for", "8h", "--key", "sim:" + key.sock)
    pc.wait_attr(PERSONAL, "authorized", "1")
    # Another user cannot end someone else's exception.
    ans = control(pc, {"cmd": "exception-end", "device": "1-2"}, uid=65534)
    assert "only root or the user who asked" in ans.get("error", ""), ans
    assert pc.attr(PERSONAL, "authorized") == "1"
    r = pc.cli("approve", "--end", "1-2")
    assert "the exception for 1-2 has ended" in r.stdout, r.stderr
    pc.wait_attr(PERSONAL, "authorized", "0")
    rec = pc.wait_record(lambda r: r["event.action"] == "exception-ended")
    assert rec["user.id"] == 0 and "ended early" in rec["event.reason"]
    r = pc.cli("approve", "--end", "1-2", check=False)
    assert r.returncode == 1 and "no exception in force" in r.stderr
    assert pc.verify().returncode == 0
