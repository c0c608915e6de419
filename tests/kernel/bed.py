"""bed.py - the kernel test bed: Debian's own kernel under QEMU, real USB devices.

Boots Debian's linux-image (fetched by kernel.sh into $PCL_KERNEL_DIR, default
$PCL_BUILD_DIR/kernel) with `qemu-system-x86_64 -accel tcg -cpu max -M q35` (KVM only
when /dev/kvm opens and a KVM boot answers; else TCG), the host's root read-only over
virtio-9p (multidevs=remap) under a tmpfs overlay, the guest's host name set,
systemd-udevd running. Devices are plugged over QMP into a qemu-xhci controller with 15
USB 2 and 15 USB 3 ports (QEMU never adds a hub of its own); the guest's kernel sees real
USB devices and binds its real drivers.

Paths (what the guest sees):
  - every host path, read-only as of boot (writes land in the guest's tmpfs overlay):
    the staged install $PCL_PREFIX (build/stage), the source tree, test data;
  - Bed.work, a fresh host directory, at the same path and writable both ways: the
    place to exchange files (configs, images, outputs);
  - /lib/modules is the Debian kernel's module tree; /tmp, /run, /var/lib, /var/log are
    the guest's own tmpfs.

API (stable; other test modules build on it):
  with Bed(hostname="council-pc") as bed:        # boots; close() stops QEMU
                                                  # (smp=N: N virtual CPUs, default 1)
      rc, out = bed.run("uname -r")               # bash in the guest, as root;
                                                  # check=True raises on rc != 0
      bed.qmp("query-block")                      # any QMP command, returns "return"
      bed.plug_storage("s1", image, serial="X")   # usb-storage stick on the xHCI
      bed.plug("k1", "usb-kbd")                   # any QEMU USB device, properties
      bed.unplug("s1")                            # device_del, waits for the kernel
      bed.unplug_all()                            # everything plugged, last first
      bed.usb_name(serial="X")                    # its kernel name ("1-3"), waiting
      bed.start_daemon(rules, **config)           # staged portcullisd, own trail
      bed.records(); bed.wait_record(pred)        # its audit trail, as on the host
      bed.cli("devices")                          # staged `portcullis`, in the guest
      bed.stop_daemon()
  A pytest fixture per module: see conftest.py (`bed`, scope="module").
Background commands in bed.run must redirect their output (>file 2>&1 </dev/null &):
the answer comes when every holder of the command's output has closed it.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

PREFIX = os.environ.get("PCL_PREFIX", "")
BUILD = os.environ.get("PCL_BUILD_DIR", "")
SOURCE = os.environ.get("PCL_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_DIR = os.environ.get("PCL_KERNEL_DIR") or os.path.join(BUILD or "/tmp", "kernel")
DAEMON = os.path.join(PREFIX, "sbin/portcullisd")
CLI = os.path.join(PREFIX, "bin/portcullis")
XHCI = "xhci.0"


class GuestError(AssertionError):
    pass


def prepare_kernel():
    """Fetch and unpack Debian's kernel (idempotent). Fails loudly, never skips."""
    r = subprocess.run([os.path.join(HERE, "kernel.sh"), KERNEL_DIR], capture_output=True,
                       text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError("Debian's kernel for the kernel tests is not available:\n" +
                           r.stdout + r.stderr)
    with open(os.path.join(KERNEL_DIR, "version")) as f:
        return f.read().strip()


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


class Bed:
    def __init__(self, hostname="council-pc", memory=1024, boot_timeout=240, smp=1):
        self.hostname = hostname
        self.smp = smp
        self.version = prepare_kernel()
        self.work = tempfile.mkdtemp(prefix="pcl-kbed-")
        os.chmod(self.work, 0o755)
        self.qemu = None
        self.daemon_dir = None
        self.memory = memory
        self.boot_timeout = boot_timeout
        self.devices = {}
        self.events = []
        self.accel = None
        # KVM only where it is seen to work: a KVM guest that does not answer in time is
        # stopped and the bed boots under TCG.
        for accel in (["kvm", "tcg"] if kvm_usable() else ["tcg"]):
            try:
                self._boot(accel, 60 if accel == "kvm" else boot_timeout)
                self.accel = accel
                break
            except Exception:
                self._kill()
                if accel == "tcg":
                    raise

    # -- QEMU ------------------------------------------------------------------
    def _boot(self, accel, timeout):
        k = KERNEL_DIR
        self.console = os.path.join(self.work, "console.log")
        for s in ("qmp.sock", "agent.sock"):
            if os.path.exists(os.path.join(self.work, s)):
                os.unlink(os.path.join(self.work, s))
        # The tree under test, bound back in the guest where its tmpfs mounts hide it.
        dirs = sorted({os.path.realpath(p) for p in (SOURCE, BUILD, PREFIX, HERE) if p})
        keep = ",".join(d for d in dirs
                        if not any(d.startswith(o + "/") for o in dirs if o != d))
        append = ("console=ttyS0 loglevel=5 panic=-1 rw pcl.init=%s pcl.host=%s pcl.work=%s"
                  " pcl.keep=%s"
                  % (os.path.join(HERE, "guest-init.sh"), self.hostname, self.work, keep))
        cmd = ["qemu-system-x86_64", "-accel", accel, "-cpu", "max", "-M", "q35",
               "-m", str(self.memory), "-smp", str(self.smp),
               "-nodefaults", "-display", "none", "-no-reboot",
               "-serial", "file:" + self.console,
               "-kernel", os.path.join(k, "vmlinuz"), "-initrd", os.path.join(k, "initrd"),
               "-append", append,
               "-fsdev", "local,id=hostroot,path=/,security_model=none,readonly=on,"
               "multidevs=remap",
               "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
               "-fsdev", "local,id=modules,path=%s/root/lib/modules,security_model=none,"
               "readonly=on" % k,
               "-device", "virtio-9p-pci,fsdev=modules,mount_tag=modules",
               "-fsdev", "local,id=work,path=%s,security_model=none,multidevs=remap"
               % self.work,
               "-device", "virtio-9p-pci,fsdev=work,mount_tag=work",
               "-device", "virtio-serial-pci",
               "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off"
               % self.work,
               "-device", "virtserialport,chardev=agent,name=pcl.agent",
               "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % self.work,
               "-device", "qemu-xhci,id=xhci,p2=15,p3=15"]
        self.qemu_log = open(os.path.join(self.work, "qemu.log"), "w")
        self.qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT)
        self._qmp_connect()
        self._agent_connect(timeout)

    def _connect(self, name, timeout=30):
        path = os.path.join(self.work, name)
        deadline = time.time() + timeout
        while True:
            if self.qemu.poll() is not None:
                raise GuestError("qemu exited:\n" + self._tail())
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def _qmp_connect(self):
        self.qmp_sock = self._connect("qmp.sock")
        self.qmp_file = self.qmp_sock.makefile("rw")
        json.loads(self.qmp_file.readline())  # greeting
        self.qmp("qmp_capabilities")

    def _agent_connect(self, timeout):
        self.agent_sock = self._connect("agent.sock")
        self.agent_sock.settimeout(timeout)
        self.agent_file = self.agent_sock.makefile("rwb")
        try:
            while True:
                line = self.agent_file.readline()
                if not line:
                    raise GuestError("agent channel closed:\n" + self._tail())
                if json.loads(line).get("ready"):
                    break
        except socket.timeout:
            raise GuestError("the guest did not come up in %ss:\n%s" % (timeout, self._tail()))

    def _tail(self, n=60):
        try:
            with open(self.console, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def qmp(self, command, **args):
        """Any QMP command; returns its "return" value, raises on "error"."""
        req = {"execute": command}
        if args:
            req["arguments"] = args
        self.qmp_file.write(json.dumps(req) + "\n")
        self.qmp_file.flush()
        while True:
            line = self.qmp_file.readline()
            if not line:
                raise GuestError("QMP closed:\n" + self._tail())
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
                continue
            if "error" in msg:
                raise GuestError("QMP %s: %s" % (command, msg["error"]))
            return msg.get("return")

    def wait_event(self, name, pred=lambda e: True, timeout=60):
        """Wait for a QMP event (e.g. DEVICE_DELETED), consuming it."""
        deadline = time.time() + timeout
        while True:
            for e in self.events:
                if e["event"] == name and pred(e):
                    self.events.remove(e)
                    return e
            if time.time() > deadline:
                raise GuestError("no QMP event %s in %ss" % (name, timeout))
            self.qmp_sock.settimeout(max(0.1, deadline - time.time()))
            try:
                line = self.qmp_file.readline()
            except socket.timeout:
                continue
            finally:
                self.qmp_sock.settimeout(None)
            if line:
                msg = json.loads(line)
                if "event" in msg:
                    self.events.append(msg)

    # -- the guest -------------------------------------------------------------
    def run(self, cmd, check=True, timeout=60, input=""):
        """Run `cmd` with bash in the guest as root; returns (rc, stdout+stderr)."""
        self.agent_sock.settimeout(timeout + 30)
        self.agent_file.write(json.dumps({"cmd": cmd, "timeout": timeout,
                                          "input": input}).encode() + b"\n")
        self.agent_file.flush()
        try:
            line = self.agent_file.readline()
        except socket.timeout:
            raise GuestError("guest stopped answering during %r:\n%s" % (cmd, self._tail()))
        if not line:
            raise GuestError("agent channel closed during %r:\n%s" % (cmd, self._tail()))
        ans = json.loads(line)
        if check and ans["rc"] != 0:
            raise GuestError("guest: %r exited %d:\n%s" % (cmd, ans["rc"], ans["out"]))
        return ans["rc"], ans["out"]

    def out(self, cmd, **kw):
        return self.run(cmd, **kw)[1]

    def wait_for(self, cmd, timeout=60, what=None):
        """Poll a guest shell test until it exits 0 (one round trip per try)."""
        rc, out = self.run("end=$((SECONDS + %d)); while [ $SECONDS -lt $end ]; do (%s) && "
                           "exit 0; sleep 0.2; done; exit 1" % (timeout, cmd), check=False,
                           timeout=timeout + 30)
        if rc != 0:
            dmesg = self.run("dmesg | tail -n 25", check=False)[1]
            raise GuestError("%s: not true within %ss: %s\n%s\ndaemon log:\n%s\ndmesg:\n%s" % (
                what or cmd, timeout, cmd, "\n".join(out.splitlines()[-10:]), self.daemon_log(),
                dmesg))
        return out

    # -- devices ---------------------------------------------------------------
    def plug(self, id, driver, bus=XHCI, **props):
        """device_add a QEMU device (usb-kbd, usb-hub, usb-mtp, usb-net, usb-ccid, ...)
        on the xHCI (bus=None: no bus). Properties are QEMU's (port="3", serial=...)."""
        args = dict(props, driver=driver, id=id)
        if bus is not None:
            args["bus"] = bus
        self.qmp("device_add", **args)
        self.devices[id] = None

    def plug_storage(self, id, image, serial, readonly=False, removable=True, **props):
        """A usb-storage stick backed by a host image file (raw). removable=True sets the
        SCSI removable bit, as most flash drives do."""
        node = id + "-blk"
        self.qmp("blockdev-add", **{"node-name": node, "driver": "raw", "read-only": readonly,
                                    "file": {"driver": "file", "filename": image,
                                             "read-only": readonly}})
        try:
            self.plug(id, "usb-storage", drive=node, serial=serial, removable=removable,
                      **props)
        except Exception:
            self.qmp("blockdev-del", **{"node-name": node})
            raise
        self.devices[id] = node

    def unplug(self, id, timeout=60):
        """device_del and wait until QEMU (and so the guest's kernel) let it go. A device
        already gone with the hub it was behind is only forgotten."""
        try:
            self.qmp("device_del", id=id)
        except GuestError as e:
            if "DeviceNotFound" not in str(e):
                raise
        else:
            self.wait_event("DEVICE_DELETED",
                            lambda e: e.get("data", {}).get("device") == id, timeout)
        node = self.devices.pop(id, None)
        if node:
            self.qmp("blockdev-del", **{"node-name": node})

    def unplug_all(self):
        """Unplug every device this bed plugged, the last plugged first."""
        for id in reversed(list(self.devices)):
            self.unplug(id)

    def usb_name(self, serial=None, idvendor=None, timeout=30):
        """The kernel's name ("1-3") of the USB device with this serial / vendor id."""
        conds = []
        if serial:
            conds.append('[ "$(cat $d/serial 2>/dev/null)" = "%s" ]' % serial)
        if idvendor:
            conds.append('[ "$(cat $d/idVendor 2>/dev/null)" = "%s" ]' % idvendor)
        out = self.wait_for("for d in /sys/bus/usb/devices/[0-9]*-*; do case $d in *:*) "
                            "continue;; esac; %s && basename $d && exit 0; done; exit 1"
                            % " && ".join(conds), timeout, "USB device %s" % (serial or
                                                                              idvendor))
        return out.split()[-1]

    def attr(self, name, attr):
        """A sysfs attribute of USB device or interface `name`, or None."""
        rc, out = self.run("cat /sys/bus/usb/devices/%s/%s" % (name, attr), check=False)
        return out.strip() if rc == 0 else None

    # -- the daemon ------------------------------------------------------------
    def start_daemon(self, rules, wait=True, **extra):
        """The staged portcullisd in the guest with these rules and config settings
        (underscores become dashes), its own enrolled trail in the guest's tmpfs."""
        self.stop_daemon()
        d = self.daemon_dir = "/var/lib/pcl-%d" % int(time.time() * 1000)
        conf = {"rules": d + "/rules.conf", "audit-log": d + "/audit",
                "state-dir": d + "/state", "control-socket": d + "/run/control.sock",
                "engine-user": "nobody", "wipe-key": d + "/wipe.key"}
        conf.update({k.replace("_", "-"): v for k, v in extra.items()})
        self.conf = conf
        self.run("mkdir -p %s/audit && cat > %s/rules.conf" % (d, d), input=rules)
        self.run("cat > %s/portcullisd.conf" % d,
                 input="".join("%s = %s\n" % kv for kv in conf.items()))
        self.run("%s audit enrol --dir %s/audit --origin portcullis/$(hostname) "
                 "--key-out %s/audit.key --no-qr" % (CLI, d, d))
        # This PC's wipe key, made at installation: it signs the service's certificates.
        self.run("%s wipe key-init --key-out %s/wipe.key >%s/wipe.key.pub" % (CLI, d, d))
        self.run("%s setsid %s -c %s/portcullisd.conf -f >%s/daemon.log 2>&1 </dev/null & "
                 "echo $! > %s/daemon.pid" % (sanitizer_env(), DAEMON, d, d, d))
        if wait:
            self.wait_record(lambda r: r.get("event.action") == "service-started")

    def stop_daemon(self):
        if not self.daemon_dir:
            return
        d = self.daemon_dir
        self.run("p=$(cat %s/daemon.pid); kill -TERM $p 2>/dev/null; "
                 "for i in $(seq 100); do kill -0 $p 2>/dev/null || exit 0; sleep 0.1; done; "
                 "kill -KILL $p" % d, check=False)
        log = self.daemon_log()
        self.daemon_dir = None
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: ",
                     "engine exited (signal %d)" % signal.SIGSYS,
                     "engine exited (signal %d)" % signal.SIGABRT):
            if mark in log:
                raise AssertionError("sanitizer or filter report in the daemon's log:\n" + log)

    def daemon_log(self):
        if not self.daemon_dir:
            return ""
        return self.run("cat %s/daemon.log" % self.daemon_dir, check=False)[1]

    def records(self):
        """Every event record of the daemon's trail, in order (checkpoints left out)."""
        out = self.run("cat %s/audit/trail-*.jsonl 2>/dev/null" % self.daemon_dir,
                       check=False)[1]
        recs = []
        for line in out.split("\n"):
            if line.strip():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a line still being written
                if r.get("audit.type") == "record":
                    recs.append(r)
        return recs

    def wait_record(self, pred, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for r in self.records():
                if pred(r):
                    return r
            time.sleep(0.3)
        raise AssertionError("no such record within %ss; daemon log:\n%s\nrecords:\n%s" % (
            timeout, self.daemon_log(), "\n".join(json.dumps(r) for r in self.records())))

    def cli(self, *args, check=True, timeout=60, input=""):
        """The staged `portcullis` in the guest; `input` is its standard input (for
        example a PIN with --pin-fd 0)."""
        env = sanitizer_env()
        if self.daemon_dir:
            env += " PORTCULLIS_SOCKET=%s " % self.conf["control-socket"]
        return self.run(env + " ".join([CLI] + [shquote(a) for a in args]), check=check,
                        timeout=timeout, input=input)

    # -- end -------------------------------------------------------------------
    def _kill(self):
        if self.qemu and self.qemu.poll() is None:
            self.qemu.terminate()
            try:
                self.qemu.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.qemu.kill()
                self.qemu.wait()
        self.qemu = None

    def close(self):
        try:
            if self.qemu and self.qemu.poll() is None:
                self.stop_daemon()
        finally:
            self._kill()
            if os.environ.get("PCL_KERNEL_KEEP"):
                print("kernel bed kept:", self.work)
            else:
                shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sanitizer_env():
    """The host's ASan/UBSan options as an env prefix for guest commands (sanitizer builds
    run the same way inside the guest as on the host)."""
    return " ".join("%s=%s" % (k, shquote(os.environ[k])) for k in
                    ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS") if k in os.environ)


def shquote(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def make_image(path, fs, size_mb=64, label="STICK", files=None, partitioned=False):
    """A stick image on the host: one file system (vfat, exfat, ext4), optionally in a
    single MBR partition (as sticks are sold), with files {name: bytes}."""
    with open(path, "wb") as f:
        f.truncate(size_mb << 20)
    offset = 0
    if partitioned:
        # An MBR with one partition from sector 2048 to the end, type 0x0c (FAT32 LBA)
        # or 0x83; the CHS fields say "use LBA" as every current tool writes them.
        offset = 2048 * 512
        sectors = (size_mb << 20) // 512 - 2048
        entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83 if fs == "ext4" else 0x0c,
                            b"\xfe\xff\xff", 2048, sectors)
        with open(path, "r+b") as f:
            f.seek(440)
            f.write(struct.pack("<I", 0x50434c31) + b"\0\0" + entry + b"\0" * 48 +
                    b"\x55\xaa")
    fsimg = path + ".fs" if partitioned else path
    if partitioned:
        with open(fsimg, "wb") as f:
            f.truncate((size_mb << 20) - offset)
    mk = {"vfat": ["mkfs.vfat", "-n", label], "exfat": ["mkfs.exfat", "-L", label],
          "ext4": ["mkfs.ext4", "-q", "-F", "-L", label]}[fs]
    subprocess.run(mk + [fsimg], check=True, capture_output=True)
    if files:
        if fs == "ext4":
            d = tempfile.mkdtemp()
            for n, data in files.items():
                with open(os.path.join(d, n), "wb") as f:
                    f.write(data)
            subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, "-d", d, fsimg], check=True,
                           capture_output=True)
            shutil.rmtree(d)
        elif fs == "vfat":
            for n, data in files.items():
                src = path + ".src"
                with open(src, "wb") as f:
                    f.write(data)
                subprocess.run(["mcopy", "-i", fsimg, src, "::" + n], check=True,
                               capture_output=True)
                os.unlink(src)
        else:
            raise ValueError("files on %s: copy them in the guest" % fs)
    if partitioned:
        with open(fsimg, "rb") as src, open(path, "r+b") as dst:
            dst.seek(offset)
            shutil.copyfileobj(src, dst, 1 << 20)
        os.unlink(fsimg)
