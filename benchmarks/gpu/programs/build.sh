#!/usr/bin/env bash
# Builds the GPU integration programs of test/Integration/GPU ahead of time
# into standalone executables (slr-opt -> LLVM IR -> object -> linked
# against libslr_cuda_runtime.so, which lies beside them), for the GPU
# machine, which has no LLVM/MLIR: carry the output directory there and run
# benchmarks/gpu/programs/run.sh on it. Each program has the exact checks
# of its lit test; <name>.expected holds the output lit's CHECK lines expect.
#
#   benchmarks/gpu/programs/build.sh <out-dir> [format] [chip]
#
# format: fatbin (default; machine code for chip, sm_90a by default, via
# ptxas) or isa (PTX: what the PTX simulator runs, and what a GPU driver
# JIT-compiles).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
build="${SLR_BUILD_DIR:-$root/build}"
out="${1:?usage: build.sh <out-dir> [fatbin|isa] [chip]}"
format="${2:-fatbin}"
chip="${3:-sm_90a}"
llvm="${SLR_LLVM_BIN:-/usr/lib/llvm-22/bin}"
src="$root/test/Integration/GPU"
case "$format" in fatbin | isa) ;; *) echo "build.sh: error: format must be fatbin or isa, got '$format'" >&2; exit 1 ;; esac
mkdir -p "$out"
cp "$build/lib/libslr_cuda_runtime.so" "$out/"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
c++ -O2 -c "$root/benchmarks/gpu/programs/ProgramSupport.cpp" -o "$work/support.o"

# name | source | sed script | lowering (slr: --slr-gpu-pipeline options;
# upstream: upstream's gpu-lower-to-nvvm-pipeline)
programs=(
  "linear-bf16|linear.mlir|s/ELT/bf16/g;s/LIMIT/256.0/g|slr:"
  "linear-f16|linear.mlir|s/ELT/f16/g;s/LIMIT/2048.0/g|slr:"
  "linear-bf16-small-tiles|linear.mlir|s/ELT/bf16/g;s/LIMIT/256.0/g|slr:tile-n=32 tile-m=16 tile-k=32 warps-n=2 warps-m=1 stages=2"
  "device-activations|device-activations.mlir||slr:"
  "upstream-mma|upstream-mma.mlir||upstream"
)
for entry in "${programs[@]}"; do
  IFS='|' read -r name file edits lowering <<<"$entry"
  sed -e "${edits:-s/^//}" -e 's/func\.func @main()/func.func @slr_program_main()/' \
    "$src/$file" >"$work/$name.mlir"
  case "$lowering" in
  slr:*)
    "$build/bin/slr-opt" "$work/$name.mlir" \
      --slr-gpu-pipeline="format=$format chip=$chip ${lowering#slr:}" -o "$work/$name.llvm.mlir" ;;
  upstream)
    "$llvm/mlir-opt" "$work/$name.mlir" \
      -gpu-lower-to-nvvm-pipeline="cubin-chip=$chip cubin-features=+ptx80 cubin-format=$format" \
      -o "$work/$name.llvm.mlir" ;;
  esac
  "$llvm/mlir-translate" --mlir-to-llvmir "$work/$name.llvm.mlir" -o "$work/$name.ll"
  "$llvm/llc" -O2 -filetype=obj -relocation-model=pic "$work/$name.ll" -o "$work/$name.o"
  # The C++ runtime statically: the GPU machine runs a newer distribution.
  c++ "$work/$name.o" "$work/support.o" -o "$out/$name" -L"$out" -lslr_cuda_runtime \
    -Wl,-rpath,'$ORIGIN' -static-libstdc++ -static-libgcc -lm
  # What the lit test's unprefixed CHECK lines expect, in order.
  sed -n -e 's|^// CHECK: ||p' -e 's|^// CHECK-NEXT: ||p' "$src/$file" >"$out/$name.expected"
  echo "build.sh: $out/$name ($format, $chip)" >&2
done
