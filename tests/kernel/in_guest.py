"""in_guest.py COMMAND [ARG...] - run one host test command inside the kernel test bed.

Boots Debian's kernel (bed.Bed), runs COMMAND in the guest as root with the test's
environment (PCL_* and PYTHON* variables; paths are the host's, see bed.py), prints its
output and exits with its status. For tests that need a kernel feature this machine's
kernel lacks (xfer_fs_vfat: vfat). Its arguments come from CMake: trusted."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bed as kbed  # noqa: E402


def main(argv):
    env = " ".join("%s=%s" % (k, kbed.shquote(v)) for k, v in sorted(os.environ.items())
                   if k.startswith(("PCL_", "PYTHON", "XFER_", "ASAN_", "UBSAN_", "LSAN_")))
    cmd = "cd %s && env %s %s" % (kbed.shquote(os.getcwd()), env,
                                  " ".join(kbed.shquote(a) for a in argv))
    with kbed.Bed(hostname="council-pc") as bed:
        print("guest: Debian kernel %s (%s)" % (bed.version, bed.accel), flush=True)
        rc, out = bed.run(cmd, check=False, timeout=int(os.environ.get("PCL_GUEST_TIMEOUT",
                                                                            "500")))
    sys.stdout.write(out)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
