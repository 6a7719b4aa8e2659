//===- PeftImport.cpp - A PEFT LoRA adapter merged into a HF import -------===//
//
// The reader of exportHuggingFace's adapter (slr-import FOLDER --lora
// FOLDER): W = weight + (alpha/r)·lora_B·lora_A per target module, as PEFT
// merges it (r and alpha from rank_pattern / alpha_pattern where they name
// the module), summed in double and rounded once; the delta's q/k rows are
// put in GGUF's order like the weight's.
//
//===----------------------------------------------------------------------===//

#include "slr/Export/Export.h"
#include "slr/Import/HuggingFaceLlama.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/Nesting.h"
#include "slr/Support/Safetensors.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

using namespace slr;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError("peft adapter: " + message);
}

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
slr::importLlamaHuggingFaceWithPeft(
    mlir::MLIRContext &context, const HuggingFaceLlamaCheckpoint &checkpoint,
    llvm::StringRef adapterFolder) {
  llvm::SmallString<256> configPath(adapterFolder), weightsPath(adapterFolder);
  llvm::sys::path::append(configPath, "adapter_config.json");
  llvm::sys::path::append(weightsPath, "adapter_model.safetensors");
  auto configText =
      readInputFile(configPath, "adapter config", kMaxTextFileBytes);
  if (!configText)
    return configText.takeError();
  llvm::Expected<llvm::json::Value> parsed =
      parseUntrustedJSON((*configText)->getBuffer());
  if (!parsed)
    return fail("adapter_config.json: " + llvm::toString(parsed.takeError()));
  const llvm::json::Object *config = parsed->getAsObject();
  if (!config)
    return fail("adapter_config.json is not an object");
  std::optional<llvm::StringRef> peftType = config->getString("peft_type");
  std::optional<int64_t> r = config->getInteger("r");
  std::optional<double> alpha = config->getNumber("lora_alpha");
  const llvm::json::Array *targets = config->getArray("target_modules");
  if (!peftType || *peftType != "LORA" || !r || *r <= 0 || !alpha || !targets)
    return fail("adapter_config.json needs peft_type LORA, r > 0, lora_alpha "
                "and a list target_modules");
  if (config->getBoolean("use_rslora").value_or(false) ||
      config->getBoolean("use_dora").value_or(false) ||
      config->getBoolean("fan_in_fan_out").value_or(false))
    return fail("use_rslora, use_dora and fan_in_fan_out are not read");
  const llvm::json::Object *rankPattern = config->getObject("rank_pattern");
  const llvm::json::Object *alphaPattern = config->getObject("alpha_pattern");
  llvm::StringSet<> targetSet;
  for (const llvm::json::Value &target : *targets)
    if (std::optional<llvm::StringRef> name = target.getAsString())
      targetSet.insert(*name);

  llvm::Expected<SafetensorsFile> weights = SafetensorsFile::open(weightsPath);
  if (!weights)
    return weights.takeError();
  llvm::StringSet<> used;
  const LlamaConfig &llama = checkpoint.getConfig();

  auto provider =
      [&](llvm::StringRef name,
          llvm::ArrayRef<int64_t> shape) -> llvm::Expected<std::vector<float>> {
    llvm::Expected<std::vector<float>> weight =
        checkpoint.readWeight(name, shape);
    if (!weight || shape.size() != 2)
      return weight;
    std::optional<std::string> hfName = getHFTensorName(name);
    if (!hfName)
      return weight;
    std::string module =
        llvm::StringRef(*hfName).drop_back(strlen(".weight")).str();
    bool targeted = targetSet.contains(module);
    for (const auto &target : targetSet)
      targeted |=
          llvm::StringRef(module).ends_with(("." + target.getKey()).str());
    if (!targeted)
      return weight;
    std::string prefix = "base_model.model." + module;
    const SafetensorsTensor *a = weights->lookup(prefix + ".lora_A.weight");
    const SafetensorsTensor *b = weights->lookup(prefix + ".lora_B.weight");
    if (!a || !b)
      return fail("target module '" + module + "' has no lora_A / lora_B");
    used.insert(a->name);
    used.insert(b->name);
    int64_t rows = shape[0], cols = shape[1];
    int64_t rank = *r;
    double moduleAlpha = *alpha;
    if (rankPattern)
      if (std::optional<int64_t> value = rankPattern->getInteger(module))
        rank = *value;
    if (alphaPattern)
      if (std::optional<double> value = alphaPattern->getNumber(module))
        moduleAlpha = *value;
    if (a->shape != std::vector<int64_t>{rank, cols} ||
        b->shape != std::vector<int64_t>{rows, rank})
      return fail("module '" + module + "': lora_A must be [" +
                  llvm::Twine(rank) + ", " + llvm::Twine(cols) +
                  "] and lora_B [" + llvm::Twine(rows) + ", " +
                  llvm::Twine(rank) + "]");
    std::vector<float> aValues, bValues;
    if (llvm::Error error = weights->readAsFloat(*a, aValues))
      return error;
    if (llvm::Error error = weights->readAsFloat(*b, bValues))
      return error;
    double scale = moduleAlpha / static_cast<double>(rank);
    // The delta's rows are in HF's order; the weight was put in GGUF's.
    RopeRows rope = getRopeRows(name);
    std::vector<double> row(cols);
    for (int64_t n = 0; n < rows; ++n) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t k = 0; k < rank; ++k) {
        double coefficient = bValues[n * rank + k];
        for (int64_t c = 0; c < cols; ++c)
          row[c] += coefficient * aValues[k * cols + c];
      }
      int64_t target =
          rope == RopeRows::None ? n : getGGUFRowOfHFRow(n, llama.headDim());
      // Summed in double, rounded once.
      for (int64_t c = 0; c < cols; ++c)
        (*weight)[target * cols + c] = static_cast<float>(
            static_cast<double>((*weight)[target * cols + c]) + scale * row[c]);
    }
    return weight;
  };
  auto module = buildLlamaModule(context, llama, provider);
  if (!module)
    return module.takeError();
  for (const SafetensorsTensor &tensor : weights->tensors())
    if (!used.contains(tensor.name))
      return fail("tensor '" + tensor.name +
                  "' belongs to no target module of the model");
  return module;
}
