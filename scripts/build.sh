#!/usr/bin/env bash
# Configures and builds slr into ./build (Release, Ninja).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SLR_BUILD_DIR:-$root/build}"
cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
ninja -C "$build" "$@" >&2
