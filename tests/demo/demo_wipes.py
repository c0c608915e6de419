"""The demo's wipe story: a bring-in carrying council data, accepted by its owner and wiped
at eject; take-out sticks that owe their wipe wherever they go next; the IT provider's list
of owed wipes, its overdue alert, one closed by hand, the rest carried by the council
bundle to the other PC, which recognises the stick and wipes it; plain council sticks
read-only once the council asks for encrypted ones. Imported by demo.py (test code, run as
root under umockdev-wrapper); the records and notices it reads are checked, not trusted."""
import json
import os
import shutil

from demo_lib import (COUNCIL_RULES, HUB, PROFILE, USER, GREEN, RESET, approved, attach_disk, certificate,
                      check, collect, decision, harness, heading, plug, provider, say,
                      started, verdict)


def _action(pc, action, **fields):
    return pc.wait_record(lambda r: r.get("event.action") == action and
                          all(r.get(k) == v for k, v in fields.items()), timeout=120)


def _read_only(pc, medium):
    """The medium is set read-only at the block layer (the record names the disk)."""
    pc.wait_record(lambda r: r.get("event.action") == "medium-read-only" and
                   r.get("event.reason", "").startswith(medium.name + " "), timeout=20)


def _read_off(pc, medium, name):
    """The councillor copies a file off a read-only medium: the read is logged."""
    cmd = ["cp", os.path.join(medium.mnt, name), os.path.join(pc.files, name)]
    print("    %s$ %s" % (pc.name, " ".join(cmd)))
    harness.as_user(USER, *cmd)
    rd = pc.wait_record(lambda r: r.get("event.action") == "file-read" and
                        r.get("file.path") == name, timeout=20)
    print("  %sFILE-READ%s %s, %d bytes, by uid %s" % (GREEN, RESET, rd["file.path"],
                                                      rd["file.size"], rd["user.id"]))


def council_data(office, desk, media):
    """After the genuine request came back with the Clerk's council-data mark."""
    heading("The papers are council data: the councillor accepts the wipe, reads, ejects")
    waiting = _action(office, "exception-awaiting-owner")
    check(office.attr(HUB + "/1-2", "authorized") == "0" and waiting["wipe.plan"] == "at-eject",
          "the exception is approved, but the stick stays switched off until its owner "
          "accepts what will happen to it")
    desk.notice("carries council data")
    office.run("portcullis", "media", "accept", "1-2", user=USER)
    acc = _action(office, "council-data-accepted")
    check(acc["user.id"] == USER and acc["approval.ref"] == waiting["approval.ref"],
          "the councillor's acceptance is recorded (council-data-accepted, with their uid)")
    office.wait_attr(HUB + "/1-2", "authorized", "1")
    office.kernel_configure(HUB + "/1-2")
    office.wait_attr(HUB + "/1-2/1-2:1.0", "authorized", "1")
    approved(office, "1-2")
    r = verdict(office, "1-2", HUB + "/1-2", "let in for two hours, read-only")
    check(r["event.action"] == "exception-approved" and
          r["approval.approver"] == "Jane Smith" and r["approval.scope"] == "read-only" and
          r["approval.direction"] == "bring-in" and r["approval.council_data"] == "yes",
          "approved by Jane Smith's key, enrolled at the other PC: a bring-in (read-only) "
          "carrying council data")
    papers = harness.RealMedium()
    media.append(papers)
    papers.mount()
    with open(os.path.join(papers.mnt, "committee-papers.pdf"), "wb") as f:
        f.write(b"%PDF-1.7 committee " + os.urandom(100000))
    os.chmod(os.path.join(papers.mnt, "committee-papers.pdf"), 0o644)
    check(papers.umount(), "(the councillor's stick holds committee-papers.pdf)")
    attach_disk(office, papers, HUB + "/1-2/1-2:1.0", 8)
    _read_only(office, papers)
    print("    office-pc# mount -o ro %s %s" % (papers.loop, papers.mnt))
    harness.real(["mount", "-o", "ro", papers.loop, papers.mnt], check=True)
    papers.mounted = True
    check(started(office, papers)["wipe.plan"] == "at-eject",
          "the transfer log records the plan: wiped when it is ejected")
    n = desk.notice("recorded")
    check("erased when you eject it" in n["body"], "the councillor is told so on screen")
    _read_off(office, papers, "committee-papers.pdf")
    print("    office-pc# umount %s" % papers.mnt)
    check(papers.umount(), "the councillor ejects the stick")
    desk.notice("being wiped")
    done = _action(office, "wipe-done")
    say("Nobody had to remember: the wipe ran by itself once the papers were read. Its "
        "certificate names the stick by its USB identity, the approval and who ran it:")
    cert = certificate(office, done)
    check(cert["approval"] == r["approval.ref"] and
          cert["media"]["usb_serial"] == "AA00000000011111" and
          cert["media"]["usb_hash"] == r["usb.hash"] and cert["operator"] == "automatic",
          "the certificate names this stick (ids, serial, USBGuard hash), the approval "
          "%s and the operator 'automatic'" % r["approval.ref"])
    with open(papers.img, "rb") as f:
        check(b"%PDF-1.7 committee" not in f.read(), "the papers are no longer on the stick")


