#!/usr/bin/env bash
# Runs the simulator tests matching a GoogleTest filter with their kernels
# kept (SLR_SIM_TEST_PTX_DIR) and assembles every kernel with ptxas: the
# hand-written PTX the simulator is tested on must be valid PTX.
# Usage: check-ptx.sh TESTBINARY PTXAS ARCH FILTER
set -euo pipefail
binary="$1" ptxas="$2" arch="$3" filter="$4"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
SLR_SIM_TEST_PTX_DIR="$dir" "$binary" --gtest_filter="$filter" >/dev/null
shopt -s nullglob
kernels=("$dir"/*.ptx)
if [ ${#kernels[@]} -eq 0 ]; then
  echo "no kernels were kept for filter $filter" >&2
  exit 1
fi
status=0
for kernel in "${kernels[@]}"; do
  if ! "$ptxas" -arch="$arch" "$kernel" -o "$dir/out.cubin"; then
    echo "ptxas rejects this kernel:" >&2
    cat "$kernel" >&2
    status=1
  fi
done
if [ $status -eq 0 ]; then
  echo "ptxas -arch=$arch accepts all ${#kernels[@]} kernels of $filter"
fi
exit $status
