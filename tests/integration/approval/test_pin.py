"""The key's PIN never on the command line: --pin is refused, the PIN is read from a file
descriptor (--pin-fd) or typed at the terminal without echo (libbsd's readpassphrase).
The installed CLI and portcullisd under umockdev, the token simulator with a PIN set."""
import os
import pty
import select
import subprocess

from fido2.ctap2 import ClientPin, Ctap2

from approvals import PERSONAL, start

PIN = "271828"


def with_pin_fd(pc, *args):
    r, w = os.pipe()
    os.write(w, (PIN + "\n").encode())
    os.close(w)
    try:
        return subprocess.run([pc.cli_path()] + list(args) + ["--pin-fd", str(r)],
                              env=pc.env(), capture_output=True, text=True, timeout=30,
                              pass_fds=(r,), start_new_session=True)
    finally:
        os.close(r)


def at_terminal(pc, answer, *args):
    """Run the CLI with a terminal of its own; type `answer` when it asks for the PIN.
    Returns (exit status, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(pc.cli_path(), [pc.cli_path()] + list(args), pc.env())
    shown, typed = b"", False
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            os.kill(pid, 9)
            raise AssertionError("no answer from the CLI:\n" + shown.decode())
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
        if not typed and b"PIN of your key: " in shown:
            os.write(fd, (answer + "\n").encode())
            typed = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_the_pin_is_never_an_argument_and_typed_without_echo(pc, key):
    start(pc, "fakenham")  # 4.1.5: the key must verify its user
    ClientPin(Ctap2(key.device())).set_pin(PIN)
    r = pc.cli("approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk", "--key",
               "sim:" + key.sock, "--pin", PIN, check=False)
    assert r.returncode == 1 and "--pin PIN on the command line is refused" in r.stderr
    # No terminal, no PIN: the command says what is needed.
    r = pc.cli("approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk", "--key",
               "sim:" + key.sock, check=False)
    assert r.returncode == 1 and "requires the key's PIN" in r.stderr, r.stderr
    r = with_pin_fd(pc, "approver", "enrol", "--name", "Jane Clerk", "--role", "Clerk",
                    "--key", "sim:" + key.sock)
    assert r.returncode == 0, r.stderr
    pc.add("stick-personal.umockdev", plug=True)
    pc.wait_record(lambda r: r["event.action"] == "device-blocked")
    r = pc.cli("approve", "1-2", "--key", "sim:" + key.sock, "--pin", PIN, check=False)
    assert r.returncode == 1 and "refused" in r.stderr
    # A wrong PIN typed at the terminal: the key refuses, nothing is approved.
    status, shown = at_terminal(pc, "987654", "approve", "1-2", "--key", "sim:" + key.sock)
    assert status == 1 and "987654" not in shown.split("PIN of your key: ")[1], shown
    assert "PIN_INVALID" in shown, shown
    assert pc.attr(PERSONAL, "authorized") == "0"
    # The right one: not echoed, and the approval goes through.
    status, shown = at_terminal(pc, PIN, "approve", "1-2", "--key", "sim:" + key.sock)
    assert status == 0, shown
    assert PIN not in shown.split("PIN of your key: ")[1], shown
    assert "1-2 approved by Jane Clerk" in shown, shown
    assert shown.index("Approval request for council fakenham") < shown.index("PIN of your")
    pc.wait_attr(PERSONAL, "authorized", "1")
