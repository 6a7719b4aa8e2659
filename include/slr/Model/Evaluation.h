//===- Evaluation.h - Perplexity and calibration over text ------*- C++ -*-===//
//
// Text-level drivers over the reference model: perplexity with the protocol
// of ../shared/data/README.md, and accumulation of the calibration statistic
// H = X^T X for every linear layer.
//
// Perplexity protocols:
//  - Blocks (the data README's): the text is split on blank lines, each block
//    is tokenized and scored from BOS with a context of at most
//    `contextLength` tokens. A block longer than that is cut into
//    non-overlapping windows, each [BOS, next contextLength-1 tokens], so
//    every token of the block is predicted exactly once (the first token of
//    a window from BOS alone). Result: mean NLL over all predicted tokens.
//  - Stream (the usual WikiText protocol of GPTQ/SparseGPT): the whole text
//    is tokenized at once and cut into non-overlapping windows of
//    `contextLength` tokens (a shorter tail is dropped); tokens 1.. of each
//    window are predicted. With `prependBos`, BOS precedes each window
//    (which then holds contextLength-1 text tokens, all predicted).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_MODEL_EVALUATION_H
#define SLR_MODEL_EVALUATION_H

#include "slr/Model/LlamaReference.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace slr {

class Tokenizer;

/// Blocks of `text` separated by blank (empty or whitespace-only) lines,
/// each with surrounding whitespace trimmed; empty blocks are dropped.
std::vector<llvm::StringRef> splitTextBlocks(llvm::StringRef text);

struct PerplexityOptions {
  enum class Protocol { Blocks, Stream };
  Protocol protocol = Protocol::Blocks;
  int64_t contextLength = 512;
  /// Prepend the tokenizer's BOS to every window (if it has one).
  bool prependBos = true;
  /// Stop after this many blocks (Blocks) / windows (both); 0 = no limit.
  int64_t maxBlocks = 0;
  int64_t maxWindows = 0;
  /// Windows are packed into forward passes of up to this many tokens (see
  /// LlamaModel::computeNLLBatch); the results do not depend on it.
  int64_t batchTokens = 4096;
  /// Called after every forward pass with the running totals.
  std::function<void(const NLLSum &running, int64_t windowsDone)> progress;
};

struct PerplexityResult {
  NLLSum sum;
  int64_t numBlocks = 0;
  int64_t numWindows = 0;
  double meanNLL() const {
    return sum.numPredicted ? sum.totalNLL / sum.numPredicted : 0.0;
  }
  double perplexity() const { return std::exp(meanNLL()); }
};

/// Scores one window: the NLL of window[1..] each predicted from the tokens
/// before it. Lets any executor (the reference model, JIT-compiled model IR)
/// share the protocol.
using WindowScorer =
    std::function<llvm::Expected<NLLSum>(llvm::ArrayRef<int32_t> window)>;

llvm::Expected<PerplexityResult>
evaluatePerplexity(const WindowScorer &scorer, const Tokenizer &tokenizer,
                   llvm::StringRef text, const PerplexityOptions &options);

/// The same with the reference model as the scorer.
llvm::Expected<PerplexityResult>
evaluatePerplexity(const LlamaModel &model, const Tokenizer &tokenizer,
                   llvm::StringRef text, const PerplexityOptions &options);

/// NLL of tokens[1..] from row-major logits [tokens.size(), vocabularySize]
/// (row i predicts token i + 1).
NLLSum nllFromLogits(llvm::ArrayRef<float> logits, int64_t vocabularySize,
                     llvm::ArrayRef<int32_t> tokens);

/// X^T X of one linear layer's inputs: row-major, symmetric, K x K.
struct LinearInputStatistics {
  int64_t numFeatures = 0;
  int64_t numTokens = 0;
  std::vector<double> gram;
};

/// Accumulates X^T X (double, BLAS dsyrk) per named linear from the inputs
/// a LlamaModel reports through its hook.
class InputGramAccumulator {
public:
  /// Adds the rows of `inputs` [numTokens, numFeatures]. A name must keep
  /// its feature count.
  void accumulate(llvm::StringRef name, const float *inputs, int64_t numTokens,
                  int64_t numFeatures);
  /// A hook that forwards to accumulate(); the accumulator must outlive it.
  LinearInputHook makeHook();
  /// The statistics so far, with both triangles filled in.
  std::map<std::string, LinearInputStatistics> takeResults();

private:
  std::map<std::string, LinearInputStatistics> statistics;
  std::vector<double> scratch;
};

struct CalibrationOptions {
  int64_t contextLength = 512;
  bool prependBos = true;
  /// Also collect the untied output head's input.
  bool includeOutput = false;
  /// Limits; 0 = no limit. Blocks are taken in order until either is hit
  /// (a block that would pass maxTokens is cut).
  int64_t maxBlocks = 0;
  int64_t maxTokens = 0;
  /// Tokens per forward pass in accumulateInputGrams, as in
  /// PerplexityOptions (forEachCalibrationWindow ignores it).
  int64_t batchTokens = 4096;
};

/// Runs `run` on the calibration windows of `text` (blocks, BOS, context and
/// limits of `options`, windows as in the Blocks perplexity protocol; the
/// last window may be cut to honour maxTokens), one window at a time.
using WindowRunner = std::function<llvm::Error(llvm::ArrayRef<int32_t> window)>;
llvm::Error forEachCalibrationWindow(const Tokenizer &tokenizer,
                                     llvm::StringRef text,
                                     const CalibrationOptions &options,
                                     const WindowRunner &run);

/// Runs the model over the calibration windows of `text` (packed into
/// passes of about options.batchTokens tokens) and returns H = X^T X per
/// linear layer. The model's input hook is replaced for the duration and
/// removed afterwards.
llvm::Expected<std::map<std::string, LinearInputStatistics>>
accumulateInputGrams(LlamaModel &model, const Tokenizer &tokenizer,
                     llvm::StringRef text, const CalibrationOptions &options);

} // namespace slr

#endif // SLR_MODEL_EVALUATION_H
