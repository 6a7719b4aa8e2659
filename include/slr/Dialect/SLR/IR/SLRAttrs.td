//===- SLRAttrs.td - slr attribute definitions -------------*- tablegen -*-===//

#ifndef SLR_DIALECT_SLR_IR_SLRATTRS_TD
#define SLR_DIALECT_SLR_IR_SLRATTRS_TD

include "slr/Dialect/SLR/IR/SLRDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def SLR_NMSparsityAttr : AttrDef<SLR_Dialect, "NMSparsity"> {
  let mnemonic = "nm";
  let summary = "N:M structured sparsity pattern along the reduction dimension";
  let description = [{
    `#slr.nm<n, m>`: in every aligned group of `m` consecutive elements along
    the last (reduction, K) dimension at most `n` are non-zero. `0 < n < m`,
    `m <= 64`. Each kept element's position inside its group takes
    `ceil(log2(m))` bits (2 bits for 2:4); the `n` positions of one group are
    packed into one integer element of the positions tensor (4 bits for 2:4),
    so the positions element type must have at least `n * ceil(log2(m))` bits,
    and `n * ceil(log2(m)) <= 64`: a group's positions are one 64-bit word
    wherever they are unpacked. So for m = 17..32 at most n = 12 (12:32 takes
    60 bits, 13:32 would take 65), for m = 33..64 at most n = 10.
  }];
  let parameters = (ins "unsigned":$n, "unsigned":$m);
  let assemblyFormat = "`<` $n `,` $m `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bits that encode one in-group position.
    unsigned getPositionBits() const;
    /// Bits that encode all `n` positions of one group.
    unsigned getGroupPositionBits() const { return getN() * getPositionBits(); }
    /// The standard 2:4 pattern of NVIDIA sparse tensor cores.
    bool is2To4() const { return getN() == 2 && getM() == 4; }
  }];
}

//===----------------------------------------------------------------------===//
// GPU launch recipe: the contract between --convert-slr-to-gpu and
// --slr-gpu-materialize-launchers (and the GPU benchmark's manifest).
//===----------------------------------------------------------------------===//

def SLR_GPUKernelVariant : I32EnumAttr<"GPUKernelVariant",
    "generation of the generated slr.linear GPU kernels", [
  // cp.async pipeline, ldmatrix, mma.sp m16n8k32 with ordered metadata plus
  // dense mma m16n8k16 for the low-rank term: sm_80 and newer, any M.
  I32EnumAttrCase<"MmaSpSm80", 0, "mma_sp_sm80">,
  // M <= 16: one launch split over N and K, CUDA-core FMAs on the decoded
  // 2:4 values, the low-rank term fused: sm_80 and newer.
  I32EnumAttrCase<"DecodeSm80", 1, "decode_sm80">,
  // sm_90a, M beyond decode sizes: TMA into swizzled shared memory, a
  // producer warp and two consumer warpgroups, wgmma.mma_async.sp
  // m64n128k32 plus dense wgmma k-blocks for the low-rank term.
  I32EnumAttrCase<"WgmmaSpSm90a", 2, "wgmma_sp_sm90a">
]> {
  let cppNamespace = "::slr";
  let genSpecializedAttr = 0;
}

/// `true` / `false` keywords for a bool parameter.
def SLR_BoolParameter : AttrOrTypeParameter<"bool", ""> {
  let parser = "::slr::parseBoolParameter($_parser)";
  let printer = "$_printer << ($_self ? \"true\" : \"false\")";
  let defaultValue = "false";
}

def SLR_GPULaunchAttr : AttrDef<SLR_Dialect, "GPULaunch"> {
  let mnemonic = "gpu_launch";
  let summary = "How to launch the GPU kernels of one slr.linear shape";
  let description = [{
    Written by `--convert-slr-to-gpu` on the private launcher function it
    calls (as the discardable attribute `slr.gpu_launcher`), read by
    `--slr-gpu-materialize-launchers`, which gives the launcher its host body,
    and by `slr-gpu-kernels` for the GPU benchmark's manifest.

    * `variant`: the kernel generation (`chooseKernelVariant`);
    * `n`, `k`, `rank`, `has_bias`: the layer; the launcher's operands are
      x, values, metadata words (or positions with `reorder`), U and V when
      `rank > 0`, the bias when `has_bias`, y;
    * `resident`: every weight is a constant, kept on the device;
    * `main`, `tile_n`, `tile_m`, `threads`, `shared_bytes`: the fused
      kernel, launched on grid (n / tile_n, ceil(M / tile_m), 1);
    * `lowrank`, `lowrank_tile_n`, `lowrank_tile_m`, `lowrank_threads`,
      `lowrank_shared_bytes`, `k_blocks`: the projection kernel, present
      exactly when `rank > 0`, launched on grid (rank / lowrank_tile_n,
      ceil(M / lowrank_tile_m), splitK <= k_blocks);
    * `reorder`: the metadata reorder kernel when the positions are not
      constants.

    `wgmma_sp_sm90a` has the fields of `mma_sp_sm80`; its `lowrank` kernel
    writes t = x*V^T once (element type, no split over K, no zeroing) and
    `main` reads x, S, the metadata, U and t through five TMA tensor maps
    that the launcher encodes (`slrGpuEncodeTensorMap2D`) and passes as a
    last operand, memref<5x16xi64> (3x16 without a low-rank part).

    `decode_sm80` has no `lowrank` kernel (the low-rank term is in `main`)
    and no `lowrank_*` fields; `k_blocks` is its number of K slices: `main`
    runs on grid (n / tile_n, k_blocks, ceil(M / tile_m)) with an f32
    workspace [M, n] and (n / tile_n) * ceil(M / tile_m) i32 counters,
    zeroed, after its operands and before y.

    ```mlir
    #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0,
                    has_bias = false, resident = false,
                    main = @slr_gpu_kernels::@main, tile_n = 16, tile_m = 16,
                    threads = 32, shared_bytes = 4224>
    ```
  }];
  let parameters = (ins
    EnumParameter<SLR_GPUKernelVariant>:$variant,
    "int64_t":$n,
    "int64_t":$k,
    "int64_t":$rank,
    SLR_BoolParameter:$has_bias,
    SLR_BoolParameter:$resident,
    "::mlir::SymbolRefAttr":$main,
    "int64_t":$tile_n,
    "int64_t":$tile_m,
    "int64_t":$threads,
    "int64_t":$shared_bytes,
    OptionalParameter<"::mlir::SymbolRefAttr">:$lowrank,
    DefaultValuedParameter<"int64_t", "0">:$lowrank_tile_n,
    DefaultValuedParameter<"int64_t", "0">:$lowrank_tile_m,
    DefaultValuedParameter<"int64_t", "0">:$lowrank_threads,
    DefaultValuedParameter<"int64_t", "0">:$lowrank_shared_bytes,
    DefaultValuedParameter<"int64_t", "0">:$k_blocks,
    OptionalParameter<"::mlir::SymbolRefAttr">:$reorder
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Operands of the launcher (and of its call): x, values, metadata or
    /// positions, [U, V], [bias], y.
    unsigned getNumLauncherOperands() const {
      return 4 + (getRank() ? 2 : 0) + (getHasBias() ? 1 : 0);
    }
  }];
}

#endif // SLR_DIALECT_SLR_IR_SLRATTRS_TD
