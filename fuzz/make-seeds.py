#!/usr/bin/env python3
"""Writes the seed corpora of the slr fuzz targets (nothing is committed).

usage: make-seeds.py OUT_DIR [--data DIR] [--tools DIR] [--src DIR]

OUT_DIR/{gguf,safetensors,tokenizer,mlir}/ get small seeds made from
../shared/data (the stories260K GGUF's real metadata with tiny tensors of
every tensor type, a tiny llama that imports, a GPT-2 BPE vocabulary cut out
of SmolLM2-135M when it is cached, text snippets of the corpora), hand-made
safetensors and calibration files, and the repository's test .mlir files
split at `// -----`. With --tools (a build's bin/ with slr-import,
slr-calibrate, slr-opt) it adds a real calibration file (shrunk to 4x4
matrices, names and metadata kept), the tiny llama's model IR as bytecode and
every .mlir seed as bytecode.
"""
import argparse
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

# GGUF value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
          F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}
# ggml tensor types: (id, block elements, block bytes).
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18),
        "Q4_1": (3, 32, 20), "Q8_0": (8, 32, 34), "Q6_K": (14, 256, 210),
        "I32": (26, 1, 4), "F64": (28, 1, 8), "BF16": (30, 1, 2)}


# --- GGUF ------------------------------------------------------------------

class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        value = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value[0]

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s

    def value(self, t):
        if t == STR:
            return self.string()
        if t == ARR:
            et, n = self.take("<I"), self.take("<Q")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(SCALAR[t])


def read_gguf_metadata(path):
    """(version, [(key, type, value)]) of a GGUF file; tensors are ignored."""
    r = Reader(open(path, "rb").read())
    assert r.data[:4] == b"GGUF"
    r.pos = 4
    version = r.take("<I")
    r.take("<Q")
    kvs = []
    for _ in range(r.take("<Q")):
        key = r.string()
        t = r.take("<I")
        kvs.append((key, t, r.value(t)))
    return version, kvs


