#!/usr/bin/env bash
# End-to-end benchmark on SmolLM2-135M-Instruct (Q4_1 GGUF, dequantised: the
# dense baseline is the dequantised model): calibrate on wiki.valid.tokens,
# evaluate on wiki.test.raw (stream protocol, context 512), 2:4 + rank 64.
# SLR_EVAL_LIMIT defaults to 40 windows (~20K tokens) to fit 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${SLR_SHARED_DATA:-$root/../shared/data}"
"$root/scripts/build.sh" slr-opt slr-import slr-calibrate slr-eval
export SLR_GGUF="$("$root/scripts/fetch-smollm2.sh")"
export SLR_CALIB_TEXT="$data/text/wiki.valid.tokens"
export SLR_EVAL_TEXT="$data/text/wiki.test.raw"
export SLR_OUT="${SLR_OUT:-$root/build/bench-smollm2}"
export SLR_RANK="${SLR_RANK:-64}"
export SLR_PROTOCOL=stream
export SLR_CALIB_TOKENS="${SLR_CALIB_TOKENS:-16384}"
export SLR_EVAL_LIMIT="${SLR_EVAL_LIMIT:---max-windows 40}"
export SLR_METHODS="${SLR_METHODS:-sparsegpt+lr oats hassle-free}"
exec "$root/scripts/flow.sh"
