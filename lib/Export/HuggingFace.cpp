//===- HuggingFace.cpp - Hugging Face folder + PEFT LoRA adapter ----------===//
//
// transformers' LlamaForCausalLM reads config.json and model.safetensors;
// PEFT adds W·x + (alpha/r)·B·(A·x) per target module from
// adapter_config.json and adapter_model.safetensors. alpha = r for every
// module (lora_alpha, and alpha_pattern beside rank_pattern for the layers
// of another rank) makes the scale exactly 1: model + adapter = S + U·V.
// Tensor names and the q/k row order come from HuggingFaceLlama.h.
//
//===----------------------------------------------------------------------===//

#include "slr/Export/Export.h"
#include "slr/Import/HuggingFaceLlama.h"
#include "slr/Import/LlamaImporter.h"
#include "slr/Support/FloatConversion.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Safetensors.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <map>

using namespace slr;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError("hf: " + message);
}

static std::string toJSONText(llvm::json::Value value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", value) << "\n";
  return text;
}

/// HF's row order of a GGUF-ordered [rows, columns] matrix (q and k only).
static std::vector<float> toHFRows(llvm::StringRef ggufName,
                                   const LlamaConfig &config,
                                   std::vector<float> rowsInGGUFOrder,
                                   int64_t columns) {
  RopeRows rope = getRopeRows(ggufName);
  if (rope == RopeRows::None)
    return rowsInGGUFOrder;
  int64_t heads = rope == RopeRows::Query ? config.numHeads : config.numKVHeads;
  return permuteRopeRows(rowsInGGUFOrder, heads, config.headDim(), columns,
                         RopePermutation::GGUFToHF);
}

