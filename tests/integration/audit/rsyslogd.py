"""Shared by the tests that run real rsyslogd daemons (the audit trail's shipping, the
fleet, the IT provider's guide): a free loopback port, waiting for a collector to listen,
and one rsyslogd in the foreground with its own pid file and log."""
import os
import signal
import socket
import subprocess
import time

RSYSLOGD = "/usr/sbin/rsyslogd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=20):
    """Until something accepts connections on the loopback port: a record in flight at
    the PC's very first, refused, RELP connection can be dropped by rsyslog 8.2302's omrelp
    (seen about one start in four when both start together; see
    docs/it-provider-guide.md), so a PC starts once its collector is up."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the collector never listened on %s" % port)


class Rsyslog:
    """One rsyslogd (-n) on the configuration conf; its pid file and log in tmp."""

    def __init__(self, name, conf, tmp):
        self.name, self.conf = name, conf
        self.pidfile = os.path.join(tmp, name + ".pid")
        self.log = open(os.path.join(tmp, name + ".log"), "ab")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile],
                                     stdout=self.log, stderr=self.log)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)
