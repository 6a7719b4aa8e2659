//===- Evaluation.cpp - Perplexity and calibration over text --------------===//

#include "slr/Model/Evaluation.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/ADT/Twine.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <functional>

using namespace slr;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;

static Error evaluationError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "evaluation: " + message);
}

std::vector<StringRef> slr::splitTextBlocks(StringRef text) {
  std::vector<StringRef> blocks;
  size_t blockStart = StringRef::npos, blockEnd = 0;
  auto flush = [&] {
    if (blockStart != StringRef::npos) {
      StringRef block = text.slice(blockStart, blockEnd).trim();
      if (!block.empty())
        blocks.push_back(block);
    }
    blockStart = StringRef::npos;
  };
  for (size_t lineStart = 0; lineStart < text.size();) {
    size_t newline = text.find('\n', lineStart);
    size_t lineEnd = newline == StringRef::npos ? text.size() : newline;
    if (text.slice(lineStart, lineEnd).trim().empty()) {
      flush();
    } else {
      if (blockStart == StringRef::npos)
        blockStart = lineStart;
      blockEnd = lineEnd;
    }
    lineStart = lineEnd + 1;
  }
  flush();
  return blocks;
}

namespace {
/// Cuts a token sequence into model windows: with a BOS id, each window is
/// BOS + up to (context - 1) tokens and every token is a target; without,
/// windows hold up to `context` tokens and the first of each is context only.
class WindowCutter {
public:
  WindowCutter(int32_t bosId, int64_t contextLength)
      : bosId(bosId), contextLength(contextLength) {}

  int64_t tokensPerWindow() const {
    return bosId >= 0 ? contextLength - 1 : contextLength;
  }

  /// The window for tokens[begin, begin + count).
  std::vector<int32_t> window(llvm::ArrayRef<int32_t> tokens, size_t begin,
                              size_t count) const {
    std::vector<int32_t> result;
    result.reserve(count + 1);
    if (bosId >= 0)
      result.push_back(bosId);
    result.insert(result.end(), tokens.begin() + begin,
                  tokens.begin() + begin + count);
    return result;
  }

private:
  int32_t bosId;
  int64_t contextLength;
};
} // namespace

static Expected<int32_t> chooseBos(const Tokenizer &tokenizer, bool prepend,
                                   int64_t contextLength) {
  if (contextLength < 2)
    return evaluationError("context length must be at least 2");
  return prepend ? tokenizer.getBosId() : -1;
}

namespace {
/// Collects windows and runs them through the model in packed batches of
/// about `batchTokens` tokens.
class WindowBatcher {
public:
  using RunBatch =
      std::function<Error(llvm::ArrayRef<std::vector<int32_t>> windows)>;
  WindowBatcher(int64_t batchTokens, RunBatch run)
      : batchTokens(static_cast<size_t>(std::max<int64_t>(batchTokens, 1))),
        run(std::move(run)) {}

  Error add(std::vector<int32_t> window) {
    if (!pending.empty() && pendingTokens + window.size() > batchTokens)
      if (Error error = flush())
        return error;
    pendingTokens += window.size();
    pending.push_back(std::move(window));
    ++windowsAdded;
    return Error::success();
  }

  Error flush() {
    if (pending.empty())
      return Error::success();
    Error error = run(pending);
    pending.clear();
    pendingTokens = 0;
    return error;
  }

  int64_t windowsAdded = 0;

private:
  size_t batchTokens;
  RunBatch run;
  std::vector<std::vector<int32_t>> pending;
  size_t pendingTokens = 0;
};
} // namespace

/// Scores a batch of windows, one NLLSum per window.
using BatchScorer = std::function<Expected<std::vector<NLLSum>>(
    llvm::ArrayRef<std::vector<int32_t>> windows)>;

