"""The control socket serves people, each with what is theirs: tried as an ordinary local
user (a uid that is neither root nor the engine's) against the installed portcullisd
under umockdev, with the approver's key simulated."""
import json
import os
import subprocess
import time

import pytest

from approvals import PERSONAL, b64, control, credential, enrol, info, sign, start
from harness import RealMedium, as_user, storage_in
from people import OTHER, USER, ask, ask_as, epoch, group, run_as, trail_size

WATCHER = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"watch"}\n')
print("ready", flush=True)
for line in s.makefile("rb"):
    print(line.decode().rstrip("\n"), flush=True)
"""


def watcher(pc, uid):
    """A `watch` client running as uid (outside umockdev's preload), one record a line."""
    p = subprocess.Popen(
        ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
         "/usr/bin/python3", "-c", WATCHER, pc.conf["control-socket"]],
        stdout=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")})
    assert p.stdout.readline().strip() == "ready"
    return p


def stop(p):
    """Everything a watcher received, once the trail says the last event is out."""
    time.sleep(0.5)  # broadcast follows the record's write; give the watcher the line
    p.terminate()
    out, _ = p.communicate(timeout=10)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def blocked_stick(pc, key, **extra):
    start(pc, **extra)
    assert enrol(pc, key).returncode == 0
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")


def test_watch_shows_an_ordinary_user_only_their_own_records(pc, key):
    blocked_stick(pc, key)
    mine = watcher(pc, USER)
    root = watcher(pc, 0)
    # Another user asks for an exception: their request names them and the stick.
    theirs = ask_as(pc, OTHER, {"cmd": "approval-request", "device": "1-2"})
    assert "request" in theirs, theirs
    own = ask_as(pc, USER, {"cmd": "approval-request", "device": "1-2"})
    assert "request" in own, own
    pc.unplug(PERSONAL)
    pc.wait_record(lambda r: r["event.action"] == "device-removed")
    seen, everything = stop(mine), stop(root)
    # Root sees both requests; the user only their own, and the device's removal.
    assert [r.get("user.id") for r in everything
            if r.get("event.action") == "exception-requested"] == [OTHER, USER]
    actions = [r.get("event.action") for r in seen]
    assert "exception-requested" in actions and "device-removed" in actions, actions
    assert all(r.get("user.id", USER) == USER for r in seen), seen
    assert theirs["request"] not in str(seen)


def test_wipe_only_for_root_the_requester_or_the_wipe_group(pc, key):
    clerks = group("pcl-test-clerks")
    blocked_stick(pc, key, wipe_group="pcl-test-clerks")
    # OTHER asks for a read-write exception; the Clerk's key approves it.
    req = ask_as(pc, OTHER, {"cmd": "approval-request", "device": "1-2", "scope": "read-write"})
    ans = control(pc, {"cmd": "approve", "response": sign(key, req["request"], credential(pc))})
    assert ans.get("approved") == "1-2", ans
    pc.wait_attr(PERSONAL, "authorized", "1")
    # Anyone else: refused, and the refusal is in the trail with who asked.
    ans = ask_as(pc, USER, {"cmd": "wipe", "device": "1-2"})
    assert "only root, the user who requested its exception" in ans["error"], ans
    r = pc.wait_record(lambda r: r["event.action"] == "command-refused")
    assert r["user.id"] == USER and r["portcullis.command"] == "wipe"
    assert r["event.outcome"] == "failure"
    # The requester, a member of the wipe group and root get past the check (the wipe
    # itself then finds no storage behind the simulated stick).
    for uid, groups in ((OTHER, ()), (USER + 10, (clerks,)), (0, ())):
        ans = ask_as(pc, uid, {"cmd": "wipe", "device": "1-2"}, groups)
        assert "no storage medium to wipe" in ans["error"], (uid, ans)
    assert [r["user.id"] for r in pc.records()
            if r["event.action"] == "command-refused"] == [USER]
    assert pc.verify().returncode == 0


def burst(path, n):
    answers = {}
    for _ in range(n):
        a = ask(path, {"cmd": "approve", "response": "junk"})
        key = "closed" if a is None else a.get("error", "?")[:40]
        answers[key] = answers.get(key, 0) + 1
    return answers


def test_junk_approvals_in_a_burst_grow_the_trail_and_epoch_by_a_bounded_amount(pc, key):
    start(pc)
    assert enrol(pc, key).returncode == 0
    pc.wait_quiet()
    size0, epoch0, n0 = trail_size(pc), epoch(pc), len(pc.records())
    t0 = time.time()
    path = pc.conf["control-socket"]
    answers = run_as(USER, lambda: burst(path, 1000))
    took = time.time() - t0
    assert sum(answers.values()) == 1000, answers
    assert answers.get("too many requests: try again in a minute", 0) >= 900, answers
    summary = pc.wait_record(lambda r: r["event.action"] == "requests-rate-limited", timeout=30)
    pc.wait_quiet()
    new = pc.records()[n0:]
    refused = [r for r in new if r["event.action"] == "exception-refused"]
    summaries = [r for r in new if r["event.action"] == "requests-rate-limited"]
    # Within the rate: the burst (20) and one more per 3 s of the burst's duration.
    allowed = 20 + int(took / 3) + 1
    assert len(refused) <= allowed, (len(refused), took)
    assert USER in summary["portcullis.refused_uids"]
    assert sum(r["portcullis.refused_count"] for r in summaries) + len(refused) == 1000
    bound = allowed + len(summaries) + int(took / 10) + 4  # + the audit tick's checkpoints
    assert epoch(pc) - epoch0 <= bound, (epoch(pc) - epoch0, bound)
    assert trail_size(pc) - size0 <= bound * 4096, trail_size(pc) - size0
    assert pc.verify().returncode == 0


def test_first_approver_is_not_enrolled_by_an_ordinary_user_and_the_try_is_recorded(pc):
    start(pc)
    ans = ask_as(pc, USER, {"cmd": "approver-enrol", "name": "Eve", "role": "Clerk",
                            "nonce": b64(os.urandom(16)), "fmt": "packed",
                            "authdata": b64(b"\0" * 37), "sig": b64(b"\0" * 8)})
    assert "the first approver is enrolled by root at the PC" in ans["error"], ans
    r = pc.wait_record(lambda r: r["event.action"] == "approver-refused")
    assert r["user.id"] == USER and r["approval.approver"] == "Eve"
    assert info(pc)["approvers"] == []


@pytest.mark.loop_devices
def test_watch_shows_no_other_users_copies(pc, key):
    """A real medium behind the approved stick: USER copies a file to it; another user
    watching sees that copies are recorded, never USER's path, hash or program."""
    medium = RealMedium()
    try:
        blocked_stick(pc, key)
        pc.cli("approve", "1-2", "--read-write", "--reason", "minutes", "--key",
               "sim:" + key.sock)
        storage_in(pc, medium, PERSONAL)
        mine, theirs = watcher(pc, USER), watcher(pc, OTHER)
        medium.mount()
        pc.wait_record(lambda r: r["event.action"] == "xfer-watch-started", timeout=20)
        src = os.path.join(pc.work, "minutes.txt")
        with open(src, "w") as f:
            f.write("planning minutes\n")
        os.chmod(src, 0o644)
        as_user(USER, "cp", src, medium.mnt + "/minutes.txt")
        pc.wait_record(lambda r: r["event.action"] == "file-written", timeout=20)
        seen, other = stop(mine), stop(theirs)
        written = [r for r in seen if r.get("event.action") == "file-written"]
        assert written and written[0]["user.id"] == USER, seen
        assert "xfer-watch-started" in [r.get("event.action") for r in other], other
        assert not [r for r in other if "minutes.txt" in json.dumps(r) or
                    any(k.startswith(("file.hash", "process.")) for k in r)], other
    finally:
        medium.close()
