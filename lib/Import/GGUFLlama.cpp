//===- GGUFLlama.cpp - llama GGUF checkpoints to model IR -----------------===//

#include "slr/Import/LlamaImporter.h"
#include "slr/Support/GGUF.h"

#include "llvm/ADT/StringMap.h"

#include <optional>

using namespace slr;

llvm::Expected<LlamaConfig> slr::readLlamaConfig(const GGUFFile &file) {
  llvm::Expected<std::string> architecture =
      file.getString("general.architecture");
  if (!architecture)
    return architecture.takeError();
  if (*architecture != "llama")
    return llvm::createStringError("unsupported architecture '" +
                                   *architecture +
                                   "' (slr-import reads llama models)");
  LlamaConfig config;
  // Every hyper-parameter in range before anything is sized from it; the
  // bounds are LlamaConfig's.
  auto readInt = [&](const char *key, int64_t &out, int64_t maximum,
                     std::optional<int64_t> defaultValue =
                         std::nullopt) -> llvm::Error {
    llvm::Expected<int64_t> value =
        defaultValue ? file.getIntegerInRange(key, *defaultValue, 1, maximum)
                     : file.getIntegerInRange(key, 1, maximum);
    if (!value)
      return value.takeError();
    out = *value;
    return llvm::Error::success();
  };
  if (llvm::Error error =
          readInt("llama.embedding_length", config.dim, LlamaConfig::kMaxWidth))
    return error;
  if (llvm::Error error = readInt("llama.feed_forward_length", config.hiddenDim,
                                  LlamaConfig::kMaxWidth))
    return error;
  if (llvm::Error error = readInt("llama.block_count", config.numLayers,
                                  LlamaConfig::kMaxLayers))
    return error;
  if (llvm::Error error = readInt("llama.attention.head_count", config.numHeads,
                                  LlamaConfig::kMaxHeads))
    return error;
  if (llvm::Error error =
          readInt("llama.attention.head_count_kv", config.numKVHeads,
                  LlamaConfig::kMaxHeads, config.numHeads))
    return error;
  if (llvm::Error error =
          readInt("llama.context_length", config.contextLength,
                  LlamaConfig::kMaxContextLength, /*defaultValue=*/2048))
    return error;
  llvm::Expected<double> eps =
      file.getFiniteDouble("llama.attention.layer_norm_rms_epsilon", 1e-5,
                           LlamaConfig::kMinRmsNormEps, 1.0);
  if (!eps)
    return eps.takeError();
  config.rmsNormEps = *eps;
  llvm::Expected<double> base = file.getFiniteDouble(
      "llama.rope.freq_base", 1e4, 1.0, LlamaConfig::kMaxRopeFreqBase);
  if (!base)
    return base.takeError();
  config.ropeFreqBase = *base;

  const GGUFTensorInfo *embedding = file.findTensor("token_embd.weight");
  if (!embedding)
    return llvm::createStringError("gguf has no tensor 'token_embd.weight'");
  if (embedding->dims.size() != 2 ||
      embedding->columns() != static_cast<uint64_t>(config.dim) ||
      embedding->rows() == 0 ||
      embedding->rows() > static_cast<uint64_t>(LlamaConfig::kMaxVocab))
    return llvm::createStringError(
        "token_embd.weight must be [vocab, " + std::to_string(config.dim) +
        "] with 1 <= vocab <= " + std::to_string(LlamaConfig::kMaxVocab));
  config.vocabSize = static_cast<int64_t>(embedding->rows());
  config.tiedOutput = file.findTensor("output.weight") == nullptr;
  if (llvm::Error error = config.validate())
    return error;
  return config;
}

namespace {
/// One weight's LoRA pair in an adapter GGUF.
struct LoraPair {
  const GGUFTensorInfo *a = nullptr; // ne = {K, r}
  const GGUFTensorInfo *b = nullptr; // ne = {r, N}
  bool used = false;
};
} // namespace

