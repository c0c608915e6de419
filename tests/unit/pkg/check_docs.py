#!/usr/bin/python3
"""check_docs.py - every configuration key (conf_keys[] in lib/conf/conf.c) is documented
in portcullisd.conf(5) and every CLI subcommand (commands[] in tools/portcullis.c) in
portcullis(1), and the pages document nothing that does not exist. Reads the C sources and
the mdoc pages of the tree it is given (trusted: our own files, but a table it cannot find
is an error, never a pass).

usage: check_docs.py SOURCE_DIR            check the tree
       check_docs.py --self-test SOURCE_DIR  prove the check fails when a name is missing
"""
import re
import sys

STRING_ROW = re.compile(r'^\s*\{\s*"([^"\\]+)"\s*,', re.M)
IT_CM = re.compile(r'^\.It Cm ([A-Za-z0-9_-]+)', re.M)


def c_table(text, name, path):
    """First string of each row of `... name[] = { ... };`, with its line number."""
    m = re.search(r'\b' + re.escape(name) + r'\s*\[\s*\]\s*=\s*\{', text)
    if not m:
        raise ValueError(f"{path}: table {name}[] not found")
    end = text.find('\n};', m.end())
    if end < 0:
        raise ValueError(f"{path}: end of table {name}[] not found")
    rows = []
    for r in STRING_ROW.finditer(text, m.end(), end):
        rows.append((r.group(1), text.count('\n', 0, r.start()) + 1))
    if not rows:
        raise ValueError(f"{path}: table {name}[] has no rows")
    return rows


def documented(page_text):
    """Names of the `.It Cm NAME` items of an mdoc page."""
    return set(IT_CM.findall(page_text))


def check(c_path, c_text, table, page_path, page_text, what):
    errors = []
    rows = c_table(c_text, table, c_path)
    names = {n for n, _ in rows}
    docs = documented(page_text)
    for n, line in rows:
        if n not in docs:
            errors.append(f"{page_path}: {what} '{n}' ({c_path}:{line}) is not documented "
                          f"(expected a '.It Cm {n}' item)")
    for n in sorted(docs - names):
        errors.append(f"{page_path}: documents {what} '{n}', which is not in {table}[] "
                      f"of {c_path}")
    return errors


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def pairs(src):
    return [(f"{src}/lib/conf/conf.c", "conf_keys", f"{src}/docs/man/portcullisd.conf.5",
             "configuration key"),
            (f"{src}/tools/portcullis.c", "commands", f"{src}/docs/man/portcullis.1",
             "subcommand")]


def run(src):
    errors = []
    for c_path, table, page, what in pairs(src):
        errors += check(c_path, read(c_path), table, page, read(page), what)
    return errors


def self_test(src):
    """Drop each documented name from its page, and add a name to each table: each change
    must be reported, naming it."""
    failures = 0
    for c_path, table, page, what in pairs(src):
        c_text, p_text = read(c_path), read(page)
        for name, _ in c_table(c_text, table, c_path):
            cut = re.sub(r'^\.It Cm ' + re.escape(name) + r'\b.*$', '.It Cm', p_text,
                         flags=re.M)
            errs = check(c_path, c_text, table, page, cut, what)
            if not any(f"'{name}'" in e and "not documented" in e for e in errs):
                print(f"self-test: removing '{name}' from {page} went unnoticed")
                failures += 1
        m = re.search(r'\b' + table + r'\s*\[\s*\]\s*=\s*\{\n', c_text)
        grown = c_text[:m.end()] + '    {"zz-undocumented", "x"},\n' + c_text[m.end():]
        errs = check(c_path, grown, table, page, p_text, what)
        if not any("'zz-undocumented'" in e for e in errs):
            print(f"self-test: a new entry in {table}[] went unnoticed")
            failures += 1
        extra = p_text + '\n.It Cm zz-stale\n'
        if not any("'zz-stale'" in e for e in check(c_path, c_text, table, page, extra, what)):
            print(f"self-test: a stale item in {page} went unnoticed")
            failures += 1
    try:
        c_table("int x;", "conf_keys", "empty.c")
        print("self-test: a missing table was not an error")
        failures += 1
    except ValueError:
        pass
    print(f"self-test: {failures} failures")
    return 1 if failures else 0


def main(argv):
    if len(argv) == 3 and argv[1] == '--self-test':
        return self_test(argv[2])
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        errors = run(argv[1])
    except (OSError, ValueError) as e:
        print(f"check_docs: {e}")
        return 1
    for e in errors:
        print(e)
    if not errors:
        for c_path, table, page, what in pairs(argv[1]):
            n = len(c_table(read(c_path), table, c_path))
            print(f"{page}: all {n} entries of {table}[] documented")
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