/// The perplexity protocol over any scorer.
static Expected<PerplexityResult>
runPerplexity(const BatchScorer &scoreBatch, const Tokenizer &tokenizer,
              StringRef text, const PerplexityOptions &options) {
  Expected<int32_t> bosId =
      chooseBos(tokenizer, options.prependBos, options.contextLength);
  if (!bosId)
    return bosId.takeError();
  WindowCutter cutter(*bosId, options.contextLength);
  const size_t perWindow = static_cast<size_t>(cutter.tokensPerWindow());
  PerplexityResult result;

  WindowBatcher batcher(
      options.batchTokens,
      [&](llvm::ArrayRef<std::vector<int32_t>> windows) -> Error {
        Expected<std::vector<NLLSum>> sums = scoreBatch(windows);
        if (!sums)
          return sums.takeError();
        for (const NLLSum &sum : *sums) {
          // NaN or Inf logits would make the mean NaN: a number that looks
          // like a result.
          if (!std::isfinite(sum.totalNLL))
            return evaluationError(
                "the NLL of window " +
                Twine(result.numWindows + (&sum - sums->data()) + 1) +
                " is not finite (the model's logits contain NaN or Inf)");
          result.sum.totalNLL += sum.totalNLL;
          result.sum.numPredicted += sum.numPredicted;
        }
        result.numWindows += static_cast<int64_t>(windows.size());
        if (options.progress)
          options.progress(result.sum, result.numWindows);
        return Error::success();
      });
  auto addWindow = [&](std::vector<int32_t> window) -> Error {
    if (window.size() < 2) // nothing to predict
      return Error::success();
    return batcher.add(std::move(window));
  };
  auto windowLimitReached = [&] {
    return options.maxWindows > 0 && batcher.windowsAdded >= options.maxWindows;
  };

  if (options.protocol == PerplexityOptions::Protocol::Stream) {
    std::vector<int32_t> tokens = tokenizer.encode(text);
    result.numBlocks = 1;
    for (size_t begin = 0;
         begin + perWindow <= tokens.size() && !windowLimitReached();
         begin += perWindow)
      if (Error error = addWindow(cutter.window(tokens, begin, perWindow)))
        return error;
  } else {
    for (StringRef block : splitTextBlocks(text)) {
      if ((options.maxBlocks > 0 && result.numBlocks >= options.maxBlocks) ||
          windowLimitReached())
        break;
      std::vector<int32_t> tokens = tokenizer.encode(block);
      if (tokens.empty())
        continue;
      ++result.numBlocks;
      for (size_t begin = 0; begin < tokens.size() && !windowLimitReached();
           begin += perWindow) {
        size_t count = std::min(perWindow, tokens.size() - begin);
        if (Error error = addWindow(cutter.window(tokens, begin, count)))
          return error;
      }
    }
  }
  if (Error error = batcher.flush())
    return error;
  // Otherwise the mean NLL of nothing reads as perplexity 1.
  if (result.sum.numPredicted == 0)
    return evaluationError(
        "no tokens scored: the text is empty or shorter than one window");
  return result;
}

Expected<PerplexityResult>
slr::evaluatePerplexity(const LlamaModel &model, const Tokenizer &tokenizer,
                        StringRef text, const PerplexityOptions &options) {
  return runPerplexity(
      [&](llvm::ArrayRef<std::vector<int32_t>> windows) {
        return model.computeNLLBatch(windows, 1);
      },
      tokenizer, text, options);
}

Expected<PerplexityResult>
slr::evaluatePerplexity(const WindowScorer &scorer, const Tokenizer &tokenizer,
                        StringRef text, const PerplexityOptions &options) {
  PerplexityOptions oneByOne = options;
  oneByOne.batchTokens = 1; // a WindowScorer takes one window at a time
  return runPerplexity(
      [&](llvm::ArrayRef<std::vector<int32_t>> windows)
          -> Expected<std::vector<NLLSum>> {
        std::vector<NLLSum> sums;
        for (const std::vector<int32_t> &window : windows) {
          Expected<NLLSum> sum = scorer(window);
          if (!sum)
            return sum.takeError();
          sums.push_back(*sum);
        }
        return sums;
      },
      tokenizer, text, oneByOne);
}

