"""The council bundle: one enrolment, one signed bundle, every PC of the council takes it
(by `portcullis bundle apply` or from the Debian package `bundle deb` makes); approvals
with one credential on every PC; a removal reaches the other PCs with the next bundle;
an older or altered bundle is refused. Two simulated PCs, the token simulator as keys."""
import os
import signal
import subprocess

from approvals import PERSONAL, PROFILES, RULES, TWIN, credential, edit, enrol, export, \
    info, sign, start, submit

PERSONAL_RULE = ('allow id 090c:1000 serial "AA00000000011111" with-interface equals '
                 '{ 08:06:50 } label "registered to Cllr Brown, asset WTC-0042"\n')
WATTON = os.path.join(PROFILES, "watton.profile")


def build(pc, key, tmp_path, version):
    rules = tmp_path / "council-rules.conf"
    rules.write_text(RULES + PERSONAL_RULE)
    out = tmp_path / ("watton-%d.bundle" % version)
    r = pc.cli("bundle", "build", "--profile", WATTON, "--rules", str(rules), "--version",
               str(version), "--out", str(out), "--key", "sim:" + key.sock, check=False)
    assert r.returncode == 0, r.stderr
    return out


def apply(pc, path):
    return pc.cli("bundle", "apply", str(path), check=False)


def reload(pc):
    n = len([r for r in pc.records() if r["event.action"] == "bundle-in-force"])
    pc.daemon.send_signal(signal.SIGHUP)
    pc.wait_record(lambda r: len([x for x in pc.records()
                                  if x["event.action"] == "bundle-in-force"]) > n)
    return [r for r in pc.records() if r["event.action"] == "bundle-in-force"][-1]


def test_one_bundle_for_every_pc_of_the_council(pc, pc2, key, other_key, tmp_path):
    start(pc)
    start(pc2)
    # One enrolment of each approver, at the first PC.
    assert enrol(pc, key).returncode == 0
    assert enrol(pc, other_key, "Sam Deputy", "Deputy Clerk",
                 "--by", "sim:" + key.sock).returncode == 0
    v1 = build(pc, key, tmp_path, 1)
    shown = pc.cli("bundle", "show", str(v1)).stdout
    assert "version:   1" in shown and "Sam Deputy" in shown and "signed by: Jane" in shown
    # The second PC has no approver yet: root applies the first bundle.
    r = apply(pc2, v1)
    assert "council bundle version 1 applied" in r.stdout, r.stderr
    assert [a["credential"] for a in info(pc2)["approvers"]] == \
        [a["credential"] for a in info(pc)["approvers"]]
    rec = pc2.wait_record(lambda r: r["event.action"] == "bundle-applied")
    assert rec["council.bundle.version"] == 1
    assert rec["council.bundle.approvers"] == ["Jane Clerk", "Sam Deputy"]
    assert apply(pc, v1).returncode == 0
    # Applying the same bundle again (a package reinstalled) changes nothing.
    assert "already in force" in apply(pc2, v1).stdout
    # The bundle's rules are in force on both PCs, and each PC says which version it runs.
    for p in (pc, pc2):
        assert reload(p)["council.bundle.version"] == 1
        p.add("stick-personal.umockdev", plug=True)
        p.wait_attr(PERSONAL, "authorized", "1")
        p.add("stick-personal-twin.umockdev", plug=True)
        p.wait_record(lambda r: r["event.action"] == "device-blocked" and
                      r["volume.device_name"] == "1-3")
    # A request exported at the second PC while the deputy is still an approver.
    pending = export(pc2, "1-3")
    deputy = credential(pc2, 1)
    # The deputy leaves: removed at the first PC, bundle 2, packaged for the updates.
    pc.cli("approver", "remove", "--name", "Sam Deputy", "--by", "sim:" + key.sock)
    v2 = build(pc, key, tmp_path, 2)
    debs = tmp_path / "debs"
    debs.mkdir()
    r = pc.cli("bundle", "deb", str(v2), "--out", str(debs))
    deb = debs / "portcullis-council-watton_2_all.deb"
    assert str(deb) in r.stdout and deb.exists(), r.stderr
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version", "Depends"],
                            capture_output=True, text=True, check=True).stdout
    assert "Package: portcullis-council-watton\nVersion: 2\nDepends: portcullis" in fields
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                             check=True).stdout
    assert "./usr/share/portcullis/council/watton.bundle" in listing
    assert "./usr/share/portcullis/council/watton.profile" in listing
    ctl = tmp_path / "ctl"
    subprocess.run(["dpkg-deb", "-e", str(deb), str(ctl)], check=True)
    assert "portcullis bundle apply /usr/share/portcullis/council/watton.bundle" in \
        (ctl / "postinst").read_text()
    x = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(x)], check=True)
    shipped = x / "usr/share/portcullis/council/watton.bundle"
    assert shipped.read_text() == v2.read_text()
    assert (x / "usr/share/portcullis/council/watton.profile").read_text() == \
        open(WATTON).read()
    # The second PC takes bundle 2 from the package: the deputy is gone there too, and
    # their answer to the request issued before is refused.
    r = apply(pc2, shipped)
    assert "council bundle version 2 applied" in r.stdout, r.stderr
    assert [a["name"] for a in info(pc2)["approvers"]] == ["Jane Clerk"]
    r = submit(pc2, sign(other_key, pending, deputy))
    assert r.returncode == 1 and "not enrolled" in r.stderr, r.stderr
    assert pc2.attr(TWIN, "authorized") == "0"
    # An older bundle is refused by its version; an altered one by its signature.
    r = apply(pc2, v1)
    assert r.returncode == 1 and "not above version 2" in r.stderr, r.stderr
    forged = tmp_path / "forged.bundle"
    forged.write_text(edit(v2.read_text(), "version", "3"))
    r = apply(pc2, forged)
    assert r.returncode == 1 and "does not verify" in r.stderr, r.stderr
    assert len([r for r in pc2.records() if r["event.action"] == "bundle-refused"]) == 2
    assert info(pc2)["bundle-version"] == 2
    assert "council bundle: version 2 in force" in pc2.cli("approver", "list").stdout
    # One credential approves on every PC, at the PC and by files.
    r = pc2.cli("approve", "1-3", "--key", "sim:" + key.sock, check=False)
    assert r.returncode == 0, r.stderr
    pc2.wait_attr(TWIN, "authorized", "1")
    r = submit(pc, sign(key, export(pc, "1-3"), credential(pc, 0)))
    assert r.returncode == 0, r.stderr
    pc.wait_attr(TWIN, "authorized", "1")
    # Restarted, the PC still runs bundle 2 and says so.
    pc2.stop()
    start(pc2)
    assert [r for r in pc2.records() if r["event.action"] == "bundle-in-force"][-1][
        "council.bundle.version"] == 2
    assert pc2.verify().returncode == 0


