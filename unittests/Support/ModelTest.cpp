//===- ModelTest.cpp - Reference llama forward pass tests -----------------===//

#include "slr/Model/Evaluation.h"
#include "slr/Model/LlamaReference.h"
#include "slr/Support/Blas.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

using namespace slr;

namespace {

std::string sharedDataPath(llvm::StringRef relative) {
  return (llvm::Twine(SLR_SHARED_DATA_DIR) + "/" + relative).str();
}

/// stories260K and its tokenizer, loaded once for all tests.
class StoriesModelTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    // stories260K's matrices are tiny: BLAS threads only add waiting (on a
    // loaded 2-core machine they doubled the whole-file run time).
    setBlasThreadCount(1);
    std::string path = sharedDataPath("models/stories260K.gguf");
    if (!llvm::sys::fs::exists(path))
      return;
    file = llvm::cantFail(GGUFFile::open(path)).release();
    tokenizer = llvm::cantFail(Tokenizer::fromGGUF(*file)).release();
    auto text =
        llvm::MemoryBuffer::getFile(sharedDataPath("text/tinystories_val.txt"));
    if (text)
      corpus = new std::string((*text)->getBuffer().str());
  }
  static void TearDownTestSuite() {
    delete corpus;
    delete tokenizer;
    delete file;
  }
  void SetUp() override {
    if (!file || !corpus)
      GTEST_SKIP() << "missing stories260K.gguf or tinystories_val.txt in "
                   << SLR_SHARED_DATA_DIR;
    auto loaded = LlamaModel::load(*file);
    ASSERT_TRUE(static_cast<bool>(loaded))
        << llvm::toString(loaded.takeError());
    model = std::move(*loaded);
  }

  std::vector<int32_t> tokensWithBos(llvm::StringRef text) const {
    std::vector<int32_t> ids = {tokenizer->getBosId()};
    for (int32_t id : tokenizer->encode(text))
      ids.push_back(id);
    return ids;
  }

  static GGUFFile *file;
  static Tokenizer *tokenizer;
  static std::string *corpus;
  std::unique_ptr<LlamaModel> model;
};

GGUFFile *StoriesModelTest::file = nullptr;
Tokenizer *StoriesModelTest::tokenizer = nullptr;
std::string *StoriesModelTest::corpus = nullptr;

TEST_F(StoriesModelTest, ReadsConfiguration) {
  const ReferenceLlamaConfig &config = model->getConfig();
  EXPECT_EQ(config.vocabularySize, 512);
  EXPECT_EQ(config.embeddingDim, 64);
  EXPECT_EQ(config.feedForwardDim, 172);
  EXPECT_EQ(config.numLayers, 5);
  EXPECT_EQ(config.numHeads, 8);
  EXPECT_EQ(config.numKVHeads, 4);
  EXPECT_EQ(config.headDim, 8);
  EXPECT_EQ(config.ropeDim, 8);
  EXPECT_EQ(config.contextLength, 512);
  EXPECT_FLOAT_EQ(config.rmsNormEpsilon, 1e-5f);
  EXPECT_EQ(config.ropeFreqBase, 10000.0f);
  EXPECT_TRUE(config.tiedOutput);
}

TEST_F(StoriesModelTest, NamesLinearsAfterTheirTensors) {
  std::vector<std::string> names = model->getLinearNames();
  ASSERT_EQ(names.size(), 35u);
  EXPECT_EQ(names[0], "blk.0.attn_q");
  EXPECT_EQ(names[6], "blk.0.ffn_down");
  EXPECT_EQ(names[34], "blk.4.ffn_down");
  EXPECT_EQ(model->getLinearNames(/*includeOutput=*/true).size(), 35u); // tied
  const LinearWeight *key = model->findLinear("blk.2.attn_k");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->outFeatures, 32);
  EXPECT_EQ(key->inFeatures, 64);
  const LinearWeight *down = model->findLinear("blk.2.ffn_down");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->outFeatures, 64);
  EXPECT_EQ(down->inFeatures, 172);
  // Row-major [N, K]: row n of the GGUF tensor is output feature n.
  auto raw = llvm::cantFail(file->readTensorAsFloat("blk.2.ffn_down.weight"));
  EXPECT_EQ(down->values, raw);
  EXPECT_EQ(model->findLinear("output"), nullptr);
  EXPECT_EQ(model->findLinear("blk.5.attn_q"), nullptr);
}

