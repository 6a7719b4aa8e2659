//===- CompiledModel.h - JIT-compiled model IR ------------------*- C++ -*-===//
//
// Lowers model IR (`func.func @forward(tensor<?xi32>) -> tensor<?xVxf32>`,
// as slr-import writes it, possibly with slr.linear after --slr-compress)
// through the fast CPU pipeline (contractions become BLAS calls into the slr
// CPU runtime) and JIT-compiles it with MLIR's ExecutionEngine.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_EXECUTION_COMPILEDMODEL_H
#define SLR_EXECUTION_COMPILEDMODEL_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace slr {

/// Dialects of model IR: upstream ones slr-import emits plus slr.
void registerModelIRDialects(mlir::DialectRegistry &registry);

/// Parses model IR (text or bytecode) from `path`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
loadModelIR(mlir::MLIRContext &context, llvm::StringRef path);

/// Checks every floating-point constant of `module`: a dense_resource blob
/// must hold exactly the bytes its type needs, and no value may be NaN or Inf.
/// The error names the weight (its resource key) or the layer using it.
llvm::Error checkModelWeights(mlir::ModuleOp module);

/// The logits of one forward call, [rows x cols] row-major, in the buffer
/// the compiled code returned (a copy only if that buffer is strided): at
/// 512 tokens of a 49152-word vocabulary that is 0.1 GB not held twice.
class Logits {
public:
  llvm::ArrayRef<float> values() const { return view; }
  int64_t rows() const { return numRows; }
  int64_t cols() const { return numCols; }

private:
  friend class CompiledModel;
  struct FreeDeleter {
    void operator()(void *pointer) const;
  };
  std::unique_ptr<void, FreeDeleter> buffer;
  std::vector<float> strided;
  llvm::ArrayRef<float> view;
  int64_t numRows = 0, numCols = 0;
};

class CompiledModel {
public:
  /// Checks the weights (checkModelWeights), lowers (in place) and compiles
  /// `module`. `calibrationLayers` receives
  /// the names of the layers instrumented by --slr-instrument-calibration, if
  /// the module was instrumented.
  /// `unpackSparse` lowers slr.linear by unpacking S (buildCPUFastPipeline).
  /// The weights are not compiled into the code: the JIT binds them to the
  /// bytes `module`'s MLIRContext holds (--slr-externalize-weights), so the
  /// CompiledModel must not outlive that context.
  static llvm::Expected<std::unique_ptr<CompiledModel>>
  compile(mlir::ModuleOp module, bool unpackSparse = false);

  ~CompiledModel();

  /// Logits [tokens.size(), vocabSize()] for one sequence.
  llvm::Expected<Logits> forward(llvm::ArrayRef<int32_t> tokens);

  int64_t vocabSize() const { return vocab; }
  /// Names of instrumented layers (module attribute
  /// `slr.calibration_layers`), in hook-id order; empty if none.
  const std::vector<std::string> &calibrationLayers() const {
    return layerNames;
  }

private:
  CompiledModel() = default;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void *entry = nullptr;
  int64_t vocab = 0;
  std::vector<std::string> layerNames;
  /// Weights whose bytes lacked their element alignment, copied.
  std::vector<std::vector<uint64_t>> alignedCopies;
};

} // namespace slr

#endif // SLR_EXECUTION_COMPILEDMODEL_H
