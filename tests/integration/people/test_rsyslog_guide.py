"""The IT provider's guide, "Enrol a PC" and "Watch the fleet", for real: the installed
portcullis-fleet-enrol makes the CA, the collector's certificate, a council listener and a
PC's certificate and rsyslog file from the shipped templates; a trail written by the staged
portcullisd goes from a "PC" rsyslogd to a "collector" rsyslogd over RELP with TLS on
loopback; the collected copy is byte for byte the PC's trail, and `portcullis fleet add`
and `fleet verify` accept it under the council and PC the certificate names."""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from conftest import plain_env

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../audit"))
from rsyslogd import free_port, wait_listening  # noqa: E402

PREFIX = os.environ.get("PCL_PREFIX", "")
ENROL = os.path.join(PREFIX, "bin/portcullis-fleet-enrol")
TEMPLATES = os.path.join(PREFIX, "share/portcullis/rsyslog")
COLLECTOR_NAME = "collector.example-it.co.uk"
COUNCIL = "fakenham"


def enrol(*args, **env):
    e = dict(plain_env(), PCL_RSYSLOG_TEMPLATES=TEMPLATES, PCL_CERT_DAYS="2", **env)
    r = subprocess.run([ENROL] + list(args), capture_output=True, text=True, env=e, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def with_workdir(conf, work):
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "rsyslog.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def rsyslogd(conf, work):
    return subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", work + "/rsyslogd.pid"],
                            env=plain_env(), stdout=subprocess.DEVNULL,
                            stderr=open(work + "/stderr", "w"))


def stop(p):
    if p.poll() is None:
        p.terminate()
        p.wait(timeout=20)


def test_the_guide_enrols_a_pc_whose_trail_is_collected_and_verified(pc):
    d = tempfile.mkdtemp(prefix="pcl-rsyslog-")
    ca, srv, fleet = d + "/ca", d + "/srv", d + "/fleet"
    # The daemon's trail origin is portcullis/<host name>: the PC is enrolled by that name.
    name = socket.gethostname().lower()
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name), name
    port = str(free_port())
    enrol("ca", ca)
    enrol("collector", ca, COLLECTOR_NAME)
    conf = open(os.path.join(TEMPLATES, "portcullis-audit-collector.conf")).read()
    conf = conf.replace("@WORK_DIR@", d + "/collector")
    conf += enrol("council", ca, COUNCIL, port, srv, "127.0.0.1")
    collector = with_workdir(conf, d + "/collector")
    enrol("pc", ca, COUNCIL, name, d + "/bundle")

    # A trail written by the real daemon: start, a blocked stick, stop.
    pc.start("allow with-interface match-all { 09:00:* }\n")
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r.get("event.action") == "device-blocked")
    pc.stop()
    trail = pc.conf["audit-log"]
    segments = sorted(glob.glob(trail + "/trail-*.jsonl"))
    assert segments

    os.makedirs(d + "/pc")
    enrol("install-pc", d + "/bundle", "127.0.0.1", port, COLLECTOR_NAME,
          PCL_TLS_DIR=d + "/pc/tls", PCL_RSYSLOG_CONF=d + "/pc/rsyslog.conf",
          PCL_TRAIL_DIR=trail, PCL_RSYSLOG_WORK=d + "/pc",
          PCL_DAEMON_CONF=d + "/pc/portcullisd.conf")
    shipper = d + "/pc/rsyslog.conf"
    for c in (collector, shipper):
        r = subprocess.run(["rsyslogd", "-N1", "-f", c], capture_output=True, text=True,
                           env=plain_env(), timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr

    col = rsyslogd(collector, d + "/collector")
    wait_listening(port)  # see docs/it-provider-guide.md: omrelp's first connection
    ship = rsyslogd(shipper, d + "/pc")
    collected = os.path.join(srv, COUNCIL, name)  # rsyslog's trail-YYYY-MM.log files
    try:
        expected = b"".join(open(s, "rb").read() for s in segments)
        deadline = time.time() + 60
        got = b""
        while time.time() < deadline:
            got = b"".join(open(f, "rb").read() for f in sorted(
                glob.glob(os.path.join(collected, "trail-*.log"))))
            if got == expected:
                break
            time.sleep(0.2)
        assert got == expected, "collected %d of %d bytes; collector log: %s; PC log: %s" % (
            len(got), len(expected), open(d + "/collector/stderr").read(),
            open(d + "/pc/stderr").read())
    finally:
        stop(ship)
        stop(col)
    try:
        cli = pc.cli_path()
        r = subprocess.run([cli, "fleet", "add", "--fleet", fleet, "--council", COUNCIL,
                            "--pc", name, "--key", pc.audit_key], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        r = subprocess.run([cli, "fleet", "verify", "--fleet", fleet, "--collected", srv],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "1 verified, 0 failed" in r.stdout, r.stdout + r.stderr
        r = subprocess.run([cli, "fleet", "status", "--fleet", fleet, "--format", "json"],
                           capture_output=True, text=True, timeout=60)
        status = json.loads(r.stdout)
        assert [(p["council"], p["pc"], p["state"]) for p in status] == \
            [(COUNCIL, name, "ok")] and status[0]["devices_blocked"] >= 1, r.stdout
    finally:
        shutil.rmtree(d)
