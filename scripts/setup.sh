#!/usr/bin/env bash
# Installs everything slr needs on a fresh Debian 12 (bookworm) machine.
# LLVM/MLIR 22 come from Debian's bookworm-security archive.
#
# usage: setup.sh [fuzz] [engines]
#   fuzz: also clang-22 and its compiler-rt (libFuzzer, ASan, UBSan runtimes)
#         for scripts/fuzz.sh.
#   engines: python3-venv and ccache for scripts/engines.sh (the engines
#         themselves come from PyPI into a venv). The sanitizer build (scripts/sanitize.sh)
#         uses g++'s own libasan/libubsan and needs nothing more.
set -euo pipefail

packages=(
  # Toolchain and build.
  g++ cmake ninja-build python3 git
  # LLVM/MLIR 22: headers, libMLIR.so/libLLVM.so, mlir-opt, mlir-runner,
  # lit, FileCheck.
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  # Dense linear algebra for the compression numerics.
  libopenblas-dev liblapacke-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
)
for group in "$@"; do
  case "$group" in
    fuzz) packages+=(clang-22 libclang-rt-22-dev) ;;
    engines) packages+=(python3-venv ccache) ;;
    *) echo "setup: unknown package group '$group' (known: fuzz, engines)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
