//===- SLRAttrs.td - slr attribute definitions -------------*- tablegen -*-===//

#ifndef SLR_DIALECT_SLR_IR_SLRATTRS_TD
#define SLR_DIALECT_SLR_IR_SLRATTRS_TD

include "slr/Dialect/SLR/IR/SLRDialect.td"
include "mlir/IR/AttrTypeBase.td"

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

#endif // SLR_DIALECT_SLR_IR_SLRATTRS_TD
