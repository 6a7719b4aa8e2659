#!/usr/bin/env bash
# Installs the engines slr-export's files are checked in (the lit features
# transformers and llama-cpp; test/Tools/export-transformers.test and
# export-llama-cpp.test) into a virtual environment, from PyPI only, no sudo.
# Idempotent: what already imports is left alone.
#
#   transformers: torch (PyPI's wheel; it pulls the CUDA libraries as
#                 dependencies, ~4 GB, the model still runs on the CPU),
#                 transformers, peft.
#   llama-cpp:    llama.cpp as vendored by the llama-cpp-python source
#                 package (pip download --no-binary), built with cmake
#                 (only libllama and ggml, CPU backend), and the package's
#                 Python binding over it.
#
# usage: scripts/engines.sh [transformers] [llama-cpp]   (default: both)
# Environment: SLR_CACHE_DIR (default ~/.cache/slr): the venv is
# $SLR_CACHE_DIR/engines/venv, which test/lit.cfg.py uses by default
# (SLR_ENGINE_PYTHON overrides); SLR_ENGINES_JOBS (default: nproc) for the
# llama.cpp build.
set -euo pipefail
cache="${SLR_CACHE_DIR:-$HOME/.cache/slr}/engines"
venv="$cache/venv"
python="$venv/bin/python"
jobs="${SLR_ENGINES_JOBS:-$(nproc)}"
# The versions the engine tests were checked with.
TORCH=2.15.0 TRANSFORMERS=5.25.0 PEFT=0.21.2 LLAMA_CPP_PYTHON=0.3.36

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(transformers llama-cpp)
for engine in "${want[@]}"; do
  case "$engine" in
  transformers | llama-cpp | llama-perplexity) ;;
  *) echo "engines.sh: unknown engine '$engine' (transformers, llama-cpp, llama-perplexity)" >&2; exit 1 ;;
  esac
done

"$(dirname "$0")/setup.sh" engines
mkdir -p "$cache"
if [ ! -x "$python" ]; then
  python3 -m venv "$venv"
fi
has() { (cd /tmp && "$python" -c "import $1") >/dev/null 2>&1; }
pip() { "$python" -m pip install --disable-pip-version-check -q "$@"; }

install_transformers() {
  if has "torch, transformers, peft"; then
    echo "engines.sh: transformers: installed"
    return
  fi
  local start=$SECONDS
  pip "torch==$TORCH" "transformers==$TRANSFORMERS" "peft==$PEFT" numpy
  has "torch, transformers, peft"
  echo "engines.sh: transformers: installed in $((SECONDS - start)) s"
}

llama_src="$cache/llama_cpp_python-$LLAMA_CPP_PYTHON"
fetch_llama_cpp_source() {
  if [ ! -f "$llama_src/vendor/llama.cpp/CMakeLists.txt" ]; then
    mkdir -p "$cache/dl"
    "$python" -m pip download --disable-pip-version-check -q --no-deps \
      --no-binary :all: -d "$cache/dl" "llama-cpp-python==$LLAMA_CPP_PYTHON"
    tar -xzf "$cache/dl/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" -C "$cache"
  fi
}
configure_llama_cpp() { # build-dir common-and-tools(ON/OFF)
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$llama_src/vendor/llama.cpp" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_COMMON="$2" \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS="$2" \
    -DLLAMA_BUILD_SERVER=OFF -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON "${launcher[@]}" >/dev/null 2>&1
}

install_llama_perplexity() {
  local build="$cache/llama-tools-$LLAMA_CPP_PYTHON"
  local tool="$build/bin/llama-perplexity"
  if [ ! -x "$tool" ]; then
    local start=$SECONDS
    fetch_llama_cpp_source
    configure_llama_cpp "$build" ON
    nice ninja -C "$build" -j "$jobs" llama-perplexity >/dev/null
    echo "engines.sh: llama-perplexity: built in $((SECONDS - start)) s"
  fi
  echo "engines.sh: SLR_LLAMA_PERPLEXITY=$tool"
}

install_llama_cpp() {
  if has llama_cpp; then
    echo "engines.sh: llama-cpp: installed"
    return
  fi
  local start=$SECONDS src="$llama_src"
  local build="$cache/llama-build-$LLAMA_CPP_PYTHON"
  pip numpy diskcache jinja2 typing-extensions
  fetch_llama_cpp_source
  # Only what the binding loads: libllama and ggml's CPU backend.
  configure_llama_cpp "$build" OFF
  nice ninja -C "$build" -j "$jobs" llama >/dev/null
  local site
  site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  rm -rf "$site/llama_cpp"
  cp -r "$src/llama_cpp" "$site/llama_cpp"
  mkdir -p "$site/llama_cpp/lib"
  cp -a "$build"/bin/lib*.so* "$site/llama_cpp/lib/"
  has llama_cpp
  echo "engines.sh: llama-cpp: built and installed in $((SECONDS - start)) s"
}

for engine in "${want[@]}"; do
  case "$engine" in
  transformers) install_transformers ;;
  llama-cpp) install_llama_cpp ;;
  llama-perplexity) install_llama_perplexity ;;
  esac
done
echo "engines.sh: SLR_ENGINE_PYTHON=$python"
