#!/usr/bin/env python3
"""Reads slr-export's packed safetensors file as another engine would, from
the layout its metadata states, and prints what it holds: the format, one
line per layer (pattern, rank, tensors with dtype and shape), and whether
every group's positions are n ascending positions below m.

usage: check-packed.py FILE
"""
import json
import struct
import sys

WIDTH = {"U8": 1, "U16": 2, "U32": 4, "U64": 8}


def main():
    data = open(sys.argv[1], "rb").read()
    (length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + length])
    start = 8 + length
    metadata = header.pop("__metadata__")
    layers = json.loads(metadata["layers"])
    print("format %s, %d layers" % (metadata["format"], len(layers)))
    canonical = True
    for layer in layers:
        name = layer["name"]
        if layer["kind"] != "sparse_lowrank":
            print("%s dense %s" % (name, header[name + ".weight"]["shape"]))
            continue
        n, m, bits = layer["n"], layer["m"], layer["position_bits"]
        parts = []
        for suffix in ("values", "positions", "u", "v", "bias"):
            tensor = header.get(name + "." + suffix)
            if tensor:
                parts.append("%s %s %s" % (suffix, tensor["dtype"], tensor["shape"]))
        print("%s %d:%d rank %d: %s" % (name, n, m, layer["rank"], ", ".join(parts)))
        positions = header[name + ".positions"]
        width = WIDTH[positions["dtype"]]
        begin, end = positions["data_offsets"]
        raw = data[start + begin:start + end]
        for offset in range(0, len(raw), width):
            word = int.from_bytes(raw[offset:offset + width], "little")
            kept = [(word >> (t * bits)) & ((1 << bits) - 1) for t in range(n)]
            ordered = all(a < b for a, b in zip(kept, kept[1:]))
            if word >> (n * bits) or not ordered or max(kept) >= m:
                canonical = False
    print("every group keeps %d ascending positions below %d" % (n, m) if canonical
          else "some group's positions are not canonical")


main()
