#!/usr/bin/env bash
# Builds slr with AddressSanitizer + UndefinedBehaviorSanitizer (g++,
# -DSLR_SANITIZE=ON) in a separate build directory and runs the unit tests
# and the lit suite with every sanitizer report fatal.
#
# usage: scripts/sanitize.sh [--unit-only]
#   --unit-only  the GoogleTest unit tests alone (skips the tools and lit)
# Environment: SLR_ASAN_BUILD_DIR (default build-asan).
#
# What is not covered: libLLVM.so/libMLIR.so and OpenBLAS are not
# instrumented; the runtime plugins libslr_{cpu,cuda}_runtime.so loaded into
# mlir-runner are built without sanitizers (their sources are instrumented in
# the static libraries the tools and unit tests use); benchmarks are not
# built (the lit tests that need them are unsupported) and the packaging test
# (slr-embed-package) is skipped, since a consumer without -fsanitize cannot
# link instrumented archives.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SLR_ASAN_BUILD_DIR:-$root/build-asan}"
unit_only=0
for arg in "$@"; do
  case "$arg" in
    --unit-only) unit_only=1 ;;
    *) echo "sanitize.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

"$root/scripts/setup.sh"
# -O1 and NDEBUG (as the Debian libLLVM/libMLIR are built): fast enough to
# build and to run under ASan on 2 cores.
cmake -G Ninja -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
  -DSLR_SANITIZE=ON -DSLR_BUILD_BENCHMARKS=OFF >&2

export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-22/bin/llvm-symbolizer
# allow_user_poisoning=0: see scripts/fuzz.sh (instrumented and
# uninstrumented copies of LLVM's BumpPtrAllocator share MLIR's slabs).
export ASAN_OPTIONS="allow_user_poisoning=0:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp:print_suppressions=0"
# The engine tests (lit features transformers, llama-cpp) run once, in the
# plain build's suite: the engines are not sanitized, only slr's tools.
export SLR_ENGINE_PYTHON=/nonexistent

if [ $unit_only -eq 1 ]; then
  ninja -C "$build" slr-unittests >&2
  ctest --test-dir "$build" --output-on-failure -j "$(nproc)" \
    -E '^(slr-lit|slr-embed-package)$'
else
  ninja -C "$build" >&2
  ctest --test-dir "$build" --output-on-failure -j "$(nproc)" \
    -E '^slr-embed-package$'
fi
