#!/usr/bin/env python3
"""The hostile-input battery: every class of malformed input, fed to every
input and output of the slr tools.

usage: bad-inputs.py [--tools DIR] --data DIR --work DIR [--jobs N]
                     [--report FILE.md] [--only REGEX] [--strict] [-v]

Each case runs one tool with one bad input (the others valid) and checks:
  - no signal and no sanitizer report (exit code < 128, no "LLVM ERROR",
    "Stack dump", "AddressSanitizer", "runtime error:" on stderr),
  - no hang (a timeout per case),
  - for bad input: a non-zero exit and one error ("<tool>: error: ..." or
    an MLIR "file:line:col: error: ..." with at most its source line, caret
    and a one-line note), no more than 4 KB on stderr,
  - no output file left behind (the output directory stays empty),
  - for the controls (valid input): exit 0 and the output written.
Cases marked XFAIL are known failures (issue 13 item "13.N", being fixed);
an XFAIL case that passes is reported (XPASS) and fails only with --strict.
Exit status: 1 if any case not marked XFAIL fails.
"""
import argparse
import concurrent.futures
import os
import random
import re
import resource
import shutil
import stat
import struct
import subprocess
import sys
import time

# --- inputs ------------------------------------------------------------------

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)


def kv(key, t, v):
    k = key.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<I", t) + enc(t, v)


def enc(t, v):
    if t == STR:
        v = v.encode() if isinstance(v, str) else v
        return struct.pack("<Q", len(v)) + v
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(enc(et, x) for x in items)
    return struct.pack({U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
                        F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}[t], v)


