"""Media on Debian's kernel: the transfer log on real vfat, exfat and ext4 sticks (which
fanotify modes each file system gives, measured), a wipe through the daemon, and a
read-only approval enforced on a real USB disk the guest then tries to mount read-write.
The staged portcullisd runs in the guest; the approver's key is portcullis-token-sim
inside the guest (its sim: path, as in tests/integration/approval)."""
import hashlib
import json
import os

import pytest

import bed as kbed

SOURCE = kbed.SOURCE
RULES = """\
allow with-interface match-all { 09:00:* }
allow id 46f4:0001 serial "COUNCIL0001" with-interface equals { 08:06:50 } label "PC-STICK-01"
"""
NOBODY = 65534
OTHER_UID = 4242


def stick(bed, id, serial, fs, size_mb=32):
    img = os.path.join(bed.work, id + ".img")
    kbed.make_image(img, fs, size_mb=size_mb, partitioned=True)
    bed.plug_storage(id, img, serial=serial)
    return bed.usb_name(serial=serial), img


def partition_of(bed, name):
    out = bed.wait_for("ls /sys/bus/usb/devices/%s/%s:1.0/host*/target*/*/block/*/ | "
                       "grep -E '^sd[a-z]+1$'" % (name, name),
                       what="the stick's partition under %s" % name)
    part = out.split()[-1]
    bed.wait_for("[ -b /dev/%s ]" % part)
    return part


def as_user(uid, cmd):
    return "setpriv --reuid=%d --regid=%d --clear-groups sh -c %s" % (uid, uid,
                                                                       kbed.shquote(cmd))


@pytest.fixture
def media(daemon):
    yield daemon
    daemon.run("umount /mnt/m 2>/dev/null; true")
    daemon.stop_daemon()
    daemon.unplug_all()


@pytest.mark.parametrize("fs", ["vfat", "exfat", "ext4"])
def test_the_transfer_log_records_copies_on_a_real_stick(media, fs):
    bed = media
    bed.start_daemon(RULES)
    name, _ = stick(bed, "tl-" + fs, "COUNCIL0001", fs)
    part = partition_of(bed, name)
    opts = "-o umask=000" if fs in ("vfat", "exfat") else ""
    bed.run("mkdir -p /mnt/m && mount %s /dev/%s /mnt/m && chmod 1777 /mnt/m 2>/dev/null; "
            "findmnt -no FSTYPE /mnt/m" % (opts, part))
    started = bed.wait_record(lambda r: r["event.action"] in ("xfer-watch-started",
                                                              "xfer-watch-failed"))
    assert started["event.action"] == "xfer-watch-started", started
    # Debian's kernel has BTF and fentry: the watcher the daemon starts (through the
    # launcher and its seccomp list) attributes in the kernel with its eBPF program.
    assert started.get("xfer.backend") == "bpf", started
    data = os.urandom(70000)
    with open(os.path.join(bed.work, "minutes.bin"), "wb") as f:
        f.write(data)
    os.chmod(os.path.join(bed.work, "minutes.bin"), 0o644)
    bed.run(as_user(NOBODY, "mkdir /mnt/m/out && cp %s/minutes.bin /mnt/m/out/" % bed.work))
    bed.run(as_user(OTHER_UID, "cat /mnt/m/out/minutes.bin > /dev/null"))
    want = hashlib.sha256(data).hexdigest()

    def rec(action):
        return bed.wait_record(lambda r: r["event.action"] == action and
                               r.get("file.path") == "out/minutes.bin")
    w, r = rec("file-written"), rec("file-read")
    for got, uid, exe in ((w, NOBODY, "/usr/bin/cp"), (r, OTHER_UID, "/usr/bin/cat")):
        assert got["file.hash.sha256"] == want
        assert got["file.size"] == len(data)
        assert got["user.id"] == uid
        assert got["process.executable"] == exe
        assert "COUNCIL0001" in json.dumps(got), got
        assert got["observability.open_close"] is True
    # Measured, not assumed: the name events (create, delete, rename) on this kernel.
    names = w["observability.create_delete_rename"]
    print("%s: open/close observed, create/delete/rename %s (%s)" % (
        fs, "observed" if names else "refused", w.get("observability.reason", "")))
    assert names is {"vfat": True, "exfat": False, "ext4": True}[fs], w
    if not names:
        assert "refused" in w["observability.reason"]
    else:
        created = bed.wait_record(lambda r: r["event.action"] == "file-created" and
                                  r.get("file.path") == "out")
        assert created["file.type"] == "dir"
    bed.run("umount /mnt/m")
    bed.wait_record(lambda r: r["event.action"] == "xfer-watch-stopped")


