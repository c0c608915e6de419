"""agent.py - the command agent inside the kernel test bed's guest (tests/kernel).

Reads one JSON request per line from the virtio-serial port named "pcl.agent":
{"cmd": "shell text", "timeout": seconds, "input": "stdin text"}; runs it with bash as
root and answers {"rc": exit status (-signal, or 124 on timeout), "out": stdout and
stderr}. Its peer is the bed on the host, over a socket only the bed holds: trusted.
"""
import glob
import json
import os
import subprocess
import sys
import time


def port():
    deadline = time.time() + 60
    while time.time() < deadline:
        for d in glob.glob("/sys/class/virtio-ports/*"):
            with open(os.path.join(d, "name")) as f:
                if f.read().strip() == "pcl.agent":
                    return "/dev/" + os.path.basename(d)
        time.sleep(0.1)
    sys.exit("agent: no virtio-serial port pcl.agent")


def main():
    path = port()
    while not os.path.exists(path):
        time.sleep(0.05)
    fd = os.open(path, os.O_RDWR)  # a port opens once: one descriptor both ways
    rd = wr = os.fdopen(fd, "r+b", buffering=0)
    buf = b""
    wr.write(b'{"ready": true}\n')
    while True:
        chunk = rd.read(65536)
        if not chunk:
            time.sleep(0.05)  # no peer yet
            continue
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            req = json.loads(line)
            try:
                p = subprocess.run(["/bin/bash", "-c", req["cmd"]],
                                   input=req.get("input", "").encode(),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=req.get("timeout", 60), start_new_session=True)
                rc, out = p.returncode, p.stdout
            except subprocess.TimeoutExpired as e:
                rc, out = 124, (e.output or b"") + b"\n[agent: timed out]\n"
            wr.write(json.dumps({"rc": rc, "out": out.decode(errors="replace")}).encode() +
                     b"\n")


main()
