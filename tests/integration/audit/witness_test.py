#!/usr/bin/env python3
"""`portcullis audit witness` against real trails (the test writer): four PCs are
collected and witnessed; then one PC's trail is cut, one is given a purge by a writer
whose clock was set eight months ahead (all keys held, so the trail itself verifies), one
is rolled back to an older copy of its trail and state and writes on; each is reported by
name and seq, the honest PC stays clean, and a silent PC is reported stale.
Runs against the staged install (PCL_PREFIX) and the test writer in PCL_BUILD_DIR."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

prefix, build = os.environ["PCL_PREFIX"], os.environ["PCL_BUILD_DIR"]
cli = os.path.join(prefix, "bin", "portcullis")
writer = os.path.join(build, "tests", "integration", "audit", "audit_testwriter")
failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
        if detail:
            print(detail)


with tempfile.TemporaryDirectory(prefix="audit-witness-") as tmp:
    pcs, coll, keys, wit = (os.path.join(tmp, d) for d in ("pcs", "coll", "keys", "wit"))
    for d in (pcs, keys, wit):
        os.mkdir(d)
    names = ("honest", "cut", "forger", "rollback")

    def write(name, count, **extra):
        env = dict(os.environ, AUDIT_TW_QUIET="1", AUDIT_TW_ORIGIN="portcullis/" + name,
                   AUDIT_TW_KEY=os.path.join(keys, name + ".key"),
                   AUDIT_TW_BOOT_ID="6f1c2a4e-0000-4000-8000-00000000000%d" % names.index(name))
        env.update(extra)
        subprocess.run([writer, os.path.join(pcs, name), str(count), "5"], env=env,
                       check=True, stdout=subprocess.DEVNULL)

    def collect():
        """What reaches the provider: each PC's trail files as they are now."""
        shutil.rmtree(coll, ignore_errors=True)
        for name in names:
            os.makedirs(os.path.join(coll, name))
            for seg in glob.glob(os.path.join(pcs, name, "trail-*.jsonl")):
                shutil.copy(seg, os.path.join(coll, name))

    def witness(*args, now=None):
        cmd = [cli, "audit", "witness", "--dir", wit, "--keys", keys]
        if now:
            cmd += ["--now", str(now)]
        return subprocess.run(cmd + list(args), capture_output=True, text=True)

    for name in names:
        write(name, 20)
    shutil.copytree(os.path.join(pcs, "rollback"), os.path.join(tmp, "rollback-old"))
    for name in names:
        write(name, 10)
    collect()
    r = witness(*(os.path.join(coll, n) for n in names))
    check(r.returncode == 0 and r.stdout.count("\nOK ") + r.stdout.startswith("OK ") == 4,
          "first witness run: four PCs clean, checkpoints held", r.stdout)
    r = witness(*(os.path.join(coll, n) for n in names))
    check(r.returncode == 0, "a second run over the same trails is clean", r.stdout)
    held = {n: open(os.path.join(wit, n + ".witness")).read() for n in names}
    check(all(h.startswith("portcullis-witness 1\nseen ") for h in held.values()),
          "one witness file per PC")

    # The attacks, each by root on its PC.
    seg = glob.glob(os.path.join(pcs, "cut", "trail-*.jsonl"))[0]
    lines = open(seg).read().splitlines(True)
    open(seg, "w").write("".join(lines[:22]))
    write("forger", 1, AUDIT_TW_NOW=str(int(time.time()) + 8 * 31 * 86400), AUDIT_TW_TICK="1",
          AUDIT_TW_BOOT_ID="6f1c2a4e-0000-4000-8000-0000000000ff")
    shutil.rmtree(os.path.join(pcs, "rollback"))
    shutil.copytree(os.path.join(tmp, "rollback-old"), os.path.join(pcs, "rollback"))
    write("rollback", 15)
    write("honest", 5)
    collect()

    forged = glob.glob(os.path.join(coll, "forger", "trail-*.jsonl"))
    r = subprocess.run([cli, "audit", "verify", "--key", os.path.join(keys, "forger.key")]
                       + forged, capture_output=True, text=True)
    check(r.returncode == 0 and ", 1 purges," in r.stdout,
          "the forged purge passes verify on its own (the keys were held)", r.stdout)

    r = witness(*(os.path.join(coll, n) for n in names))
    out = r.stdout
    check(r.returncode == 1, "second witness run fails", out)
    check("FAIL cut seq 35: truncated or rolled back: the trail ends at seq 22, before the "
          "checkpoint at seq 35 the witness holds" in out, "truncated PC reported by seq", out)
    check("FAIL forger seq 39: purge erases records up to seq 36, but the witness saw the "
          "checkpoint at seq 35 on" in out, "forged purge reported by seq", out)
    check("FAIL rollback seq 35 (" in out and "head does not match the trail" in out,
          "rolled-back PC reported at the held seq", out)
    check("OK honest: checkpoint seq 41 " in out and "FAIL honest" not in out,
          "honest PC clean and advanced", out)
    for n in ("cut", "forger", "rollback"):
        check("FAILED %s:" % n in out and
              open(os.path.join(wit, n + ".witness")).read() == held[n],
              "witness file of %s kept as it was" % n)

    # The same purge seen nine months on erases nothing the witness saw recently.
    r = witness(os.path.join(coll, "forger"), now=int(time.time()) + 9 * 31 * 86400)
    check(r.returncode == 0 and "OK forger: checkpoint seq " in r.stdout,
          "a purge of what the witness saw longer ago than the retention is accepted",
          r.stdout)

    later = int(time.time()) + 2 * 3600
    r = witness(os.path.join(coll, "honest"), now=later)
    check(r.returncode == 3 and "STALE honest: no new checkpoint since seq 41" in r.stdout,
          "a PC silent for longer than interval + margin is stale", r.stdout)

    wf = os.path.join(wit, "honest.witness")
    text = open(wf).read()
    open(wf, "w").write(text.replace("checked ", "checked x", 1))
    r = witness(os.path.join(coll, "honest"))
    check(r.returncode == 1 and "FAIL honest: witness file %s:3: field checked" % wf in r.stdout,
          "an edited witness file is refused with its line", r.stdout)
    r = subprocess.run([cli, "audit", "witness", os.path.join(coll, "honest")],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "audit witness --dir WITNESS_DIR" in r.stderr, "usage")

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