TEST_F(StoriesModelTest, HookSeesEveryLinearInputInOrder) {
  std::vector<int32_t> tokens = tokensWithBos("Once upon a time");
  std::vector<std::string> seen;
  std::vector<float> firstQueryInput;
  model->setLinearInputHook([&](llvm::StringRef name, const float *inputs,
                                int64_t numTokens, int64_t numFeatures) {
    seen.push_back(name.str());
    EXPECT_EQ(numTokens, static_cast<int64_t>(tokens.size()));
    EXPECT_EQ(numFeatures, model->findLinear(name)->inFeatures) << name.str();
    if (name == "blk.0.attn_q")
      firstQueryInput.assign(inputs, inputs + numTokens * numFeatures);
  });
  ASSERT_TRUE(static_cast<bool>(model->computeNLL(tokens)));
  EXPECT_EQ(seen, model->getLinearNames());
  // The first linear sees RMSNorm(embedding) * attn_norm.
  auto embedding = llvm::cantFail(file->readTensorAsFloat("token_embd.weight"));
  auto norm = llvm::cantFail(file->readTensorAsFloat("blk.0.attn_norm.weight"));
  const float *row = embedding.data() + tokens[1] * 64;
  double sumOfSquares = 0;
  for (int i = 0; i < 64; ++i)
    sumOfSquares += row[i] * row[i];
  double scale = 1.0 / std::sqrt(sumOfSquares / 64 + 1e-5);
  for (int i = 0; i < 64; ++i)
    EXPECT_NEAR(firstQueryInput[64 + i], row[i] * scale * norm[i], 1e-5);

  model->setLinearInputHook(nullptr);
  seen.clear();
  ASSERT_TRUE(static_cast<bool>(model->computeNLL(tokens)));
  EXPECT_TRUE(seen.empty());
}

TEST_F(StoriesModelTest, NLLMatchesLogitsAndIsCausal) {
  std::vector<int32_t> tokens =
      tokensWithBos("Lily saw a big red ball in the park. She was happy.");
  auto logits = llvm::cantFail(model->computeLogits(tokens));
  ASSERT_EQ(logits.size(), tokens.size() * 512);
  double expected = 0;
  for (size_t t = 0; t + 1 < tokens.size(); ++t) {
    const float *row = logits.data() + t * 512;
    double total = 0;
    for (int j = 0; j < 512; ++j)
      total += std::exp(static_cast<double>(row[j]));
    expected += std::log(total) - row[tokens[t + 1]];
  }
  NLLSum nll = llvm::cantFail(model->computeNLL(tokens));
  EXPECT_EQ(nll.numPredicted, static_cast<int64_t>(tokens.size()) - 1);
  EXPECT_NEAR(nll.totalNLL, expected, 1e-3);
  // Later targets only.
  NLLSum tail = llvm::cantFail(model->computeNLL(tokens, tokens.size() - 2));
  EXPECT_EQ(tail.numPredicted, 2);

  // Logits of a prefix do not depend on what follows it.
  std::vector<int32_t> prefix(tokens.begin(), tokens.begin() + 5);
  auto prefixLogits = llvm::cantFail(model->computeLogits(prefix));
  for (size_t i = 0; i < prefixLogits.size(); ++i)
    ASSERT_NEAR(prefixLogits[i], logits[i], 1e-4) << i;
}

