#!/usr/bin/env bash
# Prepares the GPU benchmark and check for the GPU machine, which has the CUDA
# driver but no LLVM/MLIR: builds slr-gpu-kernels and slr-bench-gpu, then
# compiles the kernels here into build/gpu-bench/{bench,check-*} (cubin +
# manifest each, and the exported layers of compressed stories260K/SmolLM2
# models when they exist) next to a copy of slr-bench-gpu, and the GPU
# integration programs into standalone executables (build/gpu-bench/programs).
# Carry build/gpu-bench to the GPU machine and run benchmarks/gpu/device.sh
# there (the whole directory must stay under the 64 MiB a run carries).
# Environment: SLR_GPU_CHIP (sm_90a), SLR_GPU_RANK (64).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${SLR_BUILD_DIR:-$root/build}"
out="$build/gpu-bench"
chip="${SLR_GPU_CHIP:-sm_90a}"
rank="${SLR_GPU_RANK:-64}"
"$root/scripts/build.sh" slr-gpu-kernels slr-bench-gpu slr-opt slr_cuda_runtime
rm -rf "$out"
mkdir -p "$out"
cp "$build/bin/slr-bench-gpu" "$out/"
# The issue's shapes (N x K): a 4096 projection and a Llama-3-8B FFN; the
# decode kernels (decode_sm80) for M <= 1 and M <= 16 too.
"$build/bin/slr-gpu-kernels" --shape 4096x4096 --shape 14336x4096 \
  --rank "$rank" --type bf16 --chip "$chip" --decode --decode-rows 1,16 \
  -o "$out/bench"
# Correctness on small and odd shapes, both element types, two tilings.
for type in bf16 f16; do
  "$build/bin/slr-gpu-kernels" --shape 128x64 --shape 384x256 --shape 256x1024 \
    --rank 32 --type "$type" --chip "$chip" --decode --decode-rows 1,8,16 \
    -o "$out/check-$type"
  "$build/bin/slr-gpu-kernels" --shape 32x32 --shape 96x160 --rank 16 \
    --type "$type" --chip "$chip" --tile-n 32 --tile-m 16 --tile-k 32 \
    --warps-n 2 --warps-m 1 --stages 2 -o "$out/check-$type-small-tiles"
  # Rank 64, shapes wgmma_sp_sm90a tiles (N, K, rank multiples of 128, 64,
  # 64): its fused kernel as well as its sparse-only one (rank 32 above
  # gets only the latter).
  "$build/bin/slr-gpu-kernels" --shape 128x64 --shape 384x256 --shape 256x1024 \
    --rank 64 --type "$type" --chip "$chip" -o "$out/check-$type-wgmma"
done
# On sm_90a, what the device run is for: the wgmma sets in the manifests and
# the integration programs' sm_90a kernels (linear.mlir's cases 3, 11, 12).
if [ "$chip" = sm_90a ]; then
  for manifest in "$out/bench/kernels.manifest" "$out"/check-*-wgmma/kernels.manifest; do
    if ! grep -q 'rank=64 .*family=wgmma_sp_sm90a' "$manifest"; then
      echo "prepare.sh: error: no fused wgmma_sp_sm90a set in $manifest" >&2
      exit 1
    fi
  done
fi
# Real compressed weights, where the end-to-end flows have produced them
# (scripts/demo.sh, benchmarks/e2e/smollm2.sh): one block each.
stories="${SLR_STORIES_MODEL:-$build/demo/hassle-free.mlirbc}"
if [ -f "$stories" ]; then
  "$build/bin/slr-gpu-kernels" --model "$stories" --layers '^blk\.0\.' \
    --type bf16 --chip "$chip" --tile-n 32 --tile-m 16 --tile-k 32 \
    --warps-n 2 --warps-m 1 --stages 2 -o "$out/check-stories260k"
fi
smollm2="${SLR_SMOLLM2_MODEL:-$build/bench-smollm2/hassle-free.mlirbc}"
if [ -f "$smollm2" ]; then
  "$build/bin/slr-gpu-kernels" --model "$smollm2" --layers '^blk\.15\.' \
    --type bf16 --chip "$chip" --tile-n 64 -o "$out/check-smollm2"
fi
"$root/benchmarks/gpu/programs/build.sh" "$out/programs" fatbin "$chip"
if [ "$chip" = sm_90a ]; then
  for program in linear-bf16 linear-f16; do
    if ! grep -aq slr_wgmma_sp_ "$out/programs/$program"; then
      echo "prepare.sh: error: $out/programs/$program has no wgmma_sp_sm90a kernel" >&2
      exit 1
    fi
  done
fi
du -sh "$out"
size=$(du -sm "$out" | cut -f1)
if [ "$size" -gt 60 ]; then
  echo "prepare.sh: error: $out is $size MiB; a device run carries 64 MiB" >&2
  exit 1
fi
