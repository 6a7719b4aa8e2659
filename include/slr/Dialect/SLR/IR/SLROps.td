//===- SLROps.td - slr operation definitions ---------------*- tablegen -*-===//

#ifndef SLR_DIALECT_SLR_IR_SLROPS_TD
#define SLR_DIALECT_SLR_IR_SLROPS_TD

include "slr/Dialect/SLR/IR/SLRDialect.td"
include "slr/Dialect/SLR/IR/SLRAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class SLR_Op<string mnemonic, list<Trait> traits = []>
    : Op<SLR_Dialect, mnemonic, traits>;

def SLR_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def SLR_PositionsTensor : RankedTensorOf<[AnySignlessInteger]>;

def SLR_PackOp : SLR_Op<"pack", [Pure]> {
  let summary = "Pack a dense [N, K] matrix into the N:M packed form";
  let description = [{
    Packs a dense matrix `dense : [N, K]` that satisfies the N:M pattern
    `pattern` along K into

    * `values : [N, K*n/m]` — the kept entries of each group of `m`, in
      ascending position order (`values[i, g*n + t]` is the `t`-th kept entry
      of group `g` of row `i`);
    * `positions : [N, K/m]` of a signless integer type — one element per
      group; bits `[t*b, (t+1)*b)` hold the in-group position (0..m-1) of the
      `t`-th kept entry, `b = ceil(log2 m)`. Remaining high bits are zero.
      For 2:4 that is 4 bits per group: bits 0-1 and 2-3, first < second.

    The packed form is canonical: the kept positions are the first `n`
    non-zero entries of the group; a group with fewer than `n` non-zeros is
    filled up with its lowest-index zero entries (so positions are always
    distinct and ascending). Entries beyond the first `n` non-zeros of a group
    (input that violates the pattern) are dropped. This layout is independent
    of any GPU instruction's metadata layout; GPU lowering reorders it.

    Example:
    ```mlir
    %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>}
        : tensor<8x16xf32> -> tensor<8x8xf32>, tensor<8x4xi8>
    ```
  }];
  let arguments = (ins SLR_FloatTensor:$dense, SLR_NMSparsityAttr:$pattern);
  let results = (outs SLR_FloatTensor:$values,
                      SLR_PositionsTensor:$positions);
  let assemblyFormat = [{
    $dense attr-dict `:` type($dense) `->` type($values) `,` type($positions)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SLR_UnpackOp : SLR_Op<"unpack", [Pure]> {
  let summary = "Unpack an N:M packed matrix into its dense [N, K] form";
  let description = [{
    Inverse of `slr.pack`: scatters `values : [N, K*n/m]` to the positions
    given by `positions : [N, K/m]` (layout documented on `slr.pack`) and
    fills the rest with zeros.

    `positions` must be in that layout: per group `n` distinct positions
    below `m` in ascending order and zero bits above them. Constant positions
    that are not are rejected by the verifier (a duplicate would drop one of
    the kept values); for non-constant positions the result is unspecified.

    ```mlir
    %w = slr.unpack %v, %p {pattern = #slr.nm<2, 4>}
        : tensor<8x8xf32>, tensor<8x4xi8> -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins SLR_FloatTensor:$values,
                       SLR_PositionsTensor:$positions,
                       SLR_NMSparsityAttr:$pattern);
  let results = (outs SLR_FloatTensor:$dense);
  let assemblyFormat = [{
    $values `,` $positions attr-dict `:` type($values) `,` type($positions)
    `->` type($dense)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SLR_LinearOp : SLR_Op<"linear", [Pure, AttrSizedOperandSegments]> {
  let summary = "Sparse-plus-low-rank linear layer y = x*S^T + (x*V^T)*U^T + b";
  let description = [{
    Computes `y = x·Sᵀ + (x·Vᵀ)·Uᵀ (+ bias)` for `x : [..., K]`, where `S`
    (`[N, K]`, N:M sparse along K) is given packed as `values : [N, K*n/m]`
    and `positions : [N, K/m]` (layout documented on `slr.pack`; its
    requirements on `positions` are those of `slr.unpack`),
    `U : [N, r]`, `V : [r, K]` and `bias : [N]`. The low-rank part and the
    bias are optional; `y : [..., N]` has the batch dimensions of `x`.
    All floating-point operands and the result share one element type (f32,
    f16 or bf16); lowerings accumulate in f32. Weight operands are statically
    shaped; leading (batch) dimensions of `x` may be dynamic. A rank-0
    low-rank part (`r = 0`) canonicalizes away.

    The optional `slr.name` string attribute carries the stable layer name
    (e.g. `"blk.3.ffn_down"`) used by calibration and reports.

    ```mlir
    %y = slr.linear %x, %values, %positions
           lowrank(%u, %v : tensor<64x8xf32>, tensor<8x128xf32>)
           bias(%b : tensor<64xf32>) {pattern = #slr.nm<2, 4>}
           : tensor<4x128xf32>, tensor<64x64xf32>, tensor<64x32xi8>
           -> tensor<4x64xf32>
    ```
  }];
  let arguments = (ins SLR_FloatTensor:$input,
                       SLR_FloatTensor:$values,
                       SLR_PositionsTensor:$positions,
                       Optional<SLR_FloatTensor>:$lowRankU,
                       Optional<SLR_FloatTensor>:$lowRankV,
                       Optional<SLR_FloatTensor>:$bias,
                       SLR_NMSparsityAttr:$pattern);
  let results = (outs SLR_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $values `,` $positions
    (`lowrank` `(` $lowRankU^ `,` $lowRankV `:` type($lowRankU) `,`
       type($lowRankV) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    attr-dict `:` type($input) `,` type($values) `,` type($positions)
    `->` type($output)
  }];
  let extraClassDeclaration = [{
    /// Rank of the low-rank part (0 when absent).
    int64_t getLowRank();
    /// N: rows of S (output features).
    int64_t getOutputFeatures();
    /// K: columns of S (input features).
    int64_t getInputFeatures();
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

#endif // SLR_DIALECT_SLR_IR_SLROPS_TD
