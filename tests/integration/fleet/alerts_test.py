#!/usr/bin/env python3
"""The fleet's metrics and alert rules through the installed pieces: the shipped rules
pass `promtool check rules` and their promtool unit tests (alerts.test.yml); a real
`portcullis fleet verify --textfile` over a one-PC fleet writes a file `promtool check
metrics` accepts and that holds every metric the rules use, for that PC."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
CLI = os.path.join(prefix, "bin", "portcullis")
RULES = os.path.join(prefix, "share", "portcullis", "monitoring", "portcullis-fleet-alerts.yml")
WRITER = os.path.join(build, "tests", "integration", "fleet", "fleet_writer")
HERE = os.path.dirname(os.path.abspath(__file__))


def run(*args, stdin=None):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60, input=stdin)
    if r.returncode != 0:
        sys.exit("%s failed: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r.stdout


def main():
    with tempfile.TemporaryDirectory(prefix="fleet-alerts-") as tmp:
        shutil.copy(RULES, tmp)
        shutil.copy(os.path.join(HERE, "alerts.test.yml"), tmp)
        run("promtool", "check", "rules", os.path.join(tmp, "portcullis-fleet-alerts.yml"))
        print(run("promtool", "test", "rules", os.path.join(tmp, "alerts.test.yml")).strip())

        trail, fleet, out = (os.path.join(tmp, d) for d in ("trail", "fleet", "collected"))
        key = os.path.join(tmp, "key")
        run(WRITER, trail, "ashford/pc01", "20", key)
        os.makedirs(os.path.join(out, "ashford", "pc01"))
        with open(os.path.join(out, "ashford", "pc01", "trail.log"), "wb") as f:
            for seg in sorted(os.listdir(trail)):
                if seg.startswith("trail-"):
                    f.write(open(os.path.join(trail, seg), "rb").read())
        run(CLI, "fleet", "add", "--fleet", fleet, "--council", "ashford", "--pc", "pc01",
            "--key", key)
        prom = os.path.join(tmp, "fleet.prom")
        run(CLI, "fleet", "verify", "--fleet", fleet, "--collected", out, "--textfile", prom)
        text = open(prom).read()
        run("promtool", "check", "metrics", stdin=text)
        used = set(re.findall(r"portcullis_fleet_[a-z_]+", open(RULES).read()))
        for m in sorted(used):
            pat = r"^%s(\{[^}]*\})? " % m
            if not re.search(pat, text, re.M):
                sys.exit("metric %s used by the alert rules is not written" % m)
        if 'portcullis_fleet_verify_ok{council="ashford",pc="pc01"} 1' not in text:
            sys.exit("the verified PC is not reported as verified:\n" + text)
        print("fleet alerts test: passed (%d metrics used by the rules)" % len(used))


if __name__ == "__main__":
    main()
