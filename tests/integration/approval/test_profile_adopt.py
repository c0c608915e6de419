"""A council bundle that changes the council's profile: the update installs the new
profile at the PC's `profile` path, then applies the bundle, whose profile must be that
file. From the apply on the new profile is in force, without a restart; a bundle whose
profile is neither the one in force nor the one installed is refused. The token simulator
as the Clerk's key, one simulated PC with the stick blocked by its rules."""
import os
import shutil

from approvals import PROFILES, RULES, enrol, info, start

WATTON = os.path.join(PROFILES, "watton.profile")


def bundle(pc, key, tmp_path, profile, version):
    rules = tmp_path / "council-rules.conf"
    rules.write_text(RULES)
    out = tmp_path / ("watton-%d.bundle" % version)
    r = pc.cli("bundle", "build", "--profile", str(profile), "--rules", str(rules),
               "--version", str(version), "--out", str(out), "--key", "sim:" + key.sock,
               check=False)
    assert r.returncode == 0, r.stderr
    return out


def ask(pc, hours):
    """The user asks for an exception of the given length for the blocked stick."""
    return pc.cli("request", "export", "1-2", "--for", "%dh" % hours, "--out",
                  os.path.join(pc.work, "request-%dh.txt" % hours), check=False)


def test_a_bundle_with_the_installed_profile_puts_it_in_force_at_once(pc, key, tmp_path):
    installed = os.path.join(pc.work, "watton.profile")  # where the package puts it
    shutil.copyfile(WATTON, installed)
    start(pc, installed)
    assert enrol(pc, key).returncode == 0
    r = pc.cli("bundle", "apply", str(bundle(pc, key, tmp_path, installed, 1)), check=False)
    assert "version 1 applied" in r.stdout, r.stderr
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked" and
                   r["volume.device_name"] == "1-2")
    # Watton allows exceptions of up to 8 hours.
    assert ask(pc, 2).returncode == 0
    text = open(WATTON).read()
    assert "max-grant-hours = 8" in text
    shorter = tmp_path / "new" / "watton.profile"
    shorter.parent.mkdir()
    shorter.write_text(text.replace("max-grant-hours = 8", "max-grant-hours = 1"))
    v2 = bundle(pc, key, tmp_path, shorter, 2)
    # Not installed yet: the bundle's profile is not this PC's, and it is refused.
    r = pc.cli("bundle", "apply", str(v2), check=False)
    assert r.returncode == 1 and "profile differs" in r.stderr, (r.stdout, r.stderr)
    assert info(pc)["bundle-version"] == 1
    assert ask(pc, 2).returncode == 0
    # The package replaces the profile file, then applies the bundle: in force now.
    shutil.copyfile(shorter, installed)
    r = pc.cli("bundle", "apply", str(v2), check=False)
    assert "version 2 applied" in r.stdout, (r.stdout, r.stderr)
    r = ask(pc, 2)
    assert r.returncode != 0 and "at most 1 hours" in r.stderr, (r.stdout, r.stderr)
    assert ask(pc, 1).returncode == 0
    # A bundle whose profile is neither the one in force nor the installed file (here
    # the old one, 8 hours) is refused, and the installed profile stays in force.
    r = pc.cli("bundle", "apply", str(bundle(pc, key, tmp_path, WATTON, 3)), check=False)
    assert r.returncode == 1 and "profile differs" in r.stderr, (r.stdout, r.stderr)
    assert info(pc)["bundle-version"] == 2
    r = ask(pc, 2)
    assert r.returncode != 0 and "at most 1 hours" in r.stderr, (r.stdout, r.stderr)
    # An exception "until unplug" is bounded by the new longest exception.
    r = pc.cli("approve", "1-2", "--key", "sim:" + key.sock, check=False)
    assert r.returncode == 0, r.stderr
    rec = pc.wait_record(lambda r: r["event.action"] == "exception-approved")
    assert rec["approval.until"] == 0
    issued = int(rec["approval.response"].split("\nissued: ", 1)[1].split("\n", 1)[0])
    assert issued < rec["approval.ends_by"] <= issued + 3600 + 300, rec
    refused = [x for x in pc.records() if x["event.action"] == "bundle-refused"]
    assert len(refused) == 2 and all("profile differs" in x["event.reason"] for x in refused)
    assert pc.verify().returncode == 0