def test_a_bundle_is_refused_by_a_pc_of_another_council_or_without_root(pc, pc2, key,
                                                                      tmp_path):
    start(pc)
    start(pc2, "model")
    assert enrol(pc, key).returncode == 0
    v1 = build(pc, key, tmp_path, 1)
    r = apply(pc2, v1)
    assert r.returncode == 1 and "council watton" in r.stderr, r.stderr
    from approvals import control
    ans = control(pc, {"cmd": "bundle-apply", "bundle": v1.read_text()}, uid=65534)
    assert "root at the PC" in ans.get("error", ""), ans


def test_a_bundle_whose_profile_differs_in_an_optional_key_is_refused(pc, key, tmp_path):
    """council-sticks and wipe-owed-days are the council's policy as much as the others:
    a bundle carrying another value for either is not this PC's profile."""
    start(pc)
    assert enrol(pc, key).returncode == 0
    text = open(WATTON).read()
    rules = tmp_path / "council-rules.conf"
    rules.write_text(RULES + PERSONAL_RULE)
    for old, new in (("council-sticks = any", "council-sticks = luks2"),
                     ("wipe-owed-days = 10", "wipe-owed-days = 30")):
        assert old in text
        profile = tmp_path / "watton.profile"
        profile.write_text(text.replace(old, new))
        out = tmp_path / "other.bundle"
        r = pc.cli("bundle", "build", "--profile", str(profile), "--rules", str(rules),
                   "--version", "1", "--out", str(out), "--key", "sim:" + key.sock,
                   check=False)
        assert r.returncode == 0, r.stderr
        r = apply(pc, out)
        assert r.returncode == 1 and "profile differs" in r.stderr, (new, r.stdout, r.stderr)
    assert not [r for r in pc.records() if r["event.action"] == "bundle-applied"]
