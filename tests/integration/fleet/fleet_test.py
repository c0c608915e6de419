#!/usr/bin/env python3
"""The IT provider's fleet on one machine, through the installed (staged) pieces.

51 simulated council PCs of 3 councils (the same PC names, pc01..pc17, at every council),
one collector rsyslogd with one RELP-over-TLS listener per council, rendered by
`portcullis-fleet-enrol council` from the shipped templates. Every PC has its own trail
written by fleet_writer (lib/audit, as the daemon writes it), its own key and client
certificate from `portcullis-fleet-enrol pc`, and its own rsyslog configuration from
`portcullis-fleet-enrol install-pc`. Six PCs (two per council) each run their own
rsyslogd with that file as written; the other 45 run the same rendered pipelines (imfile
input, RFC 5424 template, omrelp with the PC's certificate and its own disk-assisted
queue) side by side in one shared rsyslogd, so that 51 PCs fit on two cores.

Shown: the collector killed (SIGKILL) while PCs ship and restarted: no record lost and
`portcullis fleet verify` verifies every PC; a PC certificate of another council and one
of no council are refused (nothing of theirs is filed anywhere); a PC of the council
declaring a name no PC enrolled is reported by fleet verify; a PC that stops sending
is reported silent; a PC whose trail was cut back and rewritten is reported with the seq
the collector's witness saw replaced; fleet status counts match the trails.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../audit"))
from rsyslogd import RSYSLOGD, Rsyslog, free_port, wait_listening  # noqa: E402

prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
CLI = os.path.join(prefix, "bin", "portcullis")
ENROL = os.path.join(prefix, "bin", "portcullis-fleet-enrol")
TEMPLATES = os.path.join(prefix, "share", "portcullis", "rsyslog")
WRITER = os.path.join(build, "tests", "integration", "fleet", "fleet_writer")
COUNCILS = ["ashford", "brent", "croft"]
PER_COUNCIL = int(os.environ.get("FLEET_PCS_PER_COUNCIL", "17"))
REAL = {"pc01", "pc02"}  # per council: their own rsyslogd
SILENT = ("croft", "pc17")
ROLLED_BACK = ("brent", "pc01")
COLLECTOR_NAME = "collector.fleet.test"
PHASE1, PHASE2 = 60, 40  # records per PC before and during the collector's absence
ENV = dict(os.environ, PCL_RSYSLOG_TEMPLATES=TEMPLATES, PCL_CERT_DAYS="2")


def fail(msg):
    sys.exit("fleet test: " + msg)


def run(*args, env=ENV, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=120)
    if check and r.returncode != 0:
        fail("%s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


class PC:
    def __init__(self, tmp, council, name):
        self.council, self.name = council, name
        self.dir = os.path.join(tmp, "pcs", council, name)
        self.trail = os.path.join(self.dir, "trail")
        self.work = os.path.join(self.dir, "work")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.rsyslog = None
        os.makedirs(self.work)

    def write(self, n, key=None):
        args = [WRITER, self.trail, "%s/%s" % (self.council, self.name), str(n)]
        return subprocess.Popen(args + ([key] if key else []))

    def lines(self):
        out = set()
        for f in glob.glob(self.trail + "/trail-*.jsonl"):
            out |= set(open(f, "rb").read().splitlines())
        return out


def collected_lines(out, council, name):
    out_lines = set()  # rsyslog files the copy by month: trail-YYYY-MM.log
    for f in glob.glob(os.path.join(out, council, name, "trail-*.log")):
        out_lines |= set(open(f, "rb").read().splitlines())
    return out_lines


def install(pc, bundle, port):
    env = dict(ENV, PCL_TLS_DIR=os.path.join(pc.dir, "tls"), PCL_RSYSLOG_CONF=pc.conf,
               PCL_TRAIL_DIR=pc.trail, PCL_RSYSLOG_WORK=pc.work,
               PCL_DAEMON_CONF=os.path.join(pc.dir, "portcullisd.conf"))
    run(ENROL, "install-pc", bundle, "127.0.0.1", str(port), COLLECTOR_NAME, env=env)
    # the trail was enrolled as portcullis/<council>/<pc>: the daemon is told to sign so
    want = "audit-origin = %s/%s\n" % (pc.council, pc.name)
    if open(env["PCL_DAEMON_CONF"]).read() != want:
        fail("install-pc did not set %r in portcullisd.conf" % want)


def shared_conf(pcs, work):
    """The rendered per-PC pipelines of many PCs in one rsyslogd: global and module lines
    once, every name made unique per PC; the actions' parameters stay as rendered."""
    text = ['global(workDirectory="%s" maxMessageSize="64k")' % work,
            'module(load="imfile" mode="inotify")', 'module(load="mmjsonparse")',
            'module(load="omrelp")']
    for pc in pcs:
        conf = open(pc.conf).read()
        conf = re.sub(r"^(global|module)\(.*\)\s*$", "", conf, flags=re.M)
        tag = "%s-%s" % (pc.council, pc.name)
        for old in ("PortcullisAuditRFC5424", "portcullis-audit\""):
            conf = conf.replace(old, old.rstrip('"') + "-" + tag + ('"' if old.endswith('"') else ""))
        text.append(conf)
    return "\n".join(text) + "\n"