TEST_F(StoriesModelTest, PackedBatchesEqualSeparatePasses) {
  std::vector<std::vector<int32_t>> sequences = {
      tokensWithBos("Once upon a time, there was a cat."),
      tokensWithBos("Tom"),
      tokensWithBos("The sun was hot. Lily and Ben went to the beach to "
                    "swim and play in the sand."),
  };
  int64_t rowsSeen = 0;
  model->setLinearInputHook(
      [&](llvm::StringRef name, const float *, int64_t numTokens, int64_t) {
        if (name == "blk.0.attn_q")
          rowsSeen += numTokens;
      });
  auto batch = llvm::cantFail(model->computeNLLBatch(sequences));
  model->setLinearInputHook(nullptr);
  // One pass over all tokens: the hook saw them concatenated.
  EXPECT_EQ(rowsSeen,
            static_cast<int64_t>(sequences[0].size() + sequences[1].size() +
                                 sequences[2].size()));
  ASSERT_EQ(batch.size(), 3u);
  for (size_t i = 0; i < sequences.size(); ++i) {
    NLLSum alone = llvm::cantFail(model->computeNLL(sequences[i]));
    EXPECT_EQ(batch[i].numPredicted, alone.numPredicted) << i;
    EXPECT_NEAR(batch[i].totalNLL, alone.totalNLL, 1e-5 * (1 + alone.totalNLL))
        << i;
  }
  auto hidden = llvm::cantFail(model->computeHiddenStatesBatch(sequences));
  EXPECT_EQ(hidden.size(), static_cast<size_t>(rowsSeen) * 64);
  EXPECT_FALSE(static_cast<bool>(model->computeNLLBatch({{1, 600}})));
  EXPECT_TRUE(llvm::cantFail(model->computeNLLBatch({})).empty());
}

TEST_F(StoriesModelTest, PerplexityDoesNotDependOnBatchingOrScorer) {
  PerplexityOptions options;
  options.maxBlocks = 30;
  auto batched =
      llvm::cantFail(evaluatePerplexity(*model, *tokenizer, *corpus, options));
  options.batchTokens = 1; // one window per pass
  auto single =
      llvm::cantFail(evaluatePerplexity(*model, *tokenizer, *corpus, options));
  EXPECT_EQ(batched.sum.numPredicted, single.sum.numPredicted);
  EXPECT_EQ(batched.numWindows, 30);
  EXPECT_NEAR(batched.meanNLL(), single.meanNLL(), 1e-6);

  // Any executor can plug in through a WindowScorer; here the logits path.
  WindowScorer scorer =
      [&](llvm::ArrayRef<int32_t> window) -> llvm::Expected<NLLSum> {
    auto logits = model->computeLogits(window);
    if (!logits)
      return logits.takeError();
    return nllFromLogits(*logits, 512, window);
  };
  auto viaLogits =
      llvm::cantFail(evaluatePerplexity(scorer, *tokenizer, *corpus, options));
  EXPECT_EQ(viaLogits.sum.numPredicted, single.sum.numPredicted);
  EXPECT_NEAR(viaLogits.meanNLL(), single.meanNLL(), 1e-6);
}

TEST_F(StoriesModelTest, RejectsInvalidTokens) {
  auto empty = model->computeNLL({});
  ASSERT_FALSE(static_cast<bool>(empty));
  EXPECT_EQ(llvm::toString(empty.takeError()), "llama: empty token sequence");
  auto outside = model->computeLogits({1, 512});
  ASSERT_FALSE(static_cast<bool>(outside));
  EXPECT_EQ(llvm::toString(outside.takeError()),
            "llama: token id 512 is outside the vocabulary of 512");
}

TEST_F(StoriesModelTest, ReplacedWeightsChangeTheOutput) {
  std::vector<int32_t> tokens = tokensWithBos("The dog ran to the park.");
  NLLSum original = llvm::cantFail(model->computeNLL(tokens));
  std::vector<float> saved = model->findLinear("blk.1.ffn_up")->values;
  std::vector<float> zeros(saved.size(), 0.0f);
  ASSERT_FALSE(
      llvm::errorToBool(model->setLinearWeight("blk.1.ffn_up", zeros)));
  NLLSum ablated = llvm::cantFail(model->computeNLL(tokens));
  EXPECT_GT(std::abs(ablated.totalNLL - original.totalNLL), 1e-3);
  ASSERT_FALSE(
      llvm::errorToBool(model->setLinearWeight("blk.1.ffn_up", saved)));
  NLLSum restored = llvm::cantFail(model->computeNLL(tokens));
  EXPECT_EQ(restored.totalNLL, original.totalNLL);

  llvm::Error wrongSize = model->setLinearWeight("blk.1.ffn_up", {1.0f});
  ASSERT_TRUE(static_cast<bool>(wrongSize));
  EXPECT_EQ(llvm::toString(std::move(wrongSize)),
            "llama: new weight for 'blk.1.ffn_up' has 1 values, expected 172 "
            "x 64");
  llvm::Error unknown = model->setLinearWeight("output", {});
  ASSERT_TRUE(static_cast<bool>(unknown));
  EXPECT_EQ(llvm::toString(std::move(unknown)),
            "llama: no linear layer named 'output'");
}

