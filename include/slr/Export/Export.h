//===- Export.h - Compressed model IR to files other engines load -*- C++
//-*-===//
//
// slr-export's library: reads the linear layers of a compressed model IR (the
// output of --slr-compress on slr-import's IR) and writes them in formats
// other engines load:
//
//  - gguf: a base model GGUF (S dense, every other tensor and all metadata
//    copied from the source GGUF) and a LoRA adapter GGUF (lora_a = V,
//    lora_b = U, alpha = rank, so that llama.cpp's scale alpha/rank is 1 and
//    base + adapter = S + U·V);
//  - packed: S in slr's packed N:M layout (values, positions), U, V and bias
//    per layer in one safetensors file, the layout in its metadata;
//
// Every number of a linear layer comes from the IR's constants. IR the
// exporter cannot represent (ops slr-import and --slr-compress do not make,
// a layer without an slr.name, a non-constant weight, a layer or shape the
// source checkpoint lacks) is refused with a one-line error before anything
// is written.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_EXPORT_EXPORT_H
#define SLR_EXPORT_EXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slr {

class GGUFFile;

/// Element types the exported float tensors can be stored in.
enum class ExportFloatType { F32, F16, BF16 };

/// One linear layer y = x·Wᵀ of the IR, W = S + U·V for a compressed layer
/// (slr.linear), W dense for a layer left as a matmul.
struct ExportLayer {
  std::string name; // slr.name, e.g. "blk.0.attn_q"
  int64_t rows = 0; // N (output features)
  int64_t cols = 0; // K (input features)
  /// The IR's float element type of the layer's constants.
  ExportFloatType elementType = ExportFloatType::F32;
  bool compressed = false;
  /// Compressed layers: the pattern and the packed S as in the IR
  /// (NMLayout.h), values [N, K/m*n], positions [N, K/m] of
  /// `positionBits`-bit integers.
  unsigned n = 0, m = 0;
  unsigned positionBits = 0;
  std::vector<float> values;
  std::vector<uint64_t> positions;
  /// The low-rank part: U [N, rank], V [rank, K] (empty when rank is 0).
  int64_t rank = 0;
  std::vector<float> u, v;
  /// The bias [N], empty when the layer has none.
  std::vector<float> bias;
  /// S unpacked (compressed layers) or W (dense layers), row-major [N, K].
  std::vector<float> dense;
};

/// The linear layers of a model IR in walk order, and its other named
/// constants (dense_resource blobs named after the source tensor, e.g.
/// "blk.0.attn_norm.weight").
struct ExportModel {
  std::vector<ExportLayer> layers;
  llvm::StringMap<size_t> layerIndex;
  llvm::StringMap<std::vector<float>> namedConstants;

  const ExportLayer *findLayer(llvm::StringRef name) const;
};

/// Reads every linear layer of `module`. Fails on an op other than those of
/// slr-import's IR and slr.linear, a linear layer without `slr.name` (or two
/// with the same), a non-constant weight operand, and S whose positions are
/// not canonical.
llvm::Expected<ExportModel> collectExportModel(mlir::ModuleOp module);

/// A file of an export: its name inside the output folder and contents.
struct ExportFile {
  std::string name;
  std::string contents;
};

struct GGUFExportOptions {
  /// Storage of S (and of dense linear layers) in the base model.
  ExportFloatType baseType = ExportFloatType::F32;
  /// Storage of lora_a / lora_b in the adapter.
  ExportFloatType adapterType = ExportFloatType::F32;
};

/// The base model GGUF ("model.gguf") and, when some layer has a low-rank
/// part, the LoRA adapter GGUF ("adapter.gguf"). `source` is the checkpoint
/// the IR was imported from: its metadata (hyper-parameters, tokenizer) and
/// non-linear tensors are copied; the IR's named constants must equal its
/// tensors. Refuses mixed ranks (one `adapter.lora.alpha` per adapter: the
/// scale alpha/rank can be 1 for one rank only) and biases (llama GGUF
/// linears have none).
llvm::Expected<std::vector<ExportFile>>
exportGGUF(const ExportModel &model, const GGUFFile &source,
           const GGUFExportOptions &options = {});

/// The packed form as one safetensors file ("model.packed.safetensors"):
/// per compressed layer `<name>.values`, `<name>.positions` (unsigned, the
/// IR's width), `<name>.u`, `<name>.v`, `<name>.bias` when present, per dense
/// linear `<name>.weight`; the metadata holds the format, the layout and a
/// JSON list of the layers (name, rows, cols, n, m, rank, position_bits).
/// Floats keep the IR's element type.
llvm::Expected<std::vector<ExportFile>> exportPacked(const ExportModel &model);

struct HuggingFaceExportOptions {
  /// Storage of model.safetensors (S dense and the other weights) and of
  /// adapter_model.safetensors.
  ExportFloatType weightType = ExportFloatType::F32;
  ExportFloatType adapterType = ExportFloatType::F32;
  /// Also write tokenizer.json from the source's tokenizer metadata.
  bool tokenizer = true;
};

/// A Hugging Face folder for transformers + PEFT: config.json and
/// model.safetensors (llama names, S dense, q/k rows in HF's rotary order;
/// a compressed tied head becomes lm_head), adapter_config.json and
/// adapter_model.safetensors (PEFT LoRA: lora_A = V, lora_B = U; r and
/// lora_alpha the most common rank, rank_pattern / alpha_pattern for the
/// layers of another rank, so every scale alpha/r is 1) and tokenizer.json.
/// `source` as for exportGGUF.
llvm::Expected<std::vector<ExportFile>>
exportHuggingFace(const ExportModel &model, const GGUFFile &source,
                  const HuggingFaceExportOptions &options = {});

/// Checks that the IR's named constants (the importer names each after its
/// source tensor) equal the source's tensors: "the source checkpoint is not
/// the IR's model: tensor 'x' differs".
llvm::Error checkSourceMatches(const ExportModel &model,
                               const GGUFFile &source);

class SafetensorsFile;

/// The reader of exportPacked's file (slr-import --packed): replaces each
/// dense matmul of the model whose slr.name the file lists as sparse +
/// low-rank with slr.linear over the file's values, positions, U, V and
/// bias. Fails on a layer the model lacks or of another shape, a tensor
/// missing or of another shape or element type, and positions that are not
/// canonical (NMLayout.h).
llvm::Error applyPackedLayers(mlir::ModuleOp module,
                              const SafetensorsFile &file);

class HuggingFaceLlamaCheckpoint;

/// The reader of exportHuggingFace's adapter (slr-import FOLDER --lora
/// ADAPTER_FOLDER): imports `checkpoint` with a PEFT LoRA adapter
/// (adapter_config.json + adapter_model.safetensors in `adapterFolder`)
/// merged as PEFT merges it, W + (alpha/r)·B·A per target module (r, alpha
/// from rank_pattern / alpha_pattern), summed in double and rounded once.
/// Refuses other PEFT types and options (rslora, DoRA, fan_in_fan_out),
/// missing or misshapen lora_A / lora_B, and adapter tensors no module of
/// the model uses.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importLlamaHuggingFaceWithPeft(mlir::MLIRContext &context,
                               const HuggingFaceLlamaCheckpoint &checkpoint,
                               llvm::StringRef adapterFolder);

/// Writes `files` into `directory` (created if missing), each atomically.
/// All contents exist before the first file is written, so a refusal leaves
/// nothing behind.
llvm::Error writeExportFiles(llvm::StringRef directory,
                             llvm::ArrayRef<ExportFile> files);

} // namespace slr

#endif // SLR_EXPORT_EXPORT_H