def main():
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="fleet-test-") as tmp:
        ca, out, fleet = (os.path.join(tmp, d) for d in ("ca", "collected", "fleet"))
        run(ENROL, "ca", ca)
        run(ENROL, "collector", ca, COLLECTOR_NAME)
        ports = {c: free_port() for c in COUNCILS}
        col_conf = open(os.path.join(TEMPLATES, "portcullis-audit-collector.conf")).read()
        os.makedirs(os.path.join(tmp, "col-work"))
        col_conf = col_conf.replace("@WORK_DIR@", os.path.join(tmp, "col-work"))
        for c in COUNCILS:
            col_conf += run(ENROL, "council", ca, c, str(ports[c]), out, "127.0.0.1").stdout
        open(os.path.join(tmp, "collector.conf"), "w").write(col_conf)
        run(RSYSLOGD, "-N1", "-f", os.path.join(tmp, "collector.conf"))

        print("PKI and collector configured (%.0f s)" % (time.time() - t0))
        def enrol(c, i):
            pc = PC(tmp, c, "pc%02d" % i)
            bundle = os.path.join(pc.dir, "bundle")
            run(ENROL, "pc", ca, c, pc.name, bundle)
            key = os.path.join(pc.dir, "trail.key")
            if pc.write(0, key).wait() != 0:
                fail("enrolment of %s/%s" % (c, pc.name))
            run(CLI, "fleet", "add", "--fleet", fleet, "--council", c, "--pc", pc.name,
                "--key", key)
            install(pc, bundle, ports[c])
            return pc
        with ThreadPoolExecutor(max_workers=4) as ex:
            pcs = list(ex.map(lambda ci: enrol(*ci), [(c, i) for c in COUNCILS
                                                      for i in range(1, PER_COUNCIL + 1)]))
        # Intruders, both aimed at ashford: a brent PC's certificate, and a certificate
        # from the same CA that names no council.
        cross = PC(tmp, "brent", "pc99")
        run(ENROL, "pc", ca, "brent", "pc99", os.path.join(cross.dir, "bundle"))
        cross.write(0, os.path.join(cross.dir, "trail.key")).wait()
        install(cross, os.path.join(cross.dir, "bundle"), ports["ashford"])
        rogue = PC(tmp, "ashford", "rogue")
        rb = os.path.join(rogue.dir, "bundle")
        run(ENROL, "pc", ca, "ashford", "rogue", rb)
        ext = os.path.join(rogue.dir, "ext")
        open(ext, "w").write("subjectAltName=DNS:rogue.portcullis\n")
        run("openssl", "req", "-new", "-key", rb + "/pc-key.pem", "-out", rb + "/r.csr",
            "-subj", "/CN=rogue.portcullis")
        run("openssl", "x509", "-req", "-in", rb + "/r.csr", "-CA", ca + "/ca.pem", "-CAkey",
            ca + "/ca-key.pem", "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
            rb + "/pc-cert.pem")
        rogue.write(0, os.path.join(rogue.dir, "trail.key")).wait()
        install(rogue, rb, ports["ashford"])
        # A PC of ashford with its own valid certificate declaring a name no PC enrolled:
        # admitted by the council's listener, reported by fleet verify.
        squat = PC(tmp, "ashford", "ghost")
        sb = os.path.join(squat.dir, "bundle")
        shutil.copytree(os.path.join(tmp, "pcs", "ashford", "pc16", "bundle"), sb)
        open(os.path.join(sb, "enrolment"), "w").write("council=ashford\npc=ghost\n")
        squat.write(0, os.path.join(squat.dir, "trail.key")).wait()
        install(squat, sb, ports["ashford"])
        intruders = [cross, rogue, squat]

        print("51 PCs enrolled (%.0f s)" % (time.time() - t0))
        real = [p for p in pcs if p.name in REAL]
        light = [p for p in pcs if p.name not in REAL] + intruders
        shared_work = os.path.join(tmp, "shared-work")
        os.makedirs(shared_work)
        open(os.path.join(tmp, "shared.conf"), "w").write(shared_conf(light, shared_work))
        run(RSYSLOGD, "-N1", "-f", os.path.join(tmp, "shared.conf"))
        for pc in real:
            run(RSYSLOGD, "-N1", "-f", pc.conf)
            pc.rsyslog = Rsyslog("pc-%s-%s" % (pc.council, pc.name), pc.conf, tmp)
        shared = Rsyslog("shared", os.path.join(tmp, "shared.conf"), tmp)
        col = Rsyslog("collector", os.path.join(tmp, "collector.conf"), tmp)
        senders = [pc.rsyslog for pc in real] + [shared]
        try:
            col.start()
            for c in COUNCILS:
                wait_listening(ports[c], timeout=30)
            for s in senders:
                s.start()
            # The PC that falls silent after phase 1 and the squatter ship their records
            # first and have them collected before the kill: the kill and the spool are
            # shown by the 50 others, each writing again afterwards. (An idle PC's spool
            # left over from a killed collector is not what this test measures.)
            idle = [pc for pc in pcs if (pc.council, pc.name) == SILENT] + [squat]
            if any(w.wait(timeout=120) != 0 for w in [pc.write(PHASE1) for pc in idle]):
                fail("a writer failed")
            wait_all(idle, out, 300)
            # Phase 1: every other PC writes; the collector is killed while they ship.
            writers = [pc.write(PHASE1) for pc in pcs + intruders if pc not in idle]
            expected = PHASE1 * len(pcs)
            early = sum(len(collected_lines(out, p.council, p.name)) for p in idle if p in pcs)
            deadline = time.time() + 120
            while time.time() < deadline:
                have = sum(len(collected_lines(out, p.council, p.name)) for p in pcs)
                if have - early >= (expected - early) // 10:  # the others mid-stream
                    break
                time.sleep(0.05)
            col.stop(signal.SIGKILL)
            at_kill = have
            if any(w.wait(timeout=120) != 0 for w in writers):
                fail("a writer failed")
            rolled = next(p for p in pcs if (p.council, p.name) == ROLLED_BACK)
            snapshot = os.path.join(tmp, "snapshot")
            shutil.copytree(rolled.trail, snapshot)
            first_rewritten = 1 + max(json.loads(l)["seq"] for l in rolled.lines())
            # Phase 2, collector down: the PCs spool.
            writers = [pc.write(PHASE2) for pc in pcs if (pc.council, pc.name) != SILENT]
            if any(w.wait(timeout=120) != 0 for w in writers):
                fail("a writer failed")
            col.start()
            wait_all(pcs + [squat], out, 300)
            total = sum(len(p.lines()) for p in pcs)
            print("phase 1+2 (%.0f s): %d records written by %d PCs, %d collected when the "
                  "collector was killed" % (time.time() - t0, total, len(pcs), at_kill))
            if at_kill >= PHASE1 * len(pcs):
                fail("the collector was not killed mid-stream")
            for pc in pcs:
                lost = pc.lines() - collected_lines(out, pc.council, pc.name)
                if lost:
                    fail("%s/%s: %d records lost" % (pc.council, pc.name, len(lost)))
            r = run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", out, check=False)
            print(r.stdout.strip().splitlines()[-1])
            if r.returncode != 1 or "%d PCs, %d verified, 0 failed" % (len(pcs), len(pcs)) \
                    not in r.stdout or not re.search(
                        r"^FAIL ashford/ghost: records collected for no enrolled PC", r.stdout,
                        re.M) or r.stdout.count("FAIL") != 1:
                fail("fleet verify after the restart:\n" + r.stdout + r.stderr)
            for c in COUNCILS:
                got = sorted(os.listdir(os.path.join(out, c)))
                want = sorted([p.name for p in pcs if p.council == c] +
                              (["ghost"] if c == "ashford" else []))
                if got != want:
                    fail("council %s holds %s, expected %s (intruder filed?)" % (c, got, want))

            # Phase 3 after a pause the silent PC does not end: one PC's trail is cut back to
            # its state after phase 1 and rewritten (and its rsyslog state reset, so the
            # rewritten history is shipped).
            time.sleep(8)
            rolled.rsyslog.stop()
            shutil.rmtree(rolled.trail)
            shutil.copytree(snapshot, rolled.trail)
            shutil.rmtree(rolled.work)
            os.makedirs(rolled.work)
            rolled.rsyslog.start()
            writers = [pc.write(5) for pc in pcs if (pc.council, pc.name) != SILENT]
            if any(w.wait(timeout=120) != 0 for w in writers):
                fail("a writer failed")
            wait_all(pcs, out, 300)
            print("phase 3 collected (%.0f s)" % (time.time() - t0))
        finally:
            for s in senders:
                s.stop()
            col.stop()
        r = run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", out, check=False)
        print(r.stdout.strip())
        if "%d PCs, %d verified, 1 failed" % (len(pcs), len(pcs) - 1) not in r.stdout or \
                "FAIL ashford/ghost" not in r.stdout or \
                not re.search(r"^FAIL brent/pc01 seq %d: out of order or replaced" %
                              first_rewritten, r.stdout, re.M):
            fail("the rolled-back PC was not reported by seq, or others failed")
        js = json.loads(run(CLI, "fleet", "status", "--fleet", fleet, "--format", "json").stdout)
        last = {(p["council"], p["pc"]): p for p in js}
        active = [p for k, p in last.items() if k not in (SILENT, ROLLED_BACK)]
        at = min(int(time.mktime(time.strptime(p["last_record_time"][:19], "%Y-%m-%dT%H:%M:%S")))
                 - time.timezone for p in active)
        js = json.loads(run(CLI, "fleet", "status", "--fleet", fleet, "--format", "json",
                            "--silent-after", "6", "--at", str(at)).stdout)
        states = {(p["council"], p["pc"]): p["state"] for p in js}
        print("states: %s" % sorted(set(states.values())))
        if states[SILENT] != "SILENT" or states[ROLLED_BACK] != "FAILED" or \
                any(s != "ok" for k, s in states.items() if k not in (SILENT, ROLLED_BACK)):
            fail("status: %r" % states)
        check_counts(pcs, {(p["council"], p["pc"]): p for p in js})
        prom = run(CLI, "fleet", "status", "--fleet", fleet, "--format", "prometheus").stdout
        if 'portcullis_fleet_verify_ok{council="brent",pc="pc01"} 0' not in prom or \
                'portcullis_fleet_verify_ok{council="ashford",pc="pc01"} 1' not in prom:
            fail("prometheus metrics do not show the failure")
        for pc in pcs:
            if (pc.council, pc.name) == ROLLED_BACK:
                continue
            key = os.path.join(pc.dir, "trail.key")
            r = run(CLI, "audit", "verify", "--collected", "--key", key,
                    os.path.join(out, pc.council, pc.name), check=False)
            if r.returncode != 0:
                fail("%s/%s: full verification: %s" % (pc.council, pc.name, r.stdout[-500:]))
        print("fleet test: passed in %.0f s" % (time.time() - t0))


def wait_all(pcs, out, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(pc.lines() <= collected_lines(out, pc.council, pc.name) for pc in pcs):
            return
        time.sleep(0.5)
    late = [f"{p.council}/{p.name}" for p in pcs
            if not p.lines() <= collected_lines(out, p.council, p.name)]
    fail("not collected in %d s: %s" % (timeout, late[:10]))


def check_counts(pcs, status):
    for pc in pcs:
        if (pc.council, pc.name) == ROLLED_BACK:
            continue
        acts = [json.loads(l).get("event.action") for l in pc.lines()]
        want = {"exceptions": acts.count("exception-approved"),
                "devices_blocked": acts.count("device-blocked"),
                "wipes_done": acts.count("wipe-done"),
                "refusals": acts.count("exception-refused"),
                # A take-out's wipe-owed is the council's (fleet owed), not the PC's.
                "wipes_owed": max(acts.count("wipe-requested") - acts.count("wipe-done"), 0)}
        got = {k: status[(pc.council, pc.name)][k] for k in want}
        if got != want:
            fail("%s/%s: status counts %r, trail has %r" % (pc.council, pc.name, got, want))


if __name__ == "__main__":
    main()