def take_out(office, desk, key, media):
    """Two councillors copy the minutes onto their own sticks at office-pc (take-out)."""
    heading("office-pc: two councillors take the minutes out on their own sticks")
    say("A read-write exception is a take-out: the files are meant to arrive somewhere "
        "else, so office-pc does not wipe the stick when it is ejected (that would destroy "
        "them on the way). The stick owes its wipe instead, and the owed wipe follows it to "
        "any PC of the council. The Clerk approves both at office-pc with her key.")
    office.unplug(HUB + "/1-2")  # the councillor's stick of the morning went home
    _action(office, "device-removed", **{"usb.port": "1-2"})
    owed = {}
    for fixture, port, host, serial, who in (
            ("stick-personal.umockdev", "1-2", 9, "AA00000000011111", "Cllr Brown"),
            ("stick-personal-twin.umockdev", "1-3", 10, "AA00000000022222", "Cllr Patel")):
        dev = HUB + "/" + port
        say("%s's stick:" % who)
        plug(office, fixture, dev, "0")
        office.run("portcullis", "approve", port, "--read-write", "--for", "2h", "--reason",
                   "minutes to take to the clerk's office", "--key", "sim:" + key.sock)
        office.wait_attr(dev, "authorized", "1")
        office.kernel_configure(dev)
        office.wait_attr(dev + "/%s:1.0" % port, "authorized", "1")
        approved(office, port)
        r = decision(office, port)
        check(r["approval.direction"] == "take-out" and r["approval.scope"] == "read-write",
              "approved read-write: a take-out, signed as such")
        m = harness.RealMedium()
        media.append(m)
        attach_disk(office, m, dev + "/%s:1.0" % port, host)
        print("    office-pc# mount %s %s" % (m.loop, m.mnt))
        m.mount()
        check(started(office, m)["wipe.plan"] == "owed",
              "the transfer log records the plan: the stick owes its wipe")
        n = desk.notice("recorded")
        check("bring it back to a council computer" in n["body"] and
              "not wiped when you eject it here" in n["body"],
              "the councillor is told to bring it back to a council computer to be wiped")
        marker = b"MINUTES-" + os.urandom(8).hex().encode()
        src = os.path.join(office.files, "minutes-%s.txt" % port)
        with open(src, "wb") as f:
            f.write(marker * 256)
        os.chmod(src, 0o644)
        print("    office-pc$ cp %s %s/minutes.txt" % (src, m.mnt))
        harness.as_user(USER, "cp", src, m.mnt + "/minutes.txt")
        _action(office, "file-written", **{"volume.serial_number": serial})
        print("    office-pc# umount %s   (and the stick is unplugged)" % m.mnt)
        check(m.umount(), "ejected")
        _action(office, "xfer-watch-stopped", **{"volume.device_name": m.name})
        office.unplug(dev)
        w = _action(office, "wipe-owed", **{"volume.serial_number": serial})
        print("  %sWIPE-OWED%s %s serial %s, reference %s" % (
            GREEN, RESET, port, serial, w["approval.ref"]))
        with open(m.loop, "rb") as f:
            check(marker in f.read(), "not wiped here: the minutes leave on the stick, and "
                  "wipe-owed is recorded with its identity and reference")
        owed[port] = (w, m, marker)
    return owed