NLLSum slr::nllFromLogits(llvm::ArrayRef<float> logits, int64_t vocabularySize,
                          llvm::ArrayRef<int32_t> tokens) {
  NLLSum result;
  if (vocabularySize <= 0)
    return result;
  // Rows past the end of `logits` (a caller's size mismatch) are ignored.
  size_t rows = std::min(tokens.empty() ? 0 : tokens.size() - 1,
                         logits.size() / static_cast<size_t>(vocabularySize));
  for (size_t t = 0; t < rows; ++t) {
    const float *row = logits.data() + t * vocabularySize;
    float maximum = *std::max_element(row, row + vocabularySize);
    double total = 0;
    for (int64_t j = 0; j < vocabularySize; ++j)
      total += std::exp(row[j] - maximum);
    result.totalNLL += std::log(total) + maximum - row[tokens[t + 1]];
    ++result.numPredicted;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Calibration statistics
//===----------------------------------------------------------------------===//

void InputGramAccumulator::accumulate(StringRef name, const float *inputs,
                                      int64_t numTokens, int64_t numFeatures) {
  LinearInputStatistics &entry = statistics[name.str()];
  if (entry.numFeatures == 0) {
    entry.numFeatures = numFeatures;
    entry.gram.assign(static_cast<size_t>(numFeatures * numFeatures), 0.0);
  }
  if (entry.numFeatures != numFeatures || numTokens <= 0)
    return; // the model never changes a layer's width
  scratch.assign(inputs, inputs + numTokens * numFeatures);
  // Upper triangle of H += X^T X, in double.
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, numFeatures, numTokens,
              1.0, scratch.data(), numFeatures, 1.0, entry.gram.data(),
              numFeatures);
  entry.numTokens += numTokens;
}

LinearInputHook InputGramAccumulator::makeHook() {
  return [this](StringRef name, const float *inputs, int64_t numTokens,
                int64_t numFeatures) {
    accumulate(name, inputs, numTokens, numFeatures);
  };
}

std::map<std::string, LinearInputStatistics>
InputGramAccumulator::takeResults() {
  for (auto &[name, entry] : statistics) {
    int64_t k = entry.numFeatures;
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < i; ++j)
        entry.gram[i * k + j] = entry.gram[j * k + i];
  }
  std::map<std::string, LinearInputStatistics> result = std::move(statistics);
  statistics.clear();
  return result;
}

Error slr::forEachCalibrationWindow(const Tokenizer &tokenizer, StringRef text,
                                    const CalibrationOptions &options,
                                    const WindowRunner &run) {
  Expected<int32_t> bosId =
      chooseBos(tokenizer, options.prependBos, options.contextLength);
  if (!bosId)
    return bosId.takeError();
  WindowCutter cutter(*bosId, options.contextLength);
  const size_t perWindow = static_cast<size_t>(cutter.tokensPerWindow());
  int64_t blocksDone = 0, rowsDone = 0;
  for (StringRef block : splitTextBlocks(text)) {
    if (options.maxBlocks > 0 && blocksDone >= options.maxBlocks)
      break;
    std::vector<int32_t> tokens = tokenizer.encode(block);
    if (tokens.empty())
      continue;
    ++blocksDone;
    for (size_t begin = 0; begin < tokens.size(); begin += perWindow) {
      std::vector<int32_t> window = cutter.window(
          tokens, begin, std::min(perWindow, tokens.size() - begin));
      if (options.maxTokens > 0) {
        int64_t room = options.maxTokens - rowsDone;
        if (room <= 0)
          return Error::success();
        if (static_cast<int64_t>(window.size()) > room)
          window.resize(static_cast<size_t>(room));
      }
      if (Error error = run(window))
        return error;
      rowsDone += static_cast<int64_t>(window.size());
    }
    if (options.maxTokens > 0 && rowsDone >= options.maxTokens)
      break;
  }
  if (rowsDone == 0)
    return llvm::createStringError(
        "calibration: no tokens to calibrate on: the text is empty");
  return Error::success();
}

Expected<std::map<std::string, LinearInputStatistics>>
slr::accumulateInputGrams(LlamaModel &model, const Tokenizer &tokenizer,
                          StringRef text, const CalibrationOptions &options) {
  InputGramAccumulator accumulator;
  model.setLinearInputHook(accumulator.makeHook(), options.includeOutput);
  WindowBatcher batcher(
      options.batchTokens,
      [&](llvm::ArrayRef<std::vector<int32_t>> windows) -> Error {
        return model.computeHiddenStatesBatch(windows).takeError();
      });
  Error failure = forEachCalibrationWindow(tokenizer, text, options,
                                           [&](llvm::ArrayRef<int32_t> window) {
                                             return batcher.add(window.vec());
                                           });
  if (!failure)
    failure = batcher.flush();
  model.setLinearInputHook(nullptr);
  if (failure)
    return failure;
  std::map<std::string, LinearInputStatistics> results =
      accumulator.takeResults();
  for (const auto &[name, entry] : results)
    for (double value : entry.gram)
      if (!std::isfinite(value))
        return evaluationError("H = X^T X of layer '" + name +
                               "' contains NaN or Inf (the layer's inputs "
                               "are not finite)");
  return results;
}
