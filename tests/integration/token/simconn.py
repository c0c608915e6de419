"""python3-fido2 (0.9.1) transport to portcullis-token-sim.

SimConnection is a fido2.hid.base.CtapHidConnection over the simulator's UNIX
SOCK_SEQPACKET socket; sim_device() returns a fido2 CtapHidDevice that Ctap1, Ctap2
and Fido2Client use as they would a USB key. Used by the token integration tests.
"""
import os
import signal
import socket
import subprocess
import time

from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

REPORT = 64


class SimConnection(CtapHidConnection):
    """One client connection to the simulator: 64-byte CTAPHID reports each way."""

    def __init__(self, sock_path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(sock_path)

    def read_packet(self):
        data = self.sock.recv(REPORT)
        if len(data) != REPORT:
            raise OSError("short report from simulator: %d bytes" % len(data))
        return data

    def write_packet(self, data):
        if len(data) != REPORT:
            raise ValueError("CTAPHID report must be 64 bytes, got %d" % len(data))
        self.sock.send(data)

    def close(self):
        self.sock.close()


def sim_device(sock_path):
    desc = HidDescriptor("sim:" + sock_path, 0x1209, 0x000A, REPORT, REPORT)
    return CtapHidDevice(desc, SimConnection(sock_path))


class Simulator:
    """portcullis-token-sim as a child process with its own socket and state file."""

    def __init__(self, workdir):
        prefix = os.environ.get("PCL_PREFIX", "")
        self.binary = os.path.join(prefix, "bin", "portcullis-token-sim")
        self.sock = os.path.join(str(workdir), "token.sock")
        self.state = os.path.join(str(workdir), "token.state")
        self.proc = None

    def start(self, *args):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(
            [self.binary, "--socket", self.sock, "--state", self.state, *args],
            stderr=subprocess.DEVNULL,
        )
        for _ in range(500):
            if os.path.exists(self.sock):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("simulator exited with %d" % self.proc.returncode)
            time.sleep(0.01)
        raise RuntimeError("simulator socket did not appear")

    def touch(self):
        self.proc.send_signal(signal.SIGUSR1)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def restart(self, *args):
        self.stop()
        return self.start(*args)

    def device(self):
        return sim_device(self.sock)