TEST_F(StoriesModelTest, AccumulatesInputGrams) {
  CalibrationOptions options;
  options.maxBlocks = 8;
  auto grams = accumulateInputGrams(*model, *tokenizer, *corpus, options);
  ASSERT_TRUE(static_cast<bool>(grams)) << llvm::toString(grams.takeError());
  ASSERT_EQ(grams->size(), 35u);

  // Reference: the same windows through a hook that sums X^T X by hand.
  int64_t expectedTokens = 0;
  std::vector<double> expected(172 * 172, 0.0);
  model->setLinearInputHook([&](llvm::StringRef name, const float *inputs,
                                int64_t numTokens, int64_t numFeatures) {
    if (name != "blk.3.ffn_down")
      return;
    expectedTokens += numTokens;
    for (int64_t t = 0; t < numTokens; ++t)
      for (int64_t i = 0; i < numFeatures; ++i)
        for (int64_t j = 0; j < numFeatures; ++j)
          expected[i * numFeatures + j] +=
              static_cast<double>(inputs[t * numFeatures + i]) *
              inputs[t * numFeatures + j];
  });
  std::vector<llvm::StringRef> blocks = splitTextBlocks(*corpus);
  for (int b = 0; b < 8; ++b)
    ASSERT_TRUE(static_cast<bool>(model->computeNLL(tokensWithBos(blocks[b]))));
  model->setLinearInputHook(nullptr);

  const LinearInputStatistics &down = grams->at("blk.3.ffn_down");
  EXPECT_EQ(down.numFeatures, 172);
  EXPECT_EQ(down.numTokens, expectedTokens);
  // The batched pass runs GEMMs of other shapes, so its float32 activations
  // differ from the one-window pass by rounding; an entry's error is bounded
  // relative to sqrt(H_ii H_jj) (Cauchy-Schwarz), not to |H_ij|, which can
  // cancel.
  for (int64_t i = 0; i < 172; ++i)
    for (int64_t j = 0; j < 172; ++j)
      ASSERT_NEAR(down.gram[i * 172 + j], expected[i * 172 + j],
                  1e-5 * std::sqrt(expected[i * 173] * expected[j * 173]))
          << i << ", " << j;
  for (const auto &[name, statistics] : *grams) {
    int64_t k = statistics.numFeatures;
    EXPECT_EQ(k, model->findLinear(name)->inFeatures) << name;
    EXPECT_EQ(statistics.numTokens, expectedTokens) << name;
    for (int64_t i = 0; i < k; ++i) {
      EXPECT_GE(statistics.gram[i * k + i], 0.0);
      for (int64_t j = 0; j < i; ++j)
        ASSERT_EQ(statistics.gram[i * k + j], statistics.gram[j * k + i]);
    }
  }

  CalibrationOptions limited;
  limited.maxTokens = 100;
  auto few = llvm::cantFail(
      accumulateInputGrams(*model, *tokenizer, *corpus, limited));
  EXPECT_EQ(few.at("blk.0.attn_q").numTokens, 100);
}

