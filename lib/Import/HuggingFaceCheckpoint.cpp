//===- HuggingFaceCheckpoint.cpp - HF llama checkpoint folders to IR ------===//

#include "slr/Import/HuggingFaceLlama.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/Nesting.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <set>

using namespace slr;

HuggingFaceLlamaCheckpoint::HuggingFaceLlamaCheckpoint() = default;
HuggingFaceLlamaCheckpoint::HuggingFaceLlamaCheckpoint(
    HuggingFaceLlamaCheckpoint &&) = default;
HuggingFaceLlamaCheckpoint &
HuggingFaceLlamaCheckpoint::operator=(HuggingFaceLlamaCheckpoint &&) = default;
HuggingFaceLlamaCheckpoint::~HuggingFaceLlamaCheckpoint() = default;

static std::string joinPath(llvm::StringRef folder, llvm::StringRef name) {
  llvm::SmallString<256> path(folder);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

static std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

static llvm::Expected<llvm::json::Value> readJSONFile(const std::string &path,
                                                      llvm::StringRef name) {
  auto buffer = readInputFile(path, name, kMaxTextFileBytes);
  if (!buffer)
    return buffer.takeError();
  llvm::Expected<llvm::json::Value> value =
      parseUntrustedJSON((*buffer)->getBuffer());
  if (!value)
    return llvm::createStringError(name + ": " +
                                   llvm::toString(value.takeError()));
  return value;
}

llvm::Expected<HuggingFaceLlamaCheckpoint>
HuggingFaceLlamaCheckpoint::open(llvm::StringRef folder) {
  HuggingFaceLlamaCheckpoint checkpoint;
  checkpoint.folder = folder.str();
  std::string configPath = joinPath(folder, "config.json");
  if (llvm::sys::fs::is_directory(folder) && !llvm::sys::fs::exists(configPath))
    return llvm::createStringError(
        "'" + folder +
        "' is a directory without config.json (not a Hugging Face "
        "checkpoint folder)");
  auto configText = readInputFile(configPath, "config.json", kMaxTextFileBytes);
  if (!configText)
    return configText.takeError();
  llvm::Expected<HuggingFaceLlamaConfig> hfConfig =
      parseHuggingFaceLlamaConfig((*configText)->getBuffer());
  if (!hfConfig)
    return hfConfig.takeError();
  checkpoint.hfConfig = std::move(*hfConfig);
  llvm::Expected<LlamaConfig> config = toLlamaConfig(checkpoint.hfConfig);
  if (!config)
    return config.takeError();
  checkpoint.config = *config;

  // The shards and which tensor each holds: the index's weight_map, or every
  // tensor of the one model.safetensors.
  std::string indexPath = joinPath(folder, "model.safetensors.index.json");
  std::vector<std::pair<std::string, size_t>> listed; // (HF name, shard)
  if (llvm::sys::fs::exists(indexPath)) {
    llvm::Expected<llvm::json::Value> index =
        readJSONFile(indexPath, "model.safetensors.index.json");
    if (!index)
      return index.takeError();
    const llvm::json::Object *root = index->getAsObject();
    const llvm::json::Object *weightMap =
        root ? root->getObject("weight_map") : nullptr;
    if (!weightMap)
      return llvm::createStringError(
          "model.safetensors.index.json: no 'weight_map' object");
    std::map<std::string, size_t> shardIndex;
    for (const auto &[name, fileValue] : *weightMap) {
      std::optional<llvm::StringRef> file = fileValue.getAsString();
      // Plain names in the folder only: the index must not reach elsewhere.
      if (!file || file->empty() || *file == "." || *file == ".." ||
          file->find_first_of("/\\") != llvm::StringRef::npos)
        return llvm::createStringError(
            "model.safetensors.index.json: tensor '" + name.str() +
            "' maps to no plain file name in the folder");
      auto [it, inserted] =
          shardIndex.try_emplace(file->str(), checkpoint.shardNames.size());
      if (inserted)
        checkpoint.shardNames.push_back(file->str());
      listed.push_back({name.str(), it->second});
    }
  } else {
    checkpoint.shardNames.push_back("model.safetensors");
  }
  for (const std::string &name : checkpoint.shardNames) {
    std::string path = joinPath(folder, name);
    if (!llvm::sys::fs::exists(path))
      return llvm::createStringError(
          "missing shard '" + name + "' in '" + folder + "'" +
          (name == "model.safetensors"
               ? " (and no model.safetensors.index.json)"
               : " (named by model.safetensors.index.json)"));
    llvm::Expected<SafetensorsFile> shard = SafetensorsFile::open(path);
    if (!shard)
      return shard.takeError();
    checkpoint.shards.push_back(std::move(*shard));
  }
  if (listed.empty() && checkpoint.shards.size() == 1)
    for (const SafetensorsTensor &tensor : checkpoint.shards[0].tensors())
      listed.push_back({tensor.name, 0});

  for (const auto &[hfName, shard] : listed) {
    if (!checkpoint.shards[shard].lookup(hfName))
      return llvm::createStringError(
          "model.safetensors.index.json names tensor '" + hfName +
          "' in shard '" + checkpoint.shardNames[shard] +
          "', which does not hold it");
    if (isIgnoredHFTensor(hfName))
      continue;
    std::optional<std::string> ggufName = getGGUFTensorName(hfName);
    if (!ggufName)
      return llvm::createStringError("tensor '" + hfName +
                                     "' is not a weight of a llama model");
    // Tied checkpoints may store the head anyway (a copy of the embedding).
    if (*ggufName == "output.weight" && checkpoint.config.tiedOutput)
      continue;
    checkpoint.weights[*ggufName] = {shard, hfName};
  }

  for (const LlamaTensorSpec &spec : getLlamaTensorSpecs(checkpoint.config)) {
    std::string hfName = *getHFTensorName(spec.ggufName);
    auto it = checkpoint.weights.find(spec.ggufName);
    if (it == checkpoint.weights.end())
      return llvm::createStringError(
          "missing tensor '" + hfName + "'" +
          (spec.ggufName == "output.weight"
               ? " (config.json: tie_word_embeddings is false)"
               : ""));
    const SafetensorsTensor *tensor =
        checkpoint.shards[it->second.shard].lookup(hfName);
    if (tensor->dtype != SafetensorsDType::F32 &&
        tensor->dtype != SafetensorsDType::F16 &&
        tensor->dtype != SafetensorsDType::BF16)
      return llvm::createStringError("tensor '" + hfName + "' has dtype " +
                                     getSafetensorsDTypeName(tensor->dtype) +
                                     " (slr-import reads F32, F16 and BF16)");
    if (tensor->shape != spec.shape)
      return llvm::createStringError(
          "tensor '" + hfName + "' has shape " + formatShape(tensor->shape) +
          ", config.json implies " + formatShape(spec.shape));
  }
  // Everything left over has a llama name yet no place in this config
  // (a layer beyond num_hidden_layers, say): a config that does not match.
  if (checkpoint.weights.size() !=
      getLlamaTensorSpecs(checkpoint.config).size()) {
    std::set<std::string> expected;
    for (const LlamaTensorSpec &spec : getLlamaTensorSpecs(checkpoint.config))
      expected.insert(spec.ggufName);
    for (const auto &entry : checkpoint.weights)
      if (!expected.count(entry.getKey().str()))
        return llvm::createStringError(
            "tensor '" + entry.getValue().hfName +
            "' does not fit config.json (num_hidden_layers " +
            std::to_string(checkpoint.config.numLayers) + ")");
  }

  std::string tokenizerPath = joinPath(folder, "tokenizer.json");
  if (llvm::sys::fs::exists(tokenizerPath)) {
    auto tokenizer = Tokenizer::fromHuggingFaceFolder(folder);
    if (!tokenizer)
      return tokenizer.takeError();
    if ((*tokenizer)->getVocabularySize() > checkpoint.config.vocabSize)
      return llvm::createStringError(
          tokenizerPath + ": " +
          std::to_string((*tokenizer)->getVocabularySize()) +
          " tokens, more than config.json's vocab_size " +
          std::to_string(checkpoint.config.vocabSize));
    checkpoint.tokenizer = std::move(*tokenizer);
  }
  return checkpoint;
}

std::string HuggingFaceLlamaCheckpoint::describeDTypes() const {
  std::set<std::string> names;
  for (const auto &entry : weights)
    names.insert(getSafetensorsDTypeName(shards[entry.getValue().shard]
                                             .lookup(entry.getValue().hfName)
                                             ->dtype)
                     .str());
  std::string text;
  for (const std::string &name : names)
    text += (text.empty() ? "" : "+") + name;
  return text;
}

llvm::Expected<std::vector<float>>
HuggingFaceLlamaCheckpoint::readWeight(llvm::StringRef ggufName,
                                       llvm::ArrayRef<int64_t> shape) const {
  auto it = weights.find(ggufName);
  if (it == weights.end())
    return llvm::createStringError("checkpoint has no weight for '" + ggufName +
                                   "'");
  const SafetensorsFile &shard = shards[it->second.shard];
  const SafetensorsTensor *tensor = shard.lookup(it->second.hfName);
  if (llvm::ArrayRef<int64_t>(tensor->shape) != shape)
    return llvm::createStringError("tensor '" + it->second.hfName +
                                   "' has shape " + formatShape(tensor->shape) +
                                   ", expected " + formatShape(shape));
  std::vector<float> values;
  if (llvm::Error error = shard.readAsFloat(*tensor, values))
    return error;
  RopeRows rows = getRopeRows(ggufName);
  if (rows == RopeRows::None)
    return values;
  int64_t heads = rows == RopeRows::Query ? config.numHeads : config.numKVHeads;
  return permuteRopeRows(values, heads, config.headDim(), shape.back(),
                         RopePermutation::HFToGGUF);
}

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
slr::importLlamaHuggingFace(mlir::MLIRContext &context,
                            const HuggingFaceLlamaCheckpoint &checkpoint) {
  auto provider = [&](llvm::StringRef name, llvm::ArrayRef<int64_t> shape) {
    return checkpoint.readWeight(name, shape);
  };
  return buildLlamaModule(context, checkpoint.getConfig(), provider);
}
