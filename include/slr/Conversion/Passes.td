//===- Passes.td - slr conversion passes -------------------*- tablegen -*-===//

#ifndef SLR_CONVERSION_PASSES_TD
#define SLR_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSLRToLinalg : Pass<"convert-slr-to-linalg"> {
  let summary = "Lower slr ops to linalg/tensor/arith (CPU reference)";
  let description = [{
    Reference lowering: `slr.unpack` becomes a `linalg.generic` scattering the
    packed values, `slr.pack` a `linalg.generic` that selects the kept entries
    of every group, and `slr.linear` the unpacked `S` followed by
    transposed-B contractions `x·Sᵀ`, `(x·Vᵀ)·Uᵀ` accumulated in f32 (bias
    broadcast into the accumulator), truncated to the result element type.
    Meant for correctness tests, not for speed.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertContractionsToSLRRuntime
    : Pass<"convert-contractions-to-slr-runtime", "::mlir::ModuleOp"> {
  let summary = "Turn f32 matmul-shaped linalg ops on memrefs into BLAS calls";
  let description = [{
    After bufferization, replaces every f32 `linalg` contraction with one
    reduction, one row and one column dimension (and at most one batch
    dimension, which may be absent from one operand, i.e. broadcast) —
    `linalg.matmul` with any indexing maps, `linalg.batch_matmul`, matmul-like
    `linalg.generic` — by calls to `slr_rt_sgemm` of the slr CPU runtime
    (`C += A·B` on strided 2-D views; transposed operands become transposed
    views, batches an `scf.for`). This is what makes model IR run at BLAS
    speed on the CPU; everything else keeps the upstream loop lowering.
  }];
  let dependentDialects = [
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect",
  ];
}

def ConvertSLRToCPURuntime
    : Pass<"convert-slr-to-cpu-runtime", "::mlir::ModuleOp"> {
  let summary = "Turn slr.linear into calls of the CPU runtime's packed kernel";
  let description = [{
    Replaces every `slr.linear` whose positions are 8, 16, 32 or 64-bit
    integers by a call of `slr_rt_sparse_linear_<type>_i<bits>` of the slr
    CPU runtime on the packed operands themselves (no unpacking): x
    collapsed to `[M, K]`, values, positions, U, V and bias handed over as
    memrefs (`bufferization.to_buffer`; an absent low-rank part or bias as
    an empty constant), y a fresh `[M, N]` buffer returned through
    `bufferization.to_tensor`. Runs on tensors, before bufferization. The
    kernel accumulates in f32 (f16/bf16 x widened, y rounded once), like
    `--convert-slr-to-linalg`, which stays the reference and lowers what this
    pass leaves (other position widths, `slr.pack`, `slr.unpack`).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertSLRToGPU : Pass<"convert-slr-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower 2:4 f16/bf16 slr.linear to tensor-core GPU kernels";
  let description = [{
    Generates, for every `slr.linear` with the 2:4 pattern and f16 or bf16
    operands, kernels in a `gpu.module` (one per shape/tiling, shared between
    ops) and replaces the op by a call to a host launcher function:

    * the main kernel computes a `tile-m x tile-n` block of `y` per CTA: x and
      the packed values of S stream through workgroup memory in a
      `stages`-deep `cp.async` pipeline, `ldmatrix` feeds
      `nvvm.mma.sp.sync` (m16n8k32, ordered metadata, f32 accumulation);
      the low-rank term `t*U^T` is added with dense `nvvm.mma.sync`
      (m16n8k16) into the same accumulators, then the bias, and `y` is
      written once, through workgroup memory, with 16-byte stores;
    * the low-rank projection `t = x*V^T` (f32, [M, r]) is a dense
      tensor-core kernel split over K across CTAs (atomic accumulation);
    * the 2:4 positions are reordered into the `mma.sp` metadata fragment
      layout at compile time when they are constant (an error is reported
      for groups that are not strictly ascending), otherwise by a small
      reorder kernel at run time, which relies on slr's packed layout
      (ascending, distinct positions, as `slr.pack` writes them).

    Numerics differ from `--convert-slr-to-linalg` in one place: `t` is
    rounded to the element type before it meets U on the tensor cores
    (relative error about 2^-9 for bf16 per element of t).

    M (rows of x, all leading dimensions) may be anything; N and K must be
    multiples of `tile-n` and `tile-k`, the rank a multiple of 16. The
    conversion is a rewrite pattern (`populateSLRToGPUConversionPatterns`)
    that declines an op it cannot lower (another pattern than 2:4, f32, a
    shape the tiles do not divide, a `chip` without a kernel variant): the
    pass leaves such an op for the CPU lowering (`--convert-slr-to-linalg`)
    with a warning naming why, or, with `strict`, reports it as an error.
    Options that are wrong whatever the op (a bad tiling) are always errors.
    The kernel variant is chosen from `chip` and the rows of x
    (`chooseKernelVariant`). The launcher (a private function with a
    `slr.gpu_launcher = #slr.gpu_launch<...>` recipe and memref arguments)
    gets its body from `--slr-gpu-materialize-launchers`, which runs after
    bufferization.
  }];
  let options = [
    Option<"tileN", "tile-n", "int64_t", "128",
           "Output features (N) per CTA">,
    Option<"tileM", "tile-m", "int64_t", "64", "Rows of x (M) per CTA">,
    Option<"tileK", "tile-k", "int64_t", "64",
           "Input features (K) per pipeline stage">,
    Option<"warpsN", "warps-n", "int64_t", "2", "Warps along N per CTA">,
    Option<"warpsM", "warps-m", "int64_t", "2", "Warps along M per CTA">,
    Option<"stages", "stages", "int64_t", "3", "cp.async pipeline depth">,
    Option<"chip", "chip", "std::string", "\"sm_80\"",
           "Target GPU (sm_80 or newer); chooses the kernel variant">,
    Option<"strict", "strict", "bool", "false",
           "An slr.linear that cannot be lowered to the GPU is an error "
           "(default: it is left for the CPU lowering, with a warning)">,
    Option<"kernelModule", "kernel-module", "std::string",
           "\"slr_gpu_kernels\"", "Name of the generated gpu.module">,
    Option<"testDefect", "test-defect", "std::string", "\"none\"",
           "Tests only: plant a defect (drop-barrier, short-wait, "
           "read-past-tile) to show the PTX simulator catches it">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def SLRGPUMaterializeLaunchers
    : Pass<"slr-gpu-materialize-launchers", "::mlir::ModuleOp"> {
  let summary = "Give slr GPU launchers their host bodies";
  let description = [{
    Fills in every private function carrying a `slr.gpu_launcher` recipe
    (created by `--convert-slr-to-gpu`) with host code: device buffers
    (`gpu.alloc`), host-to-device copies, the metadata reorder kernel when
    needed. When every weight of the op is a constant (the recipe's
    `resident`), the weights (packed values, metadata, U, V, bias) are not
    copied per call: `slrGpuResidentCopy` of the CUDA runtime uploads each
    once and keeps it, so a call moves only x and y. Then the zeroed low-rank buffer, `gpu.launch_func` of the low-rank
    and main kernels (the split-K factor is chosen at run time from M), the
    device-to-host copy of y and the frees, all on one async token chain.
    Runs after bufferization and buffer deallocation, which do not accept
    these ops.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

#endif // SLR_CONVERSION_PASSES_TD
