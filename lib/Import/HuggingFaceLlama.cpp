//===- HuggingFaceLlama.cpp - Hugging Face llama <-> GGUF conventions -----===//

#include "slr/Import/HuggingFaceLlama.h"
#include "slr/Support/Nesting.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

#include <cassert>
#include <cstring>

using namespace slr;

namespace {
/// Per-layer tensors: HF suffix after "model.layers.N." and GGUF suffix after
/// "blk.N.".
struct LayerTensorName {
  const char *hf;
  const char *gguf;
};
constexpr LayerTensorName kLayerTensorNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};
constexpr LayerTensorName kGlobalTensorNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

/// Splits "<prefix>N.<rest>" into N and rest; false if `name` has another
/// form (N is a decimal without leading zeros, so the mapping is one-to-one).
bool splitLayerName(llvm::StringRef name, llvm::StringRef prefix,
                    unsigned &layer, llvm::StringRef &rest) {
  if (!name.consume_front(prefix))
    return false;
  auto [number, tail] = name.split('.');
  if (number.empty() || tail.empty() ||
      (number.size() > 1 && number.front() == '0') ||
      !llvm::all_of(number, llvm::isDigit) || number.getAsInteger(10, layer))
    return false;
  rest = tail;
  return true;
}

std::optional<std::string> mapName(llvm::StringRef name, bool fromHF) {
  for (const LayerTensorName &entry : kGlobalTensorNames)
    if (name == (fromHF ? entry.hf : entry.gguf))
      return std::string(fromHF ? entry.gguf : entry.hf);
  unsigned layer;
  llvm::StringRef rest;
  if (!splitLayerName(name, fromHF ? "model.layers." : "blk.", layer, rest))
    return std::nullopt;
  for (const LayerTensorName &entry : kLayerTensorNames)
    if (rest == (fromHF ? entry.hf : entry.gguf))
      return (fromHF ? "blk." : "model.layers.") + std::to_string(layer) + "." +
             (fromHF ? entry.gguf : entry.hf);
  return std::nullopt;
}
} // namespace

std::optional<std::string> slr::getGGUFTensorName(llvm::StringRef hfName) {
  return mapName(hfName, /*fromHF=*/true);
}

std::optional<std::string> slr::getHFTensorName(llvm::StringRef ggufName) {
  return mapName(ggufName, /*fromHF=*/false);
}

bool slr::isIgnoredHFTensor(llvm::StringRef hfName) {
  unsigned layer;
  llvm::StringRef rest;
  return splitLayerName(hfName, "model.layers.", layer, rest) &&
         rest == "self_attn.rotary_emb.inv_freq";
}

RopeRows slr::getRopeRows(llvm::StringRef tensorName) {
  if (tensorName.ends_with(".attn_q.weight") ||
      tensorName.ends_with(".self_attn.q_proj.weight"))
    return RopeRows::Query;
  if (tensorName.ends_with(".attn_k.weight") ||
      tensorName.ends_with(".self_attn.k_proj.weight"))
    return RopeRows::Key;
  return RopeRows::None;
}

std::vector<LlamaTensorSpec>
slr::getLlamaTensorSpecs(const LlamaConfig &config) {
  int64_t dim = config.dim, kvDim = config.kvDim(), hidden = config.hiddenDim;
  std::vector<LlamaTensorSpec> specs;
  specs.push_back({"token_embd.weight", {config.vocabSize, dim}});
  for (int64_t layer = 0; layer < config.numLayers; ++layer) {
    std::string prefix = "blk." + std::to_string(layer) + ".";
    specs.push_back({prefix + "attn_norm.weight", {dim}});
    specs.push_back({prefix + "attn_q.weight", {dim, dim}, RopeRows::Query});
    specs.push_back({prefix + "attn_k.weight", {kvDim, dim}, RopeRows::Key});
    specs.push_back({prefix + "attn_v.weight", {kvDim, dim}});
    specs.push_back({prefix + "attn_output.weight", {dim, dim}});
    specs.push_back({prefix + "ffn_norm.weight", {dim}});
    specs.push_back({prefix + "ffn_gate.weight", {hidden, dim}});
    specs.push_back({prefix + "ffn_up.weight", {hidden, dim}});
    specs.push_back({prefix + "ffn_down.weight", {dim, hidden}});
  }
  specs.push_back({"output_norm.weight", {dim}});
  if (!config.tiedOutput)
    specs.push_back({"output.weight", {config.vocabSize, dim}});
  return specs;
}

