"""Test bed for portcullisd under umockdev: a simulated council PC.

Loads umockdev device files, plugs and unplugs devices with real uevents, runs the
staged portcullisd with umockdev's preload so the real libudev code path and real
sysfs writes are exercised, and stands in for the kernel where umockdev does not
(interfaces appear only after a device is authorised, as the kernel does it).
Run the interpreter under `umockdev-wrapper`.
"""
import glob
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

PREFIX = os.environ.get("PCL_PREFIX", "")
SOURCE = os.environ.get("PCL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
FIXTURES = os.path.join(SOURCE, "tests/data/devices")
DAEMON = os.path.join(PREFIX, "sbin/portcullisd")
CLI = os.path.join(PREFIX, "bin/portcullis")
UNIT = os.path.join(SOURCE, "udev/portcullisd.service")


def unit_capabilities(drop=()):
    """The shipped unit's CapabilityBoundingSet=, less the capabilities named in drop."""
    with open(UNIT) as f:
        for line in f:
            if line.startswith("CapabilityBoundingSet="):
                return [c for c in line.split("=", 1)[1].split() if c not in drop]
    raise AssertionError("no CapabilityBoundingSet= in " + UNIT)


def parse_umockdev(text):
    """Split a umockdev-record file into [(syspath, block_text, props)] in file order."""
    blocks, cur = [], []
    for line in text.splitlines():
        if line.startswith("P: ") and cur:
            blocks.append(cur)
            cur = []
        if line.strip() or cur:
            cur.append(line)
    if cur:
        blocks.append(cur)
    out = []
    for b in blocks:
        path = b[0][3:].strip()
        props = dict(l[3:].split("=", 1) for l in b if l.startswith("E: ") and "=" in l)
        out.append(("/sys" + path, "\n".join(b) + "\n", props))
    return out


def set_attr_text(text, name, value):
    """Set attribute `name` in a umockdev block (values end in a literal \\n)."""
    line = "A: %s=%s\\n" % (name, value)
    pat = re.compile(r"^A: %s=.*$" % re.escape(name), re.M)
    if pat.search(text):
        return pat.sub(lambda m: line, text)
    return text.rstrip("\n") + "\n" + line + "\n"


class Testbed:
    def __init__(self):
        self.tb = UMockdev.Testbed.new()
        self.root = self.tb.get_root_dir()
        os.chmod(self.root, 0o777)  # the engine runs as nobody and listens for uevents here
        # The bus's drivers_probe, which the parent writes an interface's name to once it
        # is authorised (the kernel does not probe it by itself): here a plain file.
        os.makedirs(os.path.join(self.root, "sys/bus/usb"), exist_ok=True)
        with open(os.path.join(self.root, "sys/bus/usb/drivers_probe"), "w"):
            pass
        self.work = tempfile.mkdtemp(prefix="pcl-gate-")
        os.chmod(self.work, 0o755)
        self.daemon = None
        self.held = {}  # device syspath -> interface blocks waiting for authorisation

    # -- devices -------------------------------------------------------------
    def fixture(self, name):
        with open(os.path.join(FIXTURES, name)) as f:
            return parse_umockdev(f.read())

    def fixture_at(self, name, port):
        """A fixture's devices moved from port old to new (port = (old, new))."""
        old, new = port
        with open(os.path.join(FIXTURES, name)) as f:
            text = f.read()
        text = re.sub(r"/%s(?=[/:\n])" % re.escape(old), "/" + new, text)
        return parse_umockdev(text)

    def add(self, name, plug=False, port=None):
        """Load a fixture. Present at start (plug=False): as recorded, authorised. Plugged
        later: a USB device arrives with authorized = its root hub's authorized_default,
        and its interfaces are held back until it is authorised, as the kernel does."""
        added = []
        # What each device plugged here arrived with: the daemon may authorise it before
        # its interfaces are reached below, and the kernel holds them back by what the
        # device was at its arrival, not by what the daemon has made of it since (read
        # again, they would be created as recorded: authorised).
        arrived = {}
        blocks = self.fixture(name) if port is None else self.fixture_at(name, port)
        for syspath, text, props in blocks:
            if plug and props.get("DEVTYPE") == "usb_device":
                hub = self.root_hub(syspath)
                default = self.attr(hub, "authorized_default") if hub else "1"
                arrived[syspath] = "1" if default == "1" else "0"
                text = set_attr_text(text, "authorized", arrived[syspath])
            if props.get("DEVTYPE") == "usb_device" and "A: remove=" not in text:
                text = set_attr_text(text, "remove", "")  # the kernel's write-only file
            if props.get("DEVTYPE") == "usb_interface":
                dev = syspath.rsplit("/", 1)[0]
                if arrived.get(dev, self.attr(dev, "authorized")) == "0":
                    self.held.setdefault(dev, []).append((syspath, text))
                    continue
            self.tb.add_from_string(text)  # umockdev announces it with an "add" uevent
            added.append(syspath)
        return added

    def unplug(self, syspath):
        for p in sorted(self.children(syspath), key=len, reverse=True) + [syspath]:
            self.tb.uevent(p, "remove")
            self.tb.remove_device(p)
        self.held.pop(syspath, None)

    def children(self, syspath):
        base = self.root + syspath
        out = []
        for d, subdirs, _ in os.walk(base):
            for s in subdirs:
                full = os.path.join(d, s)
                if os.path.exists(os.path.join(full, "uevent")) and not os.path.islink(full):
                    out.append(full[len(self.root):])
        return out

    def kernel_configure(self, dev):
        """What the kernel does after authorized=1: create the interfaces (with
        authorized = the root hub's interface_authorized_default) and announce them."""
        for syspath, text in self.held.pop(dev, []):
            default = self.attr(self.root_hub(dev), "interface_authorized_default") or "1"
            text = set_attr_text(text, "authorized", default)
            self.tb.add_from_string(text)

    def root_hub(self, syspath):
        parts = syspath.split("/")
        for i, p in enumerate(parts):
            if re.fullmatch(r"usb\d+", p):
                return "/".join(parts[: i + 1])
        return None

    def attr(self, syspath, name):
        try:
            with open(self.root + syspath + "/" + name) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def set_attr(self, syspath, name, value):
        self.tb.set_attribute(syspath, name, value)

    # -- daemon --------------------------------------------------------------
    def config(self, rules, **extra):
        rules_path = os.path.join(self.work, "rules.conf")
        with open(rules_path, "w") as f:
            f.write(rules)
        conf = {
            "rules": rules_path,
            "audit-log": os.path.join(self.work, "audit"),
            "state-dir": os.path.join(self.work, "state"),
            "control-socket": os.path.join(self.work, "run/control.sock"),
            "engine-user": "nobody",
            # This simulated PC's own /run: its first start since "boot" is its first here.
            "boot-marker": os.path.join(self.work, "boot/started"),
            # This PC's wipe key, made at installation (enrol below).
            "wipe-key": os.path.join(self.work, "wipe.key"),
        }
        conf.update({k.replace("_", "-"): v for k, v in extra.items()})
        self.conf = conf
        path = os.path.join(self.work, "portcullisd.conf")
        with open(path, "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in conf.items()))
        return path

    def env(self):
        env = dict(os.environ)
        env["UMOCKDEV_DIR"] = self.root
        env["LD_PRELOAD"] = "libumockdev-preload.so.0"
        if hasattr(self, "conf"):
            env["PORTCULLIS_SOCKET"] = self.conf["control-socket"]
        return env

    def tmpfiles(self):
        """What tmpfiles.d (udev/portcullis.tmpfiles) and postinst do before the unit
        starts the daemon, with the engine user's ids: its directories and the enrolment's
        files handed to it, the certificates' directory root's."""
        import pwd
        pw = pwd.getpwnam(self.conf["engine-user"])
        own = (pw.pw_uid, pw.pw_gid)
        sock_dir = os.path.dirname(self.conf["control-socket"])
        for d, mode, owner in ((self.conf["state-dir"], 0o750, own),
                               (os.path.join(self.conf["state-dir"], "certificates"), 0o755,
                                (0, 0)),
                               (self.conf["audit-log"], 0o750, own), (sock_dir, 0o755, own)):
            os.makedirs(d, exist_ok=True)
            os.chown(d, *owner)
            os.chmod(d, mode)
        for name in os.listdir(self.conf["audit-log"]):
            os.lchown(os.path.join(self.conf["audit-log"], name), *own)

    def start_with_watcher(self, rules, stage_dir, script):
        """Start a staged copy of the install (in stage_dir) whose portcullis-xferwatch is
        the shell script given, and wait for the service to start."""
        prefix = os.path.dirname(os.path.dirname(os.path.abspath(DAEMON)))
        shutil.copytree(prefix, stage_dir, symlinks=True)
        watcher = os.path.join(stage_dir, "libexec/portcullis/portcullis-xferwatch")
        os.unlink(watcher)
        with open(watcher, "w") as f:
            f.write(script)
        os.chmod(watcher, 0o755)
        os.chmod(os.path.dirname(stage_dir), 0o755)
        path = self.config(rules)
        self.enrol()
        self.stderr = open(os.path.join(self.work, "daemon.log"), "w")
        self.daemon = subprocess.Popen(
            [os.path.join(stage_dir, "sbin/portcullisd"), "-c", path, "-f"], env=self.env(),
            stderr=self.stderr)
        self.wait_record(lambda r: r.get("event.action") == "service-started")

    def start(self, rules, wait=True, caps=None, **extra):
        """Start the staged daemon under the test bed. caps: run it as the unit does, with
        only these capabilities (setpriv --bounding-set; tmpfiles' work done first)."""
        path = self.config(rules, **extra)
        self.enrol()
        self.stderr = open(os.path.join(self.work, "daemon.log"), "w")
        cmd = [DAEMON, "-c", path, "-f"]
        if caps is not None:
            self.tmpfiles()
            bounding = ",".join(["-all"] + ["+" + c[len("CAP_"):].lower() for c in caps])
            cmd = ["setpriv", "--bounding-set", bounding, "--inh-caps", "-all"] + cmd
        # A restart finds the last run's service-started in the trail: wait for a new one.
        def starts():
            return len([r for r in self.records() if r.get("event.action") == "service-started"])
        started = starts() if wait else 0
        self.daemon = subprocess.Popen(cmd, env=self.env(), stderr=self.stderr)
        if wait:
            self.wait_record(lambda r: starts() > started)
            self.wait_quiet()
        return self.daemon

    def stop(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(timeout=10)
        if self.daemon:
            self.check_sanitizers()
        self.daemon = None

    def check_sanitizers(self):
        """In a sanitizer build, a report from the parent, the engine (which the parent
        would restart) or a helper lands in the daemon's log: any one fails the test. So
        does an engine killed by its filter (SIGSYS) or aborted (SIGABRT, a sanitizer
        report's end; a UBSan report inside the engine's filter is cut short by SIGSYS)."""
        log = self.log()
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: ",
                     "engine exited (signal %d)" % signal.SIGSYS,
                     "engine exited (signal %d)" % signal.SIGABRT):
            if mark in log:
                raise AssertionError("sanitizer report in the daemon's log:\n" + log)

    def log(self):
        with open(os.path.join(self.work, "daemon.log")) as f:
            return f.read()

    def enrol(self):
        """What the IT provider does at installation: enrol the audit trail, keep the key;
        make the PC's wipe key and keep its public half."""
        wkey = self.conf.get("wipe-key")
        if wkey and not os.path.exists(wkey):
            out = subprocess.run([CLI, "wipe", "key-init", "--key-out", wkey], check=True,
                                 capture_output=True, text=True, timeout=30).stdout
            self.wipe_public = dict(line.split(" ", 1) for line in out.splitlines())
        audit = self.conf["audit-log"]
        if os.path.exists(os.path.join(audit, "state")):
            return
        os.makedirs(audit, exist_ok=True)
        self.audit_key = os.path.join(self.work, "audit.key")
        # A test may name the PC as the IT provider's fleet knows it (audit-origin).
        origin = "portcullis/" + self.conf.get("audit-origin", socket.gethostname())
        subprocess.run([CLI, "audit", "enrol", "--dir", audit, "--origin",
                        origin, "--key-out", self.audit_key,
                        "--no-qr"], check=True, capture_output=True, timeout=30)

    def records(self):
        """Every event record of the trail, in order (checkpoints left out)."""
        out = []
        for seg in sorted(glob.glob(os.path.join(self.conf["audit-log"], "trail-*.jsonl"))):
            # One read: iterating a file that is still being written can hand back the
            # rest of a line whose start was dropped as incomplete a moment before.
            with open(seg) as f:
                for line in f.read().split("\n")[:-1]:
                    r = json.loads(line)
                    if r.get("audit.type") == "record":
                        out.append(r)
        return out

    def verify(self):
        """`portcullis audit verify` with the IT provider's key, as they would run it."""
        segs = sorted(glob.glob(os.path.join(self.conf["audit-log"], "trail-*.jsonl")))
        return subprocess.run([CLI, "audit", "verify", "--key", self.audit_key] + segs,
                              capture_output=True, text=True, timeout=60)

    def wait_record(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for r in self.records():
                if pred(r):
                    return r
            if self.daemon and self.daemon.poll() is not None:
                raise AssertionError("portcullisd exited:\n" + self.log())
            time.sleep(0.02)
        raise AssertionError("no such record within %ss; log:\n%s\nrecords:\n%s" % (
            timeout, self.log(), "\n".join(json.dumps(r) for r in self.records())))

    def wait_quiet(self, settle=0.3, timeout=10):
        """Wait until the audit trail stops growing for `settle` seconds."""
        deadline = time.time() + timeout
        last, since = -1, time.time()
        while time.time() < deadline:
            n = len(self.records())
            if n != last:
                last, since = n, time.time()
            elif time.time() - since >= settle:
                return
            time.sleep(0.02)

    def wait_attr(self, syspath, name, value, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.attr(syspath, name) == value:
                return
            time.sleep(0.02)
        raise AssertionError("%s/%s is %r, wanted %r; log:\n%s" % (
            syspath, name, self.attr(syspath, name), value, self.log()))

    def cli_path(self):
        return CLI

    def cli(self, *args, check=True):
        # A session of its own: no controlling terminal, so nothing waits for a PIN typed.
        r = subprocess.run([CLI] + list(args), env=self.env(), capture_output=True, text=True,
                           timeout=30, start_new_session=True)
        if check and r.returncode != 0:
            raise AssertionError("portcullis %s failed: %s" % (" ".join(args), r.stderr))
        return r

    def close(self):
        self.stop()
        self.tb = None


def connected(pid):
    """Whether process pid holds a socket (a CLI has connected to the control socket). Its
    descriptors may close while they are looked at: one gone is not a socket."""
    try:
        return any(os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
                   for fd in os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return False


def read_lines_until(proc, lines, done, deadline):
    """Append the lines proc writes (its stdout a pipe) to lines until one satisfies done,
    its output ends or the monotonic deadline passes: a reader that never hangs."""
    buf, fd = b"", proc.stdout.fileno()
    while time.monotonic() < deadline and not any(done(l) for l in lines):
        if select.select([fd], [], [], 1)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            *full, buf = buf.split(b"\n")
            lines += [l.decode() for l in full]


def actions_for(records, name):
    return [r["event.action"] for r in records if r.get("volume.device_name") == name]


# -- real media behind simulated sticks ----------------------------------------
def real(cmd, **kw):
    """Run a command on the real system, outside umockdev's preload."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
    return subprocess.run(cmd, env=env, **kw)


class RealMedium:
    def __init__(self, fs="ext4", size_mb=32):
        self.tmp = tempfile.mkdtemp(prefix="pcl-medium-")
        os.chmod(self.tmp, 0o755)
        self.img = os.path.join(self.tmp, "img")
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        with open(self.img, "wb") as f:
            f.truncate(size_mb << 20)
        real(["mkfs.ext4", "-q", "-F", self.img], check=True)
        self.loop = real(["losetup", "-f", "--show", self.img], check=True,
                                   capture_output=True, text=True).stdout.strip()
        # A read-only grant sets the device read-only (BLKROSET), which outlives the
        # loop device's detach: every medium starts writable.
        real(["blockdev", "--setrw", self.loop], check=True)
        self.name = os.path.basename(self.loop)
        st = os.stat(self.loop)
        self.dev = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        self.mounted = False

    def mount(self):
        real(["mount", self.loop, self.mnt], check=True)
        os.chmod(self.mnt, 0o1777)
        self.mounted = True

    def umount(self, timeout=20):
        """Unmount, waiting while a helper still holds the medium (slow under ASan)."""
        deadline = time.time() + timeout
        while True:
            if real(["umount", self.mnt], stderr=subprocess.DEVNULL).returncode == 0:
                self.mounted = False
                return True
            if time.time() >= deadline:
                return False
            time.sleep(0.1)

    def close(self):
        # Never leave a mount behind (it would keep the loop device), nor the read-only
        # flag of a read-only grant.
        if self.mounted and not self.umount():
            real(["umount", "-l", self.mnt], stderr=subprocess.DEVNULL)
        real(["blockdev", "--setrw", self.loop], stderr=subprocess.DEVNULL)
        real(["losetup", "-d", self.loop])
        shutil.rmtree(self.tmp, ignore_errors=True)


def scsi_device(pc, iface, n):
    """The SCSI host, target and device usb-storage puts between the USB interface and the
    disk (subsystem "scsi", as on the kernel): walking up from the disk meets them before
    the USB device. Returns the SCSI device's syspath."""
    base = "%s/host%d" % (iface, n)
    nodes = [(base, "scsi_host"), (base + "/target%d:0:0" % n, "scsi_target"),
             (base + "/target%d:0:0/%d:0:0:0" % (n, n), "scsi_device")]
    for path, devtype in nodes:
        if not os.path.exists(pc.root + path + "/uevent"):
            pc.tb.add_from_string("P: %s\nE: DEVTYPE=%s\nE: SUBSYSTEM=scsi\n" % (
                path[len("/sys"):], devtype))
    return nodes[-1][0]


def attach_disk(pc, medium, parent, probe=False):
    """What the kernel's usb-storage and sd drivers do once the interface is authorised.
    probe: also what udevd's blkid builtin says of the real medium (ID_FS_TYPE, ...), as
    `blkid -p -o udev` prints it, in the disk's properties."""
    scsi_device(pc, parent, 6)
    props = ""
    if probe:
        out = real(["blkid", "-p", "-o", "udev", medium.loop], capture_output=True,
                   text=True).stdout
        props = "".join("E: %s\n" % l for l in out.splitlines() if l.startswith("ID_"))
    pc.tb.add_from_string(
        "P: %s/host6/target6:0:0/6:0:0:0/block/%s\n"
        "E: DEVTYPE=disk\nE: SUBSYSTEM=block\nE: DEVNAME=/dev/%s\n%s"
        "A: dev=%s\\n\nA: removable=1\\n\nA: size=65536\\n\n"
        % (parent[len("/sys"):], medium.name, medium.name, props, medium.dev))


def storage_in(pc, medium, dev, probe=False):
    """The authorised stick DEV's storage interface: the kernel's configuration, the
    interface let in by the gate, and the real medium attached behind it (probe: as
    attach_disk). Returns the interface's path."""
    iface = dev + "/" + os.path.basename(dev) + ":1.0"
    pc.wait_attr(dev, "authorized", "1")
    pc.kernel_configure(dev)
    pc.wait_attr(iface, "authorized", "1")
    attach_disk(pc, medium, iface, probe=probe)
    return iface


def as_user(uid, *cmd):
    real(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + list(cmd),
         check=True, stdout=subprocess.DEVNULL)


def engine_children(pid):
    """The daemon's children that are engines (the parent's launcher, "pcl-launcher",
    and helpers are children too)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []
    out = []
    for k in kids:
        try:
            with open("/proc/%d/comm" % k) as f:
                comm = f.read().strip()
        except FileNotFoundError:
            continue
        if comm.startswith("portcullis-engi"):
            out.append(k)
    return out
