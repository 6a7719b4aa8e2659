//===- GGUFLlama.cpp - llama GGUF checkpoints to model IR -----------------===//

#include "slr/Import/LlamaImporter.h"
#include "slr/Support/GGUF.h"

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
  auto readInt = [&](const char *key, int64_t &out) -> llvm::Error {
    llvm::Expected<int64_t> value = file.getInteger(key);
    if (!value)
      return value.takeError();
    out = *value;
    return llvm::Error::success();
  };
  if (llvm::Error error = readInt("llama.embedding_length", config.dim))
    return error;
  if (llvm::Error error =
          readInt("llama.feed_forward_length", config.hiddenDim))
    return error;
  if (llvm::Error error = readInt("llama.block_count", config.numLayers))
    return error;
  if (llvm::Error error =
          readInt("llama.attention.head_count", config.numHeads))
    return error;
  llvm::Expected<int64_t> kvHeads =
      file.getInteger("llama.attention.head_count_kv", config.numHeads);
  if (!kvHeads)
    return kvHeads.takeError();
  config.numKVHeads = *kvHeads;
  llvm::Expected<int64_t> context =
      file.getInteger("llama.context_length", 2048);
  if (!context)
    return context.takeError();
  config.contextLength = *context;
  llvm::Expected<double> eps =
      file.getDouble("llama.attention.layer_norm_rms_epsilon", 1e-5);
  if (!eps)
    return eps.takeError();
  config.rmsNormEps = *eps;
  llvm::Expected<double> base = file.getDouble("llama.rope.freq_base", 1e4);
  if (!base)
    return base.takeError();
  config.ropeFreqBase = *base;

  const GGUFTensorInfo *embedding = file.findTensor("token_embd.weight");
  if (!embedding)
    return llvm::createStringError("gguf has no tensor 'token_embd.weight'");
  if (embedding->dims.size() != 2 ||
      static_cast<int64_t>(embedding->columns()) != config.dim)
    return llvm::createStringError(
        "token_embd.weight must be [vocab, " + std::to_string(config.dim) +
        "]");
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
  auto provider = [&](llvm::StringRef name, int64_t numElements)
      -> llvm::Expected<std::vector<float>> {
    const GGUFTensorInfo *tensor = file.findTensor(name);
    if (!tensor)
      return llvm::createStringError("gguf has no tensor '" + name + "'");
    if (static_cast<int64_t>(tensor->numElements) != numElements)
      return llvm::createStringError(
          "tensor '" + name + "' has " +
          std::to_string(tensor->numElements) + " elements, expected " +
          std::to_string(numElements));
    return file.readTensorAsFloat(*tensor);
  };
  return buildLlamaModule(context, *config, provider);
}
