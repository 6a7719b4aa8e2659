#!/usr/bin/env python3
"""Scores text with llama.cpp (llama-cpp-python) on slr-export's GGUF base
model + LoRA adapter, with slr-eval's blocks protocol: the text split at
blank lines, each block tokenized (llama.cpp's own tokenizer, no BOS) and
scored in windows of BOS + up to CONTEXT-1 tokens, every token a target.
Prints the mean NLL and checks it against slr-eval's JSON (perplexity within
TOLERANCE, relative), and that the base model alone (S, no adapter) scores
differently by more than that (the adapter is applied).

usage: engine-llama-cpp.py MODEL.gguf ADAPTER.gguf TEXT MAX_BLOCKS SLR_EVAL.json TOLERANCE
"""
import json
import math
import sys

import numpy as np
from llama_cpp import Llama

CONTEXT = 512


def blocks(text):
    current = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            yield "\n".join(current).strip()
            current = []
    if current:
        yield "\n".join(current).strip()


def mean_nll(llm, text, max_blocks):
    bos = llm.token_bos()
    total, count, done = 0.0, 0, 0
    for block in blocks(text):
        if done >= int(max_blocks):
            break
        tokens = llm.tokenize(block.encode("utf-8"), add_bos=False, special=False)
        if not tokens:
            continue
        done += 1
        for begin in range(0, len(tokens), CONTEXT - 1):
            window = [bos] + tokens[begin:begin + CONTEXT - 1]
            llm.reset()
            llm.eval(window)
            logits = np.asarray(llm.scores[:len(window) - 1], dtype=np.float64)
            shifted = logits - logits.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            targets = np.asarray(window[1:])
            total -= float(log_probs[np.arange(len(targets)), targets].sum())
            count += len(targets)
    return total / count, count, done


def main():
    model, adapter, text_path, max_blocks, reference, tolerance = sys.argv[1:7]
    text = open(text_path, encoding="utf-8", errors="replace").read()
    # Default context parameters (so the KV cache is llama.cpp's F16).
    options = dict(n_ctx=CONTEXT, n_batch=CONTEXT, logits_all=True, n_threads=1,
                   verbose=False)
    llm = Llama(model_path=model, lora_path=adapter, **options)
    mean, count, done = mean_nll(llm, text, max_blocks)
    # S alone, without the adapter: shows the adapter is applied.
    base, _, _ = mean_nll(Llama(model_path=model, **options), text, max_blocks)
    slr = json.load(open(reference))
    ratio = math.exp(mean) / math.exp(slr["mean_nll"])
    print("llama.cpp: %d blocks, %d tokens, mean NLL %.6f, perplexity %.4f (S alone, no "
          "adapter: %.4f); slr: %d tokens, mean NLL %.6f, perplexity %.4f" % (
              done, count, mean, math.exp(mean), math.exp(base), slr["predicted_tokens"],
              slr["mean_nll"], math.exp(slr["mean_nll"])))
    assert abs(ratio - 1) <= float(tolerance), ratio
    assert abs(base - mean) > float(tolerance) * mean, "adapter has no effect"
    print("perplexity within %s of slr's" % tolerance)


main()