def owed_listed(it, clerk, office, owed, now):
    heading("The IT provider sees the owed wipes, and the alert when one is late")
    say("The collector verifies office-pc's trail as it arrives and lists every owed wipe "
        "of the council that no PC has closed yet (AGE/D: days since the stick left the PC named last).")
    office.wait_quiet()
    collect(it, [clerk, office])
    r = provider(["portcullis", "fleet", "verify", "--fleet", "fleet", "--collected",
                  "collected"], cwd=it)
    check("FAIL" not in r.stdout, "both trails verify", r.stdout)
    provider(["portcullis", "fleet", "owed", "--fleet", "fleet", "--council", "fakenham"],
             cwd=it)
    js = json.loads(provider(["portcullis", "fleet", "owed", "--fleet", "fleet", "--council",
                              "fakenham", "--format", "json"], cwd=it, quiet=True).stdout)
    refs = sorted(w["approval.ref"] for w, _, _ in owed.values())
    check(sorted(e["ref"] for e in js) == refs and
          {e["state"] for e in js} == {"wipe-owed"} and {e["pc"] for e in js} == {"office-pc"},
          "both owed wipes are listed, from office-pc, not late", json.dumps(js))
    r = provider(["portcullis", "fleet", "status", "--fleet", "fleet", "--council",
                  "fakenham"], cwd=it)
    check("owed wipes: 2 open, 0 overdue" in r.stdout, "fleet status counts them", r.stdout)
    days = owed["1-2"][0]["wipe.owed_days"]
    say("Had they not come back within %d days (the limit office-pc recorded with them), "
        "the provider would be alerted. The collector asked as of 15 days from now:" % days)
    r = provider(["portcullis", "fleet", "status", "--fleet", "fleet", "--council",
                  "fakenham", "--at", str(now + 15 * 86400)], cwd=it)
    check("owed wipes: 2 open, 2 overdue" in r.stdout,
          "both would be overdue: the PortcullisWipeOwedOverdue alert fires (and both PCs "
          "would be SILENT, nothing heard from them in those 15 days)", r.stdout)


def close_by_hand(it, clerk, office, owed):
    heading("Cllr Brown lost the stick on the train: the Clerk closes its owed wipe by hand")
    ref = owed["1-2"][0]["approval.ref"]
    r = office.run("portcullis", "media", "close-owed", ref, "--reason", "lost", user=USER,
                   ok=False)
    check("only root" in r.stderr, "a councillor cannot close it")
    office.run("portcullis", "media", "close-owed", ref, "--reason",
               "stick lost on the train, reported by Cllr Brown")
    c = _action(office, "wipe-owed-closed", **{"approval.ref": ref})
    check(c["event.reason"].startswith("closed by hand: stick lost") and c["user.id"] == 0,
          "wipe-owed-closed is recorded with the reason and who closed it")
    office.wait_quiet()
    collect(it, [clerk, office])
    provider(["portcullis", "fleet", "verify", "--fleet", "fleet", "--collected",
              "collected"], cwd=it)
    path = os.path.join(it, "owed.json")
    print("    provider$ portcullis fleet owed --fleet fleet --council fakenham "
          "--format json > owed.json")
    out = provider(["portcullis", "fleet", "owed", "--fleet", "fleet", "--council",
                    "fakenham", "--format", "json"], cwd=it, quiet=True).stdout
    with open(path, "w") as f:
        f.write(out)
    js = json.loads(out)
    check([e["ref"] for e in js] == [owed["1-3"][0]["approval.ref"]],
          "one owed wipe is still open: Cllr Patel's", out)
    return path


