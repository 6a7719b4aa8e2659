//===- LlamaReference.cpp - Reference llama forward pass ------------------===//

#include "slr/Model/LlamaReference.h"
#include "slr/Support/GGUF.h"

#include "llvm/ADT/Twine.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace slr;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;

static Error modelError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "llama: " + message);
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

namespace {
/// Reads hyperparameters and tensors with shape checks.
class Loader {
public:
  explicit Loader(const GGUFFile &file) : file(file) {}

  Expected<int64_t> readPositive(StringRef key, int64_t maximum) {
    Expected<int64_t> value = file.getInteger(key);
    if (!value)
      return value.takeError();
    if (*value <= 0 || *value > maximum)
      return modelError("'" + key + "' = " + Twine(*value) +
                        " is out of range");
    return *value;
  }

  /// Dequantised tensor whose GGUF dims (ne0 first) must equal `dims`.
  Expected<std::vector<float>> readTensor(StringRef name,
                                          llvm::ArrayRef<int64_t> dims) {
    const GGUFTensorInfo *info = file.findTensor(name);
    if (!info)
      return modelError("missing tensor '" + name + "'");
    bool matches = info->dims.size() == dims.size();
    for (size_t i = 0; matches && i < dims.size(); ++i)
      matches = info->dims[i] == static_cast<uint64_t>(dims[i]);
    if (!matches) {
      std::string expected, actual;
      for (int64_t dim : dims)
        expected += (expected.empty() ? "" : ", ") + std::to_string(dim);
      for (uint64_t dim : info->dims)
        actual += (actual.empty() ? "" : ", ") + std::to_string(dim);
      return modelError("tensor '" + name + "' has dims [" + actual +
                        "], expected [" + expected + "]");
    }
    Expected<std::vector<float>> values = file.readTensorAsFloat(*info);
    if (!values)
      return values.takeError();
    for (float value : *values)
      if (!std::isfinite(value))
        return modelError("tensor '" + name + "' contains NaN or Inf");
    return values;
  }

private:
  const GGUFFile &file;
};
} // namespace

