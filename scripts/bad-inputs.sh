#!/usr/bin/env bash
# Runs the hostile-input battery (test/Tools/Inputs/bad-inputs.py, also run
# by the lit suite) against a build's tools and writes the table of every
# case and what the user sees to $build/bad-inputs.md.
#
# usage: scripts/bad-inputs.sh [-v] [--only REGEX] [--strict]
# Environment: SLR_BUILD_DIR (default build; the tools must be built).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SLR_BUILD_DIR:-$root/build}"
if [ ! -x "$build/bin/slr-opt" ]; then
  echo "bad-inputs.sh: no tools in $build/bin (run scripts/build.sh)" >&2
  exit 1
fi
exec python3 "$root/test/Tools/Inputs/bad-inputs.py" --tools "$build/bin" \
  --data "$root/../shared/data" --work "$build/bad-inputs" \
  --report "$build/bad-inputs.md" "$@"
