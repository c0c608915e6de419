"""cpio.py DIR OUT - pack DIR into OUT as a "newc" cpio archive, the initramfs format
the kernel unpacks (Documentation/driver-api/early-userspace/buffer-format.rst).
Part of the kernel test bed (tests/kernel); its input is the bed's own files."""
import os
import stat
import sys


def entry(out, name, st, data, ino):
    name_b = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, st.st_mode if st else 0, 0, 0, 1 if st is None else st.st_nlink, 0,
        len(data), 0, 0, 0, 0, len(name_b), 0))
    out.write(hdr.encode() + name_b)
    out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b"\0" * ((4 - len(data) % 4) % 4))


def main(src, dst):
    ino = 1
    with open(dst, "wb") as out:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for n in sorted(dirs) + sorted(files):
                path = os.path.join(root, n)
                st = os.lstat(path)
                data = b""
                if stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        data = f.read()
                elif not stat.S_ISDIR(st.st_mode):
                    raise SystemExit("cpio.py: %s: only files and directories" % path)
                entry(out, os.path.relpath(path, src), st, data, ino)
                ino += 1
        entry(out, "TRAILER!!!", None, b"", 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
