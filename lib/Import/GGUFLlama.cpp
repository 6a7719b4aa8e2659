//===- GGUFLlama.cpp - llama GGUF checkpoints to model IR -----------------===//

#include "slr/Import/LlamaImporter.h"
#include "slr/Support/GGUF.h"

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

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
slr::importLlamaGGUF(mlir::MLIRContext &context, const GGUFFile &file) {
  llvm::Expected<LlamaConfig> config = readLlamaConfig(file);
  if (!config)
    return config.takeError();
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
    return file.readTensorAsFloat(*tensor);
  };
  return buildLlamaModule(context, *config, provider);
}