static void addTensor(SafetensorsWriter &writer, llvm::StringRef name,
                      llvm::ArrayRef<int64_t> shape,
                      llvm::ArrayRef<float> values, ExportFloatType type) {
  if (type == ExportFloatType::F32) {
    writer.addF32(name, shape, values);
    return;
  }
  std::vector<uint8_t> bytes(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t bits = type == ExportFloatType::F16 ? floatToHalf(values[i])
                                                 : floatToBfloat16(values[i]);
    bytes[2 * i] = static_cast<uint8_t>(bits);
    bytes[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
  }
  writer.addRaw(name,
                type == ExportFloatType::F16 ? SafetensorsDType::F16
                                             : SafetensorsDType::BF16,
                shape, bytes);
}

static const char *torchDtypeName(ExportFloatType type) {
  switch (type) {
  case ExportFloatType::F32:
    return "float32";
  case ExportFloatType::F16:
    return "float16";
  case ExportFloatType::BF16:
    return "bfloat16";
  }
  return "float32";
}

llvm::Expected<std::vector<ExportFile>>
slr::exportHuggingFace(const ExportModel &model, const GGUFFile &source,
                       const HuggingFaceExportOptions &options) {
  for (const ExportLayer &layer : model.layers)
    if (!layer.bias.empty())
      return fail("layer '" + layer.name +
                  "' has a bias; the llama model of transformers has none");
  if (llvm::Error error = checkSourceMatches(model, source))
    return error;
  llvm::Expected<LlamaConfig> config = readLlamaConfig(source);
  if (!config)
    return config.takeError();
  // A compressed tied head gets its own lm_head (S); the embedding stays.
  const ExportLayer *outputLayer = model.findLayer("output");
  if (config->tiedOutput && outputLayer && outputLayer->compressed)
    config->tiedOutput = false;

  // Every weight of the model; linear layers from the IR.
  SafetensorsWriter weights;
  weights.setMetadata("format", "pt");
  llvm::StringSet<> exported;
  for (const LlamaTensorSpec &spec : getLlamaTensorSpecs(*config)) {
    std::optional<std::string> hfName = getHFTensorName(spec.ggufName);
    if (!hfName)
      return fail("no Hugging Face name for tensor '" + spec.ggufName + "'");
    llvm::StringRef name = spec.ggufName;
    const ExportLayer *layer =
        name.ends_with(".weight") && name != "token_embd.weight"
            ? model.findLayer(name.drop_back(strlen(".weight")))
            : nullptr;
    std::vector<float> values;
    if (layer) {
      if (spec.shape.size() != 2 || spec.shape[0] != layer->rows ||
          spec.shape[1] != layer->cols)
        return fail("layer '" + layer->name + "' is " +
                    llvm::Twine(layer->rows) + "x" + llvm::Twine(layer->cols) +
                    ", not the model's " + llvm::Twine(spec.shape[0]) + "x" +
                    llvm::Twine(spec.shape.size() > 1 ? spec.shape[1] : 1));
      values = toHFRows(name, *config, layer->dense, layer->cols);
      exported.insert(layer->name);
    } else {
      llvm::Expected<std::vector<float>> read =
          source.readTensorAsFloat(spec.ggufName);
      if (!read)
        return read.takeError();
      values = std::move(*read);
    }
    addTensor(weights, *hfName, spec.shape, values, options.weightType);
  }
  for (const ExportLayer &layer : model.layers)
    if (!exported.contains(layer.name) &&
        !(layer.name == "output" && config->tiedOutput))
      return fail("layer '" + layer.name +
                  "' is not a weight of the llama "
                  "model");

  HuggingFaceLlamaConfig hfConfig = toHuggingFaceLlamaConfig(*config);
  hfConfig.torchDtype = torchDtypeName(options.weightType);
  if (const GGUFValue *bos = source.findMetadata("tokenizer.ggml.bos_token_id"))
    hfConfig.bosTokenId = bos->getAsInteger();
  if (const GGUFValue *eos = source.findMetadata("tokenizer.ggml.eos_token_id"))
    hfConfig.eosTokenId = eos->getAsInteger();

  std::vector<ExportFile> files;
  files.push_back({"config.json", toJSONText(toJSON(hfConfig))});
  files.push_back({"model.safetensors", weights.serialize()});
  if (options.tokenizer) {
    // The source's tokenizer as the Hugging Face tokenizers library states
    // it (Tokenizer.h: reading the file back tokenizes alike).
    llvm::Expected<std::unique_ptr<Tokenizer>> tokenizer =
        Tokenizer::fromGGUF(source);
    if (!tokenizer)
      return tokenizer.takeError();
    llvm::Expected<llvm::json::Value> json = (*tokenizer)->toHuggingFaceJSON();
    if (!json)
      return json.takeError();
    files.push_back({"tokenizer.json", toJSONText(std::move(*json))});
  }

  // The adapter: the most common rank is r; other ranks go in rank_pattern.
  std::map<int64_t, size_t> rankCounts;
  for (const ExportLayer &layer : model.layers)
    if (layer.rank > 0)
      ++rankCounts[layer.rank];
  if (rankCounts.empty())
    return files;
  int64_t commonRank = 0;
  size_t commonCount = 0;
  for (const auto &[rank, count] : rankCounts)
    if (count > commonCount)
      commonRank = rank, commonCount = count;

  SafetensorsWriter adapter;
  adapter.setMetadata("format", "pt");
  llvm::json::Array targets;
  llvm::json::Object rankPattern, alphaPattern;
  for (const ExportLayer &layer : model.layers) {
    if (layer.rank == 0)
      continue;
    std::string ggufName = layer.name + ".weight";
    // Tied heads were untied above, so "output" is lm_head here too.
    std::optional<std::string> hfName = getHFTensorName(ggufName);
    if (!hfName)
      return fail("no Hugging Face name for tensor '" + ggufName + "'");
    llvm::StringRef module = llvm::StringRef(*hfName).drop_back(
        strlen(".weight")); // e.g. model.layers.0.self_attn.q_proj
    std::string prefix = "base_model.model." + module.str();
    // A = V [r, K] (the input side: no row order to change); B = U [N, r]
    // with the rows of S.
    addTensor(adapter, prefix + ".lora_A.weight", {layer.rank, layer.cols},
              layer.v, options.adapterType);
    addTensor(adapter, prefix + ".lora_B.weight", {layer.rows, layer.rank},
              toHFRows(ggufName, *config, layer.u, layer.rank),
              options.adapterType);
    targets.push_back(module.str());
    if (layer.rank != commonRank) {
      rankPattern[module.str()] = layer.rank;
      alphaPattern[module.str()] = layer.rank;
    }
  }
  llvm::json::Object adapterConfig{
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"base_model_name_or_path", nullptr},
      {"r", commonRank},
      {"lora_alpha", commonRank},
      {"rank_pattern", std::move(rankPattern)},
      {"alpha_pattern", std::move(alphaPattern)},
      {"target_modules", std::move(targets)},
      {"lora_dropout", 0.0},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"use_rslora", false},
      {"use_dora", false},
      {"inference_mode", true},
      {"modules_to_save", nullptr},
  };
  files.push_back(
      {"adapter_config.json", toJSONText(std::move(adapterConfig))});
  files.push_back({"adapter_model.safetensors", adapter.serialize()});
  return files;
}