Expected<std::unique_ptr<LlamaModel>> LlamaModel::load(const GGUFFile &file) {
  Expected<std::string> architecture = file.getString("general.architecture");
  if (!architecture)
    return architecture.takeError();
  if (*architecture != "llama")
    return modelError("unsupported architecture '" + *architecture +
                      "' (expected 'llama')");
  Loader loader(file);
  std::unique_ptr<LlamaModel> model(new LlamaModel());
  ReferenceLlamaConfig &config = model->config;

  // Generous bounds that still keep all size arithmetic far from overflow.
  constexpr int64_t kMaxDim = 1 << 20;
  auto dim = loader.readPositive("llama.embedding_length", kMaxDim);
  if (!dim)
    return dim.takeError();
  auto layers = loader.readPositive("llama.block_count", 4096);
  if (!layers)
    return layers.takeError();
  auto feedForward = loader.readPositive("llama.feed_forward_length", kMaxDim);
  if (!feedForward)
    return feedForward.takeError();
  auto heads = loader.readPositive("llama.attention.head_count", 4096);
  if (!heads)
    return heads.takeError();
  config.embeddingDim = *dim;
  config.numLayers = *layers;
  config.feedForwardDim = *feedForward;
  config.numHeads = *heads;
  Expected<int64_t> kvHeads =
      file.getInteger("llama.attention.head_count_kv", config.numHeads);
  if (!kvHeads)
    return kvHeads.takeError();
  config.numKVHeads = *kvHeads;
  if (config.numKVHeads <= 0 || config.numHeads % config.numKVHeads != 0)
    return modelError("head_count " + Twine(config.numHeads) +
                      " is not a multiple of head_count_kv " +
                      Twine(config.numKVHeads));
  if (config.embeddingDim % config.numHeads != 0)
    return modelError("embedding_length " + Twine(config.embeddingDim) +
                      " is not a multiple of head_count " +
                      Twine(config.numHeads));
  config.headDim = config.embeddingDim / config.numHeads;
  Expected<int64_t> ropeDim =
      file.getInteger("llama.rope.dimension_count", config.headDim);
  if (!ropeDim)
    return ropeDim.takeError();
  if (*ropeDim <= 0 || *ropeDim > config.headDim || *ropeDim % 2 != 0)
    return modelError("rope.dimension_count " + Twine(*ropeDim) +
                      " must be even and at most the head size " +
                      Twine(config.headDim));
  config.ropeDim = *ropeDim;
  Expected<int64_t> context =
      file.getIntegerInRange("llama.context_length", 2048, 1, int64_t(1) << 30);
  if (!context)
    return context.takeError();
  config.contextLength = *context;
  // Finite, and representable as the float the forward pass computes in: an
  // infinite epsilon or base zeroes every activation.
  Expected<double> epsilon = file.getFiniteDouble(
      "llama.attention.layer_norm_rms_epsilon", 1e-5, 1e-30, 1.0);
  if (!epsilon)
    return epsilon.takeError();
  Expected<double> ropeBase =
      file.getFiniteDouble("llama.rope.freq_base", 10000.0, 1.0, 1e30);
  if (!ropeBase)
    return ropeBase.takeError();
  config.rmsNormEpsilon = static_cast<float>(*epsilon);
  config.ropeFreqBase = static_cast<float>(*ropeBase);

  const GGUFTensorInfo *embedding = file.findTensor("token_embd.weight");
  if (!embedding || embedding->dims.size() != 2 ||
      embedding->dims[0] != static_cast<uint64_t>(config.embeddingDim) ||
      embedding->dims[1] == 0 || embedding->dims[1] > (1u << 24))
    return modelError("missing or malformed tensor 'token_embd.weight'");
  config.vocabularySize = static_cast<int64_t>(embedding->dims[1]);
  auto embeddingValues = loader.readTensor(
      "token_embd.weight", {config.embeddingDim, config.vocabularySize});
  if (!embeddingValues)
    return embeddingValues.takeError();
  model->tokenEmbedding = std::move(*embeddingValues);

  int64_t qDim = config.numHeads * config.headDim;
  int64_t kvDim = config.numKVHeads * config.headDim;
  auto addLinear = [&](const std::string &name, int64_t outFeatures,
                       int64_t inFeatures) -> Expected<size_t> {
    auto values =
        loader.readTensor(name + ".weight", {inFeatures, outFeatures});
    if (!values)
      return values.takeError();
    size_t index = model->linears.size();
    model->linears.push_back(
        {name, outFeatures, inFeatures, std::move(*values)});
    model->linearIndex[name] = index;
    return index;
  };
  auto readNorm = [&](const std::string &name,
                      std::vector<float> &out) -> Error {
    auto values = loader.readTensor(name, {config.embeddingDim});
    if (!values)
      return values.takeError();
    out = std::move(*values);
    return Error::success();
  };

  for (int64_t i = 0; i < config.numLayers; ++i) {
    std::string prefix = "blk." + std::to_string(i) + ".";
    Layer layer;
    if (Error error =
            readNorm(prefix + "attn_norm.weight", layer.attentionNorm))
      return error;
    if (Error error =
            readNorm(prefix + "ffn_norm.weight", layer.feedForwardNorm))
      return error;
    struct LinearSpec {
      const char *suffix;
      int64_t outFeatures, inFeatures;
      size_t *slot;
    } specs[] = {
        {"attn_q", qDim, config.embeddingDim, &layer.query},
        {"attn_k", kvDim, config.embeddingDim, &layer.key},
        {"attn_v", kvDim, config.embeddingDim, &layer.value},
        {"attn_output", config.embeddingDim, qDim, &layer.attentionOutput},
        {"ffn_gate", config.feedForwardDim, config.embeddingDim, &layer.gate},
        {"ffn_up", config.feedForwardDim, config.embeddingDim, &layer.up},
        {"ffn_down", config.embeddingDim, config.feedForwardDim, &layer.down},
    };
    for (const LinearSpec &spec : specs) {
      Expected<size_t> index =
          addLinear(prefix + spec.suffix, spec.outFeatures, spec.inFeatures);
      if (!index)
        return index.takeError();
      *spec.slot = *index;
    }
    model->layers.push_back(std::move(layer));
  }
  if (Error error = readNorm("output_norm.weight", model->outputNorm))
    return error;
  config.tiedOutput = file.findTensor("output.weight") == nullptr;
  if (!config.tiedOutput) {
    Expected<size_t> index =
        addLinear("output", config.vocabularySize, config.embeddingDim);
    if (!index)
      return index.takeError();
  }
  return model;
}

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

