//===- Passes.td - slr transformation passes ---------------*- tablegen -*-===//

#ifndef SLR_DIALECT_SLR_TRANSFORMS_PASSES_TD
#define SLR_DIALECT_SLR_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SLRCompress : Pass<"slr-compress", "::mlir::ModuleOp"> {
  let summary = "Compress constant-weight matmuls into slr.linear (S + U*V)";
  let description = [{
    Finds linear layers with a constant weight — `linalg.matmul` (plain or
    with transposed indexing maps), `linalg.batch_matmul` with a broadcast
    weight, and matmul-shaped `linalg.generic` contractions, with the weight
    an `arith.constant` of `dense<...>` or `dense_resource<...>` — and
    replaces each by an `slr.linear` whose packed N:M part and low-rank
    factors come from the compression library (HASSLE-free by default),
    driven by the calibration statistic `H = XᵀX` of that layer.

    Layers are keyed by their `slr.name` attribute (set by slr-import), or
    `<function>.linear<i>` in walk order when absent; the same names are used
    by `--slr-instrument-calibration`. Matmuls that cannot be compressed
    (non-constant weight, dynamic K or N, ...) are left untouched;
    `explain-skipped` emits a remark saying why, and the report lists them
    under `left_dense`. Missing calibration entries, calibration matrices of
    the wrong shape and non-finite weights are errors at the layer.

    Options are checked when the pipeline is built: a malformed or invalid
    value is one error line before any input is read. `sparsity=N:M` needs
    0 < N < M <= 64 and N * ceil(log2 M) <= 64 (a group's positions are one
    64-bit word: at most 12:32, 10:64).

    Nothing is compressed silently: a selected layer whose K is not a
    multiple of M is left dense with a warning, and when the options
    compress none of the compressible layers (the pattern divides no K, or
    `layers` selects none) the pass fails. `rank` is one value for every
    layer: a layer with min(N, K) < rank gets rank min(N, K) (its low-rank
    part is then full rank) with a warning, and its report entry has
    `rank_requested`.

    Past one machine: `results-dir=DIR` writes each compressed layer's
    packed S, U, V and report to its own file, fingerprinted by the layer's
    W, H and the options; `layer-range=BEGIN:END` restricts a run to some of
    the selected layers, so that independent jobs (a job array, GNU
    parallel) can compress a model's layers in parts. `from-results=DIR`
    then assembles the compressed IR from the files without compressing:
    bit-identical to one process compressing every layer. A missing file or
    a stale one (other W, H or options) is an error at the layer.

    Progress goes to stderr; `report=<file>` writes a JSON per-layer report
    (relative objective, rank, time; layers left dense and why) and a table
    is printed at the end.
  }];
  let options = [
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "safetensors file with one K x K matrix H = X^T X per layer name">,
    Option<"method", "method", "std::string", /*default=*/"\"slr\"",
           "compression method (the help text comes from the method "
           "registry)">,
    Option<"sparsity", "sparsity", "std::string", /*default=*/"\"2:4\"",
           "N:M pattern along K">,
    Option<"rank", "rank", "int64_t", /*default=*/"64",
           "rank of the low-rank part (above min(N, K): min(N, K), with a "
           "warning)">,
    Option<"compressionRatio", "compression-ratio", "double",
           /*default=*/"-1.0",
           "when >= 0, the rank follows from this compression ratio">,
    Option<"iterations", "iterations", "int", /*default=*/"20",
           "alternating rounds (hassle-free, oats; refit rounds of slr, 3basil)">,
    Option<"warmStartRounds", "warm-start-rounds", "int", /*default=*/"40",
           "hassle-free: diagonal-relaxation rounds giving the first low-rank "
           "part, at least (0: start from L = 0, i.e. SparseGPT); smaller "
           "layers run on until converged, within a work budget">,
    Option<"maxWarmStartRounds", "max-warm-start-rounds", "int",
           /*default=*/"1000",
           "hassle-free: diagonal-relaxation rounds at most">,
    Option<"maskSearchRounds", "mask-search-rounds", "int", /*default=*/"100",
           "hassle-free, n:m: rounds of mask local search with the low-rank "
           "left factor free, after the alternation, at most (0: none); "
           "small layers only, within a work budget">,
    Option<"refitIterations", "refit-iterations", "int", /*default=*/"-1",
           "conjugate-gradient refit of S on its support after each sparse "
           "step (-1: 4 for hassle-free with obs, 10 with admm, 0 for "
           "sparsegpt)">,
    Option<"percdamp", "percdamp", "double", /*default=*/"0.01",
           "damping lambda = percdamp * median (or mean) of diag H">,
    Option<"dampingScale", "damping-scale", "std::string",
           /*default=*/"\"median\"",
           "what percdamp is relative to: median | mean of diag H">,
    Option<"sparseStep", "sparse-step", "std::string", /*default=*/"\"obs\"",
           "sparse step of hassle-free / sparsegpt: obs | admm">,
    Option<"layers", "layers", "std::string", /*default=*/"\"\"",
           "regular expression over layer names to compress (empty: all)">,
    Option<"layerRange", "layer-range", "std::string", /*default=*/"\"\"",
           "BEGIN:END: only the layers of these 0-based indices (END "
           "exclusive, clamped) among those `layers` selects, in walk order "
           "(for per-layer jobs)">,
    Option<"resultsDir", "results-dir", "std::string", /*default=*/"\"\"",
           "also write each compressed layer's result to DIR/<layer>."
           "safetensors (a job's share of a model)">,
    Option<"fromResults", "from-results", "std::string",
           /*default=*/"\"\"",
           "compress nothing: build each layer from DIR/<layer>.safetensors, "
           "written by results-dir with the same W, H and options">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "write the per-layer JSON report to this file">,
    Option<"explainSkipped", "explain-skipped", "bool", /*default=*/"false",
           "emit a remark for every matmul left untouched, saying why">,
    Option<"quiet", "quiet", "bool", /*default=*/"false",
           "no progress or summary table on stderr">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "seed of the randomized parts (randomized SVD)">,
  ];
  let dependentDialects = ["::slr::SLRDialect", "::mlir::arith::ArithDialect"];
}

