//===- HuggingFaceLlama.h - Hugging Face llama <-> GGUF conventions -*- C++
//-*-//
//
// What a Hugging Face (transformers) llama / mistral checkpoint folder and a
// llama GGUF disagree on, in one place for the importer and the exporter:
//
//  - Tensor names: "model.layers.3.self_attn.q_proj.weight" is
//    "blk.3.attn_q.weight", "model.embed_tokens.weight" is
//    "token_embd.weight", "lm_head.weight" is "output.weight", ...
//    Both store a linear layer's weight row-major [out, in], so the data of
//    every tensor is the same bytes, except for
//  - the rows of attn_q / attn_k: HF's rotary embedding rotates the pairs
//    (i, i + headDim/2) of each head (rotate_half), GGUF's (llama.cpp's
//    "normal" RoPE, the one the slr IR computes) the pairs (2i, 2i+1). The
//    converter from HF to GGUF therefore permutes the rows of q and k inside
//    each head: GGUF row 2i+s of a head is HF row s*headDim/2 + i.
//  - The hyper-parameters: config.json (HuggingFaceLlamaConfig) instead of
//    llama.* metadata.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_IMPORT_HUGGINGFACELLAMA_H
#define SLR_IMPORT_HUGGINGFACELLAMA_H

#include "slr/Import/LlamaImporter.h"
#include "slr/Support/Safetensors.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace slr {

//===----------------------------------------------------------------------===//
// Tensor names
//===----------------------------------------------------------------------===//

/// "model.layers.N.self_attn.q_proj.weight" -> "blk.N.attn_q.weight" etc.;
/// std::nullopt for a name that is not a llama weight.
std::optional<std::string> getGGUFTensorName(llvm::StringRef hfName);
/// The inverse: "blk.N.ffn_down.weight" ->
/// "model.layers.N.mlp.down_proj.weight".
std::optional<std::string> getHFTensorName(llvm::StringRef ggufName);
/// Tensors some HF checkpoints carry that are not weights
/// ("model.layers.N.self_attn.rotary_emb.inv_freq"): skipped on import.
bool isIgnoredHFTensor(llvm::StringRef hfName);

/// Whether a tensor's rows are stored in another order by HF and GGUF.
enum class RopeRows { None, Query, Key };
/// Query for attn_q / q_proj, Key for attn_k / k_proj (either naming).
RopeRows getRopeRows(llvm::StringRef tensorName);

/// One weight of a llama model: its GGUF name, row-major shape ([N, K] for
/// linears, [V, D] for the embedding, [D] for norms; HF's shape is the same)
/// and its rotary row order.
struct LlamaTensorSpec {
  std::string ggufName;
  std::vector<int64_t> shape;
  RopeRows ropeRows = RopeRows::None;
};
/// Every weight the importer reads for `config`, in the order a checkpoint
/// usually lists them: the embedding, the layers, the final norm, then
/// output.weight unless the output is tied.
std::vector<LlamaTensorSpec> getLlamaTensorSpecs(const LlamaConfig &config);

//===----------------------------------------------------------------------===//
// q / k row permutation
//===----------------------------------------------------------------------===//

/// Within one head of `headDim` rows (even): the GGUF row holding HF row
/// `hfRow`, and the inverse.
int64_t getGGUFRowOfHFRow(int64_t hfRow, int64_t headDim);
int64_t getHFRowOfGGUFRow(int64_t ggufRow, int64_t headDim);

enum class RopePermutation { HFToGGUF, GGUFToHF };
/// Reorders the rows of a row-major [numHeads * headDim, rowBytes] matrix of
/// any element type: `in` and `out` (not overlapping) both hold exactly
/// numHeads * headDim rows of rowBytes bytes.
void permuteRopeRows(llvm::ArrayRef<uint8_t> in,
                     llvm::MutableArrayRef<uint8_t> out, int64_t numHeads,
                     int64_t headDim, uint64_t rowBytes,
                     RopePermutation direction);
/// The same on float32 [numHeads * headDim, columns] matrices.
std::vector<float> permuteRopeRows(llvm::ArrayRef<float> in, int64_t numHeads,
                                   int64_t headDim, int64_t columns,
                                   RopePermutation direction);

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

