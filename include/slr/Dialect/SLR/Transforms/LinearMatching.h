//===- LinearMatching.h - Find constant-weight linear layers -----*- C++
//-*-===//
//
// Recognises the dense linear layers slr compresses: contractions
// y[..., n] += x[..., k] * W(n, k) whose weight operand is a constant, in
// any of the front-end forms (linalg.matmul with plain or transposed maps,
// batch_matmul with a broadcast weight, matmul-shaped linalg.generic). Shared
// by the compression and the calibration-instrumentation passes so they
// agree on what a layer is and what it is called.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_DIALECT_SLR_TRANSFORMS_LINEARMATCHING_H
#define SLR_DIALECT_SLR_TRANSFORMS_LINEARMATCHING_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <string>
#include <vector>

namespace slr {

/// A linear layer y = init + x * W^T with a constant weight.
struct ConstantWeightLinear {
  mlir::linalg::LinalgOp op;
  /// Operand numbers of x and the accumulator in `op`. Kept as numbers, not
  /// Values: rewriting another layer replaces and erases the op that defines
  /// x or init when layers feed each other, and a stored Value would dangle.
  unsigned inputOperandNumber = 0, initOperandNumber = 0;
  /// x : [..., K] (the activation operand), read from `op` now.
  mlir::Value getInput() const { return op->getOperand(inputOperandNumber); }
  /// The accumulator (`outs`) operand, same shape as the result [..., N].
  mlir::Value getInit() const { return op->getOperand(initOperandNumber); }
  /// The weight as stored: [N, K] or, when `weightIsTransposed`, [K, N].
  mlir::ElementsAttr weight;
  bool weightIsTransposed = false;
  int64_t numOutputFeatures = 0; // N
  int64_t numInputFeatures = 0;  // K
  std::string name;
};

/// Why a contraction could not be taken. Empty `reason` means the op is not a
/// matmul-like contraction at all (nothing worth reporting).
struct LinearMatchFailure {
  std::string reason;
};

/// Matches `op`; on failure fills `failure.reason` when the op is a
/// contraction that slr would want but cannot handle.
std::optional<ConstantWeightLinear>
matchConstantWeightLinear(mlir::linalg::LinalgOp op,
                          LinearMatchFailure &failure);

/// The stable name of a linear layer: its `slr.name` attribute, else
/// `<enclosing function>.linear<ordinal>` with `ordinal` counted in walk order
/// over contractions of that function.
std::string linearLayerName(mlir::Operation *op, unsigned ordinal);

/// Visits every matmul-like contraction under `root` in walk order with its
/// stable layer name and either the match or the reason it failed (`match`
/// is empty then). Contractions that are not linear-layer shaped at all are
/// not visited.
void forEachLinearCandidate(
    mlir::Operation *root,
    llvm::function_ref<void(mlir::linalg::LinalgOp op, const std::string &name,
                            std::optional<ConstantWeightLinear> &match,
                            const LinearMatchFailure &failure)>
        callback);

/// The attribute carrying a layer's stable name.
inline constexpr const char *kLayerNameAttr = "slr.name";

/// Reads a float constant (f32, f16 or bf16; dense or dense_resource) as
/// float32 in row-major order. Fails with `error` set when the data is not
/// available (e.g. an elided resource).
bool readFloatElements(mlir::ElementsAttr attr, std::vector<float> &values,
                       std::string &error);

/// Builds a constant of `type` (f32, f16 or bf16 element type) from
/// float32 data; large tensors become dense_resource blobs named after
/// `blobName` so bytecode keeps them binary.
mlir::ElementsAttr makeFloatElements(mlir::RankedTensorType type,
                                     llvm::ArrayRef<float> values,
                                     llvm::StringRef blobName);

/// Same for integer data (positions).
mlir::ElementsAttr makeIntegerElements(mlir::RankedTensorType type,
                                       llvm::ArrayRef<uint64_t> values,
                                       llvm::StringRef blobName);

/// Replaces the result of the contraction `op` with `replacement`, erases
/// `op` and then the constants among its operands other than `input` and
/// `init` (the dense weight) that nothing else reads, so that a rewritten
/// model does not carry W beside what replaced it.
void replaceLinearLayer(mlir::Operation *op, mlir::Value replacement,
                        mlir::Value input, mlir::Value init);

} // namespace slr

#endif // SLR_DIALECT_SLR_TRANSFORMS_LINEARMATCHING_H
