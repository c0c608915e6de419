"""Attribution of a process seen before, from outside: the staged portcullis-xferwatch on
a real ext4 loop device (fanotify backend, forced). The watcher remembers who a process
is between its opens; what it remembers must never outlive the process nor miss a change:
a pid reused by another process (another uid) gets its own attribution, and a process
that changes its uid or runs another program between two opens is recorded as it is at
each open. Root only (the pid is reused through /proc/sys/kernel/ns_last_pid)."""
import os
import subprocess
import sys

from xferlib import Medium, Watcher, action, get

UID_A, UID_B = 31001, 31002


def write_as(mnt, name, uid):
    fd = os.open(os.path.join(mnt, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"written by %d\n" % uid)
    os.close(fd)


def child(uid, job):
    """Fork a process that runs job() as uid and exits at once; its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            job()
            os._exit(0)
        except BaseException:
            os._exit(1)
    return pid


def reap(pid):
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def fork_with_pid(want, uid, job, tries=200):
    """A process with pid want (freed before), running job() as uid; None when other
    processes of the machine kept taking the pid first."""
    for _ in range(tries):
        r, w = os.pipe()
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(want - 1))
        pid = os.fork()
        if pid == 0:
            os.close(w)
            go = os.read(r, 1)
            if go != b"y":
                os._exit(0)
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                job()
                os._exit(0)
            except BaseException:
                os._exit(1)
        os.close(r)
        os.write(w, b"y" if pid == want else b"n")
        os.close(w)
        reap(pid)
        if pid == want:
            return pid
    return None


def by_path(recs):
    got = {}
    for r in action(recs, "file-written"):
        assert get(r, "file.path") not in got, r
        got[get(r, "file.path")] = r
    return got


def test_a_reused_pid_never_inherits_the_old_attribution():
    with Medium("ext4", size_mb=32) as m, Watcher(m.mnt, "xfer-backend=fanotify") as w:
        done = []
        for i in range(3):
            a = child(UID_A, lambda: write_as(m.mnt, "a%d.txt" % i, UID_A))
            reap(a)
            b = fork_with_pid(a, UID_B, lambda: write_as(m.mnt, "b%d.txt" % i, UID_B))
            if b is not None:
                done.append((i, a))
        assert done, "the pid was never free to reuse"
        recs = w.wait_for(lambda rs: all("b%d.txt" % i in by_path(rs) for i, _ in done))
        got = by_path(recs)
        for i, pid in done:
            ra, rb = got["a%d.txt" % i], got["b%d.txt" % i]
            assert get(ra, "process.pid") == pid and get(rb, "process.pid") == pid
            assert get(ra, "user.id") == UID_A, ra
            assert get(rb, "user.id") == UID_B, f"reused pid {pid} misattributed: {rb}"


def test_a_change_of_uid_or_program_between_opens_is_recorded():
    with Medium("ext4", size_mb=32) as m, Watcher(m.mnt, "xfer-backend=fanotify") as w:
        script = (
            "import os, sys\n"
            "mnt = sys.argv[1]\n"
            "def put(name):\n"
            "    fd = os.open(os.path.join(mnt, name), os.O_WRONLY | os.O_CREAT, 0o644)\n"
            "    os.write(fd, name.encode())\n"
            "    os.close(fd)\n"
            "put('first.txt')\n"
            f"os.setresuid({UID_A}, {UID_A}, {UID_A})\n"
            "put('second.txt')\n"
            "os.execv('/usr/bin/cp', ['cp', os.path.join(mnt, 'second.txt'),"
            " os.path.join(mnt, 'third.txt')])\n")
        os.chmod(m.mnt, 0o777)
        p = subprocess.run([sys.executable, "-c", script, m.mnt])
        assert p.returncode == 0
        recs = w.wait_for(lambda rs: "third.txt" in by_path(rs))
        got = by_path(recs)
        first, second, third = got["first.txt"], got["second.txt"], got["third.txt"]
        assert get(first, "process.pid") == get(second, "process.pid") == get(
            third, "process.pid")
        assert get(first, "user.id") == 0, first
        assert get(second, "user.id") == UID_A, f"uid change not seen: {second}"
        assert get(second, "process.executable") == get(first, "process.executable")
        assert get(third, "user.id") == UID_A, third
        assert get(third, "process.executable") == "/usr/bin/cp", f"exec not seen: {third}"
