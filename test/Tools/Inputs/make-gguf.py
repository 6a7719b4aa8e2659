#!/usr/bin/env python3
"""Writes tiny GGUF v3 files for slr-import's error tests.

usage: make-gguf.py OUT KIND
KIND: llama (a valid 1-layer llama, dim 8, FFN 8, vocab 16, SentencePiece
      tokenizer), gpt2 (another architecture), llama-bad-heads (dim 8 with 3
      heads), llama-nan (attn_q holds a NaN), llama-ffn-overflow (FFN 2^61:
      FFN x dim wraps to 0 in 64 bits, FFN tensors empty), llama-overlap (two
      tensors share their data), llama-shape (attn_q is 16x4, not 8x8),
      llama-context0 (context_length 0), llama-eps-inf, llama-rope-inf,
      llama-eps-zero, llama-huge-weight (weights of 3e38: finite, but every
      activation overflows to inf), llama-small-tokenizer (the tokenizer has
      12 tokens, the model 16).
"""
import struct
import sys

UINT32, INT32, FLOAT32, STRING, ARRAY, UINT64 = 4, 5, 6, 8, 9, 10


def kv_string(key, value):
    k, v = key.encode(), value.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<I", STRING) + struct.pack("<Q", len(v)) + v


def kv_u32(key, value):
    k = key.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<II", UINT32, value)


def kv_u64(key, value):
    k = key.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<IQ", UINT64, value)


def kv_f32(key, value):
    k = key.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<If", FLOAT32, value)


def kv_array(key, element_type, payloads):
    k = key.encode()
    return (struct.pack("<Q", len(k)) + k + struct.pack("<IIQ", ARRAY, element_type, len(payloads))
            + b"".join(payloads))


def tokenizer_kvs(vocab):
    """A SentencePiece vocabulary: <unk>, <s>, </s>, then letters and pairs."""
    tokens = ["<unk>", "<s>", "</s>"] + [chr(ord("a") + i) for i in range(vocab - 3)]
    tokens[-1] = "\u2581"  # the space marker, so "a b" tokenizes
    strings = [struct.pack("<Q", len(t.encode())) + t.encode() for t in tokens]
    scores = [struct.pack("<f", -float(i)) for i in range(vocab)]
    types = [struct.pack("<i", 3 if i in (1, 2) else 1) for i in range(vocab)]
    return [kv_string("tokenizer.ggml.model", "llama"),
            kv_array("tokenizer.ggml.tokens", STRING, strings),
            kv_array("tokenizer.ggml.scores", FLOAT32, scores),
            kv_array("tokenizer.ggml.token_type", INT32, types),
            kv_u32("tokenizer.ggml.bos_token_id", 1), kv_u32("tokenizer.ggml.eos_token_id", 2),
            kv_u32("tokenizer.ggml.unknown_token_id", 0)]


def main():
    out, kind = sys.argv[1], sys.argv[2]
    dim, ffn, vocab = 8, 8, 16
    heads = 3 if kind == "llama-bad-heads" else 2
    ffn_key = kv_u64("llama.feed_forward_length", 2**61) if kind == "llama-ffn-overflow" \
        else kv_u32("llama.feed_forward_length", ffn)
    context = struct.pack("<Q", len(b"llama.context_length")) + b"llama.context_length" + \
        struct.pack("<Ii", INT32, 0 if kind == "llama-context0" else 32)
    eps = {"llama-eps-inf": float("inf"), "llama-eps-zero": 0.0}.get(kind, 1e-5)
    kvs = [kv_string("general.architecture", "gpt2" if kind == "gpt2" else "llama"),
           kv_u32("llama.embedding_length", dim), ffn_key,
           kv_u32("llama.block_count", 1), kv_u32("llama.attention.head_count", heads),
           kv_u32("llama.attention.head_count_kv", heads), context,
           kv_f32("llama.attention.layer_norm_rms_epsilon", eps)]
    if kind == "llama-rope-inf":
        kvs.append(kv_f32("llama.rope.freq_base", float("inf")))
    kvs += tokenizer_kvs(12 if kind == "llama-small-tokenizer" else vocab)
    ffn_dims = 0 if kind == "llama-ffn-overflow" else ffn
    shapes = {"token_embd.weight": [dim, vocab], "output_norm.weight": [dim],
              "blk.0.attn_norm.weight": [dim], "blk.0.ffn_norm.weight": [dim],
              "blk.0.attn_q.weight": [16, 4] if kind == "llama-shape" else [dim, dim],
              "blk.0.attn_k.weight": [dim, dim],
              "blk.0.attn_v.weight": [dim, dim], "blk.0.attn_output.weight": [dim, dim],
              "blk.0.ffn_gate.weight": [dim, ffn_dims], "blk.0.ffn_up.weight": [dim, ffn_dims],
              "blk.0.ffn_down.weight": [ffn_dims, dim]}
    infos, blobs, offset, previous = b"", b"", 0, 0
    for name, dims in shapes.items():
        count = 1
        for d in dims:
            count *= d
        values = [0.01 * ((i % 7) - 3) for i in range(count)]
        if kind == "llama-nan" and name == "blk.0.attn_q.weight":
            values[5] = float("nan")
        if kind == "llama-huge-weight" and name.startswith("blk.0.ffn"):
            values = [3e38] * count
        data = struct.pack("<%df" % count, *values)
        data += b"\0" * ((32 - len(data) % 32) % 32)
        n = name.encode()
        # llama-overlap: attn_k's data starts where attn_q's does.
        at = previous if kind == "llama-overlap" and name == "blk.0.attn_k.weight" else offset
        previous = offset
        infos += struct.pack("<Q", len(n)) + n + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", 0, at)
        blobs += data
        offset += len(data)
    header = b"GGUF" + struct.pack("<IQQ", 3, len(shapes), len(kvs)) + b"".join(kvs) + infos
    header += b"\0" * ((32 - len(header) % 32) % 32)
    with open(out, "wb") as f:
        f.write(header + blobs)


if __name__ == "__main__":
    main()