def owed_in_bundle(clerk, office, key, owed_json):
    heading("Bundle 3 carries the owed wipe to every PC of the council")
    say("The provider sends the list (owed.json) to the Clerk; her touch signs it into the "
        "council bundle with the rest, and both PCs take it.")
    shutil.copy(owed_json, clerk.files)
    clerk.run("portcullis", "bundle", "build", "--profile", PROFILE, "--rules",
              "council-rules.conf", "--version", "3", "--owed", "owed.json", "--out",
              "fakenham-3.bundle", "--key", "sim:" + key.sock)
    r = clerk.run("portcullis", "bundle", "show", "fakenham-3.bundle")
    check("owed wipes: 1" in r.stdout, "the bundle lists one owed wipe", r.stdout)
    shutil.copy(os.path.join(clerk.files, "fakenham-3.bundle"), office.files)
    for pc in (clerk, office):
        pc.run("portcullis", "bundle", "apply", "fakenham-3.bundle")
        check(pc.reload()["council.bundle.version"] == 3,
              "%s records bundle-in-force, version 3" % pc.name)


def owed_comes_back(clerk, desk, owed):
    heading("Cllr Patel brings the stick to clerk-pc: recognised, read, wiped at eject")
    w, m, marker = owed["1-3"]
    clerk._here()
    plug(clerk, "stick-personal-twin.umockdev", HUB + "/1-3", "1")
    found = _action(clerk, "wipe-owed-found")
    check(found["wipe.owed_ref"] == w["approval.ref"],
          "clerk-pc recognises the stick (USBGuard hash, ids and serial) as owing wipe %s, "
          "and lets it in read-only so that the minutes can still be copied off"
          % w["approval.ref"])
    desk.notice("will be wiped")
    clerk.wait_attr(HUB + "/1-3/1-3:1.0", "authorized", "1")
    attach_disk(clerk, m, HUB + "/1-3/1-3:1.0", 11)
    _read_only(clerk, m)
    print("    clerk-pc# mount -o ro %s %s" % (m.loop, m.mnt))
    harness.real(["mount", "-o", "ro", m.loop, m.mnt], check=True)
    m.mounted = True
    check(started(clerk, m)["wipe.plan"] == "at-eject",
          "the transfer log records the plan: wiped when it is ejected")
    _read_off(clerk, m, "minutes.txt")
    with open(os.path.join(clerk.files, "minutes.txt"), "rb") as f:
        check(f.read().startswith(marker), "the minutes written at office-pc arrived")
    print("    clerk-pc# umount %s" % m.mnt)
    check(m.umount(), "ejected")
    done = _action(clerk, "wipe-done")
    cert = certificate(clerk, done)
    check(cert["approval"] == w["approval.ref"] and
          cert["media"]["usb_serial"] == "AA00000000022222",
          "the certificate names the owed wipe's reference and the stick's identity")
    c = _action(clerk, "wipe-owed-closed", **{"approval.ref": w["approval.ref"]})
    check(c["event.reason"] == "wiped on this PC", "wipe-owed-closed: wiped on this PC")
    with open(m.loop, "rb") as f:
        check(marker not in f.read(), "the minutes are no longer on the stick")
    clerk.unplug(HUB + "/1-3")
    _action(clerk, "device-removed", **{"usb.port": "1-3"})


