#!/usr/bin/env python3
"""Writes tiny GGUF v3 files for slr-import's error tests.

usage: make-gguf.py OUT KIND
KIND: gpt2 (another architecture), llama-bad-heads (dim 8 with 3 heads),
      llama-nan (a valid 1-layer llama whose attn_q weight holds a NaN).
"""
import struct
import sys

STRING, UINT32, FLOAT32 = 8, 4, 6


def kv_string(key, value):
    k, v = key.encode(), value.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<I", STRING) + struct.pack("<Q", len(v)) + v


def kv_u32(key, value):
    k = key.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<II", UINT32, value)


def kv_f32(key, value):
    k = key.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<If", FLOAT32, value)


def main():
    out, kind = sys.argv[1], sys.argv[2]
    dim, ffn, vocab = 8, 8, 16
    heads = 3 if kind == "llama-bad-heads" else 2
    kvs = [kv_string("general.architecture", "gpt2" if kind == "gpt2" else "llama"),
           kv_u32("llama.embedding_length", dim), kv_u32("llama.feed_forward_length", ffn),
           kv_u32("llama.block_count", 1), kv_u32("llama.attention.head_count", heads),
           kv_u32("llama.attention.head_count_kv", heads), kv_u32("llama.context_length", 32),
           kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5)]
    shapes = {"token_embd.weight": [dim, vocab], "output_norm.weight": [dim],
              "blk.0.attn_norm.weight": [dim], "blk.0.ffn_norm.weight": [dim],
              "blk.0.attn_q.weight": [dim, dim], "blk.0.attn_k.weight": [dim, dim],
              "blk.0.attn_v.weight": [dim, dim], "blk.0.attn_output.weight": [dim, dim],
              "blk.0.ffn_gate.weight": [dim, ffn], "blk.0.ffn_up.weight": [dim, ffn],
              "blk.0.ffn_down.weight": [ffn, dim]}
    infos, blobs, offset = b"", b"", 0
    for name, dims in shapes.items():
        count = 1
        for d in dims:
            count *= d
        values = [0.01 * ((i % 7) - 3) for i in range(count)]
        if kind == "llama-nan" and name == "blk.0.attn_q.weight":
            values[5] = float("nan")
        data = struct.pack("<%df" % count, *values)
        data += b"\0" * ((32 - len(data) % 32) % 32)
        n = name.encode()
        infos += struct.pack("<Q", len(n)) + n + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", 0, offset)
        blobs += data
        offset += len(data)
    header = b"GGUF" + struct.pack("<IQQ", 3, len(shapes), len(kvs)) + b"".join(kvs) + infos
    header += b"\0" * ((32 - len(header) % 32) % 32)
    with open(out, "wb") as f:
        f.write(header + blobs)


if __name__ == "__main__":
    main()
