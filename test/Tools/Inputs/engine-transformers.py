#!/usr/bin/env python3
"""Scores text with transformers + PEFT on slr-export's Hugging Face folder
(config.json, model.safetensors, tokenizer.json, adapter_config.json,
adapter_model.safetensors), with slr-eval's blocks protocol: the text split
at blank lines, each block tokenized (the folder's tokenizer.json through
the tokenizers library, no BOS) and scored in windows of BOS + up to
CONTEXT-1 tokens, every token a target. The model runs in float32 on the
CPU. Prints the mean NLL and checks it against slr-eval's JSON (perplexity
within TOLERANCE, relative).

usage: engine-transformers.py HF_DIR TEXT MAX_BLOCKS SLR_EVAL.json TOLERANCE
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import torch  # noqa: E402
from engine_protocol import check_against_slr, windows  # noqa: E402
from peft import PeftModel  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402


def main():
    folder, text_path, max_blocks, reference, tolerance = sys.argv[1:6]
    torch.set_num_threads(1)
    # The base model alone first: given the whole folder, transformers would
    # find adapter_config.json and load the adapter itself.
    with tempfile.TemporaryDirectory() as base:
        for name in ("config.json", "model.safetensors"):
            os.symlink(os.path.abspath(os.path.join(folder, name)), os.path.join(base, name))
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    # The adapter is applied by PEFT, not merged: W·x + (alpha/r)·B·(A·x).
    model = PeftModel.from_pretrained(model, folder)
    model.eval()
    tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    config = json.load(open(os.path.join(folder, "config.json")))
    text = open(text_path, encoding="utf-8", errors="replace").read()
    scored, done = windows(text, max_blocks,
                           lambda block: tokenizer.encode(block, add_special_tokens=False).ids,
                           config["bos_token_id"])
    total, base_total, count = 0.0, 0.0, 0
    with torch.no_grad():
        for window in scored:
            ids = torch.tensor([window])
            targets = ids[0, 1:]

            def nll():
                logits = model(input_ids=ids).logits[0, :-1].double()
                log_probs = torch.log_softmax(logits, dim=-1)
                return -float(log_probs[torch.arange(len(targets)), targets].sum())

            total += nll()
            # S alone: shows the adapter is applied.
            with model.disable_adapter():
                base_total += nll()
            count += len(targets)
    check_against_slr("transformers+peft", done, count, total / count, base_total / count,
                      reference, tolerance)


main()