std::vector<std::string> LlamaModel::getLinearNames(bool includeOutput) const {
  std::vector<std::string> names;
  for (const LinearWeight &linear : linears)
    if (includeOutput || linear.name != "output")
      names.push_back(linear.name);
  return names;
}

const LinearWeight *LlamaModel::findLinear(StringRef name) const {
  auto it = linearIndex.find(name);
  return it == linearIndex.end() ? nullptr : &linears[it->second];
}

Error LlamaModel::setLinearWeight(StringRef name,
                                  llvm::ArrayRef<float> values) {
  auto it = linearIndex.find(name);
  if (it == linearIndex.end())
    return modelError("no linear layer named '" + name + "'");
  LinearWeight &linear = linears[it->second];
  if (values.size() !=
      static_cast<size_t>(linear.outFeatures * linear.inFeatures))
    return modelError("new weight for '" + name + "' has " +
                      Twine(values.size()) + " values, expected " +
                      Twine(linear.outFeatures) + " x " +
                      Twine(linear.inFeatures));
  linear.values.assign(values.begin(), values.end());
  return Error::success();
}

void LlamaModel::setLinearInputHook(LinearInputHook hook, bool includeOutput) {
  inputHook = std::move(hook);
  hookIncludesOutput = includeOutput;
}

void LlamaModel::applyLinear(size_t index, const float *inputs,
                             int64_t numTokens, float *outputs) const {
  const LinearWeight &linear = linears[index];
  if (inputHook && (hookIncludesOutput || linear.name != "output"))
    inputHook(linear.name, inputs, numTokens, linear.inFeatures);
  // Y[T, N] = X[T, K] * W[N, K]^T
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, numTokens,
              linear.outFeatures, linear.inFeatures, 1.0f, inputs,
              linear.inFeatures, linear.values.data(), linear.inFeatures, 0.0f,
              outputs, linear.outFeatures);
}

const float *LlamaModel::getOutputWeights() const {
  if (config.tiedOutput)
    return tokenEmbedding.data();
  return linears.back().values.data();
}

//===----------------------------------------------------------------------===//
// Forward pass
//===----------------------------------------------------------------------===//

/// exp(x) for float, written so that loops over it vectorise (std::exp
/// calls libm once per element, which dominated small models' run time).
/// Range reduction x = k*ln2 + r, |r| <= ln2/2, then a degree-6 Taylor
/// polynomial: relative error below 2e-7. Inputs below -87 give 0.
static inline float vectorizableExp(float x) {
  // Written as selects (not std::min/max) so the loop if-converts.
  float clamped = x < -87.0f ? -87.0f : x;
  clamped = clamped > 88.0f ? 88.0f : clamped;
  // Round to nearest with the 1.5 * 2^23 trick (no libm call).
  const float shifter = 12582912.0f;
  float k = (clamped * 1.44269504f + shifter) - shifter;
  float r = clamped - k * 0.693145752f; // ln2 split in two for accuracy
  r = r - k * 1.42860677e-6f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t exponent = static_cast<int32_t>(k) + 127;
  uint32_t bits = static_cast<uint32_t>(exponent) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  float result = p * scale;
  return x < -87.0f ? 0.0f : result;
}

static void rmsNorm(const float *input, const float *weight, int64_t numTokens,
                    int64_t dim, float epsilon, float *output) {
  for (int64_t t = 0; t < numTokens; ++t) {
    const float *row = input + t * dim;
    double sumOfSquares = 0;
    for (int64_t i = 0; i < dim; ++i)
      sumOfSquares += static_cast<double>(row[i]) * row[i];
    float scale =
        static_cast<float>(1.0 / std::sqrt(sumOfSquares / dim + epsilon));
    for (int64_t i = 0; i < dim; ++i)
      output[t * dim + i] = row[i] * scale * weight[i];
  }
}