TEST_F(StoriesModelTest, PerplexityOfTheFirstBlocks) {
  // Regression bound for a quick check: the first 200 blocks measured
  // 1.43881 nats/token (19,380 predicted tokens) with this implementation,
  // whose full-file figure matches the published reference (below). The
  // early stories are easier than the file's average.
  PerplexityOptions options;
  options.maxBlocks = 200;
  auto result = evaluatePerplexity(*model, *tokenizer, *corpus, options);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  EXPECT_EQ(result->numBlocks, 200);
  EXPECT_EQ(result->sum.numPredicted, 19380);
  EXPECT_NEAR(result->meanNLL(), 1.43881, 0.002);
}

TEST_F(StoriesModelTest, PerplexityOfTheWholeFileMatchesTheReference) {
  // The data README: mean NLL 1.682 nats/token (perplexity 5.38) over the
  // whole of tinystories_val.txt, blocks split on blank lines, each scored
  // from BOS with context <= 512. We accept +-0.02 around it (measured:
  // 1.68108 over 380,652 tokens in 4,302 blocks, about 8 s on one core).
  PerplexityOptions options;
  auto start = std::chrono::steady_clock::now();
  auto result = evaluatePerplexity(*model, *tokenizer, *corpus, options);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(result->numBlocks, 4302);
  EXPECT_EQ(result->numWindows, 4302); // no block exceeds 511 tokens
  EXPECT_GT(result->meanNLL(), 1.662);
  EXPECT_LT(result->meanNLL(), 1.702);
  EXPECT_NEAR(result->perplexity(), 5.38, 0.11);
  RecordProperty("mean_nll", std::to_string(result->meanNLL()));
  RecordProperty("seconds", std::to_string(seconds));
}

TEST_F(StoriesModelTest, LongBlocksAreCutIntoBosWindows) {
  // A context of 16 makes every block span several windows of BOS + 15.
  PerplexityOptions options;
  options.contextLength = 16;
  options.maxBlocks = 3;
  auto result =
      llvm::cantFail(evaluatePerplexity(*model, *tokenizer, *corpus, options));
  std::vector<llvm::StringRef> blocks = splitTextBlocks(*corpus);
  int64_t tokens = 0, windows = 0;
  for (int b = 0; b < 3; ++b) {
    int64_t count = static_cast<int64_t>(tokenizer->encode(blocks[b]).size());
    tokens += count;
    windows += (count + 14) / 15;
  }
  EXPECT_EQ(result.sum.numPredicted, tokens); // every token exactly once
  EXPECT_EQ(result.numWindows, windows);
  // Shorter contexts lose information: higher NLL than with 512.
  PerplexityOptions full;
  full.maxBlocks = 3;
  auto fullResult =
      llvm::cantFail(evaluatePerplexity(*model, *tokenizer, *corpus, full));
  EXPECT_GT(result.meanNLL(), fullResult.meanNLL());

  PerplexityOptions stream;
  stream.protocol = PerplexityOptions::Protocol::Stream;
  stream.contextLength = 64;
  stream.prependBos = false;
  stream.maxWindows = 3;
  auto streamResult =
      llvm::cantFail(evaluatePerplexity(*model, *tokenizer, *corpus, stream));
  EXPECT_EQ(streamResult.numWindows, 3);
  EXPECT_EQ(streamResult.sum.numPredicted, 3 * 63);
}

TEST(SplitTextBlocksTest, SplitsOnBlankLines) {
  std::vector<llvm::StringRef> blocks =
      splitTextBlocks("\n\nfirst line\nsecond line  \n \t\n\nthird\n\n\n  "
                      "fourth  \n");
  EXPECT_EQ(blocks, (std::vector<llvm::StringRef>{"first line\nsecond line",
                                                  "third", "fourth"}));
  EXPECT_TRUE(splitTextBlocks("\n \n").empty());
  EXPECT_EQ(splitTextBlocks("x"), (std::vector<llvm::StringRef>{"x"}));
}

//===----------------------------------------------------------------------===//
// A synthetic model with an untied head
//===----------------------------------------------------------------------===//

/// Variations of the tiny model for the error tests.
struct TinyModelOptions {
  float ropeBase = 100000.0f;
  std::optional<float> epsilon;
  std::optional<int32_t> contextLength;
  /// Every weight of this tensor is multiplied by `scale`.
  std::string scaledTensor;
  float scale = 1.0f;
};

