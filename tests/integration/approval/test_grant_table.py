"""The table of exceptions in force fails closed: with 32 exceptions on one PC, the 33rd
approval is refused and recorded, and its stick stays out. The installed portcullisd under
umockdev, 33 personal sticks on the simulated root hub, the approver's key simulated."""
import os
import re

from approvals import HUB, control, credential, enrol, sign, start
from harness import FIXTURES

N = 33


def stick_at(pc, port):
    """The personal stick's fixture moved to port 1-<port> with a serial of its own."""
    with open(os.path.join(FIXTURES, "stick-personal.umockdev")) as f:
        text = f.read()
    text = text.replace("/usb1/1-2", "/usb1/1-%d" % port)
    text = text.replace("1-2:1.0", "1-%d:1.0" % port)
    text = text.replace("AA00000000011111", "AA000000000%05d" % port)
    text = re.sub(r"001/004", "001/%03d" % port, text)
    text = re.sub(r"DEVNUM=004", "DEVNUM=%03d" % port, text)
    text = re.sub(r"devnum=4\\n", "devnum=%d\\\\n" % port, text)
    text = re.sub(r"devpath=2\\n", "devpath=%d\\\\n" % port, text)
    path = os.path.join(pc.work, "stick-%d.umockdev" % port)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_the_33rd_approval_on_one_pc_is_refused_never_allowed(pc, key):
    start(pc)
    assert enrol(pc, key).returncode == 0
    cred = credential(pc)
    ports = list(range(10, 10 + N))
    # One stick at a time, each decided before the next is plugged: umockdev's uevent
    # sender aborts the test process when a listener's socket is full, which a burst of
    # 33 devices and a slow (sanitizer) daemon can make happen.
    for i, p in enumerate(ports):
        pc.add(stick_at(pc, p), plug=True)
        pc.wait_record(lambda r, n=i + 1: len([x for x in pc.records()
                                               if x["event.action"] == "device-blocked"]) == n)
    answers = []
    for p in ports:
        name = "1-%d" % p
        req = control(pc, {"cmd": "approval-request", "device": name})
        assert "request" in req, req
        answers.append(control(pc, {"cmd": "approve",
                                    "response": sign(key, req["request"], cred)}))
    assert [a.get("approved") for a in answers[:32]] == ["1-%d" % p for p in ports[:32]]
    last = "1-%d" % ports[32]
    assert "32 exceptions are in force" in answers[32]["error"], answers[32]
    r = pc.wait_record(lambda r: r["event.action"] == "exception-refused")
    assert r["volume.device_name"] == last and "32 exceptions" in r["event.reason"]
    for p in ports[:32]:
        assert pc.attr(HUB + "/1-%d" % p, "authorized") == "1"
    assert pc.attr(HUB + "/1-%d" % ports[32], "authorized") == "0"
    assert not [x for x in pc.records() if x["event.action"] == "exception-approved" and
                x["volume.device_name"] == last]
    assert [d["portcullis.state"] for d in control(pc, {"cmd": "devices"})["devices"]
            if d["volume.device_name"] == last] == ["blocked"]