def enc_value(t, v):
    if t == STR:
        v = v if isinstance(v, bytes) else v.encode()
        return struct.pack("<Q", len(v)) + v
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(enc_value(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def write_gguf(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, dims, type name, bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        key = key if isinstance(key, bytes) else key.encode()
        out += struct.pack("<Q", len(key)) + key + struct.pack("<I", t) + enc_value(t, v)
    offset, blobs = 0, b""
    for name, dims, tname, data in tensors:
        n = name.encode()
        out += struct.pack("<Q", len(n)) + n + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", GGML[tname][0], offset)
        pad = (-len(data)) % alignment
        blobs += data + b"\0" * pad
        offset += len(data) + pad
    out += b"\0" * ((-len(out)) % alignment)
    return out + blobs


def tensor_bytes(tname, count, rng):
    _, block, size = GGML[tname]
    assert count % block == 0
    blocks = count // block
    if tname == "F32":
        return struct.pack("<%df" % count, *[rng.uniform(-1, 1) for _ in range(count)])
    if tname == "F64":
        return struct.pack("<%dd" % count, *[rng.uniform(-1, 1) for _ in range(count)])
    if tname == "I32":
        return struct.pack("<%di" % count, *range(count))
    if tname == "F16":
        return struct.pack("<%de" % count, *[rng.uniform(-1, 1) for _ in range(count)])
    if tname == "BF16":
        return b"".join(struct.pack("<f", rng.uniform(-1, 1))[2:] for _ in range(count))
    out = b""
    for _ in range(blocks):
        if tname == "Q8_0":
            out += struct.pack("<e", 0.01) + bytes(rng.randrange(256) for _ in range(32))
        elif tname == "Q4_0":
            out += struct.pack("<e", 0.02) + bytes(rng.randrange(256) for _ in range(16))
        elif tname == "Q4_1":
            out += struct.pack("<ee", 0.02, -0.1) + bytes(rng.randrange(256) for _ in range(16))
        else:
            out += bytes(rng.randrange(256) for _ in range(size))
    return out


def tiny_llama(dim=8, ffn=8, vocab=16, heads=2, layers=1, tname="F32", rng=None):
    """A complete llama checkpoint small enough to import in a fuzz run."""
    kvs = [("general.architecture", STR, "llama"),
           ("llama.embedding_length", U32, dim), ("llama.feed_forward_length", U32, ffn),
           ("llama.block_count", U32, layers), ("llama.attention.head_count", U32, heads),
           ("llama.attention.head_count_kv", U32, heads), ("llama.context_length", U32, 32),
           ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
           ("llama.rope.freq_base", F32, 10000.0)]
    shapes = [("token_embd.weight", [dim, vocab]), ("output_norm.weight", [dim])]
    for b in range(layers):
        p = "blk.%d." % b
        shapes += [(p + "attn_norm.weight", [dim]), (p + "ffn_norm.weight", [dim]),
                   (p + "attn_q.weight", [dim, dim]), (p + "attn_k.weight", [dim, dim]),
                   (p + "attn_v.weight", [dim, dim]), (p + "attn_output.weight", [dim, dim]),
                   (p + "ffn_gate.weight", [dim, ffn]), (p + "ffn_up.weight", [dim, ffn]),
                   (p + "ffn_down.weight", [ffn, dim])]
    tensors = []
    for name, dims in shapes:
        count = 1
        for d in dims:
            count *= d
        kind = tname if len(dims) == 2 and count % GGML[tname][1] == 0 else "F32"
        tensors.append((name, dims, kind, tensor_bytes(kind, count, rng)))
    return kvs, tensors


def gpt2_vocab_from(path, limit=400):
    """A consistent slice of a GPT-2 BPE tokenizer: the first `limit` tokens
    and the merges among them (so the merge results exist)."""
    _, kvs = read_gguf_metadata(path)
    meta = {k: (t, v) for k, t, v in kvs}
    tokens = meta[b"tokenizer.ggml.tokens"][1][1][:limit]
    types = meta[b"tokenizer.ggml.token_type"][1][1][:limit]
    known = set(tokens)
    merges = []
    for m in meta[b"tokenizer.ggml.merges"][1][1]:
        parts = m.split(b" ")
        if len(parts) == 2 and parts[0] in known and parts[1] in known and parts[0] + parts[1] in known:
            merges.append(m)
    pre = meta.get(b"tokenizer.ggml.pre", (STR, b"smollm"))[1]
    return tokens, types, merges, pre


def gguf_seeds(data, out, rng):
    seeds = {}
    version, kvs = read_gguf_metadata(os.path.join(data, "models/stories260K.gguf"))
    stories_tok = [kv for kv in kvs if kv[0].startswith(b"tokenizer.")]
    # The real metadata, no tensors: the tokenizer path.
    seeds["stories260K-metadata"] = write_gguf(kvs, [], version)
    # Tensors of every type, 64 elements each (two blocks of 32), with the
    # real metadata.
    tensors = []
    for tname in GGML:
        count = 256 if tname == "Q6_K" else 64
        tensors.append(("t." + tname, [count // 2, 2], tname, tensor_bytes(tname, count, rng)))
    seeds["stories260K-all-types"] = write_gguf(kvs, tensors, version)
    seeds["all-types-v2-align64"] = write_gguf(
        [("general.alignment", U32, 64)], tensors, version=2, alignment=64)
    # Tiny llamas that import, with the stories tokenizer.
    for tname in ["F32", "F16", "Q8_0", "Q4_1"]:
        llama_kvs, llama_tensors = tiny_llama(dim=32 if tname != "F32" else 8,
                                              ffn=32 if tname != "F32" else 8,
                                              tname=tname, rng=rng)
        seeds["tiny-llama-" + tname] = write_gguf(llama_kvs + stories_tok, llama_tensors)
    llama_kvs, llama_tensors = tiny_llama(layers=2, heads=4, rng=rng)
    llama_kvs[5] = ("llama.attention.head_count_kv", U32, 2)
    seeds["tiny-llama-gqa"] = write_gguf(llama_kvs, llama_tensors)
    # Every value type, nested arrays.
    seeds["value-types"] = write_gguf(
        [("u8", U8, 1), ("i8", I8, -1), ("u16", U16, 2), ("i16", I16, -2),
         ("u32", U32, 3), ("i32", I32, -3), ("f32", F32, 0.5), ("bool", BOOL, True),
         ("str", STR, "text"), ("u64", U64, 2**63), ("i64", I64, -2**62), ("f64", F64, 1e300),
         ("arr.i32", ARR, (I32, [1, 2, 3])), ("arr.str", ARR, (STR, [b"a", b"bc"])),
         ("arr.arr", ARR, (ARR, [(F32, [1.0]), (U8, [1, 2])])), ("arr.empty", ARR, (BOOL, []))],
        [])
    # A GPT-2 byte-level BPE tokenizer: a slice of SmolLM2's when cached,
    # else a minimal hand-made one.
    smollm = os.environ.get("SLR_SMOLLM2_GGUF") or os.path.expanduser(
        "~/.cache/slr/SmolLM2-135M-Instruct.Q4_1.gguf")
    if os.path.exists(smollm):
        tokens, types, merges, pre = gpt2_vocab_from(smollm)
    else:
        byte_chars = [chr(c) for c in range(33, 127)] + [chr(c) for c in range(161, 173)] + \
            [chr(c) for c in range(174, 256)] + [chr(256 + i) for i in range(68)]
        tokens = [b"<|endoftext|>"] + [c.encode() for c in byte_chars] + \
            [b"\xc4\xa0t", b"he", b"\xc4\xa0the", b"in"]
        types = [3] + [1] * (len(tokens) - 1)
        merges = [b"\xc4\xa0 t", b"h e", b"\xc4\xa0t he", b"i n"]
        pre = b"smollm"
    for name, p in [("gpt2-" + pre.decode(errors="replace"), pre), ("gpt2-llama3", b"llama3"),
                    ("gpt2-default", b"default")]:
        seeds[name] = write_gguf(
            [("general.architecture", STR, "llama"), ("tokenizer.ggml.model", STR, "gpt2"),
             ("tokenizer.ggml.pre", STR, p), ("tokenizer.ggml.tokens", ARR, (STR, tokens)),
             ("tokenizer.ggml.token_type", ARR, (I32, types)),
             ("tokenizer.ggml.merges", ARR, (STR, merges)),
             ("tokenizer.ggml.bos_token_id", U32, 0), ("tokenizer.ggml.eos_token_id", U32, 0),
             ("tokenizer.ggml.add_bos_token", BOOL, False)], [])
    seeds["empty-v3"] = write_gguf([], [])
    write_all(os.path.join(out, "gguf"), seeds)
    return seeds


# --- safetensors -------------------------------------------------------------

def write_safetensors(tensors, metadata=None, pad_to=8):
    """tensors: [(name, dtype, shape, bytes)] in data order."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    import json
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % pad_to)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


def spd(k, rng):
    """A symmetric positive definite k x k matrix (row-major), like X^T X."""
    x = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(2 * k)]
    return [sum(x[r][i] * x[r][j] for r in range(2 * k)) for i in range(k) for j in range(k)]


def safetensors_seeds(out, rng, calibration=None):
    seeds = {}
    f64 = lambda vals: struct.pack("<%dd" % len(vals), *vals)
    f32 = lambda vals: struct.pack("<%df" % len(vals), *vals)
    seeds["calibration-3-layers"] = write_safetensors(
        [("blk.0.attn_q", "F64", [4, 4], f64(spd(4, rng))),
         ("blk.0.ffn_down", "F64", [8, 8], f64(spd(8, rng))),
         ("output", "F64", [2, 2], f64(spd(2, rng)))], {"tokens": "1234"})
    seeds["calibration-f32"] = write_safetensors(
        [("blk.1.ffn_up", "F32", [3, 3], f32(spd(3, rng)))], {"tokens": "7", "format": "pt"})
    seeds["mixed-dtypes"] = write_safetensors(
        [("f16", "F16", [2, 3], struct.pack("<6e", *[0.5] * 6)),
         ("bf16", "BF16", [4], b"\x80\x3f" * 4),
         ("i64", "I64", [2], struct.pack("<2q", -1, 2)),
         ("u8", "U8", [3], b"\x01\x02\x03"), ("bool", "BOOL", [1], b"\x01"),
         ("scalar", "F32", [], f32([1.0])), ("empty", "F64", [0, 5], b""),
         ("f8", "F8_E4M3", [2], b"\x38\x40")], {})
    seeds["empty-header"] = write_safetensors([])
    seeds["metadata-only"] = write_safetensors([], {"tokens": "0", "k\u00e9y": "v\u00e4l\n"})
    seeds["escaped-names"] = write_safetensors(
        [("a\"b\\c\u0001\u2581", "F64", [1, 1], f64([1.0]))], {"tokens": "1"})
    # Regression: a double of 2^63 as an integer field was undefined behaviour.
    header = b'{"t":{"dtype":"F32","shape":[9.223372036854775807e18],' \
             b'"data_offsets":[0,9223372036854775808.0]}}'
    seeds["numbers-of-2-to-the-63"] = struct.pack("<Q", len(header)) + header + b"\0" * 4
    if calibration:
        seeds["slr-calibrate-shrunk"] = calibration
    write_all(os.path.join(out, "safetensors"), seeds)


def shrink_calibration(path, k=4):
    """A real slr-calibrate file with every H cut to its leading k x k block
    (names, metadata and header layout as slr writes them)."""
    import json
    data = open(path, "rb").read()
    n = struct.unpack_from("<Q", data)[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = []
    for name, info in sorted(((k_, v) for k_, v in header.items() if k_ != "__metadata__"),
                             key=lambda kv: kv[1]["data_offsets"][0]):
        size = info["shape"][0]
        begin = base + info["data_offsets"][0]
        rows = [data[begin + 8 * size * i: begin + 8 * size * i + 8 * k] for i in range(min(k, size))]
        kk = min(k, size)
        tensors.append((name, info["dtype"], [kk, kk], b"".join(rows)))
    return write_safetensors(tensors, header.get("__metadata__"))


# --- text --------------------------------------------------------------------

def tokenizer_seeds(data, out, rng):
    seeds = {}
    stories = open(os.path.join(data, "text/tinystories_val.txt"), "rb").read()
    blocks = [b for b in stories.split(b"\n\n") if 0 < len(b) <= 1500]
    for i, block in enumerate(blocks[:40]):
        seeds["tinystories-%02d" % i] = block
    wiki = open(os.path.join(data, "text/wiki.test.raw"), "rb").read()
    for i in range(40):
        start = (len(wiki) // 40) * i
        seeds["wiki-%02d" % i] = wiki[start:start + 700]
    hand = [b"", b" ", b"  leading spaces", b"trailing   ", b"\n\n\n", b"\t\r\n \x0b\x0c",
            b"don't I'll we've they're it's 'S 'LL", b"1234567890 3.14159 1,000,000",
            "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \ud55c\uad6d\uc5b4 \u0645\u0631\u062d\u0628\u0627".encode(),
            "\U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467 e\u0301".encode(),
            b"\xff\xfe\xfd invalid \xc3 utf8 \xe2\x82 \xf0\x9f", b"\x00\x01\x02 nul",
            "\u2581marker\u2581".encode(), b"<s></s><unk><|endoftext|>", b"a" * 3000,
            b"!!!???...,,,;;;" * 20, "\u0663\u0664 \u00bd \u2167".encode()]
    for i, text in enumerate(hand):
        seeds["hand-%02d" % i] = text
    write_all(os.path.join(out, "tokenizer"), seeds)


# --- Hugging Face config.json / tokenizer.json ------------------------------

def hf_seeds(data, out, tools):
    """config.json variants and tokenizer.json files: stories260K's (written
    by slr-gguf-to-hf, when the tools are there), hand-made SentencePiece-
    style and byte-level BPE ones, and a GPT-2 vocabulary cut out of SmolLM2
    when it is fetched."""
    seeds = {}
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
              "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 5,
              "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 8,
              "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000,
              "tie_word_embeddings": True, "vocab_size": 512, "bos_token_id": 1,
              "eos_token_id": 2, "hidden_act": "silu", "rope_scaling": None,
              "torch_dtype": "float32"}
    seeds["config-stories260K.json"] = json.dumps(config, indent=2).encode()
    mistral = dict(config, architectures=["MistralForCausalLM"], model_type="mistral",
                   sliding_window=256, tie_word_embeddings=False)
    seeds["config-mistral.json"] = json.dumps(mistral).encode()
    old_style = {k: v for k, v in config.items() if k not in ("num_key_value_heads", "head_dim")}
    seeds["config-no-kv-heads.json"] = json.dumps(old_style).encode()

    def bpe(vocab, merges, pre_tokenizer, extra=None):
        value = {"version": "1.0", "added_tokens": [], "normalizer": None,
                 "pre_tokenizer": pre_tokenizer, "post_processor": None, "decoder": None,
                 "model": {"type": "BPE", "vocab": vocab, "merges": merges}}
        value.update(extra or {})
        return json.dumps(value, ensure_ascii=False).encode()

    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
    seeds["tokenizer-bytelevel-tiny.json"] = bpe(
        {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120ab": 4}, ["a b", "\u0120 ab"], byte_level)
    sentencepiece = bpe(
        {"<unk>": 0, "<0x21>": 1, "\u2581": 2, "a": 3, "b": 4, "ab": 5, "\u2581ab": 6},
        [["a", "b"], ["\u2581", "ab"]], None,
        {"normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}})
    value = json.loads(sentencepiece)
    value["model"].update(byte_fallback=True, unk_token="<unk>")
    seeds["tokenizer-sentencepiece-tiny.json"] = json.dumps(value, ensure_ascii=False).encode()
    smollm2 = os.environ.get("SLR_SMOLLM2_GGUF") or os.path.expanduser(
        "~/.cache/slr/SmolLM2-135M-Instruct.Q4_1.gguf")
    if os.path.exists(smollm2):
        tokens, _, merges, _ = gpt2_vocab_from(smollm2, limit=300)
        vocab = {t.decode("utf-8", "replace"): i for i, t in enumerate(tokens)}
        if len(vocab) == len(tokens):
            seeds["tokenizer-smollm2-cut.json"] = bpe(
                vocab, [m.decode("utf-8", "replace") for m in merges],
                {"type": "Sequence", "pretokenizers": [
                    {"type": "Digits", "individual_digits": True}, byte_level]})
    if tools and os.access(os.path.join(tools, "slr-gguf-to-hf"), os.X_OK):
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "hf")
            if run([os.path.join(tools, "slr-gguf-to-hf"),
                    os.path.join(data, "models/stories260K.gguf"), "-o", folder]):
                for name in ("config.json", "tokenizer.json"):
                    text = open(os.path.join(folder, name), "rb").read()
                    # Compact: the file is longer than the fuzzer's max_len.
                    seeds["stories260K-" + name] = json.dumps(
                        json.loads(text), ensure_ascii=False, separators=(",", ":")).encode()
    write_all(os.path.join(out, "hf"), seeds)


# --- MLIR --------------------------------------------------------------------

def mlir_seeds(src, out, max_bytes=16384):
    seeds = {}
    for root, _, files in os.walk(os.path.join(src, "test")):
        for f in sorted(files):
            if not f.endswith(".mlir"):
                continue
            path = os.path.join(root, f)
            text = open(path, encoding="utf-8").read()
            for i, chunk in enumerate(text.split("// -----")):
                lines = [l for l in chunk.splitlines()
                         if not l.lstrip().startswith(("// RUN", "// CHECK", "//  CHECK"))]
                body = "\n".join(lines).strip() + "\n"
                if len(body) > 1 and len(body.encode()) <= max_bytes:
                    rel = os.path.relpath(path, src).replace("/", "_")
                    seeds["%s-%02d" % (rel, i)] = body.encode()
    write_all(os.path.join(out, "mlir"), seeds)
    return seeds


def write_all(directory, seeds):
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw).returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--src", default=os.path.dirname(here))
    parser.add_argument("--data", default=os.path.join(os.path.dirname(here), "..", "shared", "data"))
    parser.add_argument("--tools", default=None)
    args = parser.parse_args()
    rng = random.Random(13)
    if not os.path.exists(os.path.join(args.data, "models/stories260K.gguf")):
        sys.exit("make-seeds: %s has no models/stories260K.gguf" % args.data)

    gguf = gguf_seeds(args.data, args.out, rng)
    tokenizer_seeds(args.data, args.out, rng)
    mlir = mlir_seeds(args.src, args.out)
    calibration = None
    tools = args.tools
    if tools and all(os.access(os.path.join(tools, t), os.X_OK)
                     for t in ["slr-import", "slr-calibrate", "slr-opt"]):
        with tempfile.TemporaryDirectory() as tmp:
            dense = os.path.join(tmp, "dense.mlirbc")
            calib = os.path.join(tmp, "calib.safetensors")
            text = os.path.join(args.data, "text/tinystories_val.txt")
            stories = os.path.join(args.data, "models/stories260K.gguf")
            if run([os.path.join(tools, "slr-import"), stories, "-o", dense]) and \
                    run([os.path.join(tools, "slr-calibrate"), dense, "--tokenizer", stories,
                         "--text", text, "--max-tokens", "512", "-o", calib]):
                calibration = shrink_calibration(calib)
            # The tiny llama's model IR, as bytecode and text.
            tiny = os.path.join(tmp, "tiny.gguf")
            open(tiny, "wb").write(gguf["tiny-llama-F32"])
            extra = {}
            if run([os.path.join(tools, "slr-import"), tiny, "-o", os.path.join(tmp, "tiny.mlirbc")]):
                extra["tiny-llama.mlirbc"] = open(os.path.join(tmp, "tiny.mlirbc"), "rb").read()
            for name, body in mlir.items():
                src = os.path.join(tmp, "in.mlir")
                dst = os.path.join(tmp, "out.mlirbc")
                open(src, "wb").write(body)
                if run([os.path.join(tools, "slr-opt"), src, "--emit-bytecode", "-o", dst]):
                    extra[name + ".mlirbc"] = open(dst, "rb").read()
            write_all(os.path.join(args.out, "mlir"), extra)
    elif tools:
        print("make-seeds: no slr tools in %s; no calibration or bytecode seeds" % tools,
              file=sys.stderr)
    safetensors_seeds(args.out, rng, calibration)
    hf_seeds(args.data, args.out, tools)
    for kind in ["gguf", "safetensors", "tokenizer", "hf", "mlir"]:
        d = os.path.join(args.out, kind)
        files = os.listdir(d)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in files)
        print("make-seeds: %-12s %4d seeds, %7d bytes" % (kind, len(files), size), file=sys.stderr)


if __name__ == "__main__":
    main()