def gguf(kvs, tensors, version=3, alignment=32, n_tensors=None, n_kv=None, raw_infos=None):
    """tensors: [(name, dims, type id, bytes, offset or None)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                                len(kvs) if n_kv is None else n_kv)
    out += b"".join(kvs)
    blobs, offset = b"", 0
    infos = b""
    for name, dims, tid, data, off in tensors:
        n = name.encode()
        infos += struct.pack("<Q", len(n)) + n + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", tid, offset if off is None else off)
        pad = (-len(data)) % alignment
        blobs += data + b"\0" * pad
        offset += len(data) + pad
    out += infos if raw_infos is None else raw_infos
    out += b"\0" * ((-len(out)) % alignment)
    return out + blobs


def llama(dim=8, ffn=8, vocab=16, heads=2, kv_heads=None, layers=1, ctx=32, eps=1e-5,
          base=10000.0, nan=False, arch="llama", extra_kvs=(), override=None, tokenizer=()):
    kvs = [kv("general.architecture", STR, arch), kv("llama.embedding_length", U32, dim),
           kv("llama.feed_forward_length", U64 if ffn > 2**31 else U32, ffn),
           kv("llama.block_count", U32, layers), kv("llama.attention.head_count", U32, heads),
           kv("llama.attention.head_count_kv", U32, kv_heads or heads),
           kv("llama.context_length", I32, ctx),
           kv("llama.attention.layer_norm_rms_epsilon", F32, eps),
           kv("llama.rope.freq_base", F32, base)] + list(extra_kvs) + list(tokenizer)
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
        if count > 1 << 20:
            data = b""  # a declared size the file does not hold
        else:
            vals = [0.01 * ((i % 7) - 3) for i in range(count)]
            if nan and name == "blk.0.attn_q.weight":
                vals[1] = float("nan")
            data = struct.pack("<%df" % count, *vals)
        tensors.append([name, dims, 0, data, None])
    if override:
        override(tensors)
    return gguf(kvs, [tuple(t) for t in tensors])


def stories_tokenizer_kvs(path):
    """The tokenizer.ggml.* entries of stories260K, as encoded bytes."""
    data = open(path, "rb").read()
    pos = [24]

    def take(fmt):
        v = struct.unpack_from(fmt, data, pos[0])[0]
        pos[0] += struct.calcsize(fmt)
        return v

    def skip_value(t):
        if t == STR:
            n = take("<Q")
            pos[0] += n
        elif t == ARR:
            et, n = take("<I"), take("<Q")
            for _ in range(n):
                skip_value(et)
        else:
            pos[0] += struct.calcsize({U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i",
                                       F32: "f", BOOL: "?", U64: "Q", I64: "q", F64: "d"}[t])

    n_kv = struct.unpack_from("<Q", data, 16)[0]
    out = {}
    for _ in range(n_kv):
        start = pos[0]
        key = data[pos[0] + 8:pos[0] + 8 + struct.unpack_from("<Q", data, pos[0])[0]]
        pos[0] += 8 + len(key)
        t = take("<I")
        skip_value(t)
        if key.startswith(b"tokenizer."):
            out[key.decode()] = data[start:pos[0]]
    return out


def tokenizer_gguf(base, drop=(), replace=None):
    kvs = [v for k, v in base.items() if k not in drop]
    if replace:
        kvs = [v for k, v in base.items() if k not in replace and k not in drop]
        kvs += list(replace.values())
    return gguf(kvs, [])


def safetensors(header_bytes, data=b""):
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


def st_json(entries, metadata=None):
    import json
    h = dict(entries)
    if metadata is not None:
        h["__metadata__"] = metadata
    return json.dumps(h).encode()


def square(k, value=1.0):
    return struct.pack("<%dd" % (k * k), *[value if i % (k + 1) == 0 else 0.0 for i in range(k * k)])


GPU_LAYER = b"""func.func @f(%x: tensor<?x64xf16>, %v: tensor<128x32xf16>, %p: tensor<128x16xi8>)
    -> tensor<?x128xf16> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>}
      : tensor<?x64xf16>, tensor<128x32xf16>, tensor<128x16xi8> -> tensor<?x128xf16>
  return %y : tensor<?x128xf16>
}
"""

# --- cases -------------------------------------------------------------------

class Case:
    def __init__(self, cid, tool, args, cls, slot, expect="fail", xfail=None, timeout=60,
                 output=None, stdin=None):
        self.id, self.tool, self.args, self.cls, self.slot = cid, tool, args, cls, slot
        self.expect, self.xfail, self.timeout, self.output = expect, xfail, timeout, output
        self.result, self.detail, self.first_error, self.seconds = None, "", "", 0.0


class Battery:
    def __init__(self, tools, data, work):
        self.tools, self.data, self.work = tools, data, work
        self.inputs = os.path.join(work, "inputs")
        self.cases = []
        self.rng = random.Random(13)

    def path(self, name, content=None):
        p = os.path.join(self.inputs, name)
        if content is not None:
            with open(p, "wb") as f:
                f.write(content)
        return p

    def tool(self, name):
        return os.path.join(self.tools, name)

    def prepare(self):
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.inputs)
        self.gguf = os.path.join(self.data, "models/stories260K.gguf")
        text = open(os.path.join(self.data, "text/tinystories_val.txt"), "rb").read()
        self.text = self.path("text.txt", text.split(b"\n\n")[0][:400] + b"\n")
        self.ir = self.path("dense.mlirbc")
        self.calib = self.path("calib.safetensors")
        for cmd in ([self.tool("slr-import"), self.gguf, "-o", self.ir],
                    [self.tool("slr-calibrate"), self.ir, "--tokenizer", self.gguf, "--text",
                     self.text, "--max-tokens", "64", "-o", self.calib]):
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("bad-inputs: setup failed: %s\n%s" % (" ".join(cmd), r.stderr))
        self.ir_text = self.path("dense.mlir")
        # The text form of a small model: the tiny llama.
        self.tiny = self.path("tiny.gguf", llama())
        subprocess.run([self.tool("slr-import"), self.tiny, "-o", self.ir_text, "--emit=text"],
                       check=True, capture_output=True)
        # Hugging Face folders of stories260K (slr-gguf-to-hf): one file, two shards.
        self.hf = os.path.join(self.inputs, "hf")
        self.hf2 = os.path.join(self.inputs, "hf2")
        for folder, extra in [(self.hf, []), (self.hf2, ["--shards=2"])]:
            subprocess.run([self.tool("slr-gguf-to-hf"), self.gguf, "-o", folder] + extra,
                           check=True, capture_output=True)

    # Generic classes: any file slot.
    def generic(self, valid_kind):
        rnd = lambda n: bytes(self.rng.randrange(256) for _ in range(n))
        ir = open(self.ir, "rb").read()
        g = open(self.gguf, "rb").read()
        c = open(self.calib, "rb").read()
        fifo = os.path.join(self.inputs, "fifo")
        if not os.path.exists(fifo):
            os.mkfifo(fifo)
        loop = os.path.join(self.inputs, "loop")
        if not os.path.lexists(loop):
            os.symlink(loop, loop)
        dangling = os.path.join(self.inputs, "dangling")
        if not os.path.lexists(dangling):
            os.symlink(os.path.join(self.inputs, "nowhere"), dangling)
        valid = {"gguf": g, "ir": ir, "calib": c}[valid_kind]
        out = [
            ("nonexistent path", os.path.join(self.inputs, "missing.file"), None),
            ("empty file", self.path("empty", b""), None),
            ("directory", self.inputs, None),
            ("/dev/zero (endless)", "/dev/zero", None),
            ("FIFO without writer", fifo, None),
            ("symlink loop", loop, None),
            ("dangling symlink", dangling, None),
            ("random bytes (4 KB)", self.path("random4k", rnd(4096)), None),
            ("random bytes (1 MB)", self.path("random1m", rnd(1 << 20)), None),
            ("truncated to 10 bytes", self.path("trunc10." + valid_kind, valid[:10]), None),
            ("truncated to half", self.path("trunchalf." + valid_kind, valid[:len(valid) // 2]),
             None),
            ("truncated by 1 byte", self.path("trunc1." + valid_kind, valid[:-1]), None),
            ("NUL bytes (64 KB)", self.path("zeros", b"\0" * 65536), None),
            ("plain text", self.text, None),
        ]
        wrong = {"gguf": [("model IR instead", self.ir), ("safetensors instead", self.calib)],
                 "ir": [("GGUF instead", self.gguf), ("safetensors instead", self.calib)],
                 "calib": [("GGUF instead", self.gguf), ("model IR instead", self.ir)]}
        out += [(name, p, None) for name, p in wrong[valid_kind]]
        return out

    def add(self, *a, **k):
        case = Case("%03d" % (len(self.cases) + 1), *a, **k)
        self.cases.append(case)
        return case

    def build(self):
        T, G, X, I, C = self.text, self.gguf, self.ir, self.ir, self.calib

        # Controls: valid input works, the harness sees the output.
        self.add("slr-import", [G, "-o", "{out}"], "valid (control)", "gguf", "ok",
                 output="out.mlirbc")
        self.add("slr-opt", [X, "-o", "{out}"], "valid (control)", "IR", "ok", output="out.mlir")
        self.add("slr-calibrate", [X, "--tokenizer", G, "--text", T, "--max-tokens", "32",
                                   "-o", "{out}"], "valid (control)", "all", "ok",
                 output="out.safetensors")
        self.add("slr-eval", [X, "--tokenizer", G, "--text", T, "--max-blocks", "1",
                              "--json", "{out}"], "valid (control)", "all", "ok",
                 output="out.json")
        self.add("slr-opt", [X, "-o", "{out}", "--slr-compress=calibration=%s rank=4 "
                             "layers=^blk.0.attn_q$ quiet=true" % C],
                 "valid (control)", "calibration", "ok", output="out.mlirbc")
        self.add("slr-export", [X, "--format=gguf", "--source", G, "-o", "{out}"],
                 "valid (control)", "all", "ok", output="export")
        self.add("slr-calibrate", [X, "--tokenizer", G, "--text",
                                   self.path("binary.txt", bytes(range(256)) * 4),
                                   "--max-tokens", "32", "-o", "{out}"],
                 "binary text (any bytes are text)", "text", "ok", output="out.safetensors")

        # Every generic class in every file slot.
        slots = [
            ("slr-import", "gguf", lambda p: [p, "-o", "{out}"], "out.mlirbc"),
            ("slr-opt", "ir", lambda p: [p, "-o", "{out}"], "out.mlir"),
            ("slr-opt", "calib", lambda p: [X, "-o", "{out}",
                                            "--slr-compress=calibration=%s rank=4 quiet=true" % p],
             "out.mlirbc"),
            ("slr-calibrate", "ir", lambda p: [p, "--tokenizer", G, "--text", T, "-o", "{out}"],
             "out.safetensors"),
            ("slr-calibrate", "gguf", lambda p: [X, "--tokenizer", p, "--text", T, "-o", "{out}"],
             "out.safetensors"),
            ("slr-eval", "ir", lambda p: [p, "--tokenizer", G, "--text", T, "--json", "{out}"],
             "out.json"),
            ("slr-eval", "gguf", lambda p: [X, "--tokenizer", p, "--text", T, "--json", "{out}"],
             "out.json"),
            ("slr-export", "ir", lambda p: [p, "--format=packed", "-o", "{out}"], "export"),
            ("slr-export", "gguf", lambda p: [X, "--format=gguf", "--source", p, "-o", "{out}"],
             "export"),
        ]
        slot_names = {"gguf": "GGUF", "ir": "IR", "calib": "calibration"}
        for tool, kind, argv, output in slots:
            for cls, p, xfail in self.generic(kind):
                expect = "fail"
                if tool == "slr-opt" and kind == "ir" and cls == "empty file":
                    expect = "ok"  # an empty module is valid IR
                if tool == "slr-export" and kind == "ir" and cls == "empty file":
                    expect = "ok"  # no layers: an empty packed file
                if kind == "calib" and cls == "model IR instead":
                    pass
                self.add(tool, argv(p), cls, slot_names[kind], expect, xfail=xfail,
                         output=output, timeout=30)
        # The text slot: text is any bytes, so only unreadable files and
        # texts without a single window are errors.
        for tool, output, extra in [("slr-calibrate", "out.safetensors", ["-o", "{out}"]),
                                    ("slr-eval", "out.json", ["--json", "{out}"])]:
            for cls, p, xfail in [
                    ("nonexistent path", os.path.join(self.inputs, "missing.txt"), None),
                    ("directory", self.inputs, None),
                    ("/dev/zero (endless)", "/dev/zero", None),
                    ("FIFO without writer", os.path.join(self.inputs, "fifo"), None),
                    ("empty file", self.path("empty", b""), None),
                    ("whitespace only", self.path("blank.txt", b" \n\n \n"), None),
                    ("one character", self.path("one.txt", b"a"), None)]:
                # One character is one scored token: a valid (tiny) run.
                expect = "ok" if cls == "one character" else "fail"
                self.add(tool, [X, "--tokenizer", G, "--text", p] + extra, cls, "text",
                         expect, xfail=xfail, output=output, timeout=30)

        self.gguf_cases()
        self.tokenizer_cases()
        self.hf_cases()
        self.safetensors_cases()
        self.ir_cases()
        self.option_cases()
        self.output_cases()
        self.mark_known()

    def mark_known(self):
        """Known failures, by rule: an issue item ("13.N"), "upstream" (MLIR
        itself) or "new-N" (found by this battery, in docs/RELIABILITY.md).
        None are known today: every mark of issue 13 passes and was removed."""
        return

    def gguf_cases(self):
        big = 1 << 63
        good = llama()
        kvs_arch = kv("general.architecture", STR, "llama")
        cases = [
            ("bad magic", b"GGUX" + good[4:], None),
            ("version 1", good[:4] + struct.pack("<I", 1) + good[8:], None),
            ("version 99", good[:4] + struct.pack("<I", 99) + good[8:], None),
            ("header only", good[:24], None),
            ("tensor count 2^63", gguf([kvs_arch], [], n_tensors=big), None),
            ("metadata count 2^63", gguf([kvs_arch], [], n_kv=big), None),
            ("key length 2^63", b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, big) + b"k", None),
            ("string length 2^63", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1)
             + b"k" + struct.pack("<IQ", STR, big), None),
            ("array count 2^62", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1)
             + b"k" + struct.pack("<IIQ", ARR, U64, 1 << 62), None),
            ("nested arrays 100k deep", b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
             + struct.pack("<Q", 1) + b"k" + struct.pack("<I", ARR)
             + struct.pack("<IQ", ARR, 1) * 100000 + struct.pack("<IQ", U8, 0), None),
            ("unknown value type", gguf([struct.pack("<Q", 1) + b"k" + struct.pack("<I", 99)], []),
             None),
            ("tensor with 0 dims", gguf([kvs_arch], [("t", [], 0, b"\0" * 4, None)]), None),
            ("tensor with 5 dims", gguf([kvs_arch], [("t", [1] * 5, 0, b"\0" * 4, None)]), None),
            ("dims overflow 2^64", gguf([kvs_arch], [("t", [1 << 32, 1 << 32, 16], 0, b"", None)]),
             None),
            ("tensor offset past the end", gguf([kvs_arch], [("t", [4], 0, b"\0" * 16, 1 << 40)]),
             None),
            ("misaligned tensor offset", gguf([kvs_arch], [("t", [4], 0, b"\0" * 16, 3)]), None),
            ("unknown tensor type", gguf([kvs_arch], [("t", [4], 99, b"\0" * 16, None)]), None),
            ("unsupported type (Q6_K)", llama(override=lambda ts: ts[4].__setitem__(2, 14)),
             None),
            ("alignment 0", gguf([kvs_arch, kv("general.alignment", U32, 0)],
                                 [("t", [4], 0, b"\0" * 16, None)]), None),
            ("alignment 3", gguf([kvs_arch, kv("general.alignment", U32, 3)],
                                 [("t", [4], 0, b"\0" * 16, None)]), None),
            ("duplicate tensor names", gguf([kvs_arch], [("t", [4], 0, b"\0" * 16, None)] * 2),
             None),
            ("duplicate metadata keys", llama(extra_kvs=[kv("general.architecture", STR, "gpt2")]),
             None),
            ("overlapping tensor data", llama(override=lambda ts: ts[5].__setitem__(4, 0)), None),
            ("FFN size overflow (2^58 x 64)", llama(dim=64, ffn=1 << 58, vocab=16, heads=2),
             None),
            ("shape disagrees with metadata", llama(override=lambda ts: ts[4].__setitem__(
                1, [4, 16])), None),
            ("context_length 0", llama(ctx=0), None),
            ("context_length -1", llama(ctx=-1), None),
            ("RMS eps = +inf", llama(eps=float("inf")), None),
            ("RoPE base = +inf", llama(base=float("inf")), None),
            ("RMS eps = NaN", llama(eps=float("nan")), None),
            ("NaN weight", llama(nan=True), None),
            ("architecture gpt2", llama(arch="gpt2"), None),
            ("heads do not divide dim", llama(heads=3), None),
            ("KV heads do not divide heads", llama(heads=2, kv_heads=3), None),
            ("0 layers", llama(layers=0), None),
            ("missing tensor", llama(override=lambda ts: ts.pop(5)), None),
            ("truncated in metadata", good[:60], None),
            ("truncated in tensor infos", good[:400], None),
            ("truncated in tensor data", good[:len(good) - 100], None),
        ]
        for cls, content, xfail in cases:
            p = self.path("gguf-%02d.gguf" % len(self.cases), content)
            self.add("slr-import", [p, "-o", "{out}"], "GGUF: " + cls, "GGUF", xfail=xfail,
                     output="out.mlirbc", timeout=30)
        # The importer's IR flows on: NaN weights must not give a silent
        # NaN perplexity (item 9).
        nan_ir = self.path("nan.mlirbc")
        subprocess.run([self.tool("slr-import"), self.path("nan.gguf", llama(nan=True)),
                        "-o", nan_ir], capture_output=True)
        if os.path.exists(nan_ir):
            self.nan_ir = nan_ir

    def tokenizer_cases(self):
        base = stories_tokenizer_kvs(self.gguf)
        big = 1 << 63
        cases = [
            ("no tokenizer metadata", gguf([kv("general.architecture", STR, "llama")], [])),
            ("tokenizer model 'bert'", tokenizer_gguf(base, replace={
                "tokenizer.ggml.model": kv("tokenizer.ggml.model", STR, "bert")})),
            ("tokens not strings", tokenizer_gguf(base, replace={
                "tokenizer.ggml.tokens": kv("tokenizer.ggml.tokens", ARR, (U32, [1, 2]))})),
            ("empty vocabulary", tokenizer_gguf(base, replace={
                "tokenizer.ggml.tokens": kv("tokenizer.ggml.tokens", ARR, (STR, [])),
                "tokenizer.ggml.scores": kv("tokenizer.ggml.scores", ARR, (F32, [])),
                "tokenizer.ggml.token_type": kv("tokenizer.ggml.token_type", ARR, (I32, []))})),
            ("scores shorter than tokens", tokenizer_gguf(base, replace={
                "tokenizer.ggml.scores": kv("tokenizer.ggml.scores", ARR, (F32, [0.0]))})),
            ("token types of the wrong type", tokenizer_gguf(base, replace={
                "tokenizer.ggml.token_type": kv("tokenizer.ggml.token_type", ARR,
                                                (STR, [b"x"]))})),
            ("BOS id out of range", tokenizer_gguf(base, replace={
                "tokenizer.ggml.bos_token_id": kv("tokenizer.ggml.bos_token_id", U32, 100000)})),
            ("BOS id 2^63", tokenizer_gguf(base, replace={
                "tokenizer.ggml.bos_token_id": kv("tokenizer.ggml.bos_token_id", U64, big)})),
            ("duplicate tokens", tokenizer_gguf(base, replace={
                "tokenizer.ggml.tokens": kv("tokenizer.ggml.tokens", ARR,
                                            (STR, [b"a"] * 512))})),
            ("gpt2 without merges", tokenizer_gguf(base, replace={
                "tokenizer.ggml.model": kv("tokenizer.ggml.model", STR, "gpt2")})),
            ("vocabulary smaller than the model's", tokenizer_gguf(base, replace={
                "tokenizer.ggml.tokens": kv("tokenizer.ggml.tokens", ARR,
                                            (STR, [b"<unk>", b"<s>", b"</s>"])),
                "tokenizer.ggml.scores": kv("tokenizer.ggml.scores", ARR, (F32, [0.0] * 3)),
                "tokenizer.ggml.token_type": kv("tokenizer.ggml.token_type", ARR,
                                                (I32, [2, 3, 3]))})),
        ]
        for cls, content in cases:
            p = self.path("tok-%02d.gguf" % len(self.cases), content)
            # Duplicates are tolerated (the first wins, as in llama.cpp).
            expect = "either" if cls == "duplicate tokens" else "fail"
            self.add("slr-eval", [self.ir, "--tokenizer", p, "--text", self.text, "--json",
                                  "{out}"], "tokenizer: " + cls, "GGUF", expect,
                     output="out.json", timeout=30)
            self.add("slr-calibrate", [self.ir, "--tokenizer", p, "--text", self.text, "-o",
                                       "{out}"], "tokenizer: " + cls, "GGUF", expect,
                     output="out.safetensors", timeout=30)

    def hf_folder(self, base, changes):
        """A copy of the Hugging Face folder `base` with files changed:
        name -> bytes, None (removed), a function of the file's bytes, or
        ("link", target)."""
        folder = os.path.join(self.inputs, "hf-%03d" % len(self.cases))
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base, folder)
        for name, change in changes.items():
            path = os.path.join(folder, name)
            old = open(path, "rb").read() if os.path.isfile(path) else b""
            if os.path.lexists(path):
                os.remove(path)
            if change is None:
                continue
            if isinstance(change, tuple):
                os.symlink(change[1], path)
                continue
            with open(path, "wb") as f:
                f.write(change(old) if callable(change) else change)
        return folder

    def hf_cases(self):
        import json

        def edit_json(edit):
            def apply(old):
                value = json.loads(old)
                edit(value)
                return json.dumps(value).encode()
            return apply

        def setting(key, value):
            def edit(config):
                if value is None:
                    config.pop(key, None)
                else:
                    config[key] = value
            return edit_json(edit)

        def edit_header(edit):
            """model.safetensors with its header changed, the data kept."""
            def apply(old):
                (length,) = struct.unpack_from("<Q", old, 0)
                header = json.loads(old[8:8 + length])
                edit(header)
                text = json.dumps(header).encode()
                return struct.pack("<Q", len(text)) + text + old[8 + length:]
            return apply

        def retype(name, dtype, shape=None):
            def edit(header):
                header[name]["dtype"] = dtype
                if shape is not None:
                    header[name]["shape"] = shape
            return edit_header(edit)

        def rename(old_name, new_name):
            def edit(header):
                header[new_name] = header.pop(old_name)
            return edit_header(edit)

        def drop(name):
            return edit_header(lambda header: header.pop(name))

        def tokenizer(edit):
            return {"tokenizer.json": edit_json(edit)}

        def model_set(key, value):
            def edit(tok):
                tok["model"][key] = value
            return edit

        def vocab_edit(edit):
            def apply(tok):
                edit(tok["model"]["vocab"])
            return apply

        config_text = open(os.path.join(self.hf, "config.json"), "rb").read()
        tokenizer_text = open(os.path.join(self.hf, "tokenizer.json"), "rb").read()
        q = "model.layers.0.self_attn.q_proj.weight"
        down = "model.layers.0.mlp.down_proj.weight"
        index = "model.safetensors.index.json"
        shards = sorted(set(json.loads(open(os.path.join(self.hf2, index)).read())
                            ["weight_map"].values()))

        def index_edit(edit):
            return {index: edit_json(edit)}

        def remap(name, target):
            def edit(value):
                value["weight_map"][name] = target
            return edit

        # (class, base folder, changes, expect)
        cases = [
            ("valid (control)", self.hf, {}, "ok"),
            ("valid, two shards (control)", self.hf2, {}, "ok"),
            # config.json
            ("config.json missing", self.hf, {"config.json": None}, "fail"),
            ("config.json empty", self.hf, {"config.json": b""}, "fail"),
            ("config.json truncated to half", self.hf,
             {"config.json": config_text[:len(config_text) // 2]}, "fail"),
            ("config.json random bytes", self.hf,
             {"config.json": bytes(self.rng.randrange(256) for _ in range(2048))}, "fail"),
            ("config.json not UTF-8", self.hf, {"config.json": b'{"\xff": 1}'}, "fail"),
            ("config.json root is an array", self.hf, {"config.json": b"[]"}, "fail"),
            ("config.json nested 100k deep", self.hf,
             {"config.json": b"[" * 100000 + b"]" * 100000}, "fail"),
            ("config.json is /dev/zero", self.hf, {"config.json": ("link", "/dev/zero")},
             "fail"),
            ("config.json is a directory", self.hf, {"config.json": ("link", self.inputs)},
             "fail"),
            ("config.json: no hidden_size", self.hf,
             {"config.json": setting("hidden_size", None)}, "fail"),
            ("config.json: hidden_size a string", self.hf,
             {"config.json": setting("hidden_size", "64")}, "fail"),
            ("config.json: hidden_size -64", self.hf,
             {"config.json": setting("hidden_size", -64)}, "fail"),
            ("config.json: hidden_size 2^62", self.hf,
             {"config.json": setting("hidden_size", 1 << 62)}, "fail"),
            ("config.json: hidden_size 64.5", self.hf,
             {"config.json": setting("hidden_size", 64.5)}, "fail"),
            ("config.json: num_attention_heads 0", self.hf,
             {"config.json": setting("num_attention_heads", 0)}, "fail"),
            ("config.json: num_key_value_heads not dividing the heads", self.hf,
             {"config.json": setting("num_key_value_heads", 3)}, "fail"),
            ("config.json: num_hidden_layers one more than stored", self.hf,
             {"config.json": edit_json(lambda c: c.update(
                 num_hidden_layers=c["num_hidden_layers"] + 1))}, "fail"),
            ("config.json: num_hidden_layers one less than stored", self.hf,
             {"config.json": edit_json(lambda c: c.update(
                 num_hidden_layers=c["num_hidden_layers"] - 1))}, "fail"),
            ("config.json: vocab_size disagrees with the tensors", self.hf,
             {"config.json": edit_json(lambda c: c.update(vocab_size=c["vocab_size"] * 2))},
             "fail"),
            ("config.json: model_type bert", self.hf,
             {"config.json": setting("model_type", "bert")}, "fail"),
            ("config.json: architectures [GPT2LMHeadModel]", self.hf,
             {"config.json": setting("architectures", ["GPT2LMHeadModel"])}, "fail"),
            ("config.json: rms_norm_eps -1", self.hf,
             {"config.json": setting("rms_norm_eps", -1)}, "fail"),
            ("config.json: rope_theta a string", self.hf,
             {"config.json": setting("rope_theta", "ten thousand")}, "fail"),
            ("config.json: rope_theta 1e400 (inf)", self.hf,
             {"config.json": lambda old: old.replace(b'"rope_theta":', b'"rope_theta": 1e400, "x":')},
             "fail"),
            ("config.json: untied without lm_head", self.hf,
             {"config.json": setting("tie_word_embeddings", False)}, "fail"),
            # Shards and the index.
            ("model.safetensors missing", self.hf, {"model.safetensors": None}, "fail"),
            ("model.safetensors empty", self.hf, {"model.safetensors": b""}, "fail"),
            ("model.safetensors truncated to half", self.hf,
             {"model.safetensors": lambda old: old[:len(old) // 2]}, "fail"),
            ("model.safetensors truncated by 1 byte", self.hf,
             {"model.safetensors": lambda old: old[:-1]}, "fail"),
            ("model.safetensors header garbage", self.hf,
             {"model.safetensors": lambda old: old[:8] + b"\xff" * 64 + old[72:]}, "fail"),
            ("model.safetensors is a GGUF", self.hf,
             {"model.safetensors": open(self.gguf, "rb").read()}, "fail"),
            ("tensor of dtype I32", self.hf, {"model.safetensors": retype(q, "I32")}, "fail"),
            ("tensor of dtype F64 (size disagrees)", self.hf,
             {"model.safetensors": retype(q, "F64")}, "fail"),
            ("tensor of dtype BOOL", self.hf, {"model.safetensors": retype(q, "BOOL")}, "fail"),
            ("tensor transposed", self.hf, {"model.safetensors": edit_header(
                lambda h: h[down].update(shape=h[down]["shape"][::-1]))}, "fail"),
            ("tensor of rank 3", self.hf, {"model.safetensors": edit_header(
                lambda h: h[q].update(shape=[1] + h[q]["shape"]))}, "fail"),
            ("tensor missing", self.hf, {"model.safetensors": drop(q)}, "fail"),
            ("tensor of no llama name", self.hf,
             {"model.safetensors": rename(q, "model.layers.0.self_attn.qq_proj.weight")}, "fail"),
            ("tensor of a layer beyond the config", self.hf,
             {"model.safetensors": rename(q, "model.layers.99.self_attn.q_proj.weight")}, "fail"),
            ("index missing (shards only)", self.hf2, {index: None}, "fail"),
            ("index empty", self.hf2, {index: b""}, "fail"),
            ("index truncated", self.hf2, {index: lambda old: old[:len(old) // 2]}, "fail"),
            ("index without weight_map", self.hf2, index_edit(lambda v: v.pop("weight_map")),
             "fail"),
            ("index weight_map an array", self.hf2,
             index_edit(lambda v: v.update(weight_map=[])), "fail"),
            ("index names a missing shard", self.hf2, index_edit(remap(q, "nowhere.safetensors")),
             "fail"),
            ("index names a shard outside the folder", self.hf2,
             index_edit(remap(q, "../hf/model.safetensors")), "fail"),
            ("index maps a tensor to a number", self.hf2, index_edit(remap(q, 7)), "fail"),
            ("index maps a tensor to the wrong shard", self.hf2, index_edit(
                lambda v: v["weight_map"].update(
                    {q: [s for s in shards if s != v["weight_map"][q]][0]})), "fail"),
            ("index lists a tensor no shard has", self.hf2,
             index_edit(remap("model.layers.0.self_attn.x_proj.weight", shards[0])), "fail"),
            ("a shard missing", self.hf2, {shards[-1]: None}, "fail"),
            ("a shard truncated", self.hf2, {shards[-1]: lambda old: old[:len(old) // 3]},
             "fail"),
        ]
        # tokenizer.json: slr-import reads it beside the weights; slr-eval
        # reads it as --tokenizer FOLDER.
        tokenizer_cases = [
            ("tokenizer.json empty", {"tokenizer.json": b""}),
            ("tokenizer.json truncated to half",
             {"tokenizer.json": tokenizer_text[:len(tokenizer_text) // 2]}),
            ("tokenizer.json random bytes",
             {"tokenizer.json": bytes(self.rng.randrange(256) for _ in range(4096))}),
            ("tokenizer.json nested 100k deep",
             {"tokenizer.json": b"[" * 100000 + b"]" * 100000}),
            ("tokenizer.json is /dev/zero", {"tokenizer.json": ("link", "/dev/zero")}),
            ("tokenizer: model type WordPiece", tokenizer(model_set("type", "WordPiece"))),
            ("tokenizer: no model", tokenizer(lambda t: t.pop("model"))),
            ("tokenizer: vocab missing", tokenizer(lambda t: t["model"].pop("vocab"))),
            ("tokenizer: vocab an array", tokenizer(model_set("vocab", []))),
            ("tokenizer: vocab empty", tokenizer(lambda t: (t["model"].update(vocab={}),
                                                            t.update(added_tokens=[])))),
            ("tokenizer: an id 2^40", tokenizer(vocab_edit(lambda v: v.update(huge=1 << 40)))),
            ("tokenizer: an id 2^31-1", tokenizer(vocab_edit(lambda v: v.update(huge=2**31 - 1)))),
            ("tokenizer: an id 10^6 (a gap)", tokenizer(vocab_edit(lambda v: v.update(
                huge=1000000)))),
            ("tokenizer: an id -1", tokenizer(vocab_edit(lambda v: v.update(neg=-1)))),
            ("tokenizer: an id 1.5", tokenizer(vocab_edit(lambda v: v.update(half=1.5)))),
            ("tokenizer: an id a string", tokenizer(vocab_edit(lambda v: v.update(s="3")))),
            ("tokenizer: two tokens, one id", tokenizer(vocab_edit(lambda v: v.update(
                {"zz-dup": next(iter(v.values()))})))),
            ("tokenizer: a token missing (a gap)", tokenizer(vocab_edit(
                lambda v: v.pop([k for k, i in v.items() if i == len(v) // 2][0])))),
            ("tokenizer: merges an object", tokenizer(model_set("merges", {}))),
            ("tokenizer: a merge without a space", tokenizer(model_set("merges", ["abc"]))),
            ("tokenizer: a merge of unknown tokens", tokenizer(model_set(
                "merges", ["ééé þþþ"]))),
            ("tokenizer: a merge a number", tokenizer(model_set("merges", [5]))),
            ("tokenizer: a merge of three", tokenizer(model_set("merges", [["a", "b", "c"]]))),
            ("tokenizer: added_tokens an object", tokenizer(lambda t: t.update(added_tokens={}))),
            ("tokenizer: an added token without id", tokenizer(lambda t: t.update(
                added_tokens=[{"content": "<x>"}]))),
            ("tokenizer: an added token id 2^40", tokenizer(lambda t: t.update(
                added_tokens=[{"content": "<x>", "id": 1 << 40}]))),
            ("tokenizer: an added token id 10^6", tokenizer(lambda t: t.update(
                added_tokens=[{"content": "<x>", "id": 1000000}]))),
            ("tokenizer: more tokens than vocab_size", tokenizer(vocab_edit(lambda v: v.update(
                {"zz-extra-%d" % i: len(v) + i for i in range(1)})))),
            ("tokenizer: pre_tokenizer of unknown type", tokenizer(lambda t: t.update(
                pre_tokenizer={"type": "Nonsense"}))),
            ("tokenizer: decoder an array", tokenizer(lambda t: t.update(decoder=[]))),
            ("config.json: bos_token_id out of range", {"config.json": setting(
                "bos_token_id", 1 << 40)}),
            ("config.json: bos_token_id a string", {"config.json": setting(
                "bos_token_id", "one")}),
        ]
        for cls, base, changes, expect in cases:
            self.add("slr-import", [self.hf_folder(base, changes), "-o", "{out}"],
                     "hf: " + cls, "HF folder", expect, output="out.mlirbc", timeout=60)
        for cls, changes in tokenizer_cases:
            folder = self.hf_folder(self.hf, changes)
            # slr does not read the decoder (decoding follows the model kind).
            expect = "either" if "decoder" in cls else "fail"
            self.add("slr-import", [folder, "-o", "{out}"], "hf: " + cls, "HF folder", expect,
                     output="out.mlirbc", timeout=60)
            self.add("slr-eval", [self.ir, "--tokenizer", folder, "--text", self.text,
                                  "--json", "{out}"], "hf: " + cls, "HF folder", expect,
                     output="out.json", timeout=60)

    def safetensors_cases(self):
        import json
        ok_h = st_json({"blk.0.attn_q": {"dtype": "F64", "shape": [64, 64],
                                         "data_offsets": [0, 64 * 64 * 8]}}, {"tokens": "64"})
        data = square(64)
        cases = [
            ("header length 2^63", struct.pack("<Q", 1 << 63) + b"{}", None),
            ("header length past the end", struct.pack("<Q", 1000) + b"{}", None),
            ("header not JSON", safetensors(b"{not json"), None),
            ("JSON nested 100k deep", safetensors(b"[" * 100000 + b"]" * 100000), None),
            ("JSON root is an array", safetensors(b"[]"), None),
            ("header not UTF-8", safetensors(b'{"\xff\xfe": 1}'), None),
            ("unknown dtype", safetensors(st_json({"x": {"dtype": "F128", "shape": [1],
                                                         "data_offsets": [0, 16]}}), b"\0" * 16),
             None),
            ("negative dimension", safetensors(st_json({"x": {"dtype": "F64", "shape": [-1, 1],
                                                              "data_offsets": [0, 8]}}),
                                               b"\0" * 8), None),
            ("offsets reversed", safetensors(st_json({"x": {"dtype": "F64", "shape": [1, 1],
                                                            "data_offsets": [8, 0]}}), b"\0" * 8),
             None),
            ("offsets past the end", safetensors(st_json({"x": {"dtype": "F64", "shape": [1, 1],
                                                                "data_offsets": [0, 1 << 40]}}),
                                                 b"\0" * 8), None),
            ("size disagrees with shape", safetensors(st_json(
                {"x": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 8]}}), b"\0" * 8),
             None),
            ("element count overflows", safetensors(st_json(
                {"x": {"dtype": "F64", "shape": [1 << 62, 1 << 62], "data_offsets": [0, 0]}})),
             None),
            ("overlapping tensors", safetensors(st_json(
                {"a": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 8]},
                 "b": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 8]}}), b"\0" * 8),
             None),
            ("matrix not square", safetensors(st_json(
                {"blk.0.attn_q": {"dtype": "F64", "shape": [2, 4], "data_offsets": [0, 64]}}),
                b"\0" * 64), None),
            ("NaN in H", safetensors(ok_h, square(64, float("nan"))), None),
            ("tokens not an integer", safetensors(st_json(
                {"blk.0.attn_q": {"dtype": "F64", "shape": [64, 64],
                                  "data_offsets": [0, 64 * 64 * 8]}}, {"tokens": "many"}), data),
             None),
            ("metadata value not a string", safetensors(st_json({}, {"tokens": 5})), None),
            ("H of the wrong size for the layer", safetensors(st_json(
                {"blk.0.attn_q": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 32]}}),
                square(2)), None),
            ("H = 0 (no tokens seen)", safetensors(ok_h, square(64, 0.0)), None),
            ("H tiny-scaled (1e-300)", safetensors(ok_h, square(64, 1e-300)), None),
            ("H integer dtype", safetensors(st_json(
                {"blk.0.attn_q": {"dtype": "I64", "shape": [64, 64],
                                  "data_offsets": [0, 64 * 64 * 8]}}), data), None),
        ]
        for cls, content, xfail in cases:
            p = self.path("st-%02d.safetensors" % len(self.cases), content)
            # H = 0 is a valid statistic (dead inputs get H_jj = 1).
            # H = 0 is valid too; any positive scale of H compresses.
            expect = ("either" if cls.startswith("H = 0") else
                      "ok" if cls.startswith("H tiny-scaled") else "fail")
            # One layer: the error must come from reading or using its H.
            self.add("slr-opt", [self.ir, "-o", "{out}",
                                 "--slr-compress=calibration=%s rank=4 layers=^blk.0.attn_q$ "
                                 "quiet=true" % p],
                     "calibration: " + cls, "calibration", expect, xfail=xfail,
                     output="out.mlirbc", timeout=60)

    def ir_cases(self):
        ir = open(self.ir, "rb").read()
        cases = [
            ("syntax error", b"func.func @forward( {\n", None, None),
            ("unknown op", b"\"foo.bar\"() : () -> ()\n", None, None),
            ("slr op that does not verify",
             b"func.func @f(%v: tensor<4x3xf32>, %p: tensor<4x2xi8>) -> tensor<4x8xf32> {\n"
             b"  %w = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x3xf32>, "
             b"tensor<4x2xi8> -> tensor<4x8xf32>\n  return %w : tensor<4x8xf32>\n}\n", None, None),
            ("pattern 5:4", b"func.func @f() attributes {p = #slr.nm<5, 4>} { return }\n",
             None, None),
            ("parens nested 100k deep", b"func.func @f() -> " + b"(" * 100000 + b"i32"
             + b")" * 100000 + b"\n", None, None),
            ("bytecode, bad version", ir[:4] + b"\x7f" + ir[5:], None, None),
            ("bytecode, garbage after magic", ir[:8] + bytes(self.rng.randrange(256)
                                                             for _ in range(4096)), None, None),
            # Found by slr-fuzz-mlir: MLIR 22.1's reader takes a count of
            # ~7e16 from the file and dies in SmallVector (LLVM ERROR).
            ("bytecode, a count past what MLIR can allocate", bytes.fromhex(
                "4d4cef520d4d4c495232322e312e38000121070105090b01030f030507130505171b0331150d"
                "01130b130b0b1313131313050339010d17071717170b0287050f170101010d05051117010303"
                "1701033117010519170107111701090723736c722e6e6d3c322c20343e001b05114103"
                "0b05030103011b051197031b0511110b0141046105015003010704510301050350090307"
                "043d03090f03030b0007460d05050709030109460f0503010503050504110307060301"
                "050100b51319330f0b0f0f090b116275696c74696e0066756e6300736c72006d6f64756c"
                "650072657475726e007061636b00756e7061636b002f746d702f746d705f716b6d717278"
                "5f2f696e2e6d6c6972007061636b5f756e7061636b00081b000001010d0105010107010313"),
             None, None),
            # Found by slr-fuzz-mlir: MLIR 22.1's reader recurses for minutes;
            # the tools' read deadline (SLR_READ_DEADLINE_S, set below) ends it.
            ("bytecode on which MLIR's reader does not finish", bytes.fromhex(
                "4d4cef520d4d4c495232322e312e380001170501050701030b0305070f03311d09011d0b1313"
                "0b130b0f0b850b0b13131301093b0f130702bd05091703010101030709050b03030b0d050d11"
                "03410d05616666696e655f6d61703c2864352c20643129202d3e202864302c206431293e0005"
                "0f0511170105031701053b17010707150500ffffffffffffffff810711010204050301010904"
                "3b050150030107042b0301050351170503070415030307030319fa05001b060301050100c513"
                "11130523330f0f0b116275696c74696e0066756e63006d6f64756c65008e9a8b8a8d91ffce74"
                "6d702f746d705f716b6d7172785f2f696e2e6d6c697200736c722e6770755f6c61756e636865"
                "72006e006861735f626f64790070726976617465000817050501010d010f0101132b"),
             None, None),
            ("empty module", b"module {}\n", None, "ok-for-slr-opt"),
            ("@forward of the wrong type", b"func.func @forward(%a: f32) -> f32 {\n"
             b"  return %a : f32\n}\n", None, "ok-for-slr-opt"),
            ("model with NaN weights", None, None, "ok-for-slr-opt"),
        ]
        for cls, content, xfail, note in cases:
            if content is None:
                if not hasattr(self, "nan_ir"):
                    continue
                p = self.nan_ir
            else:
                p = self.path("ir-%02d.mlir" % len(self.cases), content)
            for tool, argv, output in [
                    ("slr-opt", [p, "-o", "{out}"], "out.mlir"),
                    ("slr-calibrate", [p, "--tokenizer", self.gguf, "--text", self.text, "-o",
                                       "{out}"], "out.safetensors"),
                    ("slr-eval", [p, "--tokenizer", self.gguf, "--text", self.text, "--json",
                                  "{out}"], "out.json")]:
                expect = "ok" if tool == "slr-opt" and note == "ok-for-slr-opt" else "fail"
                self.add(tool, argv, "IR: " + cls, "IR", expect,
                         xfail=None if expect == "ok" else xfail, output=output, timeout=60)

    def option_cases(self):
        X, C = self.ir, self.calib

        def compress(options, cls, xfail=None, expect="fail"):
            self.add("slr-opt", [X, "-o", "{out}", "--slr-compress=calibration=%s %s" % (C, options)],
                     "option: " + cls, "options", expect, xfail=xfail, output="out.mlirbc",
                     timeout=120)

        compress("rank=abc", "rank=abc", None)
        compress("rank=-1", "rank=-1")
        compress("seed=-1 layers=^blk.0.attn_q$", "seed=-1", None)
        compress("quiet=maybe", "bad bool", None)
        compress("method=foo", "unknown method")
        compress("sparsity=2:3 layers=^blk.0.attn_q$", "sparsity 2:3 (compresses nothing)",
                 None)
        compress("sparsity=4:2", "sparsity 4:2")
        compress("sparsity=0:4", "sparsity 0:4")
        compress("sparsity=a:b", "sparsity a:b")
        # Clamped to min(N, K) with a warning.
        compress("rank=100000 layers=^blk.0.attn_q$", "rank above min(N, K)", expect="ok")
        compress("layers=(", "bad layer regex")
        compress("percdamp=-1 layers=^blk.0.attn_q$", "percdamp=-1")
        compress("compression-ratio=2 layers=^blk.0.attn_q$", "compression-ratio=2")
        self.add("slr-opt", [X, "-o", "{out}", "--slr-compress=rank=4"],
                 "option: no calibration file", "options", output="out.mlirbc", timeout=60)
        gpu = self.path("gpu.mlir", GPU_LAYER)
        self.add("slr-opt", [gpu, "-o", "{out}", "--slr-gpu-pipeline=chip=sm_75"],
                 "option: GPU chip sm_75", "options", output="out.mlir",
                 timeout=120)
        self.add("slr-opt", [gpu, "-o", "{out}", "--slr-gpu-pipeline=format=foo"],
                 "option: GPU format=foo", "options", output="out.mlir",
                 timeout=120)
        # By default such an op is lowered for the CPU (with a warning);
        # strict=true makes it an error.
        self.add("slr-opt", [gpu, "-o", "{out}", "--slr-gpu-pipeline=tile-n=96 strict=true"],
                 "option: GPU tile-n=96 strict (N not a multiple)", "options",
                 output="out.mlir", timeout=120)
        self.add("slr-opt", [X, "-o", "{out}", "--no-such-pass"], "option: unknown flag",
                 "options", output="out.mlir")
        self.add("slr-calibrate", [X, "--tokenizer", self.gguf, "--text", self.text,
                                   "--context", "1", "-o", "{out}"], "option: --context 1",
                 "options", output="out.safetensors")
        self.add("slr-calibrate", [X, "--tokenizer", self.gguf, "--text", self.text,
                                   "--max-tokens", "-5", "-o", "{out}"], "option: --max-tokens -5",
                 "options", output="out.safetensors")
        self.add("slr-eval", [X, "--tokenizer", self.gguf, "--text", self.text,
                              "--context", "0", "--json", "{out}"], "option: --context 0",
                 "options", output="out.json")
        self.add("slr-eval", [X, "--tokenizer", self.gguf, "--text", self.text,
                              "--protocol", "foo", "--json", "{out}"], "option: --protocol foo",
                 "options", output="out.json")

    def output_cases(self):
        X, G, T, C = self.ir, self.gguf, self.text, self.calib
        writers = [
            ("slr-import", lambda o: [G, "-o", o]),
            ("slr-opt", lambda o: [X, "-o", o]),
            ("slr-calibrate", lambda o: [X, "--tokenizer", G, "--text", T, "--max-tokens", "32",
                                         "-o", o]),
            ("slr-eval", lambda o: [X, "--tokenizer", G, "--text", T, "--max-blocks", "1",
                                    "--json", o]),
            ("slr-opt report=", lambda o: [X, "-o", "{out}",
                                           "--slr-compress=calibration=%s rank=4 "
                                           "layers=^blk.0.attn_q$ quiet=true report=%s" % (C, o)]),
        ]
        for tool, argv in writers:
            exe = tool.split()[0]
            for cls, target, xfail in [
                    ("output dir does not exist", "{dir}/no/such/dir/out", None),
                    ("output path is a directory", "{dir}", None),
                    ("output on a full disk (/dev/full)", "/dev/full", None)]:
                self.add(exe, argv(target), cls, "output" if "report" not in tool else "report",
                         xfail=xfail, output="out" if "report" in tool else None, timeout=60)
        # slr-export writes a folder: it makes missing ones; a file in the way
        # or a device is an error.
        for cls, target in [("output folder is a file", X),
                            ("output on a full disk (/dev/full)", "/dev/full")]:
            self.add("slr-export", [X, "--format=gguf", "--source", G, "-o", target], cls,
                     "output", timeout=60)


# --- running -----------------------------------------------------------------

BAD = re.compile(r"LLVM ERROR|Stack dump|PLEASE submit|AddressSanitizer|LeakSanitizer|"
                 r"UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|Aborted")
# An error line: "<tool>: error: ...", MLIR's "file:l:c: error: ...", or
# LLVM's command-line parser's own one-liners.
ERROR_LINE = re.compile(r"\berror\b|Unknown command line argument|for the -+[\w-]+ option:|"
                        r"must be specified at least once|Too many positional|"
                        r"Not enough positional", re.I)
MAX_STDERR = 4096


def uses_asan(tool):
    try:
        out = subprocess.run(["ldd", tool], capture_output=True, text=True).stdout
    except OSError:
        return False
    return "libasan" in out


def run_case(battery, case, asan):
    out_dir = os.path.join(battery.work, "out", case.id)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, case.output or "out")
    args = [a.replace("{out}", out).replace("{dir}", out_dir) for a in case.args]
    env = dict(os.environ)
    # The deadline for reading MLIR bytecode (a minute or more by default):
    # every input here is tiny.
    env["SLR_READ_DEADLINE_S"] = "10"
    env["OPENBLAS_NUM_THREADS"] = "1"
    if asan:
        # RLIMIT_AS cannot be used with ASan's shadow memory; this is its own
        # bound on the resident size.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":hard_rss_limit_mb=3072"

    def limits():
        if not asan:
            resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    start = time.time()
    try:
        r = subprocess.run([battery.tool(case.tool)] + args, capture_output=True,
                           timeout=case.timeout, preexec_fn=limits, stdin=subprocess.DEVNULL,
                           env=env)
        code, stderr = r.returncode, r.stderr.decode(errors="replace")
        timed_out = False
    except subprocess.TimeoutExpired as e:
        code, stderr, timed_out = None, (e.stderr or b"").decode(errors="replace"), True
    case.seconds = time.time() - start
    left = sorted(os.listdir(out_dir))
    # Lines end at "\n" only: a binary file's "line" holds other breaks.
    lines = [l for l in stderr.split("\n") if l.strip()]
    errors = [l for l in lines if ERROR_LINE.search(l)]
    case.first_error = errors[0].strip() if errors else (lines[-1].strip() if lines else "")
    problems = []
    if timed_out:
        problems.append("hang (> %ds)" % case.timeout)
    elif code < 0 or code >= 128:
        problems.append("signal %d" % (-code if code < 0 else code - 128))
    if BAD.search(stderr):
        problems.append("crash report: " + BAD.search(stderr).group(0))
    failing = case.expect == "fail" or (case.expect == "either" and code != 0)
    if failing and not timed_out:
        if code == 0:
            problems.append("exit 0")
        if left:
            problems.append("left %s" % ",".join(left))
        if len(errors) != 1:
            problems.append("%d error lines" % len(errors))
        # MLIR's form: the error, the source line, a caret and a one-line
        # "see current operation" note.
        elif len(lines) - lines.index(errors[0]) > 4:
            problems.append("%d lines after the error" % (len(lines) - lines.index(errors[0]) - 1))
        if len(stderr) > MAX_STDERR:
            problems.append("%d bytes on stderr" % len(stderr))
    elif not timed_out:
        if code != 0:
            problems.append("exit %d" % code)
        if case.output and not os.path.exists(out):
            problems.append("no output")
    shutil.rmtree(out_dir, ignore_errors=True)
    passed = not problems
    case.detail = "; ".join(problems)
    if case.xfail:
        case.result = "XPASS" if passed else "XFAIL"
    else:
        case.result = "PASS" if passed else "FAIL"
    return case


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", help="the tools' directory (default: slr-opt's on PATH)")
    parser.add_argument("--data", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--report")
    parser.add_argument("--only")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if not args.tools:
        found = shutil.which("slr-opt")
        if not found:
            sys.exit("bad-inputs: no --tools and no slr-opt on PATH")
        args.tools = os.path.dirname(found)
    battery = Battery(os.path.abspath(args.tools), os.path.abspath(args.data),
                      os.path.abspath(args.work))
    battery.prepare()
    battery.build()
    cases = battery.cases
    if args.only:
        cases = [c for c in cases if re.search(args.only, "%s %s %s" % (c.tool, c.slot, c.cls))]
    asan = uses_asan(battery.tool("slr-opt"))
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda c: run_case(battery, c, asan), cases))
    counts = {}
    for c in cases:
        counts[c.result] = counts.get(c.result, 0) + 1
        if c.result in ("FAIL", "XPASS") or args.verbose:
            print("%-5s %s %-13s %-11s %-40s %s%s" % (
                c.result, c.id, c.tool, c.slot, c.cls,
                c.detail or "ok", " [issue %s]" % c.xfail if c.xfail else ""))
    print("bad-inputs: %d cases in %.0f s: %s" % (
        len(cases), time.time() - start,
        ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items()))))
    if args.report:
        with open(args.report, "w") as f:
            f.write("| # | tool | input | class | result | what the user sees |\n")
            f.write("|---|---|---|---|---|---|\n")
            for c in cases:
                seen = c.first_error.replace("|", "\\|").replace(battery.work, "…")
                if len(seen) > 140:
                    seen = seen[:137] + "..."
                result = c.result + (" (13.%s)" % c.xfail[3:] if c.xfail else "")
                if c.detail:
                    result += ": " + c.detail
                f.write("| %s | %s | %s | %s | %s | %s |\n" % (
                    c.id, c.tool, c.slot, c.cls, result, "`%s`" % seen if seen else ""))
    failed = counts.get("FAIL", 0) + (counts.get("XPASS", 0) if args.strict else 0)
    if counts.get("XPASS"):
        print("bad-inputs: XPASS cases are fixed: remove their XFAIL mark")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