/// A random 1-layer llama (dim 8, 2 heads, 1 KV head, ffn 12, vocab 10)
/// with output.weight; `skip` omits one tensor.
std::string makeTinyModel(llvm::StringRef skip = "",
                          const TinyModelOptions &options = {}) {
  std::mt19937 random(7);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  GGUFWriter writer;
  writer.addString("general.architecture", "llama");
  writer.addUInt32("llama.embedding_length", 8);
  writer.addUInt32("llama.block_count", 1);
  writer.addUInt32("llama.feed_forward_length", 12);
  writer.addUInt32("llama.attention.head_count", 2);
  writer.addUInt32("llama.attention.head_count_kv", 1);
  writer.addFloat32("llama.rope.freq_base", options.ropeBase);
  if (options.epsilon)
    writer.addFloat32("llama.attention.layer_norm_rms_epsilon",
                      *options.epsilon);
  if (options.contextLength)
    writer.addInt32("llama.context_length", *options.contextLength);
  auto add = [&](const std::string &name, std::vector<uint64_t> dims) {
    if (name == skip)
      return;
    uint64_t count = 1;
    for (uint64_t dim : dims)
      count *= dim;
    std::vector<float> values(count);
    for (float &value : values)
      value = normal(random) *
              (name == options.scaledTensor ? options.scale : 1.0f);
    writer.addTensorF32(name, dims, values);
  };
  add("token_embd.weight", {8, 10});
  add("blk.0.attn_norm.weight", {8});
  add("blk.0.attn_q.weight", {8, 8});
  add("blk.0.attn_k.weight", {8, 4});
  add("blk.0.attn_v.weight", {8, 4});
  add("blk.0.attn_output.weight", {8, 8});
  add("blk.0.ffn_norm.weight", {8});
  add("blk.0.ffn_gate.weight", {8, 12});
  add("blk.0.ffn_up.weight", {8, 12});
  add("blk.0.ffn_down.weight", {12, 8});
  add("output_norm.weight", {8});
  add("output.weight", {8, 10});
  return writer.serialize();
}

TEST(TinyModelTest, UntiedHeadIsALinearLayer) {
  auto file = llvm::cantFail(GGUFFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(makeTinyModel(), "tiny.gguf")));
  auto model = llvm::cantFail(LlamaModel::load(*file));
  EXPECT_FALSE(model->getConfig().tiedOutput);
  EXPECT_EQ(model->getConfig().ropeFreqBase, 100000.0f);
  EXPECT_EQ(model->getConfig().rmsNormEpsilon, 1e-5f); // default
  EXPECT_EQ(model->getLinearNames().size(), 7u);
  std::vector<std::string> all = model->getLinearNames(true);
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all.back(), "output");
  ASSERT_NE(model->findLinear("output"), nullptr);
  EXPECT_EQ(model->findLinear("output")->outFeatures, 10);

  std::vector<int32_t> tokens = {1, 5, 3, 9, 0};
  std::vector<std::string> seen;
  auto record = [&](llvm::StringRef name, const float *, int64_t, int64_t) {
    seen.push_back(name.str());
  };
  model->setLinearInputHook(record);
  NLLSum before = llvm::cantFail(model->computeNLL(tokens));
  EXPECT_EQ(seen.size(), 7u); // the head is skipped by default
  seen.clear();
  model->setLinearInputHook(record, /*includeOutput=*/true);
  ASSERT_TRUE(static_cast<bool>(model->computeNLL(tokens)));
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen.back(), "output");

  // Scaling the head by 0 makes every prediction uniform over 10 tokens.
  ASSERT_FALSE(llvm::errorToBool(
      model->setLinearWeight("output", std::vector<float>(80, 0.0f))));
  NLLSum uniform = llvm::cantFail(model->computeNLL(tokens));
  EXPECT_NEAR(uniform.totalNLL, 4 * std::log(10.0), 1e-9);
  EXPECT_NE(before.totalNLL, uniform.totalNLL);
  auto logits = llvm::cantFail(model->computeLogits(tokens));
  for (float logit : logits)
    EXPECT_EQ(logit, 0.0f);
}