def test_a_wipe_through_the_daemon(media):
    bed = media
    bed.start_daemon(RULES)
    name, img = stick(bed, "wipe", "COUNCIL0001", "vfat", size_mb=16)
    part = partition_of(bed, name)
    bed.run("mkdir -p /mnt/m && mount /dev/%s /mnt/m && "
            "echo COUNCIL-SECRET-MINUTES > /mnt/m/secret.txt && umount /mnt/m" % part)
    r = bed.cli("wipe", name, check=False, timeout=300)
    done = bed.wait_record(lambda r: r["event.action"] in ("wipe-done", "wipe-failed"),
                           timeout=300)
    assert done["event.action"] == "wipe-done", (r, done)
    bed.run("test -s %s.json" % done["wipe.certificate_file"].rsplit(".", 1)[0])
    # On the host: the image QEMU served holds no trace of the file.
    with open(img, "rb") as f:
        assert b"COUNCIL-SECRET-MINUTES" not in f.read()


def test_a_read_only_approval_holds_on_a_real_usb_disk(media):
    bed = media
    sim = "/run/token"  # a socket: in the guest's own tmpfs, not the 9p share
    bed.run("mkdir -p %s; setsid %s/bin/portcullis-token-sim --socket %s/token.sock "
            "--state %s/token.state --auto-touch >%s/sim.log 2>&1 </dev/null & echo $! >%s/pid" % (
                sim, kbed.PREFIX, sim, sim, sim, sim))
    bed.wait_for("[ -S %s/token.sock ]" % sim)
    bed.start_daemon(RULES, profile=os.path.join(SOURCE, "profiles/watton.profile"))
    bed.cli("approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk", "--key",
            "sim:%s/token.sock" % sim)
    name, img = stick(bed, "ro", "PERSONAL0001", "vfat")
    bed.wait_record(lambda r: r.get("volume.device_name") == name and
                    r["event.action"] == "device-blocked")
    bed.cli("approve", name, "--read-only", "--for", "10m", "--key",
            "sim:%s/token.sock" % sim)
    part = partition_of(bed, name)
    disk = part.rstrip("0123456789")
    r = bed.wait_record(lambda r: r["event.action"] == "medium-read-only")
    assert r["event.outcome"] == "success" and disk in r["event.reason"], r
    assert bed.out("blockdev --getro /dev/%s" % disk).strip() == "1"
    # The user asks for read-write: the kernel refuses, or mounts it read-only; either
    # way nothing can be written.
    rc, out = bed.run("mkdir -p /mnt/m && mount -o rw /dev/%s /mnt/m" % part, check=False)
    if rc == 0:
        assert "ro" in bed.out("findmnt -no OPTIONS /mnt/m").split(","), out
        rc2, _ = bed.run("echo x > /mnt/m/new.txt", check=False)
        assert rc2 != 0
    rc3, out3 = bed.run("dd if=/dev/zero of=/dev/%s bs=512 count=1 oflag=direct" % disk,
                        check=False)
    assert rc3 != 0, out3
    bed.run("umount /mnt/m 2>/dev/null; kill $(cat %s/pid)" % sim)


def council_profile(bed, sticks):
    with open(os.path.join(SOURCE, "profiles/fakenham.profile")) as f:
        text = f.read().replace("council-sticks = any", "council-sticks = " + sticks)
    path = os.path.join(bed.work, "council-%s.profile" % sticks)
    with open(path, "w") as f:
        f.write(text)
    return path


def disk_of(bed, name):
    out = bed.wait_for("ls /sys/bus/usb/devices/%s/%s:1.0/host*/target*/*/block/ | "
                       "grep -E '^sd[a-z]+$'" % (name, name), what="the disk of %s" % name)
    disk = out.split()[-1]
    bed.wait_for("[ -b /dev/%s ]" % disk)
    return disk


