"""Helpers for the approval tests: talk to the control socket as any user, sign
requests with python3-fido2 (an independent client, so forged answers can be made),
and re-verify an approval record offline as the IT provider would."""
import base64
import hashlib
import importlib.util
import json
import os
import re
import socket
import subprocess

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.ctap2 import Ctap2

SOURCE = os.environ.get("PCL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
PROFILES = os.path.join(SOURCE, "profiles")
DOMAIN = b"portcullis/approval-request/v1\0"

HUB = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
PERSONAL = HUB + "/1-2"
TWIN = HUB + "/1-3"
COUNCIL_HID = HUB + "/1-4"
PHONE = HUB + "/1-7"

# Nothing but hubs is on the list: every stick needs an exception.
RULES = "allow with-interface match-all { 09:00:* }\n"


def b64(b):
    return base64.b64encode(bytes(b)).decode()


def control(pc, obj, uid=None):
    """One request on the control socket, optionally from a child running as uid."""
    path = pc.conf["control-socket"]
    if uid is None:
        return _control(path, obj)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setuid(uid)
            os.write(w, json.dumps(_control(path, obj)).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def _control(path, obj):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(json.dumps(obj).encode() + b"\n")
    f = s.makefile("rb")
    line = f.readline()
    s.close()
    return json.loads(line)


def start(pc, profile="watton", **extra):
    """Start (or restart) portcullisd with a council profile (a shipped one by name, or
    the file at a path); wait for this start."""
    before = len([r for r in pc.records() if r["event.action"] == "service-started"]) \
        if hasattr(pc, "conf") else 0
    path = profile if "/" in profile else os.path.join(PROFILES, profile + ".profile")
    pc.start(RULES, wait=False, profile=path, **extra)
    pc.wait_record(lambda r: len([x for x in pc.records()
                                  if x["event.action"] == "service-started"]) > before)
    pc.wait_quiet()


def enrol(pc, key, name="Jane Clerk", role="Clerk", *more):
    return pc.cli("approver", "enrol", "--name", name, "--role", role, "--key",
                  "sim:" + key.sock, *more, check=False)


def info(pc):
    return control(pc, {"cmd": "approval-info"})


def export(pc, device="1-2", *opts):
    out = os.path.join(pc.work, "request-%d.txt" % len(os.listdir(pc.work)))
    pc.cli("request", "export", device, "--out", out, *opts)
    with open(out) as f:
        return f.read()


def edit(text, field, value):
    """Replace one field of a canonical request (the signature no longer matches)."""
    new, n = re.subn(r"^%s: .*$" % re.escape(field), "%s: %s" % (field, value), text, flags=re.M)
    assert n == 1, field
    return new


def sign(key, text, cred=None, up=True, rp="portcullis:watton"):
    """The approver's key signs a request through python3-fido2: a valid signature over
    whatever text it is given (which is how forged but signed requests are made)."""
    ctap2 = Ctap2(key.device())
    cdh = hashlib.sha256(DOMAIN + text.encode()).digest()
    allow = [{"type": "public-key", "id": cred}] if cred else None
    a = ctap2.get_assertion(rp, cdh, allow_list=allow, options={"up": up})
    cred_id = a.credential["id"]
    return ("portcullis-approval-response 1\ncredential: %s\nauthenticator-data: %s\n"
            "signature: %s\n%s" % (b64(cred_id), b64(a.auth_data), b64(a.signature), text))


def submit(pc, response):
    """`portcullis request import` of a response file; returns the CLI's result."""
    path = os.path.join(pc.work, "response-%d.txt" % len(os.listdir(pc.work)))
    with open(path, "w") as f:
        f.write(response)
    return pc.cli("request", "import", path, check=False)


def approve_elsewhere(pc, key, request, *more):
    """`portcullis approve --request` on the approver's own PC: no daemon, only the
    request file and the key. Returns the CLI's result; the response is request + ".resp"."""
    env = {k: v for k, v in pc.env().items() if k not in ("PORTCULLIS_SOCKET", "LD_PRELOAD")}
    env["PORTCULLIS_SOCKET"] = "/nonexistent"
    return subprocess.run([pc.cli_path(), "approve", "--request", str(request), "--out",
                           str(request) + ".resp", "--key", "sim:" + key.sock] + list(more),
                          env=env, capture_output=True, text=True, timeout=30,
                          start_new_session=True)


def credential(pc, i=0):
    return base64.b64decode(info(pc)["approvers"][i]["credential"])


def reverify(record):
    """What the IT provider does offline with an exception-approved record alone:
    check the assertion over the request with the approver's recorded public key."""
    resp = record["approval.response"]
    lines = resp.split("\n", 4)
    authdata = base64.b64decode(lines[2].split(": ", 1)[1])
    sig = base64.b64decode(lines[3].split(": ", 1)[1])
    request = lines[4]
    pk = base64.b64decode(record["approval.public_key"])
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + pk)
    cdh = hashlib.sha256(DOMAIN + request.encode()).digest()
    key.verify(sig, authdata + cdh, ec.ECDSA(hashes.SHA256()))
    assert authdata[:32] == hashlib.sha256(record["approval.rp"].encode()).digest()
    assert authdata[32] & 1  # user present
    return request


def load_people():
    """The people tests' session bus and notifier (their conftest, loaded by path)."""
    path = os.path.join(os.path.dirname(__file__), "../people/conftest.py")
    spec = importlib.util.spec_from_file_location("people_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def medium_in(pc, medium, dev, read_only):
    """The approved stick DEV let in: its storage interface authorised, the real medium
    attached behind it and mounted (read-only once the gate has made it so, or read-write),
    and its transfer log started; that record."""
    from harness import storage_in

    storage_in(pc, medium, dev)
    if read_only:
        pc.wait_record(lambda r: r["event.action"] == "medium-read-only")
        subprocess.run(["mount", "-o", "ro", medium.loop, medium.mnt], check=True)
        medium.mounted = True
    else:
        medium.mount()
    return pc.wait_record(lambda r: r["event.action"] == "xfer-watch-started", timeout=20)
