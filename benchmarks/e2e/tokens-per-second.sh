#!/usr/bin/env bash
# Tokens/s of slr-eval on SmolLM2-135M beside llama.cpp's own perplexity tool
# (issue 17, item 5): the same F32 weights (the Q4_1 GGUF dequantised by
# slr-import, written back by slr-export), the same wiki.test.raw windows of
# 512 tokens, the same threads.
#
#   slr dense                the dense model IR
#   slr 2:4+rN unpacked      slr.linear by unpacking S and one sgemm (--unpack-sparse)
#   slr 2:4+rN runtime call  the CPU runtime's slr.linear (default): packed kernel
#                            for few rows, sgemm on decoded tiles of S for many
#   llama.cpp f32            llama-perplexity on the exported F32 GGUF
#
# Speed does not depend on how S and U, V were found, so without
# SLR_COMPRESSED the compressed model is made by the cheapest method (one
# HASSLE-free pass, like sparsegpt+lr in flow.sh; ~3 min). Run it alone on
# the machine. Figures go to $SLR_OUT/tokens-per-second.md.
#
# Environment: SLR_THREADS (2), SLR_WINDOWS (20), SLR_RANK (64),
# SLR_COMPRESSED (compressed IR of the same model), SLR_OUT
# (build/bench-tps).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${SLR_SHARED_DATA:-$root/../shared/data}"
threads="${SLR_THREADS:-2}"
windows="${SLR_WINDOWS:-20}"
rank="${SLR_RANK:-64}"
out="${SLR_OUT:-$root/build/bench-tps}"
text="$data/text/wiki.test.raw"
bin="$root/build/bin"

"$root/scripts/build.sh" slr-opt slr-import slr-calibrate slr-eval slr-export
gguf="$("$root/scripts/fetch-smollm2.sh")"
llama="$("$root/scripts/engines.sh" llama-perplexity |
  sed -n 's/^engines.sh: SLR_LLAMA_PERPLEXITY=//p')"
[ -x "$llama" ] || { echo "tokens-per-second.sh: no llama-perplexity" >&2; exit 1; }
mkdir -p "$out"
step() { echo "== $*" >&2; }

export OPENBLAS_NUM_THREADS="$threads" SLR_NUM_THREADS="$threads"
if [ ! -f "$out/dense.mlirbc" ]; then
  step "import $(basename "$gguf")"
  "$bin/slr-import" "$gguf" -o "$out/dense.mlirbc"
fi
compressed="${SLR_COMPRESSED:-$out/compressed.mlirbc}"
if [ ! -f "$compressed" ]; then
  step "calibrate and compress (one pass, 2:4 + rank $rank)"
  "$bin/slr-calibrate" "$out/dense.mlirbc" --tokenizer "$gguf" \
    --text "$data/text/wiki.valid.tokens" --max-tokens 2048 \
    -o "$out/calibration.safetensors" > /dev/null
  "$bin/slr-opt" "$out/dense.mlirbc" --emit-bytecode -o "$compressed" \
    --slr-compress="calibration=$out/calibration.safetensors sparsity=2:4 rank=$rank layers=^blk method=hassle-free iterations=1 warm-start-rounds=0 refit-iterations=0 quiet=1"
fi
if [ ! -f "$out/f32/model.gguf" ]; then
  step "export the dense model as an F32 GGUF"
  "$bin/slr-export" "$out/dense.mlirbc" --format=gguf --source "$gguf" -o "$out/f32"
fi

slr_eval() { # name model flags...
  local name="$1" model="$2"; shift 2
  step "slr-eval: $name"
  /usr/bin/time -f "%M" -o "$out/$name.rss" "$bin/slr-eval" "$model" \
    --tokenizer "$gguf" --text "$text" --protocol stream --context 512 \
    --max-windows "$windows" --json "$out/$name.json" "$@" > /dev/null
}
slr_eval dense "$out/dense.mlirbc"
slr_eval unpacked "$compressed" --unpack-sparse
slr_eval packed "$compressed"
step "llama-perplexity: f32"
/usr/bin/time -f "%M" -o "$out/llama.rss" "$llama" -m "$out/f32/model.gguf" \
  -f "$text" -c 512 -b 512 --chunks "$windows" -t "$threads" -tb "$threads" \
  > "$out/llama.log" 2>&1 || { tail -20 "$out/llama.log" >&2; exit 1; }

python3 - "$out" "$windows" "$threads" "$rank" <<'PY'
import json, os, re, sys
out, windows, threads, rank = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def rss(name):
    return int(open(os.path.join(out, name + ".rss")).read().split()[-1]) / 2**20
rows = []
for name, label in [("dense", "slr dense"),
                    ("unpacked", f"slr 2:4+r{rank} unpacked"),
                    ("packed", f"slr 2:4+r{rank} runtime call")]:
    r = json.load(open(os.path.join(out, name + ".json")))
    rows.append((label, r["windows"], r["forward_tokens"], r["scoring_seconds"],
                 "%.1f / %.1f" % (r["compile_seconds"], r["first_window_seconds"]),
                 rss(name), "%.4f" % r["mean_nll"]))
log = open(os.path.join(out, "llama.log")).read()
# llama.cpp's log lines start with the time since start, "M.SS.mmm.uuu".
def stamp(text):
    m = re.search(r"^(\d+)\.(\d+)\.(\d+)\.(\d+) \S+ .*" + re.escape(text), log, re.M)
    if not m:
        sys.exit("tokens-per-second.sh: llama.log has no line with '%s'" % text)
    return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3)) / 1e3 + int(m.group(4)) / 1e6
begin, first, end = stamp("calculating perplexity over"), stamp("seconds per pass"), stamp("Final estimate")
ppl = re.search(r"Final estimate: PPL = ([\d.]+)", log)
rows.append(("llama.cpp f32", int(windows), int(windows) * 512, end - begin,
             "%.1f / %.1f" % (begin, first), rss("llama"),
             "(PPL %s on 2nd halves)" % ppl.group(1)))
llama_tps = rows[-1][2] / rows[-1][3]
dense_tps = rows[0][2] / rows[0][3]
head = (f"SmolLM2-135M, wiki.test.raw, {windows} windows of 512, {threads} threads\n\n"
        "| run | windows | forward tokens | forward s | tokens/s | vs slr dense | vs llama.cpp | start (slr: compile) / first window s | peak RSS GiB | mean NLL |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n")
body = "".join("| %s | %d | %d | %.1f | %.1f | %.2fx | %.2fx | %s | %.2f | %s |\n"
               % (label, w, tok, s, tok / s, tok / s / dense_tps, tok / s / llama_tps, c, g, nll)
               for label, w, tok, s, c, g, nll in rows)
open(os.path.join(out, "tokens-per-second.md"), "w").write(head + body)
sys.stdout.write(head + body)
PY
echo "tokens-per-second.sh: table in $out/tokens-per-second.md" >&2
