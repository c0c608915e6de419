"""The demo's stage: the simulated PCs of one council, the IT provider's machine, and the
way every step is shown (commands as typed, their real output) and checked. Imported by
demo.py and demo_wipes.py; test code, run as root under umockdev-wrapper. Its inputs are
the project's own outputs (trail records, notices, certificates), checked, not trusted."""
import base64
import glob
import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration/gate"))
import harness  # noqa: E402

PROFILE = os.path.join(harness.SOURCE, "profiles/fakenham.profile")
ENROL = os.path.join(harness.PREFIX, "bin/portcullis-fleet-enrol")
PIN = "271828"
USER = 4242  # a councillor: an ordinary local user
HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
COUNCIL_RULES = """\
# Fakenham Town Council, IT policy 3.9: personal USB sticks, external drives and
# CDs/DVDs only with prior approval from the Clerk. The council's own equipment:
allow with-interface match-all { 09:00:* }
allow id 0781:5581 serial "4C530001140516116522" with-interface equals { 08:06:50 } label "council stick PC-STICK-01"
allow id 046d:c31c with-interface all-of { 03:01:01 03:00:00 } label "council keyboard"
"""
HUBS_ONLY = "allow with-interface match-all { 09:00:* }\n"

BOLD, DIM, GREEN, RED, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m"
if not sys.stdout.isatty():
    BOLD = DIM = GREEN = RED = RESET = ""
STEP = [0]
KEY = [None, None]  # the simulated keys' sockets, shown as "$KEY" and "$DEPUTY_KEY"


class DemoFailed(Exception):
    pass


def say(text=""):
    print(textwrap.fill(text, 96) if text else "")
    sys.stdout.flush()


def heading(text):
    STEP[0] += 1
    print("\n" + BOLD + "== %d. %s ==" % (STEP[0], text) + RESET)


def check(cond, what, detail=""):
    """Every claim the demo makes is checked: a false one stops it with a failure."""
    if not cond:
        print("  %sNOT AS SAID: %s%s" % (RED, what, RESET))
        raise DemoFailed(what + ("\n" + detail if detail else ""))
    print("  %s[checked] %s%s" % (GREEN, what, RESET))
    sys.stdout.flush()


def indent(text):
    print(textwrap.indent(text.strip("\n"), "      "))
    sys.stdout.flush()


class PC(harness.Testbed):
    """One PC of the council: its own simulated bus, daemon, state, trail and host name
    (the daemon runs in a UTS namespace of its own, as if on its own machine: a trail is
    signed as portcullis/<host name>, and the IT provider files it by that name)."""

    def __init__(self, name, demo_dir):
        super().__init__()
        self.name = name
        self.files = os.path.join(demo_dir, name)
        os.makedirs(self.files)
        os.chmod(self.files, 0o1777)

    def _here(self):
        # umockdev's preload finds the bed by $UMOCKDEV_DIR: name this PC's bed first.
        os.environ["UMOCKDEV_DIR"] = self.root

    def add(self, name, plug=False):
        self._here()
        return super().add(name, plug)

    def kernel_configure(self, dev):
        self._here()
        return super().kernel_configure(dev)

    def enrol(self):
        """At installation: this PC's wipe key (its certificates are signed with it) and
        its audit trail under the PC's own name."""
        wkey = self.conf.get("wipe-key")
        if wkey and not os.path.exists(wkey):
            out = subprocess.run([harness.CLI, "wipe", "key-init", "--key-out", wkey],
                                 check=True, capture_output=True, text=True, timeout=30).stdout
            # The public half, kept by the IT provider to verify this PC's certificates.
            self.wipe_public = dict(line.split(" ", 1) for line in out.splitlines())
        audit = self.conf["audit-log"]
        if os.path.exists(os.path.join(audit, "state")):
            return
        os.makedirs(audit, exist_ok=True)
        self.audit_key = os.path.join(self.files, "audit-enrolment.key")
        subprocess.run([harness.CLI, "audit", "enrol", "--dir", audit, "--origin",
                        "portcullis/" + self.name, "--key-out", self.audit_key, "--no-qr"],
                       check=True, capture_output=True, timeout=30)

    def start(self, rules, **extra):
        path = self.config(rules, **extra)
        self.enrol()
        self.stderr = open(os.path.join(self.work, "daemon.log"), "w")
        n = len(self.actions("service-started")) if os.path.isdir(self.conf["audit-log"]) \
            else 0
        self.daemon = subprocess.Popen(
            ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.name,
             harness.DAEMON, "-c", path, "-f"], env=self.env(), stderr=self.stderr)
        self.wait_record(lambda r: len(self.actions("service-started")) > n)
        self.wait_quiet()

    def reload(self):
        """systemctl reload portcullisd: the rules (here the bundle's) are read again."""
        n = len(self.actions("bundle-in-force"))
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_record(lambda r: len(self.actions("bundle-in-force")) > n)
        return self.actions("bundle-in-force")[-1]

    def actions(self, action):
        return [r for r in self.records() if r.get("event.action") == action]

    def run(self, *argv, user=None, ok=True, host=None, cwd=None, env=None):
        """Show a command as typed at this PC (# as root, that is the Clerk with sudo or
        the IT provider; $ as the councillor), run it, show its real output."""
        shown = " ".join(shlex.quote(a) for a in argv)
        if KEY[0]:
            shown = shown.replace(shlex.quote("sim:" + KEY[0]), '"$KEY"')
        if KEY[1]:
            shown = shown.replace(shlex.quote("sim:" + KEY[1]), '"$DEPUTY_KEY"')
        print("    %s%s %s" % (host or self.name, "$" if user else "#", shown))
        cmd = list(argv)
        if cmd[0] == "portcullis":
            cmd[0] = harness.CLI
        if env is None:
            env = self.env()
        if user:
            env = {k: v for k, v in env.items() if k != "PORTCULLIS_PIN"}
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        # A session of its own: no controlling terminal, so nothing waits for a PIN typed.
        r = subprocess.run(cmd, env=env, cwd=cwd or self.files, capture_output=True,
                           text=True, timeout=60, start_new_session=True)
        indent(r.stderr + r.stdout)
        if ok is True and r.returncode != 0:
            raise DemoFailed("%s failed (%d)" % (shown, r.returncode))
        if ok is False and r.returncode == 0:
            raise DemoFailed("%s succeeded, it should have been refused" % shown)
        return r


