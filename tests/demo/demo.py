"""The Portcullis demo: a council of two PCs under umockdev, told as the story it serves,
then the IT provider's side. Run by demo.sh (umockdev-wrapper); exits non-zero as soon as
a step does not do what it says, so it doubles as a smoke test.

Everything here is the real portcullisd, portcullis CLI and portcullis-fleet-enrol; only
the USB bus is simulated (umockdev's preload serves sysfs and uevents; writes to
`authorized` land in the mock sysfs, which this script reads back to show what the kernel
would do). Media are real loop devices; the approvers' keys are the token firmware's simulator."""
import base64
import datetime
import glob
import html
import json
import os
import re
import shutil
import sys
import textwrap
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration/token"))
from demo_lib import (BOLD, COUNCIL_RULES, GREEN, HUB, HUBS_ONLY, KEY, PC, PIN,  # noqa: E402
                      PROFILE, RED, RESET, USER, DemoFailed, Desk, approved, attach_disk,
                      certificate,
                      check, collect, harness, heading, indent, plug,
                      provider, say, trail_lines, verdict, watcher_pids)
import demo_wipes  # noqa: E402
import simconn  # noqa: E402
from fido2.ctap2 import ClientPin, Ctap2  # noqa: E402


def main(demo_dir):
    t0 = time.time()
    clerk, office = PC("clerk-pc", demo_dir), PC("office-pc", demo_dir)
    key = simconn.Simulator(clerk.work)
    deputy = simconn.Simulator(office.work)
    media = []
    desks = {}
    it = os.path.join(demo_dir, "provider")
    try:
        heading("Fakenham Town Council: two PCs")
        say("Two simulated PCs, clerk-pc and office-pc, each with an xHCI controller (two "
            "root hubs); clerk-pc has the council's keyboard plugged in. The IT provider "
            "installed Portcullis on both with the council profile (Fakenham: 3.9 the Clerk "
            "approves, 4.2.8 wipe after transfer, 4.1.5 key PIN as well as touch). clerk-pc "
            "got the rules for the council's own equipment:")
        indent(COUNCIL_RULES)
        say("office-pc got no rules but for hubs: the council bundle will bring them. In the "
            "commands below, 'clerk-pc#' is root at clerk-pc (the Clerk with sudo), "
            "'office-pc$' a councillor, an ordinary user.")
        for pc, rules in ((clerk, COUNCIL_RULES), (office, HUBS_ONLY)):
            pc.add("pc-xhci.umockdev")
            if pc is clerk:
                pc.add("keyboard.umockdev")
            # The council profile as the package installs it on the PC.
            shutil.copyfile(PROFILE, os.path.join(pc.files, "fakenham.profile"))
            pc.start(rules, profile=os.path.join(pc.files, "fakenham.profile"))
            pc._here()
            check(pc.attr(HUB, "authorized_default") == "0" and
                  pc.attr(HUB, "interface_authorized_default") == "0",
                  "%s: portcullisd set authorized_default=0 and interface_authorized_default"
                  "=0 on the root hubs before anything else: nothing new reaches the PC "
                  "until the policy decides" % pc.name)
        say("At each PC the councillor's desktop runs `portcullis notify`: the notices it shows "
            "are quoted below as they appear on screen.")
        for pc in (clerk, office):
            desks[pc.name] = Desk(pc)
        clerk._here()
        r = verdict(clerk, "1-10", HUB + "/1-10", "the keyboard that was already plugged in")
        check(r["event.action"] == "device-allowed", "the council keyboard is allowed")

        heading("The Clerk and her deputy enrol their FIDO2 keys, once, at clerk-pc")
        say("The key here is the project's token firmware running as a simulator (its "
            "button pressed automatically); $KEY names it. A PIN is never an argument: typed "
            "at a terminal it is read without echo, a script hands it over with --pin-fd, "
            "here it comes from the environment (PORTCULLIS_PIN).")
        key.start("--auto-touch")
        KEY[0] = key.sock
        ClientPin(Ctap2(key.device())).set_pin(PIN)
        os.environ["PORTCULLIS_PIN"] = PIN
        clerk.run("portcullis", "approver", "enrol", "--name", "Jane Smith", "--role",
                  "Clerk", "--key", "sim:" + key.sock)
        say("The deputy's enrolment needs the Clerk's touch as well ($DEPUTY_KEY is a second "
            "simulated key):")
        deputy.start("--auto-touch")
        KEY[1] = deputy.sock
        ClientPin(Ctap2(deputy.device())).set_pin(PIN)
        clerk.run("portcullis", "approver", "enrol", "--name", "Sam Lee", "--role",
                  "Deputy Clerk", "--key", "sim:" + deputy.sock, "--by", "sim:" + key.sock)
        clerk.wait_record(lambda r: len(clerk.actions("approver-enrolled")) == 2)
        check(len(clerk.actions("approver-enrolled")) == 2,
              "both enrolments are in clerk-pc's audit trail")

        heading("One signed council bundle for every PC")
        say("The IT provider writes the council's rules to a file; the Clerk's touch signs "
            "one bundle (profile, approvers, rules, a version that only goes up). It is "
            "packaged for the PCs' updates; here each PC applies it as the package's "
            "postinst does, and reloads.")
        with open(os.path.join(clerk.files, "council-rules.conf"), "w") as f:
            f.write(COUNCIL_RULES)
        clerk.run("portcullis", "bundle", "build", "--profile", PROFILE, "--rules",
                  "council-rules.conf", "--version", "1", "--out", "fakenham-1.bundle",
                  "--key", "sim:" + key.sock)
        r = clerk.run("portcullis", "bundle", "show", "fakenham-1.bundle")
        check("Jane Smith" in r.stdout and "Sam Lee" in r.stdout,
              "the bundle names Jane Smith and Sam Lee as approvers")
        clerk.run("portcullis", "bundle", "deb", "fakenham-1.bundle", "--out", ".")
        check(os.path.exists(os.path.join(clerk.files, "portcullis-council-fakenham_1_all.deb")),
              "a Debian package portcullis-council-fakenham, version 1, was made")
        shutil.copy(os.path.join(clerk.files, "fakenham-1.bundle"), office.files)
        for pc in (clerk, office):
            pc.run("portcullis", "bundle", "apply", "fakenham-1.bundle")
            check(pc.reload()["council.bundle.version"] == 1,
                  "%s records bundle-in-force, version 1, after its reload" % pc.name)
        r = office.run("portcullis", "approver", "list")
        check("Jane Smith" in r.stdout and "Sam Lee" in r.stdout,
              "office-pc knows both keys without anyone enrolling there")

        heading("The IT provider enrols both PCs in the fleet, at installation")
        say("Each PC will prove its council and name to the IT provider's collector with a "
            "certificate from the provider's own CA. Each PC's trail key (written at "
            "installation) is registered once; its origin must name the PC.")
        os.makedirs(it)
        provider(["portcullis-fleet-enrol", "ca", "ca"], cwd=it)
        for pc in (clerk, office):
            provider(["portcullis-fleet-enrol", "pc", "ca", "fakenham", pc.name,
                      "bundle-" + pc.name], cwd=it)
            r = provider(["openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName",
                          "-in", "bundle-%s/pc-cert.pem" % pc.name], cwd=it)
            check("%s.fakenham.portcullis" % pc.name in r.stdout and
                  "portcullis:fakenham/%s" % pc.name in r.stdout,
                  "%s's certificate names council and PC" % pc.name)
            shutil.copy(pc.audit_key, os.path.join(it, pc.name + ".key"))
            provider(["portcullis", "fleet", "add", "--fleet", "fleet", "--council",
                      "fakenham", "--pc", pc.name, "--key", pc.name + ".key"], cwd=it)

        heading("clerk-pc: the council's stick passes, everything else is stopped")
        plug(clerk, "hub-genesys.umockdev", HUB + "/1-1", "1")
        plug(clerk, "stick-council.umockdev", HUB + "/1-1/1-1.1", "1")
        clerk.wait_attr(HUB + "/1-1/1-1.1/1-1.1:1.0", "authorized", "1")
        r = verdict(clerk, "1-1.1", HUB + "/1-1/1-1.1", "its storage interface authorised too")
        check(r["event.action"] == "device-allowed", "the registered council stick (behind a "
              "hub) is allowed by the bundle's rule")
        for fixture, dev, what in (
                ("badusb.umockdev", "1-5", "a 'free gift' stick: storage plus a hidden "
                 "keyboard (BadUSB)"),
                ("phone-mtp-adb.umockdev", "1-7", "a phone (MTP file transfer, ADB)"),
                ("stick-council-hid.umockdev", "1-4", "a lookalike of the council stick: "
                 "same IDs and serial, an extra keyboard")):
            say(what + ":")
            plug(clerk, fixture, HUB + "/" + dev, "0")
            r = verdict(clerk, dev, HUB + "/" + dev, "no driver ever sees it")
            check(r["event.action"] == "device-blocked" and
                  clerk.attr(HUB + "/" + dev, "authorized") == "0", "%s stays blocked" % dev)

        heading("office-pc: a councillor's personal stick is blocked, with the reason")
        office._here()
        plug(office, "stick-personal.umockdev", HUB + "/1-2", "0")
        r = verdict(office, "1-2", HUB + "/1-2", "stays de-authorised")
        check(r["event.action"] == "device-blocked", "the personal stick is blocked")
        office.wait_quiet()
        morning = os.path.join(office.work, "audit-copy")
        shutil.copytree(office.conf["audit-log"], morning)  # kept for the last step
        r = office.run("portcullis", "status", user=USER)
        check("1-2" in r.stdout and "blocked" in r.stdout.lower(),
              "the councillor sees the stick blocked and why")

        heading("The Clerk approves it from home: request and response files")
        say("The councillor exports a request (it names this device, this PC, the scope, the "
            "end, the credentials the PC accepts and a fresh nonce) and e-mails it; the "
            "Clerk signs it on her own PC, where no Portcullis service runs.")
        office.run("portcullis", "request", "export", "1-2", "--for", "2h", "--reason",
                   "planning papers", "--out", "request.txt", user=USER)
        req = open(os.path.join(office.files, "request.txt")).read()
        say("On the way, someone edits the request: an exception until the stick is "
            "unplugged instead of two hours. The Clerk's key signs what it is shown:")
        edited, n = re.subn(r"^until: .*$", "until: unplug", req, flags=re.M)
        check(n == 1 and edited != req, "the edited copy asks for 'until: unplug'")
        with open(os.path.join(office.files, "edited.txt"), "w") as f:
            f.write(edited)
        laptop = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD",
                                                                     "UMOCKDEV_DIR")}
        laptop["PORTCULLIS_SOCKET"] = "/nonexistent"
        office.run("portcullis", "approve", "--request", "edited.txt", "--out",
                   "edited-response.txt", "--key", "sim:" + key.sock, host="clerk-laptop",
                   env=laptop)
        r = office.run("portcullis", "request", "import", "edited-response.txt", user=USER,
                       ok=False)
        check("not the one this PC issued" in r.stderr and
              office.attr(HUB + "/1-2", "authorized") == "0",
              "office-pc refuses it: the signed text is not the request it issued")
        office.wait_record(lambda r: r.get("event.action") == "exception-refused")
        check(office.actions("exception-refused") != [], "the refusal is in the trail")
        say("The genuine request is a bring-in (read-only: files come off the stick). The "
            "papers on it are the council's, so the Clerk ticks \"this stick carries council "
            "data: wipe after import\" (--council-data) before her key signs; office-pc "
            "imports her answer:")
        r = office.run("portcullis", "approve", "--request", "request.txt", "--council-data",
                       "--out", "response.txt", "--key", "sim:" + key.sock,
                       host="clerk-laptop", env=laptop)
        check("council data: YES" in r.stderr, "the Clerk saw the mark before her touch")
        office.run("portcullis", "request", "import", "response.txt", user=USER)
        demo_wipes.council_data(office, desks["office-pc"], media)
        say("The councillor has what they needed; the Clerk ends the exception early:")
        office.run("portcullis", "approve", "--end", "1-2")
        office.wait_attr(HUB + "/1-2", "authorized", "0")
        office.wait_record(lambda r: r.get("event.action") == "exception-ended")
        check(office.actions("exception-ended") != [],
              "the stick is switched off again and exception-ended is recorded")

        heading("The deputy leaves: removed, and bundle 2 reaches office-pc")
        say("At clerk-pc the Clerk removes Sam Lee with her touch and signs bundle 2; office-pc "
            "takes it. Sam Lee's key can no longer approve anything there.")
        clerk.run("portcullis", "approver", "remove", "--name", "Sam Lee", "--by",
                  "sim:" + key.sock)
        clerk.wait_record(lambda r: r.get("event.action") == "approver-removed")
        clerk.run("portcullis", "bundle", "build", "--profile", PROFILE, "--rules",
                  "council-rules.conf", "--version", "2", "--out", "fakenham-2.bundle",
                  "--key", "sim:" + key.sock)
        shutil.copy(os.path.join(clerk.files, "fakenham-2.bundle"), office.files)
        office.run("portcullis", "bundle", "apply", "fakenham-2.bundle")
        check(office.reload()["council.bundle.version"] == 2,
              "office-pc records bundle-in-force, version 2")
        r = office.run("portcullis", "approver", "list")
        check("Sam Lee" not in r.stdout, "Sam Lee is no longer an approver at office-pc")
        office.run("portcullis", "request", "export", "1-2", "--for", "1h", "--reason",
                   "minutes", "--out", "request-2.txt", user=USER)
        r = office.run("portcullis", "approve", "--request", "request-2.txt", "--out",
                       "response-2.txt", "--key", "sim:" + deputy.sock, host="deputy-laptop",
                       env=laptop, ok=False)
        check("no approval" in r.stderr and
              not os.path.exists(os.path.join(office.files, "response-2.txt")) and
              office.attr(HUB + "/1-2", "authorized") == "0",
              "Sam Lee's key cannot answer: the request names only the credentials office-pc "
              "accepts now; the stick stays blocked")

        owed = demo_wipes.take_out(office, desks["office-pc"], key, media)
        demo_wipes.owed_listed(it, clerk, office, owed, int(time.time()))
        owed_json = demo_wipes.close_by_hand(it, clerk, office, owed)
        demo_wipes.owed_in_bundle(clerk, office, key, owed_json)
        demo_wipes.owed_comes_back(clerk, desks["clerk-pc"], owed)

        heading("At clerk-pc the Clerk approves a personal stick with her key there")
        clerk._here()
        plug(clerk, "stick-personal.umockdev", HUB + "/1-2", "0")
        clerk.run("portcullis", "approve", "1-2", "--read-only", "--for", "2h", "--reason",
                  "planning papers", "--key", "sim:" + key.sock)
        clerk.wait_attr(HUB + "/1-2", "authorized", "1")
        clerk.kernel_configure(HUB + "/1-2")
        clerk.wait_attr(HUB + "/1-2/1-2:1.0", "authorized", "1")
        approved(clerk, "1-2")
        r = verdict(clerk, "1-2", HUB + "/1-2", "let in for two hours, its storage only")
        check(r["event.action"] == "exception-approved", "approved at the PC by touch and PIN")
        say("The touch signed this device (its USBGuard hash, serial and interfaces), this "
            "PC (machine id and host name), the scope, the expiry and a fresh nonce; the "
            "record keeps the signed request, so the IT provider can re-verify it offline.")

        heading("The councillor reads the planning papers from that stick: logged")
        papers = harness.RealMedium()
        media.append(papers)
        papers.mount()
        with open(os.path.join(papers.mnt, "planning-papers.pdf"), "wb") as f:
            f.write(b"%PDF-1.7 planning " + os.urandom(100000))
        os.chmod(os.path.join(papers.mnt, "planning-papers.pdf"), 0o644)
        check(papers.umount(), "(the councillor's stick holds planning-papers.pdf)")
        say("The stick's medium is a real ext4 filesystem on a loop device; the kernel's "
            "storage drivers are stood in for once its interface is authorised.")
        attach_disk(clerk, papers, HUB + "/1-2/1-2:1.0", 7)
        r = clerk.wait_record(lambda r: r.get("event.action") == "medium-read-only" and
                              r.get("event.reason", "").startswith(papers.name + " "))
        ro = harness.real(["blockdev", "--getro", papers.loop], capture_output=True, text=True)
        check(r["event.outcome"] == "success" and ro.stdout.strip() == "1",
              "the exception is read-only: the medium is set read-only below any filesystem")
        print("    clerk-pc# mount -o ro %s %s" % (papers.loop, papers.mnt))
        harness.real(["mount", "-o", "ro", papers.loop, papers.mnt], check=True)
        papers.mounted = True
        clerk.wait_record(lambda r: r.get("event.action") == "xfer-watch-started" and
                          r.get("volume.device_name") == papers.name, timeout=20)
        cmd = ["cp", os.path.join(papers.mnt, "planning-papers.pdf"),
               os.path.join(clerk.files, "planning-papers.pdf")]
        print("    clerk-pc$ " + " ".join(cmd))
        harness.as_user(USER, *cmd)
        rd = clerk.wait_record(lambda r: r.get("event.action") == "file-read" and
                               r.get("file.path") == "planning-papers.pdf", timeout=20)
        print("  %sFILE-READ%s %s, %d bytes, sha256 %s... by uid %s (%s)" % (
            GREEN, RESET, rd["file.path"], rd["file.size"], rd["file.hash.sha256"][:16],
            rd["user.id"], rd["process.executable"]))
        check(rd["user.id"] == USER and rd["file.path"] == "planning-papers.pdf",
              "the read is logged with who, which program, the file, its size and SHA-256")

        heading("Someone with root kills the transfer log: the stick is switched off")
        say("The log of transfers never stops silently: if its watcher dies, nothing more may "
            "reach the medium unrecorded, so the device is de-authorised.")
        pids = watcher_pids(papers.mnt)
        check(len(pids) == 1, "one transfer-log watcher (portcullis-xferwatch) runs for the "
              "stick's mount")
        print("    clerk-pc# kill -KILL %d" % pids[0])
        harness.real(["kill", "-KILL", str(pids[0])], check=True)
        clerk.wait_record(lambda r: r.get("event.action") == "xfer-watch-lost", timeout=20)
        clerk.wait_attr(HUB + "/1-2", "authorized", "0")
        b = clerk.wait_record(lambda r: r.get("event.action") == "device-blocked" and
                              r.get("usb.port") == "1-2" and
                              "could not be logged" in r.get("event.reason", ""))
        print("  %sDEVICE-BLOCKED%s 1-2: %s" % (RED, RESET, b["event.reason"]))
        check(clerk.attr(HUB + "/1-2", "authorized") == "0",
              "xfer-watch-lost is recorded and the stick is de-authorised")
        check(papers.umount(), "(the dead stick's filesystem is unmounted)")

        heading("A councillor tries to wipe the council's stick: refused and recorded")
        r = clerk.run("portcullis", "wipe", "1-1.1", user=USER, ok=False)
        rec = clerk.wait_record(lambda r: r.get("event.action") == "command-refused")
        check(rec["user.id"] == USER and rec["portcullis.command"] == "wipe",
              "refused: only root or the user who asked for the stick's exception may wipe it "
              "(and a wipe group, when the IT provider names one); command-refused is in the "
              "trail with the councillor's uid")

        heading("A councillor copies the agenda onto the council's stick: logged")
        medium = harness.RealMedium()
        media.append(medium)
        attach_disk(clerk, medium, HUB + "/1-1/1-1.1/1-1.1:1.0", 6)
        print("    clerk-pc# mount %s %s" % (medium.loop, medium.mnt))
        medium.mount()
        clerk.wait_record(lambda r: r.get("event.action") == "xfer-watch-started" and
                          r.get("volume.device_name") == medium.name, timeout=20)
        say("The stick's medium (a real ext4 filesystem on a loop device) is mounted; "
            "portcullisd logs every file written to it or read from it.")
        agenda = os.path.join(clerk.files, "agenda-full-council.pdf")
        with open(agenda, "wb") as f:
            f.write(b"%PDF-1.7 agenda " + os.urandom(200000))
        os.chmod(agenda, 0o644)
        print("    clerk-pc$ cp %s %s/agenda.pdf" % (agenda, medium.mnt))
        harness.as_user(USER, "cp", agenda, medium.mnt + "/agenda.pdf")
        w = clerk.wait_record(lambda r: r.get("event.action") == "file-written" and
                              r.get("file.path") == "agenda.pdf", timeout=20)
        print("  %sFILE-WRITTEN%s %s, %d bytes, sha256 %s...\n  by uid %s (%s) to %s %s" % (
            GREEN, RESET, w["file.path"], w["file.size"], w["file.hash.sha256"][:16],
            w["user.id"], w["process.executable"], w["volume.vendor_name"].strip(),
            w["volume.serial_number"]))
        check(w["user.id"] == USER and w["file.size"] == os.path.getsize(agenda),
              "the copy is logged with who, which program, the path, size and SHA-256")
        print("    clerk-pc# umount %s" % medium.mnt)
        check(medium.umount(), "the stick is unmounted")

        heading("Finished: the Clerk wipes the stick, with a certificate")
        n = len(clerk.actions("wipe-done"))
        clerk.run("portcullis", "wipe", "1-1.1")
        clerk.wait_record(lambda r: len(clerk.actions("wipe-done")) > n, timeout=120)
        done = clerk.actions("wipe-done")
        check(len(done) == n + 1, "wipe-done is in the trail")
        say("Every byte was overwritten with a keyed pattern that encodes its address, read "
            "back and compared; the certificate of sanitisation is in the trail and on disk. "
            "(The medium here is a loop device, so its make and model lines name the loop "
            "device; the USB identity is the simulated stick's, checked again at the wipe.)")
        cert = certificate(clerk, done[-1])
        check(cert["media"]["usb_serial"] == "4C530001140516116522" and
              cert["operator"] == "uid 0",
              "it names the council stick's USB identity and the Clerk (root) who asked")
        with open(medium.img, "rb") as f:
            check(b"%PDF-1.7 agenda" not in f.read(), "the agenda is no longer on the medium")
        c = [r for r in clerk.actions("wipe-owed")
             if r.get("volume.serial_number") == "4C530001140516116522"]
        check(c == [], "wiped before it left: the council stick owes nothing")

        demo_wipes.encrypted_sticks(clerk, desks["clerk-pc"], key, medium)

        heading("What the Clerk sees at clerk-pc")
        clerk.run("portcullis", "devices")

        heading("The audit trail of clerk-pc")
        for r in clerk.records():
            print("      %5s %s %-18s %-6s %s" % (r["seq"], r["@timestamp"][11:19],
                                               r["event.action"],
                                               r.get("volume.device_name", ""),
                                               r.get("volume.product_name", "")))
        say("Every decision is in the trail with the device's identity and the rule that "
            "decided it; each record is chained to the one before and MACed under a key that "
            "evolves and is erased; signed checkpoints seal it. The day ends: both services "
            "stop, each sealing its trail with a checkpoint.")
        for pc in (clerk, office):
            pc.stop()
            last = trail_lines(pc.conf["audit-log"])[-1]
            check(last.get("audit.type") == "checkpoint",
                  "%s's trail ends with a signed checkpoint (seq %d)" % (pc.name, last["seq"]))

        heading("The provider verifies the collected trails: portcullis fleet verify")
        say("In service each PC's rsyslog ships its trail over RELP with TLS to the "
            "collector, which files it as <council>/<pc>/trail.log (tested on its own in "
            "tests/integration/fleet). The demo does not run rsyslog: it copies each PC's "
            "trail, line for line, into that layout (as it did for the owed wipes above).")
        collected = os.path.join(it, "collected")
        collect(it, (clerk, office))
        r = provider(["portcullis", "fleet", "verify", "--fleet", "fleet", "--collected",
                      "collected"], cwd=it)
        check("2 PCs, 2 verified, 0 failed" in r.stdout, "both trails verify", r.stdout)
        say("fleet verify keeps, for each PC, the last checkpoint it verified: the witness. "
            "Root on a PC holds its keys and could cut back or rewrite its trail; it cannot "
            "change the checkpoint the provider already holds.")
        for pc in (clerk, office):
            w = glob.glob(os.path.join(it, "fleet", "fakenham", pc.name, "*witness*"))
            check(len(w) == 1 and open(w[0]).read().startswith("portcullis-witness 1\n"),
                  "the witness of %s is kept in the fleet store" % pc.name)
            text = open(w[0]).read()
            note = re.search(r"^note (\S+)$", text, re.M)
            check(note is not None and "portcullis/%s\n" % pc.name in
                  base64.b64decode(note.group(1)).decode(),
                  "it holds %s's last signed checkpoint" % pc.name)
            print("      %s (the note decoded: origin, seq, root hash, time, signature):"
                  % os.path.relpath(w[0], it))
            indent(re.sub(r"^note \S+\n", "", text, flags=re.M))
            indent(textwrap.indent(base64.b64decode(note.group(1)).decode(), "  "))

        heading("The fleet at a glance: portcullis fleet status")
        r = provider(["portcullis", "fleet", "status", "--fleet", "fleet"], cwd=it)
        check(len(re.findall(r"^\s+(clerk-pc|office-pc)\s+ok\s", r.stdout, re.M)) == 2,
              "both PCs are ok: heard from, verified, no wipe owed", r.stdout)
        st = json.loads(provider(["portcullis", "fleet", "status", "--fleet", "fleet",
                                  "--format", "json"], cwd=it).stdout)
        for pc in (clerk, office):
            runs = {str(r["council.bundle.version"]) for r in
                    pc.actions("bundle-in-force") + pc.actions("bundle-applied")}
            got = [p["bundle_version"] for p in st if p["pc"] == pc.name]
            check(len(got) == 1 and got[0] in runs,
                  "the BUNDLE column shows the council bundle %s runs (%s)" %
                  (pc.name, got[0] if got else "?"), json.dumps(st))

        heading("The council's report")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        report = os.path.join(it, "fakenham-report.html")
        r = provider(["portcullis", "fleet", "report", "--fleet", "fleet", "--collected",
                      "collected", "--council", "fakenham", "--from",
                      today.replace(day=1).isoformat(), "--to", today.isoformat(),
                      "--output", report], cwd=it)
        with open(report) as f:
            page = f.read()
        text = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))
        print("      (its text, without the charts:)")
        indent(textwrap.fill(text[text.find("Period"):text.find("Totals include")], 90))
        check("NOT VERIFIED" not in page and "verified in full" in text and
              "Jane Smith" in page, "the report says both trails verified in full first, "
              "and names the approver")
        acts = [r["event.action"] for pc in (clerk, office) for r in pc.records()]
        sizes = sum(r["file.size"] for pc in (clerk, office) for r in pc.actions("file-written"))
        figures = ("devices blocked %d exceptions approved %d refusals %d files written to "
                   "media %d (%d bytes) files read from media %d" % (
                       acts.count("device-blocked"), acts.count("exception-approved"),
                       acts.count("exception-refused"), acts.count("file-written"), sizes,
                       acts.count("file-read")))
        check(figures in text and "wipes done / missed %d / 0" % acts.count("wipe-done")
              in text, "its figures are the trails': " + figures, text)
        print("\n  %sThe council's report: %s%s" % (BOLD, report, RESET))

        heading("Root at office-pc puts back an older copy of its trail: the provider sees it")
        shipped = os.path.join(collected, "fakenham", "office-pc", "trail.log")
        with open(shipped, "rb") as f:
            have = set(f.read().splitlines())
        held = max(json.loads(line)["seq"] for line in have)
        say("Someone with root at office-pc wants the refused request, the exceptions and "
            "the owed wipes gone. Root can copy the trail with its keys at any time: it puts "
            "back the copy taken before the request (step 6) and the service writes on from "
            "there, a trail "
            "that verifies on its own. The collector receives the rewritten records; the "
            "provider already holds office-pc's records and checkpoint up to seq %d." % held)
        trail = office.conf["audit-log"]
        for cmd in (["rm", "-r", trail], ["cp", "-a", morning, trail]):
            print("    office-pc# " + " ".join(cmd))
            harness.real(cmd, check=True)
        print("    (the service starts again and writes on)")
        office._here()
        office.start(HUBS_ONLY, profile=os.path.join(office.files, "fakenham.profile"))
        office.stop()
        r = office.verify()
        check(r.returncode == 0, "office-pc's rewritten trail verifies on its own: "
              "portcullis audit verify cannot tell", r.stdout + r.stderr)
        first_new = 1 + max(r["seq"] for r in trail_lines(morning))
        with open(shipped, "ab") as out:
            for seg in sorted(glob.glob(os.path.join(trail, "trail-*.jsonl"))):
                with open(seg, "rb") as f:
                    out.write(b"".join(l + b"\n" for l in f.read().splitlines()
                                       if l not in have))
        r = provider(["portcullis", "fleet", "verify", "--fleet", "fleet", "--collected",
                      "collected"], ok=None, cwd=it)
        check(r.returncode != 0 and re.search(r"^FAIL fakenham/office-pc seq %d:" % first_new,
                                              r.stdout, re.M) is not None and
              "FAIL fakenham/clerk-pc" not in r.stdout,
              "fleet verify names office-pc and seq %d, the first one rewritten; "
              "clerk-pc stays verified" % first_new, r.stdout)
        r = provider(["portcullis", "fleet", "status", "--fleet", "fleet", "--council",
                      "fakenham"], cwd=it)
        check(re.search(r"^\s+office-pc\s+FAILED", r.stdout, re.M) is not None,
              "fleet status shows office-pc FAILED (an alert for the provider); the "
              "collected copy, with the original records, is the evidence", r.stdout)
        say()
        say("Demo finished in %.0f s. Files: %s" % (time.time() - t0, demo_dir))
    finally:
        for d in desks.values():
            d.close()
        for m in media:
            m.close()
        key.stop()
        deputy.stop()
        clerk.close()
        office.close()


if __name__ == "__main__":
    out = os.environ.get("PCL_DEMO_DIR") or "/tmp/portcullis-demo"
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    os.chmod(out, 0o755)
    try:
        main(out)
    except (DemoFailed, AssertionError) as e:
        print("\n%sDEMO FAILED: %s%s" % (RED, e, RESET))
        sys.exit(1)
