"""Regenerate the terminal screenshots of docs/clerk-guide.md and docs/it-provider-guide.md.

Runs the staged portcullisd and portcullis CLI on the simulated council PC of the tests
(umockdev; tests/integration/gate/harness.py), types the commands into a real tmux
session, captures the pane as text (`tmux capture-pane -p`) and renders it to PNG with
ImageMagick. The .txt next to each .png is the captured text itself.

The approver's screenshots (enrolment, approval at the PC and from elsewhere, the wipe)
use the Fakenham profile and the project's token firmware as the key
(portcullis-token-sim with its button pressed automatically; tests/integration/token).
The key's path and PIN are given to the commands in the environment (PORTCULLIS_KEY,
PORTCULLIS_PIN), so the screenshots show neither.

usage (from the build directory, as root):
  PCL_PREFIX=$PWD/stage PCL_SOURCE_DIR=.. umockdev-wrapper /usr/bin/python3 ../docs/img/capture.py [approvals]
"""
import glob
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../tests/integration/gate"))
sys.path.insert(0, os.path.join(HERE, "../../tests/integration/token"))
import harness  # noqa: E402
import simconn  # noqa: E402
from fido2.ctap2 import ClientPin, Ctap2  # noqa: E402

PROFILE = os.path.abspath(os.path.join(harness.SOURCE, "profiles/fakenham.profile"))
PIN = "271828"

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
RULES = """\
# Fakenham Town Council, IT policy 3.9: personal removable storage only with
# prior approval from the Clerk. The council's own equipment:
allow with-interface match-all { 09:00:* }
allow id 0781:5581 serial "4C530001140516116522" with-interface equals { 08:06:50 } label "council stick PC-STICK-01"
allow id 046d:c31c with-interface all-of { 03:01:01 03:00:00 } label "council keyboard"
reject id 18d1:*
"""
SESSION = "pcl-guide"
WIDTH, HEIGHT = 100, 30


def tmux(*args, check=True):
    return subprocess.run(["tmux"] + list(args), check=check, capture_output=True, text=True)


def shell(pc, prompt, sysfs=False, extra=None):
    env = {
        "PATH": os.path.join(harness.PREFIX, "bin") + ":/usr/bin:/bin",
        "PORTCULLIS_SOCKET": pc.conf["control-socket"],
        "PORTCULLIS_CONF": os.path.join(pc.work, "portcullisd.conf"),
        "PS1": prompt, "TERM": "xterm", "HOME": pc.work, "LANG": "C.UTF-8",
    }
    env.update(extra or {})
    if sysfs:  # commands that read sysfs see the simulated PC's
        env.update(LD_PRELOAD="libumockdev-preload.so.0", UMOCKDEV_DIR=pc.root)
    tmux("kill-session", "-t", SESSION, check=False)
    cmd = "env -i %s bash --norc --noprofile" % " ".join(
        "%s=%s" % (k, shlex.quote(v)) for k, v in env.items())
    tmux("new-session", "-d", "-s", SESSION, "-x", str(WIDTH), "-y", str(HEIGHT), cmd)
    time.sleep(0.3)
    tmux("send-keys", "-t", SESSION, "cd ~ && clear", "Enter")
    time.sleep(0.3)


def run(command, settle=1.0):
    tmux("send-keys", "-t", SESSION, command, "Enter")
    time.sleep(settle)


def shot(name):
    text = tmux("capture-pane", "-p", "-t", SESSION).stdout.rstrip() + "\n"
    with open(os.path.join(HERE, name + ".txt"), "w") as f:
        f.write(text)
    # label: text is given as an argument (ImageMagick's policy forbids @file); % escaped.
    subprocess.run(["/usr/bin/convert", "-background", "#1d1f21", "-fill", "#e8e8e8",
                    "-font", "DejaVu-Sans-Mono", "-pointsize", "14", "-bordercolor",
                    "#1d1f21", "-border", "12", "label:" + text.replace("%", "%%"),
                    "-strip", os.path.join(HERE, name + ".png")], check=True)
    tmux("send-keys", "-t", SESSION, "clear", "Enter")
    time.sleep(0.3)


def fresh_pc():
    pc = harness.Testbed()
    # A short, stable directory for the PC's configuration: it shows in rule names.
    os.rmdir(pc.work)
    pc.work = "/tmp/council-pc"
    subprocess.run(["rm", "-rf", pc.work], check=True)
    os.makedirs(pc.work)
    os.chmod(pc.work, 0o755)
    return pc