def decision(pc, name):
    acts = ("device-allowed", "device-blocked", "device-rejected", "exception-approved")

    def match(r):
        return r.get("volume.device_name") == name and r["event.action"] in acts
    pc.wait_record(match)
    return [r for r in pc.records() if match(r)][-1]


def approved(pc, name):
    pc.wait_record(lambda r: r.get("event.action") == "exception-approved" and
                   r.get("volume.device_name") == name)


def verdict(pc, name, path, what):
    r = decision(pc, name)
    action = r["event.action"]
    colour = GREEN if action in ("device-allowed", "exception-approved") else RED
    print("  %s%-18s%s %s %s:%s %r" % (colour, action.upper(), RESET, name,
                                        r["volume.vendor_id"], r["volume.product_id"],
                                        r["volume.product_name"]))
    print("  %swhy: %s%s" % (DIM, r["rule.id"].replace(pc.work + "/", ""), RESET))
    print("  %skernel: %s/authorized = %s  (%s)%s" % (DIM, path.rsplit("/", 1)[1],
                                                     pc.attr(path, "authorized"), what, RESET))
    return r


def trail_lines(audit_dir):
    """Every line (records and checkpoints) of a trail directory, in order."""
    out = []
    for seg in sorted(glob.glob(os.path.join(audit_dir, "trail-*.jsonl"))):
        with open(seg) as f:
            out += [json.loads(line) for line in f.read().split("\n")[:-1]]
    return out


def attach_disk(pc, medium, iface, host, probe=False):
    """What the kernel's usb-storage and sd drivers do once the interface is authorised:
    SCSI host `host` (one per stick: the bus names its devices by number), then the disk.
    probe: also what udevd's blkid builtin says of the real medium (ID_FS_TYPE, ...)."""
    pc._here()
    for link in (os.path.join(pc.root, "sys/block", medium.name),
                 os.path.join(pc.root, "sys/class/block", medium.name),
                 os.path.join(pc.root, "sys/dev/block", medium.dev)):
        # A disk of this number seen before and unplugged: umockdev leaves its link behind.
        if os.path.islink(link) and not os.path.exists(link):
            os.unlink(link)
    scsi = harness.scsi_device(pc, iface, host)
    props = ""
    if probe:
        out = harness.real(["blkid", "-p", "-o", "udev", medium.loop], capture_output=True,
                           text=True).stdout
        props = "".join("E: %s\n" % l for l in out.splitlines() if l.startswith("ID_"))
    pc.tb.add_from_string(
        "P: %s/block/%s\nE: DEVTYPE=disk\nE: SUBSYSTEM=block\nE: DEVNAME=/dev/%s\n%s"
        "A: dev=%s\\n\nA: removable=1\\n\nA: size=65536\\n\n"
        % (scsi[len("/sys"):], medium.name, medium.name, props, medium.dev))


def watcher_pids(mountpoint):
    """The transfer-log watchers of this mount point, found by their command line."""
    out = []
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"portcullis-xferwatch") and mountpoint.encode() in argv:
            out.append(int(p))
    return out


def plug(pc, fixture, dev, want):
    """Plug a device in; when the policy lets it in, do what the kernel then does (create
    its interfaces) and wait for the interfaces' verdict."""
    pc.add(fixture, plug=True)
    if want == "1":
        pc.wait_attr(dev, "authorized", "1")
        pc.kernel_configure(dev)
    else:
        decision(pc, dev.rsplit("/", 1)[1])


