#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-22, ASan + UBSan) into a separate
# build directory, makes the seed corpora from ../shared/data and the test
# files, runs every target for N seconds and exits non-zero on any finding
# that is not listed in fuzz/known-findings.txt, printing its reproducer.
#
# usage: scripts/fuzz.sh [--seconds N] [--fresh] [--no-build] [--replay]
#                        [TARGET...]
#   --seconds N  time per target (default 60; the long run is 600)
#   --fresh      start from the seeds alone (drop the corpora of earlier runs)
#   --no-build   use the fuzz targets already built
#   --replay     no fuzzing: replay and classify the last run's findings
#   TARGET       gguf, safetensors, tokenizer, hf, mlir (default: all, in turn)
# Environment: SLR_FUZZ_BUILD_DIR (default build-fuzz), SLR_BUILD_DIR (a plain
# build whose bin/ tools make the calibration and bytecode seeds; default
# build, skipped when absent), SLR_FUZZ_RSS_MB (default 2048).
#
# Each target runs in libFuzzer's fork mode with crashes, timeouts and OOMs
# ignored, so a run lasts its full time and collects every finding under
# $SLR_FUZZ_BUILD_DIR/work/artifacts/<target>/; each is then replayed alone
# and named by its sanitizer summary. Corpora grow in .../work/corpus/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SLR_FUZZ_BUILD_DIR:-$root/build-fuzz}"
tools="${SLR_BUILD_DIR:-$root/build}/bin"
rss_mb="${SLR_FUZZ_RSS_MB:-2048}"
seconds=60
fresh=0
do_build=1
replay=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --no-build) do_build=0; shift ;;
    --replay) replay=1; do_build=0; shift ;;
    gguf|safetensors|tokenizer|hf|mlir) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(gguf safetensors tokenizer hf mlir)

data="$root/../shared/data"
if [ ! -f "$data/models/stories260K.gguf" ]; then
  echo "fuzz.sh: $data/models/stories260K.gguf is missing (seeds and the" \
       "tokenizer target need it)" >&2
  exit 1
fi

if [ $do_build -eq 1 ]; then
  "$root/scripts/setup.sh" fuzz
  # RelWithDebInfo keeps NDEBUG like the Debian libLLVM/libMLIR; -O1 builds
  # faster on 2 cores and fuzzes about as fast as -O2 under ASan.
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
    -DSLR_FUZZ=ON -DSLR_BUILD_TESTS=OFF -DSLR_BUILD_BENCHMARKS=OFF >&2
  ninja -C "$build" slr-fuzz >&2
fi

work="$build/work"
if [ $replay -eq 0 ]; then
  if [ $fresh -eq 1 ]; then rm -rf "$work/corpus"; fi
  rm -rf "$work/seeds" "$work/artifacts" "$work/logs"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/logs"
  seed_args=()
  if [ -x "$tools/slr-calibrate" ]; then seed_args=(--tools "$tools"); fi
  python3 "$root/fuzz/make-seeds.py" "$work/seeds" "${seed_args[@]}"
fi

symbolizer=/usr/lib/llvm-22/bin/llvm-symbolizer
export ASAN_SYMBOLIZER_PATH="$symbolizer"
# Any sanitizer report is fatal; leaks are findings (LLVM-internal ones
# would go to fuzz/lsan.supp, none so far).
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons the free part of
# its slabs when compiled with ASan, which slr's code is and libMLIR.so is
# not; both allocate from MLIRContext's shared uniquer slabs, so libMLIR's
# uninstrumented allocations there would read as use-after-poison.
export ASAN_OPTIONS="allow_user_poisoning=0:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:symbolize=1"
export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp:print_suppressions=0"

max_len() {
  case "$1" in
    gguf) echo 32768 ;; safetensors) echo 8192 ;;
    tokenizer) echo 4096 ;; hf) echo 32768 ;; mlir) echo 16384 ;;
  esac
}

