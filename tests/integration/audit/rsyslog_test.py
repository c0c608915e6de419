#!/usr/bin/env python3
"""Audit shipping through real rsyslog on loopback, with the shipped configurations.

Starts a collector rsyslogd (imrelp -> omfile) and a PC rsyslogd (imfile -> omrelp with
a disk-assisted queue), RELP over TLS with certificates and configurations made by the
installed portcullis-fleet-enrol, each with its own pid file and work directory; writes
10,000 records with the test writer; kills the collector (AUDIT_RSYSLOG_KILL=collector)
or the PC's rsyslog (=pc) with SIGKILL mid-stream and restarts it; then checks that the collected copy verifies with `portcullis audit verify`
from seq 1 with no gap and holds every record of the PC's trail.
"""
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from rsyslogd import Rsyslog, free_port, wait_listening

RECORDS = int(os.environ.get("AUDIT_RSYSLOG_RECORDS", "10000"))
prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
source = os.environ["PCL_SOURCE_DIR"]
cli = os.path.join(prefix, "bin", "portcullis")
writer = os.path.join(build, "tests", "integration", "audit", "audit_testwriter")
enrol = os.path.join(prefix, "bin", "portcullis-fleet-enrol")
templates = os.path.join(prefix, "share", "portcullis", "rsyslog")
KILL = os.environ.get("AUDIT_RSYSLOG_KILL", "collector")
SIG = os.environ.get("AUDIT_RSYSLOG_SIGNAL", "kill")


def configure(tmp, port, trail, out):
    """The shipped configurations as the IT provider sets them up: a CA, the collector's
    certificate, one council's listener, one PC's certificate and rendered rsyslog file."""
    env = dict(os.environ, PCL_RSYSLOG_TEMPLATES=templates, PCL_CERT_DAYS="2")

    def run(*args, **kw):
        return subprocess.run([enrol] + list(args), check=True, capture_output=True,
                              text=True, env=dict(env, **kw)).stdout
    ca = os.path.join(tmp, "ca")
    run("ca", ca)
    run("collector", ca, "collector.test")
    text = open(os.path.join(templates, "portcullis-audit-collector.conf")).read()
    text = text.replace("@WORK_DIR@", os.path.join(tmp, "col-work"))
    text += run("council", ca, "testcouncil", port, out, "127.0.0.1")
    open(os.path.join(tmp, "collector.conf"), "w").write(text)
    run("pc", ca, "testcouncil", "testpc", os.path.join(tmp, "bundle"))
    run("install-pc", os.path.join(tmp, "bundle"), "127.0.0.1", port, "collector.test",
        PCL_TLS_DIR=os.path.join(tmp, "tls"), PCL_RSYSLOG_CONF=os.path.join(tmp, "pc.conf"),
        PCL_TRAIL_DIR=trail, PCL_RSYSLOG_WORK=os.path.join(tmp, "pc-work"),
        PCL_DAEMON_CONF=os.path.join(tmp, "portcullisd.conf"))


def copy_of(path):
    """The collected copy: rsyslog's month files (trail-YYYY-MM.log) of the PC's directory."""
    out = b""
    for f in sorted(glob.glob(os.path.join(path, "trail-*.log"))):
        with open(f, "rb") as fh:
            out += fh.read()
    return out


def lines_of(path):
    return copy_of(path).count(b"\n")


def main():
    with tempfile.TemporaryDirectory(prefix="audit-rsyslog-") as tmp:
        trail, key = os.path.join(tmp, "trail"), os.path.join(tmp, "key")
        out = os.path.join(tmp, "collected")
        for d in ("pc-work", "col-work", "collected"):
            os.mkdir(os.path.join(tmp, d))
        port = str(free_port())
        configure(tmp, port, trail, out)
        # Enrol and write the first record before rsyslog starts following the trail.
        subprocess.run([writer, trail, "1"], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, AUDIT_TW_QUIET="1", AUDIT_TW_KEY=key))
        col = Rsyslog("collector", os.path.join(tmp, "collector.conf"), tmp)
        pc = Rsyslog("pc", os.path.join(tmp, "pc.conf"), tmp)
        try:
            col.start()
            wait_listening(port)
            pc.start()
            w = subprocess.Popen([writer, trail, str(RECORDS - 1), "500", "16"],
                                 stdout=subprocess.DEVNULL,
                                 env=dict(os.environ, AUDIT_TW_QUIET="1"))
            collected = os.path.join(out, "testcouncil", "testpc")
            deadline = time.time() + 120
            while lines_of(collected) < RECORDS // 4 and time.time() < deadline:
                time.sleep(0.05)
            at_kill = lines_of(collected)
            victim = pc if KILL == "pc" else col
            victim.stop(signal.SIGKILL if SIG == "kill" else signal.SIGTERM)
            time.sleep(2)  # records keep coming; the PC spools them
            victim.start()
            if w.wait(timeout=300) != 0:
                sys.exit("writer failed")
            total = subprocess.run(["sh", "-c", f"cat {trail}/trail-*.jsonl | wc -l"],
                                   capture_output=True, text=True).stdout.strip()
            total = int(total)
            deadline = time.time() + 60
            while time.time() < deadline:
                have = set(copy_of(collected).splitlines())
                if len(have) >= total:
                    break
                time.sleep(0.5)
        finally:
            pc.stop()
            col.stop()
        local = set()
        for f in sorted(os.listdir(trail)):
            if f.startswith("trail-"):
                local |= set(open(os.path.join(trail, f), "rb").read().splitlines())
        have = set(copy_of(collected).splitlines())
        print(f"records written {total}, collected at the kill {at_kill}, "
              f"collected lines {lines_of(collected)}, distinct {len(have)}")
        if at_kill >= total:
            sys.exit("the collector was not killed mid-stream")
        if local - have:
            missing = sorted(int(re.match(rb'{"seq":(\d+)', l).group(1)) for l in local - have)
            sys.exit(f"{len(missing)} records never reached the collector: seq {missing[:20]}")
        r = subprocess.run([cli, "audit", "verify", "--collected", "--key", key,
                            collected],
                           capture_output=True, text=True)
        print(r.stdout.strip()[-2000:])
        m = re.search(r"^verified: (\d+) records \(seq 1\.\.(\d+)\)", r.stdout, re.M)
        if r.returncode != 0 or m is None or int(m.group(1)) != total or \
                int(m.group(2)) != total:
            sys.exit("collected copy does not verify as the whole trail")
        print("audit rsyslog test: passed")


if __name__ == "__main__":
    main()
