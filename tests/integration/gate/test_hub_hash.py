"""usb.parent_hash in the daemon's records, which the engine takes from its hub's hash
without reading the hub's files again when it already knows the hub (a hub it decided, or a
root hub it read): always the hash `portcullis policy generate` computes from sysfs for the
same device, for a stick on a root hub inserted again and again, for a stick behind a hub,
and behind another hub put in the same port (a hub's hash is never kept past its removal)."""
import re

from harness import set_attr_text
from test_gate import COUNCIL_RULES, HUB, PERSONAL

HUBDEV = HUB + "/1-1"
COUNCIL = HUBDEV + "/1-1.1"
LINE = re.compile(r' hash "([^"]*)" parent-hash "([^"]*)"')


def generated(pc):
    """hash -> parent-hash of every present device, as the CLI reads them from sysfs."""
    return dict(LINE.search(l).groups() for l in pc.cli("policy", "generate").stdout.splitlines()
                if LINE.search(l))


def decided(pc, name, n):
    """The n-th decision record of device `name` (waiting for it)."""
    def mine():
        return [r for r in pc.records() if r.get("volume.device_name") == name and
                r["event.action"] in ("device-allowed", "device-blocked")]
    pc.wait_record(lambda r: len(mine()) >= n)
    return mine()[n - 1]


def plug_hub(pc, serial=None):
    fixture = pc.fixture
    if serial is not None:  # another hub of the same model: its own serial, its own hash
        pc.fixture = lambda name: [
            (p, set_attr_text(t, "serial", serial) if pr.get("DEVTYPE") == "usb_device" else t,
             pr) for p, t, pr in fixture(name)]
    try:
        pc.add("hub-genesys.umockdev", plug=True)
    finally:
        pc.fixture = fixture
    pc.wait_attr(HUBDEV, "authorized", "1")
    pc.kernel_configure(HUBDEV)


def test_parent_hash_is_the_hubs_own_whether_read_again_or_not(pc):
    pc.start(COUNCIL_RULES)
    for n in (1, 2, 3):  # on the root hub: read the first time, known after
        pc.add("stick-personal.umockdev", plug=True)
        r = decided(pc, "1-2", n)
        assert r["usb.parent_hash"] == generated(pc)[r["usb.hash"]]
        pc.unplug(PERSONAL)
    hashes = []
    for n, serial in ((1, None), (2, "OTHERHUB0001")):
        plug_hub(pc, serial)
        hub = decided(pc, "1-1", n)
        pc.add("stick-council.umockdev", plug=True)
        stick = decided(pc, "1-1.1", n)
        assert stick["event.action"] == "device-allowed"
        assert stick["usb.parent_hash"] == hub["usb.hash"]
        assert stick["usb.parent_hash"] == generated(pc)[stick["usb.hash"]]
        hashes.append(hub["usb.hash"])
        pc.unplug(HUBDEV)
        pc.wait_record(lambda r: [x for x in pc.records() if
                                  x.get("volume.device_name") == "1-1" and
                                  x["event.action"] == "device-removed"][n - 1:])
    assert hashes[0] != hashes[1]
