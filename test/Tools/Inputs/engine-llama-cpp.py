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
import sys

import numpy as np
from engine_protocol import CONTEXT, check_against_slr, windows
from llama_cpp import Llama


def mean_nll(llm, text, max_blocks):
    tokenize = lambda block: llm.tokenize(block.encode("utf-8"), add_bos=False, special=False)
    scored, done = windows(text, max_blocks, tokenize, llm.token_bos())
    total, count = 0.0, 0
    for window in scored:
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
    check_against_slr("llama.cpp", done, count, mean, base, reference, tolerance)


main()
