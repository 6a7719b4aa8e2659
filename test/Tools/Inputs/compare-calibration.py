#!/usr/bin/env python3
"""Compares two calibration safetensors files for lit tests.

usage: compare-calibration.py A B RELATIVE_TOLERANCE

Exits 0 when both hold the same metadata and the same F64 tensors (names,
shapes) and every entry of every H differs by at most RELATIVE_TOLERANCE
times the largest |entry| of that H; otherwise prints the first difference
and exits 1. Prints the largest relative difference seen.
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        assert info["dtype"] == "F64", (path, name, info["dtype"])
        count = (end - begin) // 8
        tensors[name] = (info["shape"], struct.unpack("<%dd" % count, body[begin:end]))
    return metadata, tensors


def main():
    a_path, b_path, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
    a_meta, a = read(a_path)
    b_meta, b = read(b_path)
    if a_meta != b_meta:
        print("metadata differ: %r vs %r" % (a_meta, b_meta))
        return 1
    if sorted(a) != sorted(b):
        print("layers differ: %r vs %r" % (sorted(a), sorted(b)))
        return 1
    worst = 0.0
    for name in sorted(a):
        (a_shape, a_values), (b_shape, b_values) = a[name], b[name]
        if a_shape != b_shape:
            print("%s: shape %r vs %r" % (name, a_shape, b_shape))
            return 1
        scale = max(abs(v) for v in a_values) or 1.0
        difference = max(abs(x - y) for x, y in zip(a_values, b_values)) / scale
        worst = max(worst, difference)
        if difference > tolerance:
            print("%s: relative difference %.3g > %.3g" % (name, difference, tolerance))
            return 1
    print("equal within %.3g (largest relative difference %.3g)" % (tolerance, worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