def SLRInstrumentCalibration
    : Pass<"slr-instrument-calibration", "::mlir::ModuleOp"> {
  let summary = "Record the input of every linear layer for calibration";
  let description = [{
    Before each constant-weight linear layer that `--slr-compress` would
    consider (same matcher, same stable names), inserts a call
    `slr_rt_record_activation(id, x2d)` handing the layer's f32 input,
    flattened to [rows, K], to the slr CPU runtime, which accumulates
    `H = XᵀX` per layer in float64. The layer names, indexed by `id`, are
    recorded in the module attribute `slr.calibration_layers`.
    Layers whose input is not f32 are skipped with a warning.
  }];
  let options = [
    Option<"layers", "layers", "std::string", /*default=*/"\"\"",
           "regular expression over layer names to record (empty: all)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SLRExternalizeWeights
    : Pass<"slr-externalize-weights", "::mlir::ModuleOp"> {
  let summary = "Turn constant memref.globals into external declarations "
                "that the JIT binds to the weights' bytes";
  let description = [{
    After bufferization, every `memref.global constant` whose initial value
    is a `dense_resource` blob, or a non-splat `dense` attribute, of at least
    `min-bytes` bytes with an integer or float element type of 8, 16, 32 or
    64 bits becomes an external declaration: public, no initial value,
    aligned to its element size. The module attribute `slr.external_weights`
    maps each such symbol to its former initial value.

    The weights then never pass through LLVM (neither as IR constants nor
    as object code): `slr::CompiledModel` binds each symbol to the bytes
    the attribute already holds in memory (for bytecode, the mapped file),
    which keeps the JIT's compile time and memory independent of the
    weights' size. The output is for such a JIT: `mlir-runner` cannot
    resolve the symbols. Globals that are not `constant` are left alone (a
    write would reach the shared bytes), as are splats, which hold one
    element.
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"256",
           "smallest initial value (in bytes) to externalize; smaller ones "
           "stay LLVM constants, which LLVM may fold">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def SLROutlineKernels : Pass<"slr-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Outline each linalg op on buffers into a kernel function, "
                "one per distinct op";
  let description = [{
    Replaces every linalg structured op with buffer semantics in a
    `func.func` by a `func.call` of a private function holding just that op:
    its memref and scalar operands, and the values its body uses from
    above, become arguments; constants among them are cloned into the
    function instead, so that LLVM still sees them. Ops that are the same
    up to their operands (same shapes, indexing maps, body and constants)
    share one function: a model's blocks differ only in their weights, so
    a 30-block model compiles the loops of one block, not 30, and LLVM
    optimises many small functions instead of one huge one (whose time
    grows faster than its size). The functions are `noinline` for the same
    reason. Same loops in the same order: results do not change.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def SLREarlyDealloc : Pass<"slr-early-dealloc", "::mlir::ModuleOp"> {
  let summary = "Move each memref.dealloc to just after the last use of its "
                "buffer";
  let description = [{
    The ownership-based deallocation pipeline frees buffers at the end of
    their block: in a model's straight-line forward function every
    activation of every layer is then alive at once (at 512 tokens, over a
    gigabyte for SmolLM2-135M). For each `memref.dealloc` of a buffer
    allocated in the same block, this pass moves the dealloc to just after
    the last op of the block that uses the buffer or any memref derived
    from it (any memref result of an op that takes it is taken for a view).
    A buffer that reaches a terminator or another dealloc is left alone.
    Calls are taken not to keep their memref arguments (true of the slr
    runtime and of outlined kernels).
  }];
}

#endif // SLR_DIALECT_SLR_TRANSFORMS_PASSES_TD
