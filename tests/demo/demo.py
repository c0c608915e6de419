"""The Portcullis demo: a council PC under umockdev, told as the story it serves.

Everything here is the real portcullisd and portcullis CLI; only the USB bus is
simulated (umockdev's preload serves sysfs and uevents; writes to `authorized` land in
the mock sysfs, which this script reads back to show what the kernel would do)."""
import os
import sys
import textwrap
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration/gate"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration/token"))
import harness  # noqa: E402
import simconn  # noqa: E402
from fido2.ctap2 import ClientPin, Ctap2  # noqa: E402

PROFILE = os.path.join(harness.SOURCE, "profiles/fakenham.profile")
PIN = "271828"

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
RULES = """\
# Fakenham Town Council, IT policy 3.9: personal USB sticks, external drives and
# CDs/DVDs only with prior approval from the Clerk. The council's own equipment:
allow with-interface match-all { 09:00:* }
allow id 0781:5581 serial "4C530001140516116522" with-interface equals { 08:06:50 } label "council stick PC-STICK-01"
allow id 046d:c31c with-interface all-of { 03:01:01 03:00:00 } label "council keyboard"
"""

BOLD, DIM, GREEN, RED, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m"
if not sys.stdout.isatty():
    BOLD = DIM = GREEN = RED = RESET = ""


def say(text=""):
    print(textwrap.fill(text, 96) if text else "")
    sys.stdout.flush()


def heading(text):
    print("\n" + BOLD + "== " + text + " ==" + RESET)


def verdict(pc, name, path, what):
    r = decision(pc, name)
    action = r["event.action"]
    state = pc.attr(path, "authorized")
    colour = GREEN if action in ("device-allowed", "exception-approved") else RED
    print("  %s%-16s%s %s %s:%s %r" % (colour, action.upper(), RESET, name,
                                        r["volume.vendor_id"], r["volume.product_id"],
                                        r["volume.product_name"]))
    print("  %swhy: %s%s" % (DIM, r["rule.id"].replace(pc.work + "/", ""), RESET))
    print("  %skernel: %s/authorized = %s  (%s)%s" % (DIM, path.rsplit("/", 1)[1], state, what,
                                                     RESET))


def decision(pc, name):
    def match(r):
        return r.get("volume.device_name") == name and r["event.action"] in (
            "device-allowed", "device-blocked", "device-rejected", "exception-approved")
    pc.wait_record(match)
    return [r for r in pc.records() if match(r)][-1]