TEST(TinyModelTest, MissingOrMisshapenTensorsAreErrors) {
  auto load = [](const std::string &bytes) {
    auto file = llvm::cantFail(GGUFFile::parse(
        llvm::MemoryBuffer::getMemBufferCopy(bytes, "tiny.gguf")));
    auto model = LlamaModel::load(*file);
    return model ? std::string() : llvm::toString(model.takeError());
  };
  EXPECT_EQ(load(makeTinyModel()), "");
  EXPECT_EQ(load(makeTinyModel("blk.0.ffn_up.weight")),
            "llama: missing tensor 'blk.0.ffn_up.weight'");
  EXPECT_EQ(load(makeTinyModel("token_embd.weight")),
            "llama: missing or malformed tensor 'token_embd.weight'");

  GGUFWriter wrongShape;
  wrongShape.addString("general.architecture", "llama");
  wrongShape.addUInt32("llama.embedding_length", 8);
  wrongShape.addUInt32("llama.block_count", 1);
  wrongShape.addUInt32("llama.feed_forward_length", 12);
  wrongShape.addUInt32("llama.attention.head_count", 2);
  wrongShape.addTensorF32("token_embd.weight", {8, 10},
                          std::vector<float>(80, 0.0f));
  wrongShape.addTensorF32("blk.0.attn_norm.weight", {8},
                          std::vector<float>(8, 1.0f));
  wrongShape.addTensorF32("blk.0.ffn_norm.weight", {8},
                          std::vector<float>(8, 1.0f));
  wrongShape.addTensorF32("blk.0.attn_q.weight", {8, 4},
                          std::vector<float>(32, 0.0f));
  EXPECT_EQ(load(wrongShape.serialize()),
            "llama: tensor 'blk.0.attn_q.weight' has dims [8, 4], expected "
            "[8, 8]");

  GGUFWriter otherArchitecture;
  otherArchitecture.addString("general.architecture", "gpt2");
  EXPECT_EQ(load(otherArchitecture.serialize()),
            "llama: unsupported architecture 'gpt2' (expected 'llama')");

  GGUFWriter badHeads;
  badHeads.addString("general.architecture", "llama");
  badHeads.addUInt32("llama.embedding_length", 8);
  badHeads.addUInt32("llama.block_count", 1);
  badHeads.addUInt32("llama.feed_forward_length", 12);
  badHeads.addUInt32("llama.attention.head_count", 3);
  badHeads.addUInt32("llama.attention.head_count_kv", 2);
  EXPECT_EQ(load(badHeads.serialize()),
            "llama: head_count 3 is not a multiple of head_count_kv 2");
}

std::string loadError(const std::string &bytes) {
  auto file = llvm::cantFail(GGUFFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "tiny.gguf")));
  auto model = LlamaModel::load(*file);
  return model ? std::string() : llvm::toString(model.takeError());
}

// Hyper-parameters that were accepted and made every activation 0 (so the
// model a uniform guess) or NaN.
TEST(TinyModelTest, OutOfRangeHyperParametersAreErrors) {
  float inf = std::numeric_limits<float>::infinity();
  TinyModelOptions options;
  options.ropeBase = inf;
  EXPECT_EQ(loadError(makeTinyModel("", options)),
            "gguf: metadata key 'llama.rope.freq_base' = inf is out of range "
            "[1, 1e+30]");
  for (float epsilon : {inf, 0.0f, -1e-5f, std::nanf("")}) {
    options = {};
    options.epsilon = epsilon;
    EXPECT_NE(loadError(makeTinyModel("", options))
                  .find("metadata key 'llama.attention.layer_norm_rms_"
                        "epsilon' = "),
              std::string::npos)
        << epsilon;
  }
  for (int32_t context : {0, -5}) {
    options = {};
    options.contextLength = context;
    EXPECT_EQ(loadError(makeTinyModel("", options)),
              "gguf: metadata key 'llama.context_length' = " +
                  std::to_string(context) + " is out of range [1, 1073741824]");
  }
}