def provider(argv, ok=True, cwd=None, quiet=False):
    """A command on the IT provider's own machine (no daemon, no simulated bus); quiet: its
    output is for the next command (a file), not shown."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
    shown = " ".join(shlex.quote(a) for a in argv)
    print("    provider$ " + shown)
    cmd = list(argv)
    cmd[0] = {"portcullis": harness.CLI, "portcullis-fleet-enrol": ENROL}.get(cmd[0], cmd[0])
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    indent(r.stderr + ("      (%d lines of JSON)\n" % r.stdout.count("\n") if quiet else
                       r.stdout))
    if ok is True and r.returncode != 0:
        raise DemoFailed("%s failed (%d)" % (shown, r.returncode))
    return r




def _people():
    """The people tests' session bus and notification server (their conftest, by path)."""
    path = os.path.join(os.path.dirname(__file__), "../integration/people/conftest.py")
    spec = importlib.util.spec_from_file_location("people_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Desk:
    """A PC's desktop: a session bus with a notification server, and `portcullis notify`
    as the logged-in user's autostart runs it. What it is asked to show is shown here."""

    def __init__(self, pc):
        self.pc = pc
        people = _people()
        self.bus = people.SessionBus()
        self.notifier = people.Notifier(pc, self.bus, "--config",
                                        os.path.join(pc.work, "portcullisd.conf"))
        self.follows = 1
        self.notifier.wait_following(self.follows)
        self.shown = set()

    def restarted(self):
        """The service started again: the notifier follows it again."""
        self.follows += 1
        self.notifier.wait_following(self.follows, timeout=20)

    def notice(self, words, timeout=30):
        """Wait for a notice not shown yet whose summary has `words`; show it."""
        deadline = time.time() + timeout
        while True:
            for i, n in enumerate(self.bus.notifications()):
                if i not in self.shown and words in n["summary"]:
                    self.shown.add(i)
                    print("  %s[on the screen at %s] %s%s" % (BOLD, self.pc.name,
                                                              n["summary"], RESET))
                    indent(n["body"])
                    return n
            if time.time() >= deadline:
                raise DemoFailed("no notice with %r at %s; got %r" % (
                    words, self.pc.name, self.bus.notifications()))
            time.sleep(0.05)

    def close(self):
        self.notifier.close()
        self.bus.close()


def collect(it, pcs):
    """What rsyslog's RELP shipping does in service: each PC's trail, every complete line
    so far, filed on the collector as <council>/<pc>/trail.log."""
    for pc in pcs:
        d = os.path.join(it, "collected", "fakenham", pc.name)
        os.makedirs(d, exist_ok=True)
        lines = []
        for seg in sorted(glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl"))):
            with open(seg, "rb") as f:
                lines += f.read().split(b"\n")[:-1]
        with open(os.path.join(d, "trail.log"), "wb") as out:
            out.write(b"".join(line + b"\n" for line in lines))


def certificate(pc, done):
    """Show a service-run wipe's certificate and verify its signature with the PC's wipe
    key, as the IT provider does with the public half kept at installation."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    with open(done["wipe.certificate_file"].replace(".json", ".txt")) as f:
        indent(f.read())
    with open(done["wipe.certificate_file"]) as f:
        signed = json.load(f)
    body = json.dumps(signed["certificate"], separators=(",", ":"),
                      ensure_ascii=False).encode()
    pub = Ed25519PublicKey.from_public_bytes(
        base64.b64decode(pc.wipe_public["wipe-public-key"]))
    try:
        pub.verify(base64.b64decode((signed.get("signature") or {}).get("value", "")), body)
        good = signed["signature"]["key_id"] == pc.wipe_public["wipe-key-id"]
    except (InvalidSignature, ValueError):
        good = False
    check(good, "the certificate is signed with %s's wipe key: it verifies with the public "
          "half the IT provider kept at installation" % pc.name)
    return signed["certificate"]


def started(pc, medium):
    """The transfer log of a medium starts: what it records, and says to its owner."""
    s = pc.wait_record(lambda r: r.get("event.action") == "xfer-watch-started" and
                       r.get("volume.device_name") == medium.name, timeout=20)
    print("  %sXFER-WATCH-STARTED%s %s: backend %s (%s); wipe plan: %s" % (
        GREEN, RESET, medium.name, s.get("xfer.backend"), s.get("xfer.backend_reason"),
        s.get("wipe.plan")))
    check(s.get("xfer.backend") in ("bpf", "bpf-tracepoint", "fanotify") and
          s.get("xfer.backend_reason"),
          "the transfer log says which kernel interface watches the files (eBPF, with "
          "fentry or tracepoints, or fanotify) and why")
    return s
