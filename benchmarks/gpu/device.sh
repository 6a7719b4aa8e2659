#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, after
# benchmarks/gpu/prepare.sh here (carry build/gpu-bench): the correctness
# checks on small shapes (every M, both element types; slr-bench-gpu exits 1
# when a kernel disagrees with the host reference), then the benchmark table.
# Output also goes to $OUT when set.
set -uo pipefail
dir="${1:-build/gpu-bench}"
log="${OUT:-/tmp}/gpu-bench.txt"
# cuBLAS: the CUDA toolkit's, else the one PyTorch ships.
if [ -z "${SLR_CUBLAS:-}" ]; then
  for candidate in /usr/local/cuda/lib64/libcublas.so.13 \
      $(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib", "libcublas.so.13"))' 2>/dev/null); do
    [ -e "$candidate" ] && export SLR_CUBLAS="$candidate" && break
  done
fi
run() {
  local status=0
  nvidia-smi -L
  for check in "$dir"/check-*; do
    echo "== check $(basename "$check")"
    "$dir/slr-bench-gpu" "$check/kernels.manifest" --m 1,5,64,70,130,1000 --reps 3 || status=1
  done
  echo "== benchmark"
  "$dir/slr-bench-gpu" "$dir/bench/kernels.manifest" --m 1,16,128,2048,8192 --reps 20 || status=1
  return $status
}
run 2>&1 | tee "$log"