/// Rotates pairs (2i, 2i+1) of the first ropeDim entries of every head of
/// token t by the angles of position positions[t].
static void applyRope(float *values, int64_t numTokens, int64_t numHeads,
                      int64_t headDim, int64_t ropeDim,
                      llvm::ArrayRef<int64_t> positions,
                      const std::vector<float> &cosines,
                      const std::vector<float> &sines) {
  int64_t half = ropeDim / 2;
  for (int64_t t = 0; t < numTokens; ++t) {
    const float *cosRow = cosines.data() + positions[t] * half;
    const float *sinRow = sines.data() + positions[t] * half;
    for (int64_t h = 0; h < numHeads; ++h) {
      float *head = values + (t * numHeads + h) * headDim;
      for (int64_t i = 0; i < half; ++i) {
        float x0 = head[2 * i], x1 = head[2 * i + 1];
        head[2 * i] = x0 * cosRow[i] - x1 * sinRow[i];
        head[2 * i + 1] = x0 * sinRow[i] + x1 * cosRow[i];
      }
    }
  }
}

Error LlamaModel::validateTokens(llvm::ArrayRef<int32_t> tokens) const {
  if (tokens.empty())
    return modelError("empty token sequence");
  for (int32_t token : tokens)
    if (token < 0 || token >= config.vocabularySize)
      return modelError("token id " + Twine(token) +
                        " is outside the vocabulary of " +
                        Twine(config.vocabularySize));
  return Error::success();
}

std::vector<float>
LlamaModel::computeFinalHidden(llvm::ArrayRef<int32_t> tokens,
                               llvm::ArrayRef<size_t> starts,
                               bool reportHeadInput) const {
  const int64_t numTokens = static_cast<int64_t>(tokens.size());
  const int64_t dim = config.embeddingDim;
  const int64_t headDim = config.headDim;
  const int64_t qDim = config.numHeads * headDim;
  const int64_t kvDim = config.numKVHeads * headDim;
  const int64_t groupSize = config.numHeads / config.numKVHeads;

  std::vector<float> hidden(numTokens * dim);
  for (int64_t t = 0; t < numTokens; ++t)
    std::copy_n(tokenEmbedding.data() + tokens[t] * dim, dim,
                hidden.data() + t * dim);

  // Positions restart with every sequence.
  std::vector<int64_t> positions(numTokens);
  int64_t longest = 0;
  for (size_t s = 0; s + 1 < starts.size(); ++s) {
    for (size_t t = starts[s]; t < starts[s + 1]; ++t)
      positions[t] = static_cast<int64_t>(t - starts[s]);
    longest = std::max<int64_t>(longest, starts[s + 1] - starts[s]);
  }

  // RoPE angles: position * base^(-2i/ropeDim), in double for accuracy.
  int64_t half = config.ropeDim / 2;
  std::vector<float> cosines(longest * half), sines(longest * half);
  for (int64_t i = 0; i < half; ++i) {
    double frequency = std::pow(static_cast<double>(config.ropeFreqBase),
                                -2.0 * static_cast<double>(i) / config.ropeDim);
    for (int64_t p = 0; p < longest; ++p) {
      double angle = p * frequency;
      cosines[p * half + i] = static_cast<float>(std::cos(angle));
      sines[p * half + i] = static_cast<float>(std::sin(angle));
    }
  }

  std::vector<float> normed(numTokens * dim);
  std::vector<float> queries(numTokens * qDim), keys(numTokens * kvDim),
      values(numTokens * kvDim), attention(numTokens * qDim);
  std::vector<float> scores(longest * longest);
  std::vector<float> projected(numTokens * dim);
  std::vector<float> gate(numTokens * config.feedForwardDim),
      up(numTokens * config.feedForwardDim);
  const float scoreScale = 1.0f / std::sqrt(static_cast<float>(headDim));

  for (const Layer &layer : layers) {
    // Attention block.
    rmsNorm(hidden.data(), layer.attentionNorm.data(), numTokens, dim,
            config.rmsNormEpsilon, normed.data());
    applyLinear(layer.query, normed.data(), numTokens, queries.data());
    applyLinear(layer.key, normed.data(), numTokens, keys.data());
    applyLinear(layer.value, normed.data(), numTokens, values.data());
    applyRope(queries.data(), numTokens, config.numHeads, headDim,
              config.ropeDim, positions, cosines, sines);
    applyRope(keys.data(), numTokens, config.numKVHeads, headDim,
              config.ropeDim, positions, cosines, sines);
    for (size_t s = 0; s + 1 < starts.size(); ++s) {
      const int64_t begin = static_cast<int64_t>(starts[s]);
      const int64_t length = static_cast<int64_t>(starts[s + 1]) - begin;
      for (int64_t h = 0; h < config.numHeads; ++h) {
        int64_t kvHead = h / groupSize;
        const float *q = queries.data() + begin * qDim + h * headDim;
        const float *k = keys.data() + begin * kvDim + kvHead * headDim;
        const float *v = values.data() + begin * kvDim + kvHead * headDim;
        // scores[L, L] = scale * Q_h K_g^T (only the causal part is used).
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, length, length,
                    headDim, scoreScale, q, qDim, k, kvDim, 0.0f, scores.data(),
                    length);
        for (int64_t i = 0; i < length; ++i) {
          float *row = scores.data() + i * length;
          float maximum = *std::max_element(row, row + i + 1);
          for (int64_t j = 0; j <= i; ++j)
            row[j] = vectorizableExp(row[j] - maximum);
          float total = 0;
          for (int64_t j = 0; j <= i; ++j)
            total += row[j];
          float inverse = 1.0f / total;
          for (int64_t j = 0; j <= i; ++j)
            row[j] *= inverse;
          std::fill(row + i + 1, row + length, 0.0f);
        }
        // out_h[L, headDim] = P[L, L] V_g[L, headDim]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, length, headDim,
                    length, 1.0f, scores.data(), length, v, kvDim, 0.0f,
                    attention.data() + begin * qDim + h * headDim, qDim);
      }
    }
    applyLinear(layer.attentionOutput, attention.data(), numTokens,
                projected.data());
    for (size_t i = 0; i < hidden.size(); ++i)
      hidden[i] += projected[i];

    // SwiGLU feed-forward block: down(silu(gate(x)) * up(x)).
    rmsNorm(hidden.data(), layer.feedForwardNorm.data(), numTokens, dim,
            config.rmsNormEpsilon, normed.data());
    applyLinear(layer.gate, normed.data(), numTokens, gate.data());
    applyLinear(layer.up, normed.data(), numTokens, up.data());
    for (size_t i = 0; i < gate.size(); ++i) {
      float g = gate[i];
      gate[i] = g / (1.0f + vectorizableExp(-g)) * up[i];
    }
    applyLinear(layer.down, gate.data(), numTokens, projected.data());
    for (size_t i = 0; i < hidden.size(); ++i)
      hidden[i] += projected[i];
  }
  rmsNorm(hidden.data(), outputNorm.data(), numTokens, dim,
          config.rmsNormEpsilon, normed.data());
  if (reportHeadInput && inputHook && hookIncludesOutput && !config.tiedOutput)
    inputHook("output", normed.data(), numTokens, config.embeddingDim);
  return normed;
}

