#!/usr/bin/env bash
# Runs the executables benchmarks/gpu/programs/build.sh made, each compared
# with its .expected output; prints one line per program and exits non-zero
# if any failed. Needs only the CUDA driver (or, for PTX builds, the PTX
# simulator: LD_LIBRARY_PATH=<build>/lib/cuda-sim).
#
#   benchmarks/gpu/programs/run.sh <dir>
set -uo pipefail
dir="${1:?usage: run.sh <dir>}"
status=0
count=0
for expected in "$dir"/*.expected; do
  program="${expected%.expected}"
  name="$(basename "$program")"
  count=$((count + 1))
  if output="$("$program" 2>"$program.stderr")" && diff -u "$expected" <(printf '%s\n' "$output") >"$program.diff"; then
    echo "PASS $name"
  else
    echo "FAIL $name: $(head -c 2000 "$program.stderr" "$program.diff" | tr '\n' ' ')"
    status=1
  fi
done
if [ "$count" -eq 0 ]; then
  echo "run.sh: error: no programs in $dir" >&2
  exit 1
fi
exit $status