int64_t slr::getGGUFRowOfHFRow(int64_t hfRow, int64_t headDim) {
  int64_t half = headDim / 2;
  int64_t head = hfRow / headDim, within = hfRow % headDim;
  // HF row s*half + i (s: first or second half) is GGUF row 2i + s.
  return head * headDim + 2 * (within % half) + within / half;
}

int64_t slr::getHFRowOfGGUFRow(int64_t ggufRow, int64_t headDim) {
  int64_t half = headDim / 2;
  int64_t head = ggufRow / headDim, within = ggufRow % headDim;
  return head * headDim + (within % 2) * half + within / 2;
}

void slr::permuteRopeRows(llvm::ArrayRef<uint8_t> in,
                          llvm::MutableArrayRef<uint8_t> out, int64_t numHeads,
                          int64_t headDim, uint64_t rowBytes,
                          RopePermutation direction) {
  assert(headDim > 0 && headDim % 2 == 0 && "headDim must be even");
  int64_t rows = numHeads * headDim;
  assert(in.size() == static_cast<uint64_t>(rows) * rowBytes &&
         out.size() == in.size() && "size mismatch");
  for (int64_t row = 0; row < rows; ++row) {
    // `row` indexes `out`; find where it comes from in `in`.
    int64_t source = direction == RopePermutation::HFToGGUF
                         ? getHFRowOfGGUFRow(row, headDim)
                         : getGGUFRowOfHFRow(row, headDim);
    std::memcpy(out.data() + row * rowBytes, in.data() + source * rowBytes,
                rowBytes);
  }
}

std::vector<float> slr::permuteRopeRows(llvm::ArrayRef<float> in,
                                        int64_t numHeads, int64_t headDim,
                                        int64_t columns,
                                        RopePermutation direction) {
  std::vector<float> out(in.size());
  permuteRopeRows(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(in.data()),
                              in.size() * sizeof(float)),
      llvm::MutableArrayRef<uint8_t>(reinterpret_cast<uint8_t *>(out.data()),
                                     out.size() * sizeof(float)),
      numHeads, headDim, columns * sizeof(float), direction);
  return out;
}

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

llvm::json::Value slr::toJSON(const HuggingFaceLlamaConfig &config) {
  llvm::json::Object object{
      {"architectures", config.architectures},
      {"model_type", config.modelType},
      {"vocab_size", config.vocabSize},
      {"hidden_size", config.hiddenSize},
      {"intermediate_size", config.intermediateSize},
      {"num_hidden_layers", config.numHiddenLayers},
      {"num_attention_heads", config.numAttentionHeads},
      {"max_position_embeddings", config.maxPositionEmbeddings},
      {"rms_norm_eps", config.rmsNormEps},
      {"rope_theta", config.ropeTheta},
      {"tie_word_embeddings", config.tieWordEmbeddings},
      {"hidden_act", config.hiddenAct},
      {"attention_bias", config.attentionBias},
      {"mlp_bias", config.mlpBias},
      {"rope_scaling", nullptr},
      {"torch_dtype", config.torchDtype},
  };
  if (config.numKeyValueHeads)
    object["num_key_value_heads"] = *config.numKeyValueHeads;
  if (config.headDim)
    object["head_dim"] = *config.headDim;
  if (config.slidingWindow)
    object["sliding_window"] = *config.slidingWindow;
  if (config.bosTokenId)
    object["bos_token_id"] = *config.bosTokenId;
  if (config.eosTokenId)
    object["eos_token_id"] = *config.eosTokenId;
  return object;
}