def wait_for(pred, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def approvals():
    """The approver's side: enrol, approve at the PC, approve from elsewhere, wipe."""
    pc = fresh_pc()
    keydir = os.path.join(pc.work, "key")
    os.makedirs(keydir)
    key = simconn.Simulator(keydir)
    medium = None
    try:
        pc.add("pc-xhci.umockdev")
        for f in ("hub-genesys.umockdev", "stick-council.umockdev", "keyboard.umockdev"):
            pc.add(f)
        pc.start(RULES, retention="6", profile=PROFILE)
        key.start("--auto-touch")
        ClientPin(Ctap2(key.device())).set_pin(PIN)
        clerk = {"PORTCULLIS_KEY": "sim:" + key.sock, "PORTCULLIS_PIN": PIN}

        # Installation: the IT provider enrols the Clerk's key (root, first approver).
        shell(pc, "root@council-pc:~# ", sysfs=True, extra=clerk)
        run('portcullis approver enrol --name "Jane Smith" --role Clerk', 3.0)
        run("portcullis approver list", 1.0)
        shot("approver-enrol")

        # At the PC: a councillor's stick in socket 1-2, approved with the Clerk's touch.
        pc.add("stick-personal.umockdev", plug=True)
        pc.wait_quiet()
        shell(pc, "clerk@council-pc:~$ ", sysfs=True, extra=clerk)
        run('portcullis approve 1-2 --read-only --until-unplug --reason "agenda papers"', 4.0)
        shot("approve-at-pc")

        # From elsewhere: a second stick in socket 1-3, by request and response files.
        pc.add("stick-personal-twin.umockdev", plug=True)
        pc.wait_quiet()
        shell(pc, "councillor@council-pc:~$ ", sysfs=True)
        run('portcullis request export 1-3 --read-write --for 2h --reason "planning papers"'
            " --out request.txt", 2.0)
        run("portcullis request show request.txt", 1.0)
        shot("request-export")
        shell(pc, "jane@clerks-laptop:~$ ", extra=clerk)
        run("portcullis approve --request request.txt --out response.txt", 4.0)
        shot("approve-request")
        shell(pc, "councillor@council-pc:~$ ", sysfs=True)
        run("portcullis request import response.txt", 3.0)
        run("portcullis devices", 1.0)
        shot("request-import")

        # Finishing: the council's stick (1-1.1) wiped through the service.
        hub = HUB + "/1-1/1-1.1"
        pc.kernel_configure(hub)
        pc.wait_attr(hub + "/1-1.1:1.0", "authorized", "1")
        medium = harness.RealMedium()
        harness.attach_disk(pc, medium, hub + "/1-1.1:1.0")
        medium.mount()
        pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started", timeout=20)
        medium.umount()
        shell(pc, "clerk@council-pc:~$ ", sysfs=True)
        run("portcullis wipe 1-1.1", 0.5)
        wait_for(lambda: any(r.get("event.action") in ("wipe-done", "wipe-failed")
                             for r in pc.records()), "the wipe")
        time.sleep(1.0)
        shot("wipe")
    finally:
        tmux("kill-session", "-t", SESSION, check=False)
        if medium:
            medium.close()
        key.stop()
        pc.close()


def main():
    if sys.argv[1:] == ["approvals"]:
        approvals()
        return
    pc = harness.Testbed()
    # A short, stable directory for the PC's configuration: it shows in rule names.
    os.rmdir(pc.work)
    pc.work = "/tmp/council-pc"
    subprocess.run(["rm", "-rf", pc.work], check=True)
    os.makedirs(pc.work)
    os.chmod(pc.work, 0o755)
    try:
        pc.add("pc-xhci.umockdev")
        for f in ("hub-genesys.umockdev", "stick-council.umockdev", "keyboard.umockdev"):
            pc.add(f)
        pc.start(RULES, retention="6")

        # A councillor: plugs in a personal stick, then asks what happened.
        shell(pc, "councillor@council-pc:~$ ")
        run("portcullis watch", 0.8)
        pc.add("stick-personal.umockdev", plug=True)
        pc.wait_quiet()
        time.sleep(0.5)
        shot("watch-blocked")
        tmux("send-keys", "-t", SESSION, "C-c", "")
        run("clear", 0.3)
        run("portcullis status")
        shot("status-blocked")

        # The Clerk: what is plugged in, and a rule for a new council stick.
        shell(pc, "clerk@council-pc:~$ ", sysfs=True)
        run("portcullis devices")
        shot("devices")
        run("portcullis policy generate | grep 0781")
        shot("policy-generate")
        pc.stop()

        # The IT provider: offline verification of the trail.
        shell(pc, "it@collector:~$ ")
        segs = sorted(glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl")))
        os.symlink(pc.audit_key, os.path.join(pc.work, "fakenham-pc1.key"))
        os.makedirs(os.path.join(pc.work, "collector"), exist_ok=True)
        for s in segs:
            os.symlink(s, os.path.join(pc.work, "collector", os.path.basename(s)))
        run("portcullis audit verify --key fakenham-pc1.key collector/trail-*.jsonl", 2.0)
        shot("audit-verify")
    finally:
        tmux("kill-session", "-t", SESSION, check=False)
        pc.close()


if __name__ == "__main__":
    main()