# What names a finding: the sanitizer's SUMMARY, a fuzz check, or
# libFuzzer's own verdict (timeout, OOM, exit), plus the first frame in
# slr (else in MLIR/LLVM), without addresses.
signature() {
  local what frame
  what="$(grep -m1 -E 'SUMMARY: |fuzz check failed|ERROR: libFuzzer: (timeout|out-of-memory|fuzz target exited|deadly signal)|runtime error:|LLVM ERROR' "$1" \
    | sed -E 's/0x[0-9a-f]+//g; s/ \(pc.*$//; s/ \(BuildId: [0-9a-f]+\)//g; s/==[0-9]+==//; s/after [0-9]+ seconds//' || true)"
  frame="$(grep -E '^ +#[0-9]+ ' "$1" | grep -vE 'fuzzer::|__sanitizer|__asan|__ubsan|libc\.so|operator new|abort|raise|pthread_kill|LLVMFuzzerTestOneInput|report_fatal_error|mallocForGrow' \
    | grep -m1 -oE ' in [^ ]+' | sed 's/^ in //' || true)"
  echo "${what:-unknown finding}${frame:+ in $frame}"
}
status=0
summary=()
for t in "${targets[@]}"; do
  exe="$build/bin/slr-fuzz-$t"
  corpus="$work/corpus/$t"
  artifacts="$work/artifacts/$t"
  log="$work/logs/$t.log"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  if [ -f "$root/fuzz/$t.dict" ]; then dict=(-dict="$root/fuzz/$t.dict"); fi
  start=$(date +%s)
  if [ $replay -eq 0 ]; then
    echo "fuzz.sh: slr-fuzz-$t for ${seconds}s (log: $log)" >&2
    # Fork mode does not stop at the first finding; the corpus dir comes
    # first (new inputs go there), the seeds second (read only).
    "$exe" "$corpus" "$work/seeds/$t" "${dict[@]}" \
      -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb="$rss_mb" \
      -max_len="$(max_len "$t")" -artifact_prefix="$artifacts/" \
      -print_final_stats=1 >"$log" 2>&1 || true
  fi
  elapsed=$(( $(date +%s) - start ))
  # Last progress line of fork mode: "#N: cov: C ft: F corp: K exec/s: E ...".
  stats="$(grep -E '^#[0-9]+: cov:' "$log" | tail -n1 || true)"
  execs="$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$stats")"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$stats")"
  ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$stats")"
  rate="$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$stats")"
  size="$(ls "$corpus" | wc -l)"
  bytes="$(du -sb "$corpus" | cut -f1)"
  new=0; known=0; flaky=0
  declare -A seen=()
  for artifact in "$artifacts"/*; do
    [ -f "$artifact" ] || continue
    report="$artifact.report"
    case "$artifact" in *.report) continue ;; esac
    # Replay alone for a clean report (fork mode's job logs interleave),
    # with full allocation stacks (libMLIR.so has no frame pointers).
    # MLIR bytecode inputs are marked: libMLIR.so's frames have no symbols
    # in timeouts, so known-findings.txt tells its reader by the input.
    if [ "$(head -c 4 "$artifact" | od -An -tx1 | tr -d ' ')" = "4d4cef52" ]; then
      echo "slr-fuzz: the input is MLIR bytecode" >"$report"
    else
      : >"$report"
    fi
    replayed=0
    for attempt in 1 2 3; do
      ( ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0" \
          "$exe" -timeout=10 -rss_limit_mb="$rss_mb" "$artifact" ) >>"$report" 2>&1 && continue
      replayed=1
      break
    done
    if [ $replayed -eq 0 ]; then
      # Three clean replays: the finding needed the fuzzing job's state or
      # load (a timeout on a busy machine, a crash in uninstrumented
      # libMLIR.so after earlier inputs). Listed, kept, not a failure: it
      # can be neither fixed nor made a regression test from this input.
      flaky=$((flaky + 1))
      echo "fuzz.sh: slr-fuzz-$t: does not reproduce alone (3 clean replays): $artifact" >&2
      continue
    fi
    sig="$(signature "$report")"
    [ -z "${seen[$sig]:-}" ] || continue
    seen[$sig]=1
    item="$(python3 - "$root/fuzz/known-findings.txt" "slr-fuzz-$t" "$report" <<'PY'
import re, sys
known, target, report = sys.argv[1], sys.argv[2], open(sys.argv[3], errors="replace").read()
for line in open(known):
    if not line.strip() or line.startswith("#"):
        continue
    name, item, pattern = line.rstrip("\n").split("\t", 2)
    if name == target and re.search(pattern, report, re.S):
        print(item)
        break
PY
)"
    if [ -n "$item" ]; then
      known=$((known + 1))
      echo "fuzz.sh: slr-fuzz-$t: known finding ($item): $sig" >&2
      echo "  reproducer: $artifact" >&2
    else
      new=$((new + 1))
      status=1
      echo "fuzz.sh: slr-fuzz-$t: FINDING: $sig" >&2
      echo "  reproducer: $artifact" >&2
      echo "  report:     $report" >&2
      echo "  replay:     $exe $artifact" >&2
    fi
  done
  unset seen
  summary+=("$(printf '%-12s %5ss %10s execs %7s exec/s  cov %6s  ft %6s  corpus %5s (%s B)  findings: %s new, %s known, %s not reproducible' \
    "$t" "$elapsed" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$size" "$bytes" "$new" "$known" "$flaky")")
done

echo "fuzz.sh: summary (${seconds}s per target)" >&2
for line in "${summary[@]}"; do echo "  $line" >&2; done
if [ $status -ne 0 ]; then
  echo "fuzz.sh: new findings (see above); add a fix and a regression test," \
       "or list a known one in fuzz/known-findings.txt" >&2
fi
exit $status