bool slr::fromJSON(const llvm::json::Value &value,
                   HuggingFaceLlamaConfig &config, llvm::json::Path path) {
  llvm::json::ObjectMapper mapper(value, path);
  if (!mapper)
    return false;
  const llvm::json::Object *object = value.getAsObject();
  // Newer transformers write "dtype" for "torch_dtype"; some configs list
  // several EOS ids (the first is kept).
  std::optional<std::string> dtype;
  std::optional<std::vector<int64_t>> eosList;
  if (const llvm::json::Value *eos = object->get("eos_token_id");
      eos && eos->getAsArray()) {
    if (!fromJSON(*eos, eosList, path.field("eos_token_id")))
      return false;
    if (!eosList->empty())
      config.eosTokenId = eosList->front();
  } else if (!mapper.mapOptional("eos_token_id", config.eosTokenId)) {
    return false;
  }
  const llvm::json::Value *scaling = object->get("rope_scaling");
  config.hasRopeScaling = scaling && scaling->kind() != llvm::json::Value::Null;
  bool ok =
      mapper.mapOptional("architectures", config.architectures) &&
      mapper.map("model_type", config.modelType) &&
      mapper.map("vocab_size", config.vocabSize) &&
      mapper.map("hidden_size", config.hiddenSize) &&
      mapper.map("intermediate_size", config.intermediateSize) &&
      mapper.map("num_hidden_layers", config.numHiddenLayers) &&
      mapper.map("num_attention_heads", config.numAttentionHeads) &&
      mapper.mapOptional("num_key_value_heads", config.numKeyValueHeads) &&
      mapper.mapOptional("head_dim", config.headDim) &&
      mapper.mapOptional("max_position_embeddings",
                         config.maxPositionEmbeddings) &&
      mapper.mapOptional("rms_norm_eps", config.rmsNormEps) &&
      mapper.mapOptional("rope_theta", config.ropeTheta) &&
      mapper.mapOptional("tie_word_embeddings", config.tieWordEmbeddings) &&
      mapper.mapOptional("hidden_act", config.hiddenAct) &&
      mapper.mapOptional("attention_bias", config.attentionBias) &&
      mapper.mapOptional("mlp_bias", config.mlpBias) &&
      mapper.mapOptional("sliding_window", config.slidingWindow) &&
      mapper.mapOptional("bos_token_id", config.bosTokenId) &&
      mapper.mapOptional("torch_dtype", config.torchDtype) &&
      mapper.mapOptional("dtype", dtype);
  if (ok && dtype && !object->get("torch_dtype"))
    config.torchDtype = *dtype;
  return ok;
}

llvm::Expected<HuggingFaceLlamaConfig>
slr::parseHuggingFaceLlamaConfig(llvm::StringRef jsonText) {
  llvm::Expected<llvm::json::Value> value = parseUntrustedJSON(jsonText);
  if (!value)
    return llvm::createStringError("config.json: " +
                                   llvm::toString(value.takeError()));
  HuggingFaceLlamaConfig config;
  llvm::json::Path::Root root("config.json");
  if (!fromJSON(*value, config, root)) {
    return llvm::createStringError("config.json: " +
                                   llvm::toString(root.getError()));
  }
  return config;
}