/// The config.json fields of a transformers LlamaConfig / MistralConfig that
/// the model IR depends on (others are ignored on read).
struct HuggingFaceLlamaConfig {
  /// "LlamaForCausalLM" / "MistralForCausalLM".
  std::vector<std::string> architectures;
  /// "llama" / "mistral".
  std::string modelType;
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  /// Absent in older configs: numAttentionHeads (no grouped-query attention).
  std::optional<int64_t> numKeyValueHeads;
  /// When present it must equal hiddenSize / numAttentionHeads.
  std::optional<int64_t> headDim;
  int64_t maxPositionEmbeddings = 2048;
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  bool tieWordEmbeddings = false;
  /// Only "silu" (SwiGLU) is supported.
  std::string hiddenAct = "silu";
  /// Must be false: the IR has no attention / MLP biases.
  bool attentionBias = false;
  bool mlpBias = false;
  /// Present and not null: rope scaling, unsupported.
  bool hasRopeScaling = false;
  /// Mistral: attention span limit; the IR's context is cut to it.
  std::optional<int64_t> slidingWindow;
  std::optional<int64_t> bosTokenId;
  std::optional<int64_t> eosTokenId;
  /// "float32", "float16", "bfloat16" (informational).
  std::string torchDtype = "float32";
};

/// llvm::json conventions (both directions). fromJSON checks types only;
/// toLlamaConfig checks what slr supports.
llvm::json::Value toJSON(const HuggingFaceLlamaConfig &config);
bool fromJSON(const llvm::json::Value &value, HuggingFaceLlamaConfig &config,
              llvm::json::Path path);
/// Parses config.json text: "config.json: <what is wrong>" on error.
llvm::Expected<HuggingFaceLlamaConfig>
parseHuggingFaceLlamaConfig(llvm::StringRef jsonText);

/// The importer's config: fails for other architectures / model types and
/// for unsupported features (rope scaling, biases, another activation).
llvm::Expected<LlamaConfig> toLlamaConfig(const HuggingFaceLlamaConfig &config);
/// The config.json describing `config` (model_type "llama",
/// LlamaForCausalLM, float32).
HuggingFaceLlamaConfig toHuggingFaceLlamaConfig(const LlamaConfig &config);

//===----------------------------------------------------------------------===//
// Checkpoint folders
//===----------------------------------------------------------------------===//

/// A Hugging Face llama checkpoint folder, opened and checked against its
/// config.json: config.json, the weights in model.safetensors or in the
/// shards model.safetensors.index.json names, and tokenizer.json when
/// present. Every weight the model needs is there, of the shape config.json
/// implies and of dtype F32, F16 or BF16; nothing else is (apart from
/// rotary inv_freq buffers, and lm_head.weight when tied).
class HuggingFaceLlamaCheckpoint {
public:
  static llvm::Expected<HuggingFaceLlamaCheckpoint>
  open(llvm::StringRef folder);

  const HuggingFaceLlamaConfig &getHFConfig() const { return hfConfig; }
  const LlamaConfig &getConfig() const { return config; }
  /// The safetensors files read (1 without an index).
  size_t getNumShards() const { return shards.size(); }
  /// The dtypes of the weights, e.g. "BF16" or "F16+F32".
  std::string describeDTypes() const;
  /// The tokenizer of tokenizer.json, or null when the folder has none.
  const Tokenizer *getTokenizer() const { return tokenizer.get(); }

  /// A weight by GGUF name as the importer wants it (WeightProvider): f32,
  /// q / k rows in GGUF's order.
  llvm::Expected<std::vector<float>>
  readWeight(llvm::StringRef ggufName, llvm::ArrayRef<int64_t> shape) const;

  HuggingFaceLlamaCheckpoint(HuggingFaceLlamaCheckpoint &&);
  HuggingFaceLlamaCheckpoint &operator=(HuggingFaceLlamaCheckpoint &&);
  ~HuggingFaceLlamaCheckpoint();

private:
  HuggingFaceLlamaCheckpoint();

  struct Location {
    size_t shard;
    std::string hfName;
  };
  std::string folder;
  HuggingFaceLlamaConfig hfConfig;
  LlamaConfig config;
  std::vector<std::string> shardNames;
  std::vector<SafetensorsFile> shards;
  /// By GGUF name.
  llvm::StringMap<Location> weights;
  std::unique_ptr<Tokenizer> tokenizer;
};

/// slr-import of a checkpoint folder: the same IR as importLlamaGGUF gives
/// for the GGUF of the same weights.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importLlamaHuggingFace(mlir::MLIRContext &context,
                       const HuggingFaceLlamaCheckpoint &checkpoint);

} // namespace slr

#endif // SLR_IMPORT_HUGGINGFACELLAMA_H
