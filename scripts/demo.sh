#!/usr/bin/env bash
# The main job on the bundled default, stories260K from ../shared/data:
# install dependencies, build, then import (GGUF -> model IR), calibrate
# (JIT-run the IR on text, H = X^T X per layer), compress with every method at
# 2:4 + rank 8 (slr-opt --slr-compress), evaluate each model IR's perplexity
# on tinystories_val.txt, and print the table (also build/demo/results.md).
# Environment: SLR_DEMO_DIR, SLR_RANK, SLR_CALIB_TOKENS, SLR_EVAL_LIMIT
# (e.g. "--max-blocks 500" for a quicker run), SLR_PROPAGATE=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${SLR_SHARED_DATA:-$root/../shared/data}"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" slr-opt slr-import slr-calibrate slr-eval
export SLR_GGUF="$data/models/stories260K.gguf"
export SLR_CALIB_TEXT="$data/text/tinystories_val.txt"
export SLR_EVAL_TEXT="$data/text/tinystories_val.txt"
export SLR_OUT="${SLR_DEMO_DIR:-$root/build/demo}"
export SLR_RANK="${SLR_RANK:-8}"
export SLR_PROPAGATE="${SLR_PROPAGATE:-1}"
[ -f "$SLR_GGUF" ] || { echo "demo: missing $SLR_GGUF" >&2; exit 1; }
exec "$root/scripts/flow.sh"
