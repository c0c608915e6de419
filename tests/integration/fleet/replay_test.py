#!/usr/bin/env python3
"""Power cuts seen by the IT provider: trails restored from their intent file, counted by
`portcullis fleet` through the staged CLI.

Three PCs of one council write real trails (fleet_writer, lib/audit). A power cut is made
as the trail's own test makes it: the segment is cut back to the start of the newest
entry of the trail's intent file (what the disk held when only that entry was synced), and
the next run of the writer reopens the trail, which puts the bytes back and writes an
`audit-intent-replayed` record. pc01 has no power cut, pc02 one, pc03 three (a failing disk
or someone cutting the power on purpose). The collected copies hold the trails as shipped.
`fleet verify` and `fleet status` must count the replays per PC (JSON, text and the
Prometheus counter `portcullis_fleet_trail_replays_total` with its HELP and TYPE), give the
last one's time, say in the text status "the trail was restored after a power cut" and flag
pc03's as a likely failing disk; a later replay is counted by the next run, and a damaged
status line is named and its PC's counts rebuilt. `fleet report`
(HTML and CSV) must say which PCs had replays in the period, how many, and when the last
was."""
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "audit"))
import power_cut_test as audit_intent  # noqa: E402  (its intent-file reader)
from power_cut_test import segments  # noqa: E402

prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
CLI = os.path.join(prefix, "bin", "portcullis")
WRITER = os.path.join(build, "tests", "integration", "fleet", "fleet_writer")


def fail(msg):
    sys.exit("fleet replay test: " + msg)


def run(*args, ok=(0,), env=None):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, **(env or {})))
    if r.returncode not in ok:
        fail("%s -> %d: %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def newest_intent(trail):
    """The newest whole entry of the trail's intent file: (month, offset)."""
    entry = audit_intent.newest_intent(trail)
    if entry is None:
        fail("%s: no entry in the intent file" % trail)
    return entry


def power_cut(trail, origin):
    """A decision durable only through the intent file, then the power cut: the segment
    loses what the newest intent entry holds; the writer starts again."""
    run(WRITER, trail, origin, "3", env={"FLEET_POWER_CUT": "1"})
    month, off = newest_intent(trail)
    seg = os.path.join(trail, "trail-%s.jsonl" % month)
    if os.path.getsize(seg) <= off:
        fail("%s: nothing after the newest intent entry to lose" % seg)
    os.truncate(seg, off)
    run(WRITER, trail, origin, "4")


def records(trail):
    return [json.loads(l) for s in segments(trail) for l in open(s, "rb").read().splitlines()]


def replays(trail):
    return [r for r in records(trail) if r.get("event.action") == "audit-intent-replayed"]


def ship(trail, col, pc):
    d = os.path.join(col, "ashford", pc)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "trail.log"), "wb") as f:
        for s in segments(trail):
            f.write(open(s, "rb").read())


def status(fleet, fmt):
    return run(CLI, "fleet", "status", "--fleet", fleet, "--format", fmt).stdout


def notes(text, pc):
    """The lines under the PC's row of the text status (indented deeper than the rows)."""
    lines, out = text.splitlines(), []
    for i, l in enumerate(lines):
        if l.split()[:1] == [pc]:
            for n in lines[i + 1:]:
                if not n.startswith("    "):
                    break
                out.append(n.strip())
    return out


def check_status(fleet, prom_file, want, last):
    st = {p["pc"]: p for p in json.loads(status(fleet, "json"))}
    got = {pc: st[pc].get("trail_replays") for pc in st}
    if got != want:
        fail("trail_replays %r, the trails hold %r" % (got, want))
    for pc in want:
        if st[pc]["last_trail_replay_time"] != last.get(pc) or \
                st[pc]["trail_replays_failing_disk"] != (want[pc] >= 3):
            fail("%s: last replay time %r (the trail says %r), failing disk %r" %
                 (pc, st[pc]["last_trail_replay_time"], last.get(pc),
                  st[pc]["trail_replays_failing_disk"]))
    for text in (open(prom_file).read(), status(fleet, "prometheus")):
        if "# HELP portcullis_fleet_trail_replays_total " not in text or \
                "# TYPE portcullis_fleet_trail_replays_total counter\n" not in text:
            fail("no HELP/TYPE for the replay counter:\n" + text)
        for pc, n in want.items():
            line = 'portcullis_fleet_trail_replays_total{council="ashford",pc="%s"} %d\n' % (pc, n)
            if line not in text:
                fail("no line %r in the metrics:\n%s" % (line, text))
    return st


