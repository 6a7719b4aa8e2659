#!/usr/bin/env bash
# The main job on the bundled default: stories260K from ../shared/data.
#   import (GGUF -> model IR) -> calibrate (JIT-run the IR on text, H = X^T X)
#   -> compress each method at 2:4 + rank R (slr-opt --slr-compress)
#   -> evaluate perplexity of every model IR -> table (also results.md/json).
# Environment: SLR_DEMO_DIR (outputs, default build/demo), SLR_RANK (8),
# SLR_CALIB_TOKENS (32768), SLR_EVAL_BLOCKS (0 = the whole file).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${SLR_SHARED_DATA:-$root/../shared/data}"
out="${SLR_DEMO_DIR:-$root/build/demo}"
rank="${SLR_RANK:-8}"
calibTokens="${SLR_CALIB_TOKENS:-32768}"
evalBlocks="${SLR_EVAL_BLOCKS:-0}"
methods=(magnitude wanda sparsegpt oats hassle-free)

"$root/scripts/setup.sh"
"$root/scripts/build.sh" slr-opt slr-import slr-calibrate slr-eval
bin="${SLR_BUILD_DIR:-$root/build}/bin"
gguf="$data/models/stories260K.gguf"
text="$data/text/tinystories_val.txt"
[ -f "$gguf" ] || { echo "demo: missing $gguf" >&2; exit 1; }
mkdir -p "$out"

echo "== import" >&2
"$bin/slr-import" "$gguf" -o "$out/dense.mlirbc"
echo "== calibrate ($calibTokens tokens of $(basename "$text"))" >&2
"$bin/slr-calibrate" "$out/dense.mlirbc" --tokenizer "$gguf" --text "$text" \
  --max-tokens "$calibTokens" -o "$out/calibration.safetensors" > "$out/calibration.txt"

evaluate() { # name model.mlirbc
  "$bin/slr-eval" "$2" --tokenizer "$gguf" --text "$text" \
    --max-blocks "$evalBlocks" --json "$out/$1.eval.json" > "$out/$1.eval.txt"
}
echo "== evaluate dense" >&2
evaluate dense "$out/dense.mlirbc"
for method in "${methods[@]}"; do
  echo "== compress: $method (2:4 + rank $rank)" >&2
  "$bin/slr-opt" "$out/dense.mlirbc" --emit-bytecode -o "$out/$method.mlirbc" \
    --slr-compress="calibration=$out/calibration.safetensors method=$method rank=$rank layers=^blk report=$out/$method.report.json"
  echo "== evaluate $method" >&2
  evaluate "$method" "$out/$method.mlirbc"
done

python3 - "$out" "$rank" "${methods[@]}" <<'PY'
import json, sys
out, rank, methods = sys.argv[1], sys.argv[2], sys.argv[3:]
dense = json.load(open(f"{out}/dense.eval.json"))
rows = [("dense", dense, None)]
for m in methods:
    ev = json.load(open(f"{out}/{m}.eval.json"))
    rep = json.load(open(f"{out}/{m}.report.json"))
    objs = [l["relative_objective"] for l in rep["layers"]]
    rows.append((m, ev, sum(objs) / len(objs)))
lines = [f"stories260K on tinystories_val.txt ({dense['predicted_tokens']} tokens, "
         f"blocks from BOS, context {dense['context']}); compressed: 2:4 + rank {rank} on every blk.* linear",
         "",
         "| model | mean NLL | perplexity | gap to dense | mean layer rel. objective |",
         "|---|---|---|---|---|"]
for name, ev, obj in rows:
    gap = ev["perplexity"] - dense["perplexity"]
    lines.append(f"| {name} | {ev['mean_nll']:.4f} | {ev['perplexity']:.3f} | "
                 f"{'' if name == 'dense' else f'{gap:+.3f}'} | {'' if obj is None else f'{obj:.5f}'} |")
text = "\n".join(lines)
open(f"{out}/results.md", "w").write(text + "\n")
print(text)
PY
