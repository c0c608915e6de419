"""The IT provider's guide, section 4, for real: the example rsyslog configurations
(docs/examples/rsyslog-pc.conf and rsyslog-collector.conf) ship a trail written by the staged
portcullisd from a "PC" rsyslogd to a "collector" rsyslogd over RELP with TLS on loopback,
and the collected copy is byte for byte the PC's and passes `portcullis audit verify`."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

from conftest import plain_env

SOURCE = os.environ.get("PCL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
EXAMPLES = os.path.join(SOURCE, "docs/examples")
COLLECTOR_NAME = "collector.example-it.co.uk"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def make_pki(d):
    """A CA of the IT provider, a certificate for the collector and one for the PC."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", d + "/ca-key.pem", "-out", d + "/ca.pem",
            "-days", "2", "-subj", "/CN=Example IT provider CA")
    for name, cn in (("collector", COLLECTOR_NAME), ("pc", "council-pc1")):
        openssl("req", *ec, "-keyout", "%s/%s-key.pem" % (d, name), "-out",
                "%s/%s.csr" % (d, name), "-subj", "/CN=" + cn)
        ext = "%s/%s.ext" % (d, name)
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\n" % cn)
        openssl("x509", "-req", "-in", "%s/%s.csr" % (d, name), "-CA", d + "/ca.pem",
                "-CAkey", d + "/ca-key.pem", "-CAcreateserial", "-days", "2", "-extfile", ext,
                "-out", "%s/%s-cert.pem" % (d, name))


def configure(example, work, replacements):
    with open(os.path.join(EXAMPLES, example)) as f:
        text = f.read()
    for old, new in replacements:
        assert old in text, "%s no longer contains %r" % (example, old)
        text = text.replace(old, new)
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "rsyslog.conf")
    with open(path, "w") as f:
        # What Debian's /etc/rsyslog.conf provides around the snippet.
        f.write('global(workDirectory="%s")\n' % work + text)
    return path


def rsyslogd(conf, work):
    return subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", work + "/rsyslogd.pid"],
                            env=plain_env(), stdout=subprocess.DEVNULL,
                            stderr=open(work + "/stderr", "w"))


def wait_listening(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the collector never listened on %s" % port)


def stop(p):
    if p.poll() is None:
        p.terminate()
        p.wait(timeout=20)


def test_the_guide_rsyslog_examples_ship_a_trail_that_verifies(pc):
    d = tempfile.mkdtemp(prefix="pcl-rsyslog-")
    make_pki(d)
    port = str(free_port())
    srv = os.path.join(d, "srv")
    collector = configure("rsyslog-collector.conf", d + "/collector", [
        ('port="2514"', 'port="%s"' % port),
        ("/etc/portcullis-collector/ca.pem", d + "/ca.pem"),
        ("/etc/portcullis-collector/cert.pem", d + "/collector-cert.pem"),
        ("/etc/portcullis-collector/key.pem", d + "/collector-key.pem"),
        ('constant(value="/srv/portcullis/")', 'constant(value="%s/")' % srv)])

    # A trail written by the real daemon: start, a blocked stick, stop.
    pc.start("allow with-interface match-all { 09:00:* }\n")
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r.get("event.action") == "device-blocked")
    pc.stop()
    trail = pc.conf["audit-log"]
    segments = sorted(glob.glob(trail + "/trail-*.jsonl"))
    assert segments

    shipper = configure("rsyslog-pc.conf", d + "/pc", [
        ("/var/log/portcullis/trail-*.jsonl", trail + "/trail-*.jsonl"),
        ('target="collector.example-it.co.uk" port="2514"', 'target="127.0.0.1" port="%s"' % port),
        ("/etc/portcullis/collector-ca.pem", d + "/ca.pem"),
        ("/etc/portcullis/pc-cert.pem", d + "/pc-cert.pem"),
        ("/etc/portcullis/pc-key.pem", d + "/pc-key.pem")])
    for conf in (collector, shipper):
        r = subprocess.run(["rsyslogd", "-N1", "-f", conf], capture_output=True, text=True,
                           env=plain_env(), timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr

    col = rsyslogd(collector, d + "/collector")
    wait_listening(port)  # see docs/it-provider-guide.md: omrelp's first connection
    ship = rsyslogd(shipper, d + "/pc")
    try:
        expected = {os.path.basename(s): open(s, "rb").read() for s in segments}
        deadline = time.time() + 60
        got = {}
        while time.time() < deadline:
            got = {os.path.basename(p): open(p, "rb").read()
                   for p in glob.glob(srv + "/*/trail-*.jsonl")}
            if got == expected:
                break
            time.sleep(0.2)
        assert got == expected, "collected %r; collector log: %s; PC log: %s" % (
            {k: len(v) for k, v in got.items()}, open(d + "/collector/stderr").read(),
            open(d + "/pc/stderr").read())
    finally:
        stop(ship)
        stop(col)
    try:
        verify_collected(pc, srv)
    finally:
        shutil.rmtree(d)


def verify_collected(pc, srv):
    collected = sorted(glob.glob(srv + "/*/trail-*.jsonl"))
    r = subprocess.run([pc.cli_path(), "audit", "verify", "--key", pc.audit_key] + collected,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 failures" in r.stdout