TEST(TinyModelTest, NonFiniteWeightsAreErrors) {
  TinyModelOptions options;
  options.scaledTensor = "blk.0.ffn_up.weight";
  options.scale = std::numeric_limits<float>::infinity();
  EXPECT_EQ(loadError(makeTinyModel("", options)),
            "llama: tensor 'blk.0.ffn_up.weight' contains NaN or Inf");
  options.scaledTensor = "token_embd.weight";
  EXPECT_EQ(loadError(makeTinyModel("", options)),
            "llama: tensor 'token_embd.weight' contains NaN or Inf");
}

/// Ten tokens: <unk>, <s>, </s>, the space marker and "a".."f".
std::unique_ptr<Tokenizer> makeTinyTokenizer() {
  std::vector<std::string> tokens = {
      "<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "b", "c", "d", "e", "f"};
  std::vector<int32_t> types(tokens.size(), Tokenizer::Normal);
  types[1] = types[2] = Tokenizer::Control;
  return llvm::cantFail(Tokenizer::createSentencePiece(
      tokens, std::vector<float>(tokens.size(), 0.0f), types, 1, 2, 0));
}

// "perplexity 1.000" for a text with nothing to score, and NaN perplexity
// and NaN H for weights that overflow: now errors.
TEST(TinyModelTest, EvaluationFailsInsteadOfMisleading) {
  auto tokenizer = makeTinyTokenizer();
  auto file = llvm::cantFail(GGUFFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(makeTinyModel(), "tiny.gguf")));
  auto model = llvm::cantFail(LlamaModel::load(*file));
  auto perplexityError = [&](const LlamaModel &m, llvm::StringRef text,
                             PerplexityOptions::Protocol protocol) {
    PerplexityOptions options;
    options.protocol = protocol;
    options.contextLength = 16;
    auto result = evaluatePerplexity(m, *tokenizer, text, options);
    return result ? std::string() : llvm::toString(result.takeError());
  };
  const std::string nothing = "evaluation: no tokens scored: the text is "
                              "empty or shorter than one window";
  for (llvm::StringRef text : {"", "\n\n  \n"})
    EXPECT_EQ(
        perplexityError(*model, text, PerplexityOptions::Protocol::Blocks),
        nothing);
  // The stream protocol drops a tail shorter than one window.
  EXPECT_EQ(
      perplexityError(*model, "ab cd", PerplexityOptions::Protocol::Stream),
      nothing);
  EXPECT_EQ(
      perplexityError(*model, "ab cd", PerplexityOptions::Protocol::Blocks),
      "");
  CalibrationOptions calibration;
  calibration.contextLength = 16;
  auto grams = accumulateInputGrams(*model, *tokenizer, "", calibration);
  EXPECT_EQ(grams ? std::string() : llvm::toString(grams.takeError()),
            "calibration: no tokens to calibrate on: the text is empty");

  // A finite but huge FFN norm weight: gate and up are ~1e30, their product
  // overflows float, and everything after the FFN is Inf or NaN.
  TinyModelOptions huge;
  huge.scaledTensor = "blk.0.ffn_norm.weight";
  huge.scale = 1e30f;
  auto hugeFile =
      llvm::cantFail(GGUFFile::parse(llvm::MemoryBuffer::getMemBufferCopy(
          makeTinyModel("", huge), "huge.gguf")));
  auto hugeModel = llvm::cantFail(LlamaModel::load(*hugeFile));
  EXPECT_EQ(perplexityError(*hugeModel, "ab cd ef",
                            PerplexityOptions::Protocol::Blocks),
            "evaluation: the NLL of window 1 is not finite (the model's "
            "logits contain NaN or Inf)");
  grams = accumulateInputGrams(*hugeModel, *tokenizer, "ab cd ef", calibration);
  EXPECT_EQ(grams ? std::string() : llvm::toString(grams.takeError()),
            "evaluation: H = X^T X of layer 'blk.0.ffn_down' contains NaN or "
            "Inf (the layer's inputs are not finite)");
}

} // namespace