def main():
    with tempfile.TemporaryDirectory(prefix="fleet-replay-") as tmp:
        fleet, col = os.path.join(tmp, "fleet"), os.path.join(tmp, "collected")
        cuts = {"pc01": 0, "pc02": 1, "pc03": 3}
        for pc, n in cuts.items():
            trail, key, origin = os.path.join(tmp, pc), os.path.join(tmp, pc + ".key"), \
                "ashford/" + pc
            run(WRITER, trail, origin, "10", key)
            for _ in range(n):
                power_cut(trail, origin)
            if len(replays(trail)) != n:
                fail("%s: %d power cuts made %d replay records" % (pc, n, len(replays(trail))))
            run(CLI, "audit", "verify", "--key", key, trail)
            ship(trail, col, pc)
            run(CLI, "fleet", "add", "--fleet", fleet, "--council", "ashford", "--pc", pc,
                "--key", key)
        prom = os.path.join(tmp, "fleet.prom")
        run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", col, "--textfile", prom)
        last = {pc: replays(os.path.join(tmp, pc))[-1]["@timestamp"]
                for pc in cuts if cuts[pc]}
        check_status(fleet, prom, cuts, last)
        text = status(fleet, "text")
        said = {pc: [l for l in notes(text, pc) if "power cut" in l] for pc in cuts}
        if said["pc01"] or not said["pc02"] or not said["pc03"]:
            fail("the text status does not say which PCs had power cuts:\n" + text)
        if "the trail was restored after a power cut 1 time, last at %s" % last["pc02"] \
                not in said["pc02"][0] or "failing disk" in said["pc02"][0]:
            fail("pc02's power cut in the text status: %r" % said["pc02"])
        if "3 times" not in said["pc03"][0] or "likely a failing disk" not in said["pc03"][0]:
            fail("pc03's three power cuts not flagged: %r" % said["pc03"])

        # Another power cut on pc02, shipped: the next run counts it.
        trail = os.path.join(tmp, "pc02")
        power_cut(trail, "ashford/pc02")
        ship(trail, col, "pc02")
        r = run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", col, "--textfile", prom)
        cuts["pc02"] = 2
        last["pc02"] = replays(trail)[-1]["@timestamp"]
        note = "NOTE ashford/pc02: the trail was restored after a power cut (1 new, last at %s)" \
            % last["pc02"]
        if note not in r.stdout or r.stdout.count("power cut") != 1:
            fail("fleet verify does not note the new power cut once: " + r.stdout)
        check_status(fleet, prom, cuts, last)

        # A damaged replays-at line in a status file (it is not synced): named with its line,
        # and that PC's counts are rebuilt from its whole copy.
        spath = os.path.join(fleet, "ashford", "pc03", "status")
        lines = open(spath).read().splitlines()
        at = [i for i, l in enumerate(lines) if l.startswith("replays-at=")]
        if len(at) != 1 or len(lines[at[0]].split("=")[1].split()) != 3:
            fail("pc03's status keeps no replays-at line of three times: %r" % lines)
        lines[at[0]] = "replays-at=1 x 3"
        open(spath, "w").write("\n".join(lines) + "\n")
        r = run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", col, "--textfile", prom)
        if "pc03/status:%d: replays-at: not 3 unix times" % (at[0] + 1) not in r.stderr:
            fail("a damaged replays-at line not named: " + r.stderr)
        check_status(fleet, prom, cuts, last)

        base = [CLI, "fleet", "report", "--fleet", fleet, "--collected", col, "--council",
                "ashford", "--from", "2000-01-01", "--to", "2999-12-31"]
        html = run(*base, "--format", "html").stdout
        m = re.search(r"<h2>Power cuts</h2>(.*?)(<h2>|$)", html, re.S)
        if m is None:
            fail("the report has no section on power cuts")
        part = m.group(1)
        def row(pc, n):  # the last time as a reader writes it, to the second
            return "%s</td><td>%d</td><td>%s %s UTC</td>" % (pc, n, last[pc][:10],
                                                             last[pc][11:19])
        if "pc01" in part or row("pc02", 2) + "<td>a power cut" not in part or \
                row("pc03", 3) + '<td class="bad">likely a failing disk' not in part:
            fail("the report's power cuts: " + part)
        if "restored after a power cut" not in part or "failing disk" not in part:
            fail("the report does not explain the power cuts: " + part)
        rows = list(csv.reader(io.StringIO(run(*base, "--format", "csv").stdout)))
        got = {pc: int(v) for sec, pc, item, v in rows[1:] if item == "trail_replays"}
        if got != cuts:
            fail("CSV trail_replays %r, the trails hold %r" % (got, cuts))
        got = {pc: v for sec, pc, item, v in rows[1:] if item == "last_trail_replay"}
        if got != dict(last, pc01=""):
            fail("CSV last_trail_replay %r, the trails say %r" % (got, last))
        # A period before any power cut: none reported.
        html = run(*base[:-4], "--from", "2000-01-01", "--to", "2000-01-02",
                   "--format", "html").stdout
        if "<h2>Power cuts</h2>" in html and "No PC" not in html:
            fail("power cuts reported outside the period")
        print("fleet replay test: passed (replays %r)" % cuts)


if __name__ == "__main__":
    main()