/// The adapter's pairs by weight name, checked for completeness and shape.
static llvm::Expected<llvm::StringMap<LoraPair>>
readLoraPairs(const GGUFFile &lora, const GGUFFile &base) {
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError("lora adapter: " + message);
  };
  llvm::Expected<std::string> type = lora.getString("general.type", "");
  if (!type)
    return type.takeError();
  llvm::Expected<std::string> adapterType = lora.getString("adapter.type", "");
  if (!adapterType)
    return adapterType.takeError();
  if (*type != "adapter" || *adapterType != "lora")
    return fail("general.type is '" + *type + "' and adapter.type '" +
                *adapterType + "', expected 'adapter' and 'lora'");
  llvm::Expected<std::string> architecture =
      lora.getString("general.architecture", "");
  if (!architecture)
    return architecture.takeError();
  llvm::Expected<std::string> baseArchitecture =
      base.getString("general.architecture");
  if (!baseArchitecture)
    return baseArchitecture.takeError();
  if (*architecture != *baseArchitecture)
    return fail("architecture '" + *architecture + "' is not the model's '" +
                *baseArchitecture + "'");
  llvm::StringMap<LoraPair> pairs;
  for (const GGUFTensorInfo &tensor : lora.getTensors()) {
    llvm::StringRef name = tensor.name;
    bool isA = name.consume_back(".lora_a");
    if (!isA && !name.consume_back(".lora_b"))
      return fail("tensor '" + tensor.name +
                  "' is neither <weight>.lora_a nor <weight>.lora_b");
    (isA ? pairs[name].a : pairs[name].b) = &tensor;
  }
  for (auto &entry : pairs) {
    llvm::StringRef name = entry.getKey();
    const LoraPair &pair = entry.getValue();
    if (!pair.a || !pair.b)
      return fail("weight '" + name + "' has " +
                  (pair.a ? "lora_a" : "lora_b") + " but not " +
                  (pair.a ? "lora_b" : "lora_a"));
    const GGUFTensorInfo *weight = base.findTensor(name);
    if (!weight)
      return fail("weight '" + name + "' is not in the model");
    if (weight->dims.size() != 2 || pair.a->dims.size() != 2 ||
        pair.b->dims.size() != 2 || pair.a->dims[0] != weight->dims[0] ||
        pair.b->dims[1] != weight->dims[1] ||
        pair.a->dims[1] != pair.b->dims[0] || pair.a->dims[1] == 0)
      return fail("weight '" + name +
                  "': lora_a must have dims [K, r] and lora_b [r, N] for the "
                  "weight's [K, N], r > 0");
  }
  return pairs;
}

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
slr::importLlamaGGUF(mlir::MLIRContext &context, const GGUFFile &file,
                     const GGUFFile *lora) {
  llvm::Expected<LlamaConfig> config = readLlamaConfig(file);
  if (!config)
    return config.takeError();
  llvm::StringMap<LoraPair> pairs;
  double alpha = 0.0;
  if (lora) {
    llvm::Expected<llvm::StringMap<LoraPair>> read = readLoraPairs(*lora, file);
    if (!read)
      return read.takeError();
    pairs = std::move(*read);
    llvm::Expected<double> readAlpha =
        lora->getFiniteDouble("adapter.lora.alpha", 0.0, 0.0, 1e30);
    if (!readAlpha)
      return readAlpha.takeError();
    alpha = *readAlpha;
  }
  // W + s·B·A, summed in double and rounded once.
  auto merge = [&](LoraPair &pair, std::vector<float> &weight) -> llvm::Error {
    pair.used = true;
    llvm::Expected<std::vector<float>> a = lora->readTensorAsFloat(*pair.a);
    if (!a)
      return a.takeError();
    llvm::Expected<std::vector<float>> b = lora->readTensorAsFloat(*pair.b);
    if (!b)
      return b.takeError();
    uint64_t cols = pair.a->dims[0], rank = pair.a->dims[1],
             rows = pair.b->dims[1];
    double scale = alpha != 0.0 ? alpha / static_cast<double>(rank) : 1.0;
    std::vector<double> row(cols);
    for (uint64_t n = 0; n < rows; ++n) {
      std::fill(row.begin(), row.end(), 0.0);
      for (uint64_t r = 0; r < rank; ++r) {
        double coefficient = (*b)[n * rank + r];
        const float *aRow = a->data() + r * cols;
        for (uint64_t k = 0; k < cols; ++k)
          row[k] += coefficient * aRow[k];
      }
      for (uint64_t k = 0; k < cols; ++k)
        weight[n * cols + k] = static_cast<float>(
            static_cast<double>(weight[n * cols + k]) + scale * row[k]);
    }
    return llvm::Error::success();
  };
  auto provider =
      [&](llvm::StringRef name,
          llvm::ArrayRef<int64_t> shape) -> llvm::Expected<std::vector<float>> {
    const GGUFTensorInfo *tensor = file.findTensor(name);
    if (!tensor)
      return llvm::createStringError("gguf has no tensor '" + name + "'");
    // The whole shape, not just the element count: [8, 8] stored as [16, 4]
    // would be read as a scrambled matrix. GGUF lists ne0 (K) first.
    bool matches = tensor->dims.size() == shape.size();
    for (size_t i = 0; matches && i < shape.size(); ++i)
      matches =
          tensor->dims[i] == static_cast<uint64_t>(shape[shape.size() - 1 - i]);
    if (!matches) {
      std::string expected, actual;
      for (size_t i = shape.size(); i-- > 0;)
        expected += (expected.empty() ? "" : ", ") + std::to_string(shape[i]);
      for (uint64_t dim : tensor->dims)
        actual += (actual.empty() ? "" : ", ") + std::to_string(dim);
      return llvm::createStringError("tensor '" + name + "' has dims [" +
                                     actual + "], expected [" + expected +
                                     "] (ne0 first)");
    }
    llvm::Expected<std::vector<float>> values = file.readTensorAsFloat(*tensor);
    if (!values || !lora)
      return values;
    auto pair = pairs.find(name);
    if (pair != pairs.end())
      if (llvm::Error error = merge(pair->getValue(), *values))
        return error;
    return values;
  };
  auto module = buildLlamaModule(context, *config, provider);
  if (!module)
    return module.takeError();
  for (const auto &entry : pairs)
    if (!entry.getValue().used)
      return llvm::createStringError("lora adapter: weight '" + entry.getKey() +
                                     "' is not a weight the model reads");
  return module;
}
