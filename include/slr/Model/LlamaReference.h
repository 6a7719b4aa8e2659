//===- LlamaReference.h - Reference llama forward pass ----------*- C++ -*-===//
//
// A plain C++ forward pass of the llama architecture read from a GGUF file,
// for calibration statistics and perplexity: token embedding, per block
// RMSNorm -> grouped-query causal self-attention with RoPE -> residual,
// RMSNorm -> SwiGLU feed-forward -> residual, final RMSNorm and the output
// head (output.weight, or the token embedding when tied). All weights are
// dequantised to float32 on load; the linears run as BLAS sgemm.
//
// RoPE rotates consecutive pairs (2i, 2i+1) of each head (llama.cpp's
// "normal" mode; llama.cpp's HF converter permutes q/k so this holds for all
// llama GGUFs), with theta_i = base^(-2i/rope_dim) and base from
// llama.rope.freq_base (default 10000).
//
// Every linear layer has a stable name, the GGUF tensor name minus ".weight":
// "blk.3.attn_q", "blk.3.attn_k", "blk.3.attn_v", "blk.3.attn_output",
// "blk.3.ffn_gate", "blk.3.ffn_up", "blk.3.ffn_down", and "output" for an
// untied head. A hook sees each linear's input activations, and any linear's
// weight can be replaced (to evaluate compressed weights).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_MODEL_LLAMAREFERENCE_H
#define SLR_MODEL_LLAMAREFERENCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace slr {

class GGUFFile;

/// Hyperparameters as the reference model reads them (slr/Import has its own
/// LlamaConfig for the MLIR importer; this library stays free of MLIR).
struct ReferenceLlamaConfig {
  int64_t vocabularySize = 0;
  int64_t embeddingDim = 0;
  int64_t feedForwardDim = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0;
  /// Leading dimensions of each head that RoPE rotates (even, <= headDim).
  int64_t ropeDim = 0;
  int64_t contextLength = 0;
  float rmsNormEpsilon = 1e-5f;
  float ropeFreqBase = 10000.0f;
  /// The output head reuses token_embd.weight (no output.weight tensor).
  bool tiedOutput = false;
};

/// A linear layer's weight, y = x * W^T: row-major [outFeatures, inFeatures].
struct LinearWeight {
  std::string name;
  int64_t outFeatures = 0;
  int64_t inFeatures = 0;
  std::vector<float> values;
};

/// Called with a linear layer's input X, row-major [numTokens, numFeatures],
/// right before the layer is applied.
using LinearInputHook =
    std::function<void(llvm::StringRef name, const float *inputs,
                       int64_t numTokens, int64_t numFeatures)>;

/// Sum of negative log-likelihoods (nats) and how many tokens they cover.
struct NLLSum {
  double totalNLL = 0;
  int64_t numPredicted = 0;
};

/// Adds -log softmax(logitsRow)[target] (computed stably in double) to `sum`.
void addNextTokenNLL(const float *logitsRow, int64_t vocabularySize,
                     int32_t target, NLLSum &sum);

class LlamaModel {
public:
  /// Reads the hyperparameters (general.architecture must be "llama") and
  /// dequantises every weight; all shapes are checked.
  static llvm::Expected<std::unique_ptr<LlamaModel>> load(const GGUFFile &file);

  const ReferenceLlamaConfig &getConfig() const { return config; }

  /// Names of the linear layers in execution order. "output" is listed only
  /// when `includeOutput` and the head is not tied to the embedding.
  std::vector<std::string> getLinearNames(bool includeOutput = false) const;
  /// nullptr for unknown names (and for "output" when tied).
  const LinearWeight *findLinear(llvm::StringRef name) const;
  /// Replaces a linear's weight; `values` must be [outFeatures, inFeatures].
  llvm::Error setLinearWeight(llvm::StringRef name,
                              llvm::ArrayRef<float> values);

  /// Installs (or, with an empty function, removes) the input hook. The
  /// untied output head is reported only when `includeOutput` is set.
  void setLinearInputHook(LinearInputHook hook, bool includeOutput = false);

  /// Logits [tokens.size(), vocabularySize] of a causal forward pass over
  /// `tokens` at positions 0, 1, ... (no KV cache: one full pass).
  llvm::Expected<std::vector<float>>
  computeLogits(llvm::ArrayRef<int32_t> tokens) const;

  /// The final (normed) hidden states [tokens.size(), embeddingDim]: every
  /// linear except the head runs, so the hook sees all their inputs (and
  /// the head's, when it is untied and requested). For calibration.
  llvm::Expected<std::vector<float>>
  computeHiddenStates(llvm::ArrayRef<int32_t> tokens) const;

  /// Negative log-likelihood of tokens[firstTarget..] each predicted from
  /// the tokens before it, in one forward pass over `tokens`.
  llvm::Expected<NLLSum> computeNLL(llvm::ArrayRef<int32_t> tokens,
                                    size_t firstTarget = 1) const;

  /// Batched forms for many short sequences: the sequences are packed into
  /// one pass, so every linear runs once over all their tokens (and the hook
  /// sees them concatenated), while attention stays within each sequence
  /// and positions restart at 0. Results equal per-sequence calls.
  llvm::Expected<std::vector<NLLSum>>
  computeNLLBatch(llvm::ArrayRef<std::vector<int32_t>> sequences,
                  size_t firstTarget = 1) const;
  llvm::Expected<std::vector<float>> computeHiddenStatesBatch(
      llvm::ArrayRef<std::vector<int32_t>> sequences) const;

private:
  LlamaModel() = default;
  struct Layer {
    std::vector<float> attentionNorm;
    std::vector<float> feedForwardNorm;
    size_t query, key, value, attentionOutput, gate, up, down;
  };

  llvm::Error validateTokens(llvm::ArrayRef<int32_t> tokens) const;
  /// Runs all blocks and the final norm over the sequences
  /// tokens[starts[i], starts[i+1]) (starts[0] = 0, last = tokens.size()):
  /// hidden state [T, embeddingDim]. `reportHeadInput`: pass the result to
  /// the hook as the untied head's input (if it wants it).
  std::vector<float> computeFinalHidden(llvm::ArrayRef<int32_t> tokens,
                                        llvm::ArrayRef<size_t> starts,
                                        bool reportHeadInput) const;
  /// Runs the head over the given rows of `hidden` and adds -log p(target)
  /// of each row to the NLLSum it belongs to.
  void accumulateNLL(const std::vector<float> &hidden,
                     llvm::ArrayRef<int32_t> tokens,
                     llvm::ArrayRef<size_t> starts, size_t firstTarget,
                     std::vector<NLLSum> &sums) const;
  /// Applies linear `index` to `inputs` [numTokens, K] (calls the hook).
  void applyLinear(size_t index, const float *inputs, int64_t numTokens,
                   float *outputs) const;
  /// Head weight [vocabularySize, embeddingDim].
  const float *getOutputWeights() const;

  ReferenceLlamaConfig config;
  std::vector<float> tokenEmbedding; // [vocabularySize, embeddingDim]
  std::vector<float> outputNorm;
  std::vector<Layer> layers;
  std::vector<LinearWeight> linears; // "output" last when untied
  llvm::StringMap<size_t> linearIndex;
  LinearInputHook inputHook;
  bool hookIncludesOutput = false;
};

} // namespace slr

#endif // SLR_MODEL_LLAMAREFERENCE_H
