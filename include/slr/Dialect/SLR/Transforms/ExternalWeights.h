//===- ExternalWeights.h - Weights bound at run time -------------*- C++
//-*-===//
//
// --slr-externalize-weights turns constant memref.globals into external
// declarations and records, in the module attribute `slr.external_weights`,
// which bytes each symbol stands for. The JIT (slr::CompiledModel) binds the
// symbols to those bytes instead of compiling the weights into the code.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_DIALECT_SLR_TRANSFORMS_EXTERNALWEIGHTS_H
#define SLR_DIALECT_SLR_TRANSFORMS_EXTERNALWEIGHTS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace slr {

/// Module attribute: dictionary from symbol name to the ElementsAttr whose
/// bytes the symbol is bound to.
constexpr llvm::StringLiteral kExternalWeightsAttrName = "slr.external_weights";

/// The bytes of `value` in the layout memref code reads (row-major,
/// little-endian elements), if it holds them contiguously: a dense_resource
/// blob of the right size or a non-splat dense attribute, with an integer or
/// float element type of 8, 16, 32 or 64 bits. The bytes belong to the
/// attribute's MLIRContext (its resource blob manager or attribute storage).
std::optional<llvm::ArrayRef<char>> getBindableBytes(mlir::ElementsAttr value);

/// One symbol of `slr.external_weights`.
struct ExternalWeight {
  llvm::StringRef symbol;
  llvm::ArrayRef<char> bytes;
  /// The alignment the code may assume (the element size).
  uint64_t alignment = 1;
};

/// The symbols `module` records in `slr.external_weights`; an error if the
/// attribute is malformed or an entry no longer has bindable bytes.
llvm::Expected<std::vector<ExternalWeight>>
getExternalWeights(mlir::ModuleOp module);

} // namespace slr

#endif // SLR_DIALECT_SLR_TRANSFORMS_EXTERNALWEIGHTS_H