llvm::Expected<LlamaConfig>
slr::toLlamaConfig(const HuggingFaceLlamaConfig &hf) {
  auto error = [](const llvm::Twine &message) {
    return llvm::createStringError("config.json: " + message);
  };
  if (hf.modelType != "llama" && hf.modelType != "mistral")
    return error("unsupported model_type '" + hf.modelType +
                 "' (slr-import reads llama and mistral models)");
  for (const std::string &architecture : hf.architectures)
    if (architecture != "LlamaForCausalLM" &&
        architecture != "MistralForCausalLM")
      return error("unsupported architecture '" + architecture +
                   "' (slr-import reads LlamaForCausalLM and "
                   "MistralForCausalLM)");
  if (hf.hiddenAct != "silu")
    return error("unsupported hidden_act '" + hf.hiddenAct +
                 "' (the llama MLP is SwiGLU: silu)");
  if (hf.attentionBias || hf.mlpBias)
    return error("attention_bias / mlp_bias are not supported");
  if (hf.hasRopeScaling)
    return error("rope_scaling is not supported");

  auto inRange = [&](const char *key, int64_t value,
                     int64_t maximum) -> llvm::Error {
    if (value < 1 || value > maximum)
      return error(llvm::Twine(key) + " = " + llvm::Twine(value) +
                   " is out of range [1, " + llvm::Twine(maximum) + "]");
    return llvm::Error::success();
  };
  LlamaConfig config;
  config.vocabSize = hf.vocabSize;
  config.dim = hf.hiddenSize;
  config.hiddenDim = hf.intermediateSize;
  config.numLayers = hf.numHiddenLayers;
  config.numHeads = hf.numAttentionHeads;
  config.numKVHeads = hf.numKeyValueHeads.value_or(hf.numAttentionHeads);
  config.contextLength = hf.maxPositionEmbeddings;
  if (llvm::Error e =
          inRange("vocab_size", config.vocabSize, LlamaConfig::kMaxVocab))
    return e;
  if (llvm::Error e =
          inRange("hidden_size", config.dim, LlamaConfig::kMaxWidth))
    return e;
  if (llvm::Error e = inRange("intermediate_size", config.hiddenDim,
                              LlamaConfig::kMaxWidth))
    return e;
  if (llvm::Error e = inRange("num_hidden_layers", config.numLayers,
                              LlamaConfig::kMaxLayers))
    return e;
  if (llvm::Error e = inRange("num_attention_heads", config.numHeads,
                              LlamaConfig::kMaxHeads))
    return e;
  if (llvm::Error e = inRange("num_key_value_heads", config.numKVHeads,
                              LlamaConfig::kMaxHeads))
    return e;
  if (llvm::Error e = inRange("max_position_embeddings", config.contextLength,
                              LlamaConfig::kMaxContextLength))
    return e;
  // The IR attends over the whole prefix: a sliding window bounds the
  // context the model can be run with.
  if (hf.slidingWindow) {
    if (llvm::Error e = inRange("sliding_window", *hf.slidingWindow,
                                LlamaConfig::kMaxContextLength))
      return e;
    config.contextLength = std::min(config.contextLength, *hf.slidingWindow);
  }
  auto formatNumber = [](double number) {
    std::string text;
    llvm::raw_string_ostream(text) << llvm::format("%g", number);
    return text;
  };
  if (!(hf.rmsNormEps >= LlamaConfig::kMinRmsNormEps && hf.rmsNormEps <= 1.0))
    return error("rms_norm_eps = " + formatNumber(hf.rmsNormEps) +
                 " is out of range [1e-30, 1]");
  if (!(hf.ropeTheta >= 1.0 && hf.ropeTheta <= LlamaConfig::kMaxRopeFreqBase))
    return error("rope_theta = " + formatNumber(hf.ropeTheta) +
                 " is out of range [1, 1e+30]");
  config.rmsNormEps = hf.rmsNormEps;
  config.ropeFreqBase = hf.ropeTheta;
  config.tiedOutput = hf.tieWordEmbeddings;
  if (hf.headDim && config.dim % config.numHeads == 0 &&
      *hf.headDim != config.dim / config.numHeads)
    return error("head_dim " + llvm::Twine(*hf.headDim) +
                 " is not hidden_size / num_attention_heads = " +
                 llvm::Twine(config.dim / config.numHeads) +
                 " (not supported)");
  if (llvm::Error e = config.validate())
    return e;
  return config;
}

HuggingFaceLlamaConfig
slr::toHuggingFaceLlamaConfig(const LlamaConfig &config) {
  HuggingFaceLlamaConfig hf;
  hf.architectures = {"LlamaForCausalLM"};
  hf.modelType = "llama";
  hf.vocabSize = config.vocabSize;
  hf.hiddenSize = config.dim;
  hf.intermediateSize = config.hiddenDim;
  hf.numHiddenLayers = config.numLayers;
  hf.numAttentionHeads = config.numHeads;
  hf.numKeyValueHeads = config.numKVHeads;
  hf.headDim = config.headDim();
  hf.maxPositionEmbeddings = config.contextLength;
  hf.rmsNormEps = config.rmsNormEps;
  hf.ropeTheta = config.ropeFreqBase;
  hf.tieWordEmbeddings = config.tiedOutput;
  return hf;
}
