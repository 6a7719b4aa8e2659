#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, after
# benchmarks/gpu/prepare.sh here (carry build/gpu-bench): the integration
# programs built ahead of time (sm_90a machine code, exact checks; linear.mlir
# runs wgmma_sp_sm90a in its cases 3, 11 and 12), the kernel checks on small
# and odd shapes (every output element of every column against a reference;
# check-*-wgmma has the wgmma family's fused kernels), then the benchmark
# table against cuBLAS and cuSPARSELt (mma_sp_sm80, decode_sm80 and
# wgmma_sp_sm90a columns). The log goes to $OUT/gpu-bench.txt (or /tmp). Meant to finish
# well inside 10 minutes.
set -uo pipefail
dir="${1:-build/gpu-bench}"
log="${OUT:-/tmp}/gpu-bench.txt"
# cuBLAS and cuSPARSELt: the CUDA 13 wheels PyTorch installs (slr-bench-gpu
# also searches for them itself; this only makes the choice explicit).
wheels="$(python3 -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))' 2>/dev/null || true)"
if [ -n "$wheels" ] && [ -d "$wheels" ]; then
  export LD_LIBRARY_PATH="$wheels${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  [ -z "${SLR_CUBLAS:-}" ] && [ -e "$wheels/libcublas.so.13" ] && export SLR_CUBLAS="$wheels/libcublas.so.13"
  [ -z "${SLR_CUSPARSELT:-}" ] && [ -e "$wheels/libcusparseLt.so.0" ] && export SLR_CUSPARSELT="$wheels/libcusparseLt.so.0"
fi
run() {
  local status=0
  date -u
  nvidia-smi -L
  nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,temperature.gpu --format=csv
  echo "== integration programs (sm_90a)"
  benchmarks/gpu/programs/run.sh "$dir/programs" || status=1
  for check in "$dir"/check-*; do
    echo "== check $(basename "$check"): $(grep -o 'family=[a-z0-9_]*' "$check/kernels.manifest" | sort | uniq -c | tr -s ' \n' ' ')"
    "$dir/slr-bench-gpu" "$check/kernels.manifest" --m 1,5,64,70,130,1000 --reps 3 || status=1
  done
  echo "== benchmark"
  "$dir/slr-bench-gpu" "$dir/bench/kernels.manifest" --m 1,16,128,2048,8192 --reps 20 || status=1
  nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv
  echo "device.sh: exit status $status"
  return $status
}
run 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
