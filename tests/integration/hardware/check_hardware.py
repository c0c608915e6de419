#!/usr/bin/python3
"""Checks of the token's hardware files: every BOM line is qty x unit price, the TOTAL row
is the sum of the lines, the Pico 2 build stays under its GBP 6 goal; the wiring diagram
is well-formed SVG; the enclosure renders with openscad to a closed, plausibly sized STL.

usage: check_hardware.py HARDWARE_DIR [OPENSCAD]
"""
import csv
import os
import subprocess
import sys
import tempfile
import xml.dom.minidom


def fail(msg):
    sys.exit(f"check_hardware: {msg}")


def check_bom(path, limit=None):
    rows = list(csv.DictReader(open(path, newline="")))
    total_row = [r for r in rows if r["ref"] == "TOTAL"]
    if len(total_row) != 1:
        fail(f"{path}: expected one TOTAL row")
    s = 0.0
    for n, r in enumerate(rows, start=2):
        if r["ref"] == "TOTAL":
            continue
        try:
            qty, unit, line = int(r["qty"]), float(r["unit price GBP"]), float(r["line GBP"])
        except ValueError as e:
            fail(f"{path}:{n}: {e}")
        if not r["part"]:
            fail(f"{path}:{n}: part is empty")
        if abs(qty * unit - line) > 0.0005:
            fail(f"{path}:{n}: line GBP {line} is not {qty} x {unit}")
        s += line
    total = float(total_row[0]["line GBP"])
    if abs(total - s) > 0.005:
        fail(f"{path}: TOTAL {total} but the lines sum to {s:.3f}")
    if limit is not None and total >= limit:
        fail(f"{path}: total GBP {total} is not under GBP {limit}")
    print(f"{os.path.basename(path)}: {len(rows) - 1} lines, total GBP {total:.2f}")


def check_stl(scad, openscad):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "enclosure.stl")
        subprocess.run([openscad, "-o", out, scad], check=True, capture_output=True, timeout=300)
        facets, xs, ys, zs = 0, [], [], []
        for line in open(out):
            w = line.split()
            if w and w[0] == "facet":
                facets += 1
            elif w and w[0] == "vertex":
                x, y, z = map(float, w[1:4])
                xs.append(x)
                ys.append(y)
                zs.append(z)
    if facets < 100:
        fail(f"{scad}: only {facets} facets rendered")
    size = (max(xs) - min(xs), max(ys) - min(ys), max(zs) - min(zs))
    # Both parts side by side: longer than a Pico 2 (51 mm), small enough for a key ring.
    if not (55 < size[0] < 80 and 40 < size[1] < 70 and 5 < size[2] < 15):
        fail(f"{scad}: implausible size {size}")
    print(f"enclosure.scad: {facets} facets, {size[0]:.1f} x {size[1]:.1f} x {size[2]:.1f} mm")


def main():
    hw = sys.argv[1]
    check_bom(os.path.join(hw, "bom-pico2.csv"), limit=6.0)
    check_bom(os.path.join(hw, "bom-custom.csv"))
    xml.dom.minidom.parse(os.path.join(hw, "wiring.svg"))
    print("wiring.svg: well-formed")
    if len(sys.argv) > 2:
        check_stl(os.path.join(hw, "enclosure.scad"), sys.argv[2])


if __name__ == "__main__":
    main()
