//===- CompiledModelTest.cpp - model IR vs the reference forward pass -----===//

#include "slr/Execution/CompiledModel.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"
#include "slr/Import/LlamaImporter.h"
#include "slr/Model/LlamaReference.h"
#include "slr/Runtime/CPURuntime.h"
#include "slr/Support/GGUF.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace slr;

namespace {

std::string storiesPath() {
  return (llvm::Twine(SLR_SHARED_DATA_DIR) + "/models/stories260K.gguf").str();
}

class StoriesIRTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!llvm::sys::fs::exists(storiesPath()))
      GTEST_SKIP() << "no " << storiesPath();
    auto file = GGUFFile::open(storiesPath());
    ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
    gguf = std::move(*file);
    registerModelIRDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
  }

  std::vector<int32_t> sampleTokens(size_t count) {
    std::vector<int32_t> tokens = {1}; // BOS
    for (size_t i = 1; i < count; ++i)
      tokens.push_back(static_cast<int32_t>((i * 131 + 7) % 512));
    return tokens;
  }

  std::unique_ptr<GGUFFile> gguf;
  mlir::DialectRegistry registry;
  std::unique_ptr<mlir::MLIRContext> context;
};

TEST_F(StoriesIRTest, LogitsMatchTheReferenceForwardPass) {
  auto module = importLlamaGGUF(*context, *gguf);
  ASSERT_TRUE(static_cast<bool>(module)) << llvm::toString(module.takeError());
  auto model = CompiledModel::compile(**module);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  auto reference = LlamaModel::load(*gguf);
  ASSERT_TRUE(static_cast<bool>(reference));

  // Several lengths: dynamic T, including 1 and the full context.
  for (size_t length : {1u, 7u, 64u, 512u}) {
    std::vector<int32_t> tokens = sampleTokens(length);
    auto result = (*model)->forward(tokens);
    ASSERT_TRUE(static_cast<bool>(result))
        << llvm::toString(result.takeError());
    EXPECT_EQ(result->rows(), static_cast<int64_t>(length));
    EXPECT_EQ(result->cols(), (*model)->vocabSize());
    llvm::ArrayRef<float> logits = result->values();
    auto expected = (*reference)->computeLogits(tokens);
    ASSERT_TRUE(static_cast<bool>(expected));
    ASSERT_EQ(logits.size(), expected->size());
    double maxDifference = 0, maxMagnitude = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      maxDifference =
          std::max(maxDifference,
                   static_cast<double>(std::fabs(logits[i] - (*expected)[i])));
      maxMagnitude = std::max(maxMagnitude,
                              static_cast<double>(std::fabs((*expected)[i])));
    }
    // Same float32 math in a different order (BLAS blocking, fused loops).
    EXPECT_LT(maxDifference, 1e-3 * std::max(1.0, maxMagnitude))
        << "length " << length;
    EXPECT_GT(maxMagnitude, 1.0); // non-trivial logits
  }
}

TEST_F(StoriesIRTest, RejectsTokensOutsideTheVocabulary) {
  auto module = importLlamaGGUF(*context, *gguf);
  ASSERT_TRUE(static_cast<bool>(module));
  auto model = CompiledModel::compile(**module);
  ASSERT_TRUE(static_cast<bool>(model));
  auto logits = (*model)->forward({1, 600});
  ASSERT_FALSE(static_cast<bool>(logits));
  EXPECT_NE(llvm::toString(logits.takeError()).find("outside the vocabulary"),
            std::string::npos);
}

TEST_F(StoriesIRTest, InstrumentedRunRecordsTheReferenceStatistics) {
  auto module = importLlamaGGUF(*context, *gguf);
  ASSERT_TRUE(static_cast<bool>(module));
  mlir::PassManager pm(context.get());
  pm.addPass(createSLRInstrumentCalibration());
  ASSERT_TRUE(mlir::succeeded(pm.run(**module)));
  auto model = CompiledModel::compile(**module);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  // 5 blocks x 7 linears + the tied output head.
  ASSERT_EQ((*model)->calibrationLayers().size(), 36u);

  runtime::ActivationRecorder recorder((*model)->calibrationLayers());
  runtime::setActivationRecorder(&recorder);
  std::vector<int32_t> tokens = sampleTokens(40);
  auto logits = (*model)->forward(tokens);
  ASSERT_TRUE(static_cast<bool>(logits)) << llvm::toString(logits.takeError());
  runtime::setActivationRecorder(nullptr);
  ASSERT_TRUE(recorder.error().empty()) << recorder.error();

  // The reference forward pass reports the same inputs through its hook.
  auto reference = LlamaModel::load(*gguf);
  ASSERT_TRUE(static_cast<bool>(reference));
  std::map<std::string, std::vector<double>> expected;
  (*reference)
      ->setLinearInputHook([&](llvm::StringRef name, const float *x,
                               int64_t rows, int64_t cols) {
        std::vector<double> &h = expected[name.str()];
        h.assign(cols * cols, 0.0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < cols; ++i)
            for (int64_t j = 0; j < cols; ++j)
              h[i * cols + j] += double(x[r * cols + i]) * x[r * cols + j];
      });
  ASSERT_TRUE(static_cast<bool>((*reference)->computeHiddenStates(tokens)));
  for (size_t layer = 0; layer < recorder.layerNames().size(); ++layer) {
    const std::string &name = recorder.layerNames()[layer];
    EXPECT_EQ(recorder.numRows(layer), 40) << name;
    auto it = expected.find(name);
    if (it == expected.end())
      continue; // the tied output head is not hooked by the reference
    const std::vector<double> &h = recorder.hessian(layer);
    ASSERT_EQ(h.size(), it->second.size()) << name;
    double maxDifference = 0, maxMagnitude = 0;
    for (size_t i = 0; i < h.size(); ++i) {
      maxDifference = std::max(maxDifference, std::fabs(h[i] - it->second[i]));
      maxMagnitude = std::max(maxMagnitude, std::fabs(it->second[i]));
    }
    EXPECT_LT(maxDifference, 1e-3 * maxMagnitude) << name;
  }
}

} // namespace
