"""What the engine tests share: slr-eval's blocks protocol (the text split at
blank lines, each block tokenized without BOS and scored in windows of BOS +
up to CONTEXT-1 tokens, every token a target) and the check of an engine's
mean NLL against slr-eval's JSON."""
import json
import math

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


def windows(text, max_blocks, tokenize, bos):
    """The windows of the first `max_blocks` non-empty blocks of `text`, and
    how many blocks that was."""
    result, done = [], 0
    for block in blocks(text):
        if done >= int(max_blocks):
            break
        tokens = tokenize(block)
        if not tokens:
            continue
        done += 1
        for begin in range(0, len(tokens), CONTEXT - 1):
            result.append([bos] + tokens[begin:begin + CONTEXT - 1])
    return result, done


def check_against_slr(engine, done, count, mean, base_mean, reference, tolerance):
    """Prints the engine's figures beside slr's and asserts its perplexity is
    within `tolerance` (relative) of slr's, and that the base model alone
    (S, no adapter) differs by more than that, so the adapter is seen to be
    applied."""
    slr = json.load(open(reference))
    ratio = math.exp(mean) / math.exp(slr["mean_nll"])
    print("%s: %d blocks, %d tokens, mean NLL %.6f, perplexity %.4f (S alone, no "
          "adapter: %.4f); slr: %d tokens, mean NLL %.6f, perplexity %.4f" % (
              engine, done, count, mean, math.exp(mean), math.exp(base_mean),
              slr["predicted_tokens"], slr["mean_nll"], math.exp(slr["mean_nll"])))
    assert abs(ratio - 1) <= float(tolerance), ratio
    # The adapter must matter more than the tolerance, or the check says nothing.
    assert abs(base_mean - mean) > float(tolerance) * mean, "adapter has no effect"
    print("perplexity within %s of slr's" % tolerance)