/// Concatenates `sequences` and records where each starts (plus the end).
static void packSequences(llvm::ArrayRef<std::vector<int32_t>> sequences,
                          std::vector<int32_t> &tokens,
                          std::vector<size_t> &starts) {
  starts.assign(1, 0);
  for (const std::vector<int32_t> &sequence : sequences) {
    tokens.insert(tokens.end(), sequence.begin(), sequence.end());
    starts.push_back(tokens.size());
  }
}

Expected<std::vector<float>>
LlamaModel::computeLogits(llvm::ArrayRef<int32_t> tokens) const {
  if (Error error = validateTokens(tokens))
    return error;
  const size_t starts[] = {0, tokens.size()};
  // An untied head runs below through applyLinear, which reports its input.
  std::vector<float> hidden =
      computeFinalHidden(tokens, starts, /*reportHeadInput=*/false);
  int64_t numTokens = static_cast<int64_t>(tokens.size());
  std::vector<float> logits(numTokens * config.vocabularySize);
  if (!config.tiedOutput) {
    applyLinear(linears.size() - 1, hidden.data(), numTokens, logits.data());
    return logits;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, numTokens,
              config.vocabularySize, config.embeddingDim, 1.0f, hidden.data(),
              config.embeddingDim, getOutputWeights(), config.embeddingDim,
              0.0f, logits.data(), config.vocabularySize);
  return logits;
}

