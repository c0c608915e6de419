"""The an505-token image (real token core + BearSSL on an emulated Cortex-M33) under
qemu-system-arm -M mps2-an505, reached by python3-fido2 as a CTAPHID device.

Linked by the firmware pytest suite and the firmware benchmark. The emulator's UART is
a UNIX socket; the frame format is described in firmware/targets/mps2-an505/token_board.c.
Everything read from the emulator is treated as untrusted and length-checked.
"""
import os
import socket
import struct
import subprocess
import tempfile
import time

from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

REPORT = 64
KEEPALIVE = 0x80 | 0x3B
STATUS_UPNEEDED = 2


class QemuToken(CtapHidConnection):
    """Runs the emulator and speaks the board's framed UART protocol."""

    def __init__(self, image, auto_touch=True):
        self.auto_touch = auto_touch
        self.tmp = tempfile.TemporaryDirectory(prefix="pcl-an505-")
        path = os.path.join(self.tmp.name, "uart.sock")
        self.log = open(os.path.join(self.tmp.name, "semihost.log"), "w+")
        cmd = ["qemu-system-arm", "-M", "mps2-an505", "-cpu", "cortex-m33",
               "-icount", "shift=0", "-display", "none", "-monitor", "none",
               "-chardev", f"socket,id=uart,path={path},server=on,wait=on",
               "-serial", "chardev:uart",
               "-semihosting-config", "enable=on,target=native",
               "-kernel", image]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.sock = None
        deadline = time.monotonic() + 30
        while self.sock is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
            except OSError:
                s.close()
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("qemu did not open its UART socket: " + self.output())
                time.sleep(0.05)
        self.sock.settimeout(120)
        self.sock.sendall(b"S" + os.urandom(32))

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise RuntimeError("emulator closed the UART: " + self.output())
            buf += chunk
        return buf

    def _frame(self):
        kind = self._read_exact(1)
        if kind == b"R":
            return kind, self._read_exact(REPORT)
        if kind == b"C":
            return kind, self._read_exact(8)
        raise RuntimeError(f"unexpected frame type {kind!r} from the board")

    def write_packet(self, data):
        data = bytes(data)
        if len(data) > REPORT:
            raise ValueError("report longer than 64 bytes")
        self.sock.sendall(b"R" + data.ljust(REPORT, b"\0"))

    def read_packet(self):
        kind, payload = self._frame()
        if kind != b"R":
            raise RuntimeError("work counter frame while a report was expected")
        if self.auto_touch and payload[4] == KEEPALIVE and payload[7] == STATUS_UPNEEDED:
            self.touch()
        return payload

    def touch(self):
        self.sock.sendall(b"T")

    def work_instructions(self):
        """Instructions the board executed outside its waits since the previous call."""
        self.sock.sendall(b"Q")
        kind, payload = self._frame()
        if kind != b"C":
            raise RuntimeError("report frame while the work counter was expected")
        return struct.unpack("<Q", payload)[0]

    def device(self):
        return CtapHidDevice(HidDescriptor("qemu:an505", 0x1209, 0x0001, REPORT, REPORT), self)

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.tmp.cleanup()