def main():
    pc = harness.Testbed()
    key = simconn.Simulator(pc.work)
    try:
        heading("A council PC")
        say("A simulated PC with an xHCI controller (two root hubs) and a USB hub. The IT "
            "provider installed Portcullis with the council's rules:")
        print(textwrap.indent(RULES, "    "))
        pc.add("pc-xhci.umockdev")
        pc.add("keyboard.umockdev")
        pc.start(RULES, profile=PROFILE)
        say("portcullisd started: before looking at anything it set authorized_default=%s and "
            "interface_authorized_default=%s on the root hubs, so nothing new reaches the "
            "PC until the policy decides." % (pc.attr(HUB, "authorized_default"),
                                              pc.attr(HUB, "interface_authorized_default")))
        verdict(pc, "1-10", HUB + "/1-10", "the keyboard that was already plugged in")

        heading("The Clerk's FIDO2 key is enrolled as approver")
        say("The council profile (Fakenham: 3.9 the Clerk approves, 4.2.8 wipe after transfer, "
            "4.1.5 MFA) asks for the key's PIN as well as its touch. The key here is the "
            "project's token firmware running as a simulator (its button pressed automatically).")
        key.start("--auto-touch")
        ClientPin(Ctap2(key.device())).set_pin(PIN)
        # A PIN is never an argument (it would show in ps and the shell history); typed at
        # a terminal it is read without echo, here it comes from the environment.
        os.environ["PORTCULLIS_PIN"] = PIN
        print("    $ portcullis approver enrol --name 'Jane Smith' --role Clerk")
        r = pc.cli("approver", "enrol", "--name", "Jane Smith", "--role", "Clerk", "--key",
                   "sim:" + key.sock)
        print(textwrap.indent((r.stderr + r.stdout).strip(), "    "))

        heading("The Clerk plugs in the council's registered stick (behind a hub)")
        pc.add("hub-genesys.umockdev", plug=True)
        pc.wait_attr(HUB + "/1-1", "authorized", "1")
        pc.kernel_configure(HUB + "/1-1")
        pc.add("stick-council.umockdev", plug=True)
        pc.wait_attr(HUB + "/1-1/1-1.1", "authorized", "1")
        pc.kernel_configure(HUB + "/1-1/1-1.1")
        pc.wait_attr(HUB + "/1-1/1-1.1/1-1.1:1.0", "authorized", "1")
        verdict(pc, "1-1.1", HUB + "/1-1/1-1.1", "its storage interface authorised too")

        heading("A councillor plugs in a personal stick")
        pc.add("stick-personal.umockdev", plug=True)
        verdict(pc, "1-2", HUB + "/1-2", "stays de-authorised: no driver ever sees it")
        say("No rule lists it, so it stays blocked. The councillor asks the Clerk, who can "
            "approve an exception with a touch of their FIDO2 key.")

        heading("The Clerk approves the personal stick: portcullis approve")
        print("    $ portcullis approve 1-2 --read-only --for 2h --reason 'planning papers'")
        r = pc.cli("approve", "1-2", "--read-only", "--for", "2h", "--reason", "planning papers",
                   "--key", "sim:" + key.sock)
        print(textwrap.indent((r.stderr + r.stdout).strip(), "    "))
        pc.wait_attr(HUB + "/1-2", "authorized", "1")
        pc.kernel_configure(HUB + "/1-2")
        pc.wait_attr(HUB + "/1-2/1-2:1.0", "authorized", "1")
        verdict(pc, "1-2", HUB + "/1-2", "let in for two hours, its storage interface only")
        say("The touch signed this device (its USBGuard hash, serial and interfaces), this PC "
            "(machine id and host name), the scope, the expiry and a fresh nonce. The daemon "
            "verified the signature, relying party, presence, PIN, counter and nonce before "
            "asking the root parent to authorise; the record holds the signed request so the "
            "IT provider can re-verify it offline.")

        heading("A 'free gift' stick: storage plus a hidden keyboard (BadUSB)")
        pc.add("badusb.umockdev", plug=True)
        verdict(pc, "1-5", HUB + "/1-5", "the hidden keyboard cannot type a single key")

        heading("A phone (MTP file transfer + ADB debugging), Watton 5.3: any device")
        pc.add("phone-mtp-adb.umockdev", plug=True)
        verdict(pc, "1-7", HUB + "/1-7", "blocked like any unlisted device")

        heading("A lookalike of the council stick: same IDs and serial, extra keyboard")
        pc.add("stick-council-hid.umockdev", plug=True)
        verdict(pc, "1-4", HUB + "/1-4", "the rule asks for exactly one storage interface")

        heading("A councillor copies the agenda onto the council's stick")
        medium = harness.RealMedium()
        try:
            harness.attach_disk(pc, medium, HUB + "/1-1/1-1.1/1-1.1:1.0")
            medium.mount()
            pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
            say("The stick's medium (a real ext4 filesystem on a loop device here) is mounted; "
                "portcullisd starts logging transfers on it.")
            agenda = os.path.join(pc.work, "agenda-full-council-2026-12-01.pdf")
            with open(agenda, "wb") as f:
                f.write(b"%PDF-1.7 agenda " + os.urandom(200000))
            os.chmod(agenda, 0o644)
            harness.as_user(4242, "cp", agenda, medium.mnt + "/agenda.pdf")
            w = pc.wait_record(lambda r: r.get("event.action") == "file-written", timeout=20)
            print("  %sFILE-WRITTEN%s %s, %d bytes, sha256 %s...\n  by uid %s (%s) to %s %s" % (
                GREEN, RESET, w["file.path"], w["file.size"], w["file.hash.sha256"][:16],
                w["user.id"], w["process.executable"], w["volume.vendor_name"].strip(),
                w["volume.serial_number"]))
            medium.umount()

            heading("Finished: the Clerk wipes the stick (portcullis wipe 1-1.1)")
            r = pc.cli("wipe", "1-1.1", check=False)
            print(textwrap.indent((r.stderr + r.stdout).strip(), "    "))
            done = [x for x in pc.records() if x.get("event.action") == "wipe-done"]
            if done:
                say("Every byte was overwritten with a keyed pattern that encodes its address, "
                    "read back and compared; the certificate is in the trail and on disk:")
                with open(done[-1]["wipe.certificate_file"].replace(".json", ".txt")) as f:
                    print(textwrap.indent(f.read().strip(), "    "))
        finally:
            medium.close()

        heading("What the Clerk sees: portcullis devices")
        print(textwrap.indent(pc.cli("devices").stdout, "    "))

        heading("What the IT provider's audit trail holds")
        for r in pc.records():
            print("    %6s %s %-16s %-6s %s" % (r["seq"], r["@timestamp"][11:19], r["event.action"],
                                              r.get("volume.device_name", ""),
                                              r.get("volume.product_name", "")))
        say()
        say("Every decision is in the trail with the device's identity (IDs, serial, interfaces, "
            "USBGuard-compatible hash) and the rule that decided it. Each record is chained to "
            "the one before and MACed under a key that evolves and is erased; signed checkpoints "
            "seal it.")
        pc.stop()

        heading("The IT provider verifies the trail offline: portcullis audit verify")
        r = pc.verify()
        print(textwrap.indent((r.stdout + r.stderr).strip(), "    "))
    finally:
        key.stop()
        pc.close()


if __name__ == "__main__":
    main()