def encrypted_sticks(clerk, desk, key, medium):
    heading("The council's sticks must now be encrypted: a plain one is read-only, an "
            "encrypted one read-write")
    say("Fakenham 4.1.4: portable devices holding council data are encrypted. The IT "
        "provider makes the council's sticks LUKS2 containers (portcullis media prepare, "
        "which writes through the kernel's dm-crypt: the kernels the demo runs on lack it, "
        "so it is shown on a real stick under Debian's kernel in tests/kernel/test_media.py) "
        "and the council's profile says council-sticks = luks2. The Clerk signs bundle 4 "
        "with that profile; the update installs the profile, then the bundle (whose "
        "profile must be the one installed), and restarts the service. PC-STICK-01 "
        "has not been made encrypted yet:")
    with open(PROFILE) as f:
        text = f.read().replace("council-sticks = any", "council-sticks = luks2")
    check("council-sticks = luks2" in text, "(the profile now says council-sticks = luks2)")
    profile = os.path.join(clerk.files, "fakenham.profile")
    with open(profile, "w") as f:
        f.write(text)
    clerk.unplug(HUB + "/1-1/1-1.1")
    _action(clerk, "device-removed", **{"usb.port": "1-1.1"})
    clerk.run("portcullis", "bundle", "build", "--profile", "fakenham.profile", "--rules",
              "council-rules.conf", "--version", "4", "--out", "fakenham-4.bundle",
              "--key", "sim:" + key.sock)
    clerk.run("portcullis", "bundle", "apply", "fakenham-4.bundle")
    print("    clerk-pc# systemctl restart portcullisd")
    clerk.stop()
    clerk.start(COUNCIL_RULES, profile=profile)
    desk.restarted()
    plug(clerk, "stick-council.umockdev", HUB + "/1-1/1-1.1", "1")
    clerk.wait_attr(HUB + "/1-1/1-1.1/1-1.1:1.0", "authorized", "1")
    attach_disk(clerk, medium, HUB + "/1-1/1-1.1/1-1.1:1.0", 12, probe=True)
    r = clerk.wait_record(lambda r: r.get("event.action") == "device-read-only" and
                          " %s " % medium.name in r.get("event.reason", ""), timeout=20)
    print("  %sDEVICE-READ-ONLY%s %s" % (GREEN, RESET, r["event.reason"]))
    ro = harness.real(["blockdev", "--getro", medium.loop], capture_output=True, text=True)
    check(r["event.outcome"] == "success" and ro.stdout.strip() == "1" and
          clerk.attr(HUB + "/1-1/1-1.1", "authorized") == "1",
          "the plain council stick is let in, read-only below any filesystem")
    desk.notice("is read-only")
    say("The IT provider makes it an encrypted council stick. (Here cryptsetup luksFormat "
        "stands in for portcullis media prepare: the header it writes is the same LUKS2 "
        "format, and formatting needs no dm-crypt. Plugged in again, a stick is a new, "
        "writable disk: the loop device's flag is cleared to match.)")
    clerk.unplug(HUB + "/1-1/1-1.1")
    _action(clerk, "device-removed", **{"usb.port": "1-1.1"})
    harness.real(["blockdev", "--setrw", medium.loop], check=True)
    secret = os.path.join(medium.tmp, "key")
    with open(secret, "w") as f:
        f.write(os.urandom(16).hex())
    cmd = ["cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2",
           "--pbkdf-force-iterations", "1000", "--key-file", secret, medium.loop]
    print("    provider# " + " ".join(cmd))
    harness.real(cmd, check=True)
    n = len(clerk.actions("medium-encrypted"))
    plug(clerk, "stick-council.umockdev", HUB + "/1-1/1-1.1", "1")
    clerk.wait_attr(HUB + "/1-1/1-1.1/1-1.1:1.0", "authorized", "1")
    attach_disk(clerk, medium, HUB + "/1-1/1-1.1/1-1.1:1.0", 13, probe=True)
    r = clerk.wait_record(lambda r: len(clerk.actions("medium-encrypted")) > n, timeout=20)
    r = clerk.actions("medium-encrypted")[-1]
    print("  %sMEDIUM-ENCRYPTED%s %s" % (GREEN, RESET, r["event.reason"]))
    ro = harness.real(["blockdev", "--getro", medium.loop], capture_output=True, text=True)
    check(r["event.reason"] == "%s is a LUKS2 container: read-write" % medium.name and
          ro.stdout.strip() == "0", "the encrypted council stick is read-write")
