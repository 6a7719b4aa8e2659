#!/usr/bin/env python3
"""Prints a GGUF file's scalar metadata ("key = value", arrays as their
length) and tensors ("name TYPE [ne0, ne1, ...]"), for FileCheck.

usage: gguf-info.py FILE
"""
import struct
import sys

TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 8: "Q8_0", 30: "BF16"}
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}


def main():
    data = open(sys.argv[1], "rb").read()
    offset = 0

    def take(fmt):
        nonlocal offset
        values = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def string():
        nonlocal offset
        length = take("<Q")
        text = data[offset:offset + length].decode("utf-8", "replace")
        offset += length
        return text

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            element, count = take("<I"), take("<Q")
            for _ in range(count):
                value(element)
            return "[%d values]" % count
        return take(SCALARS[kind])

    assert data[:4] == b"GGUF", "not a GGUF file"
    offset = 4
    _version, tensors, entries = take("<I"), take("<Q"), take("<Q")
    for _ in range(entries):
        key = string()
        print("%s = %s" % (key, value(take("<I"))))
    for _ in range(tensors):
        name = string()
        dims = [take("<Q") for _ in range(take("<I"))]
        kind, _data_offset = take("<I"), take("<Q")
        print("%s %s [%s]" % (name, TYPES.get(kind, str(kind)), ", ".join(map(str, dims))))


main()
