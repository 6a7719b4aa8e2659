#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs every test
# (GoogleTest unit tests, the lit suite, the CMake-package embedding check).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SLR_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
