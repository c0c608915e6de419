"""Helpers for the tests of the control socket from an ordinary local user's side: a
client process running as a uid that is neither root nor the engine's, with only the
groups given (no inherited root group), and a look at the trail's size and key epoch."""
import glob
import grp
import json
import os
import socket
import subprocess

USER = 4242  # an ordinary local user: not root, not the engine user (nobody)
OTHER = 4243


def run_as(uid, fn, groups=()):
    """Run fn() in a child process as uid (gid = uid, supplementary groups exactly
    `groups`); return its JSON-able result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            os.setgroups(list(groups))
            os.setgid(uid)
            os.setuid(uid)
            os.write(w, json.dumps(fn()).encode())
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            os.write(w, json.dumps({"exception": repr(e)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def ask(path, obj, timeout=10):
    """One request on the control socket; the answer, or None when closed unanswered."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(json.dumps(obj).encode() + b"\n")
    line = s.makefile("rb").readline()
    s.close()
    return json.loads(line) if line else None


def ask_as(pc, uid, obj, groups=()):
    path = pc.conf["control-socket"]
    return run_as(uid, lambda: ask(path, obj), groups)


def group(name):
    """A group of this name (created once, kept: groups are cheap and tests reuse it)."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        subprocess.run(["groupadd", "--system", name], check=False, capture_output=True)
        return grp.getgrnam(name).gr_gid


def trail_size(pc):
    return sum(os.path.getsize(p) for p in
               glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl")))


def epoch(pc):
    """The key epoch of the trail's last line."""
    last = None
    for seg in sorted(glob.glob(os.path.join(pc.conf["audit-log"], "trail-*.jsonl"))):
        with open(seg) as f:
            lines = f.read().split("\n")[:-1]
        if lines:
            last = json.loads(lines[-1])
    return last["epoch"] if last else 0