Expected<std::vector<float>>
LlamaModel::computeHiddenStates(llvm::ArrayRef<int32_t> tokens) const {
  if (Error error = validateTokens(tokens))
    return error;
  const size_t starts[] = {0, tokens.size()};
  return computeFinalHidden(tokens, starts, /*reportHeadInput=*/true);
}

Expected<std::vector<float>> LlamaModel::computeHiddenStatesBatch(
    llvm::ArrayRef<std::vector<int32_t>> sequences) const {
  std::vector<int32_t> tokens;
  std::vector<size_t> starts;
  packSequences(sequences, tokens, starts);
  for (const std::vector<int32_t> &sequence : sequences)
    if (Error error = validateTokens(sequence))
      return error;
  if (tokens.empty())
    return modelError("empty batch");
  return computeFinalHidden(tokens, starts, /*reportHeadInput=*/true);
}

void LlamaModel::accumulateNLL(const std::vector<float> &hidden,
                               llvm::ArrayRef<int32_t> tokens,
                               llvm::ArrayRef<size_t> starts,
                               size_t firstTarget,
                               std::vector<NLLSum> &sums) const {
  // Rows that predict a target, with the sequence each belongs to.
  std::vector<std::pair<size_t, size_t>> rows;
  for (size_t s = 0; s + 1 < starts.size(); ++s)
    for (size_t t = starts[s] + firstTarget; t < starts[s + 1]; ++t)
      rows.emplace_back(t - 1, s);

  // The head runs on gathered row chunks, so a large vocabulary never needs
  // a [T, V] buffer.
  const int64_t vocabulary = config.vocabularySize;
  const int64_t dim = config.embeddingDim;
  const size_t chunkRows = 128;
  std::vector<float> gathered(chunkRows * dim), logits(chunkRows * vocabulary);
  std::vector<float> expScratch(vocabulary);
  for (size_t begin = 0; begin < rows.size(); begin += chunkRows) {
    size_t count = std::min(chunkRows, rows.size() - begin);
    for (size_t r = 0; r < count; ++r)
      std::copy_n(hidden.data() + rows[begin + r].first * dim, dim,
                  gathered.data() + r * dim);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                static_cast<int64_t>(count), vocabulary, dim, 1.0f,
                gathered.data(), dim, getOutputWeights(), dim, 0.0f,
                logits.data(), vocabulary);
    for (size_t r = 0; r < count; ++r) {
      const float *row = logits.data() + r * vocabulary;
      float maximum = *std::max_element(row, row + vocabulary);
      for (int64_t j = 0; j < vocabulary; ++j)
        expScratch[j] = vectorizableExp(row[j] - maximum);
      double total = 0;
      for (int64_t j = 0; j < vocabulary; ++j)
        total += expScratch[j];
      int32_t target = tokens[rows[begin + r].first + 1];
      NLLSum &sum = sums[rows[begin + r].second];
      sum.totalNLL += std::log(total) + maximum - row[target];
      ++sum.numPredicted;
    }
  }
}

Expected<NLLSum> LlamaModel::computeNLL(llvm::ArrayRef<int32_t> tokens,
                                        size_t firstTarget) const {
  if (Error error = validateTokens(tokens))
    return error;
  if (firstTarget < 1)
    return modelError("the first target must be at position 1 or later");
  std::vector<NLLSum> sums(1);
  const size_t starts[] = {0, tokens.size()};
  std::vector<float> hidden =
      computeFinalHidden(tokens, starts, /*reportHeadInput=*/true);
  accumulateNLL(hidden, tokens, starts, firstTarget, sums);
  return sums[0];
}

Expected<std::vector<NLLSum>>
LlamaModel::computeNLLBatch(llvm::ArrayRef<std::vector<int32_t>> sequences,
                            size_t firstTarget) const {
  if (firstTarget < 1)
    return modelError("the first target must be at position 1 or later");
  for (const std::vector<int32_t> &sequence : sequences)
    if (Error error = validateTokens(sequence))
      return error;
  std::vector<NLLSum> sums(sequences.size());
  if (sequences.empty())
    return sums;
  std::vector<int32_t> tokens;
  std::vector<size_t> starts;
  packSequences(sequences, tokens, starts);
  std::vector<float> hidden =
      computeFinalHidden(tokens, starts, /*reportHeadInput=*/true);
  accumulateNLL(hidden, tokens, starts, firstTarget, sums);
  return sums;
}
