//===- HuggingFaceLlamaTest.cpp - HF llama <-> GGUF conventions -----------===//

#include "slr/Import/HuggingFaceLlama.h"

#include "llvm/Support/FormatVariadic.h"

#include "gtest/gtest.h"

#include <cmath>
#include <numeric>
#include <random>
#include <set>

using namespace slr;

namespace {

TEST(HuggingFaceLlamaTest, MapsTensorNamesBothWays) {
  const std::pair<const char *, const char *> pairs[] = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
      {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"},
      {"model.layers.7.self_attn.k_proj.weight", "blk.7.attn_k.weight"},
      {"model.layers.12.self_attn.v_proj.weight", "blk.12.attn_v.weight"},
      {"model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"},
      {"model.layers.3.post_attention_layernorm.weight",
       "blk.3.ffn_norm.weight"},
      {"model.layers.29.mlp.gate_proj.weight", "blk.29.ffn_gate.weight"},
      {"model.layers.29.mlp.up_proj.weight", "blk.29.ffn_up.weight"},
      {"model.layers.29.mlp.down_proj.weight", "blk.29.ffn_down.weight"},
  };
  for (auto [hf, gguf] : pairs) {
    EXPECT_EQ(getGGUFTensorName(hf), std::optional<std::string>(gguf)) << hf;
    EXPECT_EQ(getHFTensorName(gguf), std::optional<std::string>(hf)) << gguf;
  }
  // Not llama weights, or not canonical layer numbers (one-to-one mapping).
  for (const char *name :
       {"model.layers.01.mlp.up_proj.weight",
        "model.layers..mlp.up_proj.weight", "model.layers.x.mlp.up_proj.weight",
        "model.layers.1.mlp.up_proj.bias", "model.layers.1",
        "blk.1.attn_q.weight", "embed_tokens.weight", ""})
    EXPECT_EQ(getGGUFTensorName(name), std::nullopt) << name;
  for (const char *name : {"blk.01.attn_q.weight", "blk.1.attn_q",
                           "model.layers.1.mlp.up_proj.weight", "output"})
    EXPECT_EQ(getHFTensorName(name), std::nullopt) << name;
  EXPECT_TRUE(
      isIgnoredHFTensor("model.layers.4.self_attn.rotary_emb.inv_freq"));
  EXPECT_FALSE(isIgnoredHFTensor("model.layers.4.self_attn.q_proj.weight"));
}

TEST(HuggingFaceLlamaTest, RopeRowsOfQueryAndKey) {
  EXPECT_EQ(getRopeRows("blk.2.attn_q.weight"), RopeRows::Query);
  EXPECT_EQ(getRopeRows("model.layers.2.self_attn.q_proj.weight"),
            RopeRows::Query);
  EXPECT_EQ(getRopeRows("blk.2.attn_k.weight"), RopeRows::Key);
  EXPECT_EQ(getRopeRows("model.layers.2.self_attn.k_proj.weight"),
            RopeRows::Key);
  EXPECT_EQ(getRopeRows("blk.2.attn_v.weight"), RopeRows::None);
  EXPECT_EQ(getRopeRows("model.layers.2.self_attn.o_proj.weight"),
            RopeRows::None);
}

TEST(HuggingFaceLlamaTest, SpecsCoverEveryWeightOnce) {
  LlamaConfig config;
  config.vocabSize = 32;
  config.dim = 16;
  config.hiddenDim = 24;
  config.numLayers = 2;
  config.numHeads = 4;
  config.numKVHeads = 2;
  config.contextLength = 64;
  config.tiedOutput = false;
  std::vector<LlamaTensorSpec> specs = getLlamaTensorSpecs(config);
  ASSERT_EQ(specs.size(), 1u + 2 * 9 + 2);
  std::set<std::string> names;
  for (const LlamaTensorSpec &spec : specs) {
    EXPECT_TRUE(names.insert(spec.ggufName).second) << spec.ggufName;
    EXPECT_TRUE(getHFTensorName(spec.ggufName).has_value()) << spec.ggufName;
    EXPECT_EQ(spec.ropeRows, getRopeRows(spec.ggufName));
  }
  EXPECT_EQ(specs.front().shape, (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(specs[3].ggufName, "blk.0.attn_k.weight");
  EXPECT_EQ(specs[3].shape, (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(specs.back().ggufName, "output.weight");
  config.tiedOutput = true;
  EXPECT_EQ(getLlamaTensorSpecs(config).back().ggufName, "output_norm.weight");
}

TEST(HuggingFaceLlamaTest, RowPermutationMatchesLlamaCppConvention) {
  // One head of 8 rows: HF keeps the rotated pairs (i, i+4), GGUF (2i, 2i+1),
  // so GGUF's order is HF rows 0,4,1,5,2,6,3,7.
  const int64_t expected[] = {0, 4, 1, 5, 2, 6, 3, 7};
  for (int64_t row = 0; row < 8; ++row) {
    EXPECT_EQ(getHFRowOfGGUFRow(row, 8), expected[row]);
    EXPECT_EQ(getGGUFRowOfHFRow(expected[row], 8), row);
  }
  // Heads are permuted independently.
  EXPECT_EQ(getHFRowOfGGUFRow(8 + 1, 8), 8 + 4);
  EXPECT_EQ(getGGUFRowOfHFRow(16 + 7, 8), 16 + 7);
  EXPECT_EQ(getGGUFRowOfHFRow(16 + 3, 8), 16 + 6);
}

TEST(HuggingFaceLlamaTest, RowPermutationsAreInverse) {
  for (auto [heads, headDim, columns] :
       {std::tuple<int64_t, int64_t, int64_t>{1, 2, 1},
        {3, 8, 5},
        {4, 16, 3},
        {2, 64, 7}}) {
    std::vector<float> matrix(heads * headDim * columns);
    std::iota(matrix.begin(), matrix.end(), 0.0f);
    std::vector<float> gguf = permuteRopeRows(matrix, heads, headDim, columns,
                                              RopePermutation::HFToGGUF);
    if (headDim > 2) {
      EXPECT_NE(gguf, matrix);
    }
    // Rows move whole: row r of the result is row getHFRowOfGGUFRow(r).
    for (int64_t row = 0; row < heads * headDim; ++row)
      for (int64_t column = 0; column < columns; ++column)
        ASSERT_EQ(gguf[row * columns + column],
                  matrix[getHFRowOfGGUFRow(row, headDim) * columns + column]);
    EXPECT_EQ(permuteRopeRows(gguf, heads, headDim, columns,
                              RopePermutation::GGUFToHF),
              matrix);
    EXPECT_EQ(permuteRopeRows(permuteRopeRows(matrix, heads, headDim, columns,
                                              RopePermutation::GGUFToHF),
                              heads, headDim, columns,
                              RopePermutation::HFToGGUF),
              matrix);
    for (int64_t row = 0; row < heads * headDim; ++row) {
      EXPECT_EQ(getHFRowOfGGUFRow(getGGUFRowOfHFRow(row, headDim), headDim),
                row);
      EXPECT_EQ(getGGUFRowOfHFRow(getHFRowOfGGUFRow(row, headDim), headDim),
                row);
    }
  }
}

/// RoPE at `position` on each head of `x`: HF's rotate_half (pairs (i,
/// i + d/2)) or GGUF's / the slr IR's (pairs (2i, 2i+1)), both with
/// theta_i = base^(-2i/d).
std::vector<double> applyRope(const std::vector<double> &x, int64_t headDim,
                              int64_t position, bool rotateHalf) {
  std::vector<double> y(x.size());
  int64_t half = headDim / 2;
  for (size_t head = 0; head < x.size() / headDim; ++head)
    for (int64_t i = 0; i < half; ++i) {
      double angle = position * std::pow(10000.0, -2.0 * i / headDim);
      size_t a = head * headDim + (rotateHalf ? i : 2 * i);
      size_t b = head * headDim + (rotateHalf ? i + half : 2 * i + 1);
      y[a] = x[a] * std::cos(angle) - x[b] * std::sin(angle);
      y[b] = x[b] * std::cos(angle) + x[a] * std::sin(angle);
    }
  return y;
}

TEST(HuggingFaceLlamaTest, PermutedRowsTurnRotateHalfIntoPairRope) {
  // q = W x with HF's W and rotate_half RoPE equals, row for row after the
  // permutation, q = W' x with the permuted W' and GGUF's RoPE; so attention
  // scores q.k are the same.
  const int64_t heads = 3, headDim = 8, columns = 5, rows = heads * headDim;
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> weight(rows * columns), input(columns);
  for (float &value : weight)
    value = uniform(random);
  for (float &value : input)
    value = uniform(random);
  std::vector<float> permuted = permuteRopeRows(weight, heads, headDim, columns,
                                                RopePermutation::HFToGGUF);
  auto multiply = [&](const std::vector<float> &w) {
    std::vector<double> out(rows, 0.0);
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t column = 0; column < columns; ++column)
        out[row] += double(w[row * columns + column]) * input[column];
    return out;
  };
  for (int64_t position : {0, 1, 5, 100}) {
    std::vector<double> hf =
        applyRope(multiply(weight), headDim, position, /*rotateHalf=*/true);
    std::vector<double> gguf =
        applyRope(multiply(permuted), headDim, position, /*rotateHalf=*/false);
    for (int64_t row = 0; row < rows; ++row)
      EXPECT_NEAR(gguf[row], hf[getHFRowOfGGUFRow(row, headDim)], 1e-12)
          << "position " << position << " row " << row;
  }
  // Without the permutation the two RoPEs disagree (the test can fail).
  std::vector<double> hf = applyRope(multiply(weight), headDim, 3, true);
  std::vector<double> unpermuted =
      applyRope(multiply(weight), headDim, 3, false);
  double difference = 0.0;
  for (int64_t row = 0; row < rows; ++row)
    difference += std::abs(hf[row] - unpermuted[row]);
  EXPECT_GT(difference, 1e-3);
}

TEST(HuggingFaceLlamaTest, ConfigRoundTripsThroughJSON) {
  LlamaConfig config;
  config.vocabSize = 512;
  config.dim = 64;
  config.hiddenDim = 172;
  config.numLayers = 5;
  config.numHeads = 8;
  config.numKVHeads = 4;
  config.contextLength = 512;
  config.rmsNormEps = 1e-5;
  config.ropeFreqBase = 10000.0;
  config.tiedOutput = true;
  HuggingFaceLlamaConfig hf = toHuggingFaceLlamaConfig(config);
  std::string text = llvm::formatv("{0:2}", toJSON(hf)).str();
  llvm::Expected<HuggingFaceLlamaConfig> parsed =
      parseHuggingFaceLlamaConfig(text);
  ASSERT_TRUE(static_cast<bool>(parsed)) << llvm::toString(parsed.takeError());
  EXPECT_EQ(parsed->modelType, "llama");
  EXPECT_EQ(parsed->architectures,
            std::vector<std::string>{"LlamaForCausalLM"});
  llvm::Expected<LlamaConfig> back = toLlamaConfig(*parsed);
  ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->vocabSize, 512);
  EXPECT_EQ(back->dim, 64);
  EXPECT_EQ(back->hiddenDim, 172);
  EXPECT_EQ(back->numLayers, 5);
  EXPECT_EQ(back->numHeads, 8);
  EXPECT_EQ(back->numKVHeads, 4);
  EXPECT_EQ(back->contextLength, 512);
  EXPECT_EQ(back->rmsNormEps, 1e-5);
  EXPECT_EQ(back->ropeFreqBase, 10000.0);
  EXPECT_TRUE(back->tiedOutput);
}

TEST(HuggingFaceLlamaTest, ReadsTransformersConfig) {
  // Shaped like SmolLM2-135M's config.json (extra keys are ignored).
  llvm::Expected<HuggingFaceLlamaConfig> hf = parseHuggingFaceLlamaConfig(R"({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false,
    "bos_token_id": 1, "eos_token_id": [2, 0], "hidden_act": "silu",
    "hidden_size": 576, "initializer_range": 0.041666666666666664,
    "intermediate_size": 1536, "max_position_embeddings": 8192,
    "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30,
    "num_key_value_heads": 3, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "transformers_version": "4.42.3",
    "use_cache": true, "vocab_size": 49152})");
  ASSERT_TRUE(static_cast<bool>(hf)) << llvm::toString(hf.takeError());
  EXPECT_EQ(hf->eosTokenId, std::optional<int64_t>(2));
  EXPECT_EQ(hf->torchDtype, "bfloat16");
  llvm::Expected<LlamaConfig> config = toLlamaConfig(*hf);
  ASSERT_TRUE(static_cast<bool>(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->headDim(), 64);
  EXPECT_EQ(config->kvDim(), 192);
  EXPECT_EQ(config->ropeFreqBase, 100000.0);
  EXPECT_TRUE(config->tiedOutput);
  // No num_key_value_heads: multi-head attention; untied by default.
  hf = parseHuggingFaceLlamaConfig(R"({"model_type": "mistral",
    "vocab_size": 32, "hidden_size": 16, "intermediate_size": 24,
    "num_hidden_layers": 1, "num_attention_heads": 4,
    "max_position_embeddings": 4096, "sliding_window": 1024})");
  ASSERT_TRUE(static_cast<bool>(hf)) << llvm::toString(hf.takeError());
  config = toLlamaConfig(*hf);
  ASSERT_TRUE(static_cast<bool>(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->numKVHeads, 4);
  EXPECT_FALSE(config->tiedOutput);
  EXPECT_EQ(config->contextLength, 1024);
}

std::string configError(llvm::StringRef text) {
  llvm::Expected<HuggingFaceLlamaConfig> hf = parseHuggingFaceLlamaConfig(text);
  if (!hf)
    return llvm::toString(hf.takeError());
  llvm::Expected<LlamaConfig> config = toLlamaConfig(*hf);
  if (!config)
    return llvm::toString(config.takeError());
  return "";
}

TEST(HuggingFaceLlamaTest, RejectsUnsupportedConfigs) {
  const char *base = R"("vocab_size": 32, "hidden_size": 16,
    "intermediate_size": 24, "num_hidden_layers": 1, "num_attention_heads": 4)";
  auto with = [&](llvm::StringRef extra) {
    return configError(("{" + llvm::Twine(base) + ", " + extra + "}").str());
  };
  EXPECT_EQ(with(R"("model_type": "llama")"), "");
  EXPECT_EQ(with(R"("model_type": "gpt2")"),
            "config.json: unsupported model_type 'gpt2' (slr-import reads "
            "llama and mistral models)");
  EXPECT_EQ(with(R"("model_type": "llama", "architectures": ["LlamaModel"])"),
            "config.json: unsupported architecture 'LlamaModel' (slr-import "
            "reads LlamaForCausalLM and MistralForCausalLM)");
  EXPECT_EQ(with(R"("model_type": "llama", "rope_scaling": {"type": "linear",
    "factor": 2.0})"),
            "config.json: rope_scaling is not supported");
  EXPECT_EQ(with(R"("model_type": "llama", "hidden_act": "gelu")"),
            "config.json: unsupported hidden_act 'gelu' (the llama MLP is "
            "SwiGLU: silu)");
  EXPECT_EQ(with(R"("model_type": "llama", "attention_bias": true)"),
            "config.json: attention_bias / mlp_bias are not supported");
  EXPECT_EQ(with(R"("model_type": "llama", "num_key_value_heads": 0)"),
            "config.json: num_key_value_heads = 0 is out of range [1, 4096]");
  EXPECT_EQ(with(R"("model_type": "llama", "rms_norm_eps": 0)"),
            "config.json: rms_norm_eps = 0 is out of range [1e-30, 1]");
  EXPECT_EQ(with(R"("model_type": "llama", "head_dim": 8)"),
            "config.json: head_dim 8 is not hidden_size / "
            "num_attention_heads = 4 (not supported)");
  // Types and missing keys, with the path of the offending value.
  EXPECT_EQ(configError(R"({"model_type": "llama"})"),
            "config.json: missing value at config.json.vocab_size");
  EXPECT_EQ(with(R"("model_type": "llama", "rope_theta": "big")"),
            "config.json: expected number at config.json.rope_theta");
  EXPECT_EQ(configError("{").rfind("config.json: ", 0), 0u);
}

} // namespace
