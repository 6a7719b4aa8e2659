#!/usr/bin/env python3
"""Writes a calibration safetensors file for lit tests.

usage: make-calibration.py OUT NAME:K[:kind] ...
kind: "gram" (default; H = X^T X of a fixed pseudo-random X with 4K rows),
      "identity", "zero" (a singular H), "nan"; "KIND*FACTOR" scales it
      (FACTOR a float, or hex such as 0x1p-996).
Safetensors: u64 little-endian header size, JSON header, raw F64 data.
"""
import json
import random
import struct
import sys


def hessian(k, kind, seed):
    if "*" in kind:
        kind, factor = kind.split("*", 1)
        factor = float.fromhex(factor) if factor.startswith("0x") else float(factor)
        return [[v * factor for v in row] for row in hessian(k, kind, seed)]
    if kind == "identity":
        return [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
    if kind == "zero":
        return [[0.0] * k for _ in range(k)]
    if kind == "nan":
        h = [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
        h[0][0] = float("nan")
        return h
    rng = random.Random(seed)
    rows = [[rng.gauss(0, 1) for _ in range(k)] for _ in range(4 * k)]
    return [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    header, blobs, offset = {"__metadata__": {"tokens": "1024"}}, [], 0
    for seed, spec in enumerate(specs):
        parts = spec.split(":")
        name, k = parts[0], int(parts[1])
        kind = parts[2] if len(parts) > 2 else "gram"
        data = b"".join(struct.pack("<d", v) for row in hessian(k, kind, seed) for v in row)
        header[name] = {"dtype": "F64", "shape": [k, k], "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main()
