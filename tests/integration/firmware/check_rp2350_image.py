#!/usr/bin/python3
"""Check the RP2350 token image as the boot ROM would see it: the UF2 file decodes
(magic numbers, RP2350 Arm-S family, 256-byte payloads, numbering), reproduces exactly the
ELF's loadable bytes (arm-none-eabi-objcopy), starts with a Cortex-M vector table whose
stack is in SRAM and whose reset handler is Thumb code in flash, and carries the minimum
Arm IMAGE_DEF block inside the first 4 KiB.

usage: check_rp2350_image.py IMAGE.elf IMAGE.uf2
Trust: both files are build outputs, still parsed defensively (any mismatch fails).
"""
import struct
import subprocess
import sys
import tempfile

FLASH = 0x10000000
IMAGE_DEF = struct.pack("<5I", 0xFFFFDED3, 0x10210142, 0x000001FF, 0, 0xAB123579)


def fail(msg):
    sys.exit(f"check_rp2350_image: {msg}")


def read_uf2(path):
    data = open(path, "rb").read()
    if not data or len(data) % 512:
        fail(f"{path}: size {len(data)} is not a multiple of 512")
    image = {}
    total = len(data) // 512
    for i in range(total):
        blk = data[i * 512:(i + 1) * 512]
        m0, m1, flags, addr, size, no, n, fam = struct.unpack_from("<8I", blk)
        if (m0, m1, struct.unpack_from("<I", blk, 508)[0]) != (0x0A324655, 0x9E5D5157, 0x0AB16F30):
            fail(f"{path}: block {i}: bad magic")
        if flags != 0x2000 or fam != 0xE48BFF59:
            fail(f"{path}: block {i}: flags {flags:#x} family {fam:#x}")
        if size != 256 or addr % 256 or no != i or n != total:
            fail(f"{path}: block {i}: size {size} addr {addr:#x} no {no}/{n}")
        if addr in image:
            fail(f"{path}: block {i}: address {addr:#x} written twice")
        image[addr] = blk[32:32 + 256]
    return image


def main():
    elf, uf2 = sys.argv[1], sys.argv[2]
    image = read_uf2(uf2)
    with tempfile.NamedTemporaryFile() as binf:
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", elf, binf.name], check=True)
        flat = open(binf.name, "rb").read()
    # objcopy's flat image starts at the lowest load address, which must be flash start.
    lo = min(image)
    if lo != FLASH:
        fail(f"first UF2 block at {lo:#x}, expected {FLASH:#x}")
    for off in range(0, len(flat), 256):
        chunk = flat[off:off + 256]
        got = image.get(FLASH + off)
        if got is None:
            fail(f"flash page {FLASH + off:#x} missing from the UF2")
        if got[:len(chunk)] != chunk:
            fail(f"flash page {FLASH + off:#x} differs from the ELF")
    if len(image) != (len(flat) + 255) // 256:
        fail("UF2 writes pages the ELF does not load")

    sp, reset = struct.unpack_from("<2I", flat)
    if not (0x20000000 < sp <= 0x20082000):
        fail(f"initial stack pointer {sp:#x} is not in SRAM")
    if not (reset & 1 and FLASH <= reset < FLASH + len(flat)):
        fail(f"reset vector {reset:#x} is not Thumb code in the image")
    pos = flat.find(IMAGE_DEF)
    if pos < 0 or pos + len(IMAGE_DEF) > 4096:
        fail("minimum Arm IMAGE_DEF block not found in the first 4 KiB")
    print(f"ok: {len(image)} UF2 blocks match {len(flat)} bytes of ELF; "
          f"sp {sp:#x}, reset {reset:#x}, IMAGE_DEF at +{pos:#x}")


if __name__ == "__main__":
    main()
