#!/usr/bin/env python3
"""Checks a Hugging Face export against the GGUF export of the same IR, the
way transformers + PEFT would combine it: for every PEFT target module,
W = weight + (alpha/r)·lora_B·lora_A (alpha and r per rank_pattern /
alpha_pattern), rows of q/k put back from HF's rotate_half order into
GGUF's pair order, must equal the GGUF base + adapter (scale alpha/r of
llama.cpp) to `tolerance`; every other tensor must be equal. Prints a
summary line.

usage: check-hf.py HF_DIR GGUF_DIR
"""
import json
import os
import re
import struct
import sys

LAYER = re.compile(r"model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)\.weight$")
GGUF_NAMES = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v",
              "o_proj": "attn_output", "gate_proj": "ffn_gate", "up_proj": "ffn_up",
              "down_proj": "ffn_down", "input_layernorm": "attn_norm",
              "post_attention_layernorm": "ffn_norm"}


def read_safetensors(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + length])
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        raw = data[8 + length + begin:8 + length + end]
        tensors[name] = (info["shape"], list(struct.unpack("<%df" % (len(raw) // 4), raw)))
    return tensors


def read_gguf(path):
    data = open(path, "rb").read()
    offset = 4

    def take(fmt):
        nonlocal offset
        values = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return values[0]

    def skip_value(kind):
        nonlocal offset
        if kind == 8:
            length = take("<Q")
            offset += length
        elif kind == 9:
            element, count = take("<I"), take("<Q")
            for _ in range(count):
                skip_value(element)
        else:
            offset += {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}[kind]

    _version, count, entries = take("<I"), take("<Q"), take("<Q")
    metadata = {}
    for _ in range(entries):
        length = take("<Q")
        key = data[offset:offset + length].decode()
        offset += length
        kind = take("<I")
        if kind in (4, 6):
            metadata[key] = take("<I" if kind == 4 else "<f")
        else:
            skip_value(kind)
    infos = []
    for _ in range(count):
        length = take("<Q")
        name = data[offset:offset + length].decode()
        offset += length
        dims = [take("<Q") for _ in range(take("<I"))]
        kind, tensor_offset = take("<I"), take("<Q")
        assert kind == 0, (name, kind)
        infos.append((name, dims, tensor_offset))
    alignment = metadata.get("general.alignment", 32)
    start = (offset + alignment - 1) // alignment * alignment
    tensors = {}
    for name, dims, tensor_offset in infos:
        size = 1
        for d in dims:
            size *= d
        values = struct.unpack_from("<%df" % size, data, start + tensor_offset)
        tensors[name] = (list(reversed(dims)), list(values))
    return metadata, tensors


def merged(weight, a, b, scale):
    (rows, cols), w = weight
    (rank, _), a = a
    w = list(w)
    for n in range(rows):
        for r in range(rank):
            coefficient = scale * b[1][n * rank + r]
            if coefficient:
                base = r * cols
                for k in range(cols):
                    w[n * cols + k] += coefficient * a[base + k]
    return w


def main():
    hf_dir, gguf_dir = sys.argv[1:3]
    tolerance = 1e-5
    config = json.load(open(os.path.join(hf_dir, "config.json")))
    adapter_config = json.load(open(os.path.join(hf_dir, "adapter_config.json")))
    hf = read_safetensors(os.path.join(hf_dir, "model.safetensors"))
    hf_adapter = read_safetensors(os.path.join(hf_dir, "adapter_model.safetensors"))
    _, base = read_gguf(os.path.join(gguf_dir, "model.gguf"))
    adapter_metadata, adapter = read_gguf(os.path.join(gguf_dir, "adapter.gguf"))
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    half = head_dim // 2

    def gguf_name(hf_name):
        match = LAYER.match(hf_name)
        if match:
            return "blk.%s.%s.weight" % (match.group(1), GGUF_NAMES[match.group(3)])
        match = re.match(r"model\.layers\.(\d+)\.(\w+)\.weight$", hf_name)
        if match:
            return "blk.%s.%s.weight" % (match.group(1), GGUF_NAMES[match.group(2)])
        return {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                "lm_head.weight": "output.weight"}[hf_name]

    def to_gguf_rows(name, shape, values):
        if not re.search(r"\.(q_proj|k_proj)\.", name):
            return values
        rows, cols = shape
        out = [0.0] * len(values)
        for hf_row in range(rows):
            head, within = divmod(hf_row, head_dim)
            gguf_row = head * head_dim + 2 * (within % half) + within // half
            out[gguf_row * cols:(gguf_row + 1) * cols] = values[hf_row * cols:(hf_row + 1) * cols]
        return out

    targets = set(adapter_config["target_modules"])
    worst, checked = 0.0, 0
    for name, (shape, values) in hf.items():
        module = name[:-len(".weight")]
        expected_name = gguf_name(name)
        assert base[expected_name][0] == shape, (name, shape, base[expected_name][0])
        if module in targets:
            r = adapter_config["rank_pattern"].get(module, adapter_config["r"])
            alpha = adapter_config["alpha_pattern"].get(module, adapter_config["lora_alpha"])
            prefix = "base_model.model." + module
            values = merged((shape, values), hf_adapter[prefix + ".lora_A.weight"],
                            hf_adapter[prefix + ".lora_B.weight"], alpha / r)
            g_a, g_b = adapter[expected_name + ".lora_a"], adapter[expected_name + ".lora_b"]
            g_rank = g_a[0][0]
            expected = merged(base[expected_name], g_a, g_b,
                              adapter_metadata["adapter.lora.alpha"] / g_rank)
        else:
            expected = base[expected_name][1]
        values = to_gguf_rows(name, shape, values)
        worst = max(worst, max(abs(x - y) for x, y in zip(values, expected)))
        checked += 1
    assert len(hf) == len(base), (len(hf), len(base))
    assert worst <= tolerance, worst
    print("%d tensors, %d with a LoRA adapter, equal to the GGUF export within %g"
          % (checked, len(targets), tolerance))


main()
