//===- LlamaImporter.h - Llama checkpoint to model IR -----------*- C++ -*-===//
//
// Builds the model IR of a llama-architecture language model in upstream
// dialects (linalg/tensor/arith/math on tensors): `func.func @forward(
// %tokens: tensor<?xi32>) -> tensor<?xVxf32>` computing next-token logits for
// every position of one sequence (positions 0..T-1). Weights become
// dense_resource constants; every weight matmul is a linalg.matmul with
// transposed-B maps carrying its stable name (`slr.name = "blk.3.ffn_down"`),
// the keys used by calibration and --slr-compress.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_IMPORT_LLAMAIMPORTER_H
#define SLR_IMPORT_LLAMAIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace slr {

struct LlamaConfig {
  /// Bounds validate() enforces: generous, yet they keep every size product
  /// (vocab x dim, FFN x dim) far from overflowing int64_t.
  static constexpr int64_t kMaxWidth = int64_t(1) << 20;
  static constexpr int64_t kMaxVocab = int64_t(1) << 24;
  static constexpr int64_t kMaxLayers = 4096;
  static constexpr int64_t kMaxHeads = 4096;
  static constexpr int64_t kMaxContextLength = int64_t(1) << 30;
  /// The IR computes in float: epsilon must stay a normal float > 0, the
  /// RoPE base a finite float.
  static constexpr double kMinRmsNormEps = 1e-30;
  static constexpr double kMaxRopeFreqBase = 1e30;

  int64_t vocabSize = 0;
  int64_t dim = 0;       // model width D
  int64_t hiddenDim = 0; // FFN width
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0; // grouped-query attention when < numHeads
  int64_t contextLength = 0;
  double rmsNormEps = 1e-5;
  double ropeFreqBase = 10000.0;
  /// The output head reuses token_embd.weight.
  bool tiedOutput = true;

  int64_t headDim() const { return numHeads ? dim / numHeads : 0; }
  int64_t kvDim() const { return headDim() * numKVHeads; }
  /// Checks the shape relations the IR relies on.
  llvm::Error validate() const;
};

/// Supplies a weight by GGUF tensor name (e.g. "blk.0.attn_q.weight") as a
/// row-major float32 array of the given shape ([N, K] for linears, [V, D]
/// for the embedding, [D] for norms); returns an error when missing or of
/// another shape.
using WeightProvider = llvm::function_ref<llvm::Expected<std::vector<float>>(
    llvm::StringRef name, llvm::ArrayRef<int64_t> shape)>;

/// Builds the model IR. Fails with a clear message when a weight is missing
/// or malformed.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildLlamaModule(mlir::MLIRContext &context, const LlamaConfig &config,
                 WeightProvider weights);

class GGUFFile;

/// Reads the llama hyper-parameters from GGUF metadata (`llama.*` keys);
/// fails for other architectures or inconsistent values.
llvm::Expected<LlamaConfig> readLlamaConfig(const GGUFFile &file);

/// slr-import: GGUF (F32/F16/BF16/Q8_0/Q4_0/Q4_1, dequantised to f32) to
/// model IR. With `lora`, a llama.cpp LoRA adapter GGUF (`general.type =
/// adapter`, `adapter.type = lora`, tensors `<weight>.lora_a` [r, K] and
/// `<weight>.lora_b` [N, r]) is merged as llama.cpp applies it:
/// W + s·B·A with s = alpha/r (s = 1 when alpha is 0 or absent), summed in
/// double and rounded once. Every adapter tensor must meet a weight.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importLlamaGGUF(mlir::MLIRContext &context, const GGUFFile &file,
                const GGUFFile *lora = nullptr);

/// Registers the dialects the model IR uses.
void registerLlamaModelDialects(mlir::DialectRegistry &registry);

} // namespace slr

#endif // SLR_IMPORT_LLAMAIMPORTER_H
