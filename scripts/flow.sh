#!/usr/bin/env bash
# import -> calibrate -> compress (each method, N:M + rank) -> evaluate, on one
# model; prints a markdown table and writes it to $out/results.md.
# Used by scripts/demo.sh (stories260K) and benchmarks/e2e/smollm2.sh.
#
# Required environment: SLR_GGUF, SLR_CALIB_TEXT, SLR_EVAL_TEXT, SLR_OUT.
# Optional: SLR_RANK (8), SLR_SPARSITY (2:4), SLR_CALIB_TOKENS (32768),
#   SLR_PROTOCOL (blocks|stream), SLR_CONTEXT (512), SLR_EVAL_LIMIT (extra
#   slr-eval flags, e.g. "--max-windows 40"), SLR_METHODS (space-separated;
#   default: those of slr-opt --list-compression-methods plus sparsegpt+lr),
#   SLR_PROPAGATE (1: also HASSLE-free with propagated calibration).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${SLR_BUILD_DIR:-$root/build}/bin"
gguf="$SLR_GGUF"; out="$SLR_OUT"
rank="${SLR_RANK:-8}"; sparsity="${SLR_SPARSITY:-2:4}"
calibTokens="${SLR_CALIB_TOKENS:-32768}"
protocol="${SLR_PROTOCOL:-blocks}"; context="${SLR_CONTEXT:-512}"
evalLimit="${SLR_EVAL_LIMIT:-}"
if [ -n "${SLR_METHODS:-}" ]; then
  read -r -a methods <<< "$SLR_METHODS"
else
  # The methods come from the registry (slr-opt asks it); sparsegpt+lr is
  # this script's own variant of hassle-free, run after sparsegpt.
  methods=()
  while read -r name; do
    methods+=("$name")
    if [ "$name" = sparsegpt ]; then methods+=(sparsegpt+lr); fi
  done < <("$bin/slr-opt" --list-compression-methods)
  [ "${#methods[@]}" -gt 0 ] || { echo "flow.sh: slr-opt lists no methods" >&2; exit 1; }
fi
mkdir -p "$out"

step() { echo "== $*" >&2; }
evaluate() { # name model
  step "evaluate $1"
  # shellcheck disable=SC2086
  "$bin/slr-eval" "$2" --tokenizer "$gguf" --text "$SLR_EVAL_TEXT" \
    --protocol "$protocol" --context "$context" $evalLimit \
    --json "$out/$1.eval.json" > "$out/$1.eval.txt"
}
compress() { # name input calibration layers options...
  local name="$1" input="$2" calib="$3" layers="$4"; shift 4
  "$bin/slr-opt" "$input" --emit-bytecode -o "$out/$name.mlirbc" \
    --slr-compress="calibration=$calib sparsity=$sparsity rank=$rank layers=$layers report=$out/$name.report.json $*"
}

step "import $(basename "$gguf")"
"$bin/slr-import" "$gguf" -o "$out/dense.mlirbc"
step "calibrate on $calibTokens tokens of $(basename "$SLR_CALIB_TEXT")"
"$bin/slr-calibrate" "$out/dense.mlirbc" --tokenizer "$gguf" \
  --text "$SLR_CALIB_TEXT" --max-tokens "$calibTokens" --context "$context" \
  -o "$out/calibration.safetensors" > "$out/calibration.txt"
evaluate dense "$out/dense.mlirbc"

for method in "${methods[@]}"; do
  step "compress: $method ($sparsity + rank $rank)"
  case "$method" in
    # SparseGPT's mask and weights plus the optimal rank-r part for that S:
    # one HASSLE-free round started from L = 0, without the support refit or
    # the mask search.
    sparsegpt+lr) compress "$method" "$out/dense.mlirbc" "$out/calibration.safetensors" '^blk' \
                    method=hassle-free iterations=1 warm-start-rounds=0 refit-iterations=0 \
                    mask-search-rounds=0 ;;
    *) compress "$method" "$out/dense.mlirbc" "$out/calibration.safetensors" '^blk' method="$method" ;;
  esac
  evaluate "$method" "$out/$method.mlirbc"
done

if [ "${SLR_PROPAGATE:-0}" = 1 ]; then
  # Block i is calibrated on the outputs of the already compressed blocks < i.
  name="hassle-free-propagated"
  step "compress: $name"
  layers=$(grep -oE '^blk\.[0-9]+' "$out/calibration.txt" | sort -u -t. -k2,2n)
  current="$out/dense.mlirbc"
  for block in $layers; do
    pattern="^${block//./\\.}\\."
    "$bin/slr-calibrate" "$current" --tokenizer "$gguf" --text "$SLR_CALIB_TEXT" \
      --max-tokens "$calibTokens" --context "$context" --layers "$pattern" \
      -o "$out/$name.calib.safetensors" > /dev/null
    compress "$name.step" "$current" "$out/$name.calib.safetensors" "$pattern" method=hassle-free quiet=1
    mv "$out/$name.step.mlirbc" "$out/$name.mlirbc"
    current="$out/$name.mlirbc"
  done
  rm -f "$out/$name.step.report.json"
  methods+=("$name")
  evaluate "$name" "$current"
fi

python3 - "$out" "$sparsity" "$rank" "$protocol" "${methods[@]}" <<'PY'
import json, os, sys
out, sparsity, rank, protocol, methods = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
dense = json.load(open(f"{out}/dense.eval.json"))
lines = [f"{os.path.basename(dense['text'])}: {dense['predicted_tokens']} predicted tokens, "
         f"protocol {protocol}, context {dense['context']}; every blk.* linear at {sparsity} + rank {rank}",
         "",
         "| model | mean NLL | perplexity | gap to dense | mean layer rel. objective |",
         "|---|---|---|---|---|",
         f"| dense | {dense['mean_nll']:.4f} | {dense['perplexity']:.3f} | | |"]
for m in methods:
    ev = json.load(open(f"{out}/{m}.eval.json"))
    report = f"{out}/{m}.report.json"
    obj = ""
    if os.path.exists(report):
        layers = json.load(open(report))["layers"]
        obj = f"{sum(l['relative_objective'] for l in layers) / len(layers):.5f}"
    lines.append(f"| {m} | {ev['mean_nll']:.4f} | {ev['perplexity']:.3f} | "
                 f"{ev['perplexity'] - dense['perplexity']:+.3f} | {obj} |")
text = "\n".join(lines)
open(f"{out}/results.md", "w").write(text + "\n")
print(text)
PY
