#!/usr/bin/python3
"""check_man.py - `mandoc -T lint` is clean for every page in docs/man. The only message
let through is STYLE "referenced manual not found" for a page outside the project (mandoc
only searches the system manpath); a reference to a project page must name a page that
exists in docs/man. Input: our own pages and mandoc's output (trusted).

usage: check_man.py MAN_DIR [PAGE...]   (default: every NAME.[1-8] in MAN_DIR)
"""
import glob
import os
import re
import subprocess
import sys

XR = re.compile(r'STYLE: referenced manual not found: Xr (\S+) (\S+)')
# mandoc's note about the system's own database, for a page it found on disk instead.
OUTDATED_DB = re.compile(r'mandoc: outdated mandoc.db lacks (\S+)\((\S+)\) entry')


def lint(man_dir, pages):
    project = {os.path.basename(p) for p in glob.glob(os.path.join(man_dir, '*.[1-8]'))}
    errors, tolerated = [], []
    for page in pages:
        r = subprocess.run(['mandoc', '-T', 'lint', '-W', 'all', page],
                           capture_output=True, text=True)
        for line in (r.stdout + r.stderr).splitlines():
            m = XR.search(line) or OUTDATED_DB.search(line)
            if m is None:
                errors.append(line)
                continue
            name, sec = m.group(1), m.group(2)
            if f"{name}.{sec}" in project:
                continue  # resolved inside the project
            if name.startswith('portcullis'):
                errors.append(f"{line} (no docs/man/{name}.{sec})")
            else:
                tolerated.append(line)
        if r.returncode not in (0, 1) or (r.returncode == 1 and not r.stdout + r.stderr):
            errors.append(f"{page}: mandoc exited {r.returncode}")
    return errors, tolerated


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    man_dir = argv[1]
    pages = argv[2:] or sorted(glob.glob(os.path.join(man_dir, '*.[1-8]')))
    if not pages:
        print(f"check_man: no pages in {man_dir}")
        return 1
    errors, tolerated = lint(man_dir, pages)
    for t in tolerated:
        print(f"tolerated (outside the project): {t}")
    for e in errors:
        print(e)
    print(f"check_man: {len(pages)} pages, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