def test_an_encrypted_council_stick_made_used_and_crypto_erased(media):
    """`portcullis media prepare` on a real USB stick (dm-crypt of Debian's kernel), the
    stick read-write under `council-sticks = luks2` as udevd's own blkid probe sees its
    header, a plain council stick read-only, and the crypto-erase of the real stick."""
    bed = media
    bed.run("modprobe dm_crypt")
    # The IT provider's bench: the council's rules, no LUKS2 requirement yet.
    bed.start_daemon(RULES, profile=council_profile(bed, "any"))
    img = os.path.join(bed.work, "council.img")
    with open(img, "wb") as f:
        f.truncate(32 << 20)
    bed.plug_storage("luks", img, serial="COUNCIL0001")
    name = bed.usb_name(serial="COUNCIL0001")
    disk = disk_of(bed, name)
    bed.run("head -c 64 /dev/urandom > /run/council.key")
    _, r = bed.cli("media", "prepare", "--passphrase-fd", "0", "--key-file", "/run/council.key",
                "--label", "MINUTES", "--iter-time", "200", "/dev/" + disk,
                input="correct horse battery staple\n", timeout=300)
    assert "council stick made: LUKS2" in r, r
    bed.run("cryptsetup isLuks --type luks2 /dev/%s" % disk)
    bed.run("printf 'correct horse battery staple' | cryptsetup open --test-passphrase "
            "--key-file - /dev/%s" % disk, timeout=120)
    bed.stop_daemon()
    bed.unplug("luks")

    # A council PC whose profile asks for encrypted sticks.
    bed.start_daemon(RULES, profile=council_profile(bed, "luks2"))
    bed.plug_storage("luks", img, serial="COUNCIL0001")
    name = bed.usb_name(serial="COUNCIL0001")
    disk = disk_of(bed, name)
    rec = bed.wait_record(lambda r: r["event.action"] == "medium-encrypted")
    assert len([r for r in bed.records() if r["event.action"] == "medium-encrypted"]) == 1
    assert rec["event.reason"] == "%s is a LUKS2 container: read-write" % disk, rec
    assert bed.out("blockdev --getro /dev/%s" % disk).strip() == "0"
    # The key file opens it; inside, the file system media prepare made, written to.
    bed.run("cryptsetup open --key-file /run/council.key /dev/%s council && "
            "[ \"$(blkid -o value -s TYPE /dev/mapper/council)\" = exfat ] && "
            "[ \"$(blkid -o value -s LABEL /dev/mapper/council)\" = MINUTES ] && "
            "mkdir -p /mnt/m && mount /dev/mapper/council /mnt/m && "
            "echo COUNCIL-ENCRYPTED-MINUTES > /mnt/m/minutes.txt && umount /mnt/m && "
            "cryptsetup close council" % disk, timeout=120)
    with open(img, "rb") as f:
        assert b"COUNCIL-ENCRYPTED-MINUTES" not in f.read()  # ciphertext on the stick
    bed.unplug("luks")

    plain, _ = stick(bed, "plain", "COUNCIL0001", "vfat")
    pdisk = disk_of(bed, plain)
    rec = bed.wait_record(lambda r: r["event.action"] == "device-read-only")
    assert rec["event.outcome"] == "success" and pdisk in rec["event.reason"], rec
    assert bed.out("blockdev --getro /dev/%s" % pdisk).strip() == "1"
    rc, out = bed.run("dd if=/dev/zero of=/dev/%s bs=512 count=1 oflag=direct" % pdisk,
                      check=False)
    assert rc != 0, out
    bed.unplug("plain")

    # Crypto-erase of the real stick: no header, neither key opens it.
    bed.plug_storage("luks", img, serial="COUNCIL0001")
    name = bed.usb_name(serial="COUNCIL0001")
    disk = disk_of(bed, name)
    bed.wait_record(lambda r: r["event.action"] == "medium-encrypted" and
                    r["volume.device_name"] == name)
    bed.cli("wipe", "--local", "--method", "crypto-erase", "--mkfs", "none", "--sign-key",
            bed.daemon_dir + "/wipe.key", "--cert", "/run/ce", "/dev/" + disk, timeout=120)
    rc, _ = bed.run("cryptsetup isLuks /dev/%s" % disk, check=False)
    assert rc != 0
    rc, _ = bed.run("cryptsetup open --test-passphrase --key-file /run/council.key /dev/%s"
                    % disk, check=False, timeout=120)
    assert rc != 0
    assert '"method_type":"Purge"' in bed.out("cat /run/ce.json")
