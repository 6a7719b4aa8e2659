//===- MethodRegistryTest.cpp - Every registered method keeps its entry ---===//
//
// Iterates the method registry: each method runs on a small constructed
// layer, and what its entry says (calibration, pruning only, sparse part,
// the refit default) is checked against what the run does.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "slr/Compression/MethodRegistry.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <set>
#include <string>

using namespace slr::compression;
using namespace slr::compression::test;

namespace {

constexpr int64_t kRows = 16, kCols = 32, kRank = 4;

struct SmallLayer {
  std::vector<float> weights;
  std::vector<double> hessian, otherHessian;
};

/// W = noise + a rank-2 signal; two different correlated H.
SmallLayer makeSmallLayer() {
  std::mt19937_64 rng(11);
  Matrix weights = randomMatrix(kRows, kCols, rng);
  Matrix signal =
      multiply(randomMatrix(kRows, 2, rng), randomMatrix(2, kCols, rng));
  for (size_t i = 0; i < weights.data.size(); ++i)
    weights.data[i] += signal.data[i];
  SmallLayer layer;
  layer.weights = weights.toFloats();
  layer.hessian = correlatedHessian(kCols, 4 * kCols, 0.7, rng).data;
  layer.otherHessian = correlatedHessian(kCols, 4 * kCols, -0.5, rng).data;
  return layer;
}

Result compressWith(const SmallLayer &layer, const std::vector<double> &hessian,
                    const Options &options) {
  Result result;
  Status status =
      compress(layer.weights, kRows, kCols, hessian, options, result);
  EXPECT_TRUE(status.ok) << status.message;
  return result;
}

Options optionsFor(const CompressionMethodInfo &info) {
  Options options;
  options.method = info.method;
  options.rank = kRank;
  options.iterations = 4;
  options.maskSearchRounds = 3;
  return options;
}

} // namespace

TEST(MethodRegistry, NamesAreUniqueAndRoundTrip) {
  const std::vector<CompressionMethodInfo> &methods = compressionMethods();
  ASSERT_FALSE(methods.empty());
  std::set<std::string> names;
  std::set<Method> enumerators;
  for (const CompressionMethodInfo &info : methods) {
    EXPECT_TRUE(names.insert(std::string(info.name)).second) << info.name;
    EXPECT_TRUE(enumerators.insert(info.method).second) << info.name;
    EXPECT_NE(info.driver, nullptr) << info.name;
    EXPECT_FALSE(info.summary.empty()) << info.name;
    EXPECT_EQ(findCompressionMethod(info.name), &info);
    EXPECT_EQ(&compressionMethodInfo(info.method), &info);
    EXPECT_EQ(methodName(info.method), info.name);
    // Every alias finds the entry, in any case.
    std::string aliases(info.aliases);
    for (size_t begin = 0; begin < aliases.size();) {
      size_t end = std::min(aliases.find(',', begin), aliases.size());
      std::string alias = aliases.substr(begin, end - begin);
      EXPECT_EQ(findCompressionMethod(alias), &info) << alias;
      std::transform(alias.begin(), alias.end(), alias.begin(), ::toupper);
      EXPECT_EQ(findCompressionMethod(alias), &info) << alias;
      begin = end + 1;
    }
  }
  EXPECT_EQ(findCompressionMethod("best"), nullptr);
  EXPECT_EQ(findCompressionMethod(""), nullptr);
}

TEST(MethodRegistry, ListsAndErrorsNameExactlyTheRegisteredMethods) {
  std::string all, withSparse;
  for (const CompressionMethodInfo &info : compressionMethods()) {
    all += (all.empty() ? "" : ", ") + std::string(info.name);
    if (info.hasSparsePart)
      withSparse += (withSparse.empty() ? "" : ", ") + std::string(info.name);
  }
  EXPECT_EQ(compressionMethodNames(MethodSelection::All), all);
  EXPECT_EQ(compressionMethodNames(MethodSelection::WithSparsePart),
            withSparse);
  EXPECT_EQ(unknownMethodMessage("x", MethodSelection::All),
            "unknown method 'x'; expected one of: " + all);
}

TEST(MethodRegistry, EveryMethodKeepsWhatItsEntrySays) {
  const SmallLayer layer = makeSmallLayer();
  const SparsityPattern pattern = SparsityPattern::nm(2, 4);
  for (const CompressionMethodInfo &info : compressionMethods()) {
    SCOPED_TRACE(std::string(info.name));
    Options options = optionsFor(info);
    options.pattern = pattern;
    Result result = compressWith(layer, layer.hessian, options);
    ASSERT_EQ(result.S.size(), size_t(kRows * kCols));
    EXPECT_TRUE(satisfiesPattern(result.S.data(), kRows, kCols, pattern));
    bool sparseIsZero = std::all_of(result.S.begin(), result.S.end(),
                                    [](float value) { return value == 0.0f; });
    EXPECT_EQ(sparseIsZero, !info.hasSparsePart);
    EXPECT_EQ(result.rank, info.pruningOnly ? 0 : kRank);
    EXPECT_TRUE(std::isfinite(result.relativeObjective));
    EXPECT_GT(result.relativeObjective, 0.0);
    // Every method improves on dropping the layer (f(0, 0)) here, and the
    // ones that keep their best iterate end at or below their first one.
    EXPECT_LT(result.relativeObjective, 1.0);
    ASSERT_FALSE(result.objectiveHistory.empty());
    if (info.method != Method::OATS)
      EXPECT_LE(result.relativeObjective,
                result.objectiveHistory.front() * (1.0 + 1e-6));

    // needsCalibration: without it, another H gives the same answer.
    Result other = compressWith(layer, layer.otherHessian, options);
    bool sameAnswer =
        other.S == result.S && other.U == result.U && other.V == result.V;
    EXPECT_EQ(sameAnswer, !info.needsCalibration);

    // The refit default: -1 and the entry's value give the same answer.
    if (info.usesSparseStep) {
      Options explicitRefit = options;
      explicitRefit.refitIterations = info.defaultObsRefitIterations;
      Result refit = compressWith(layer, layer.hessian, explicitRefit);
      EXPECT_EQ(refit.S, result.S);
      EXPECT_EQ(refit.U, result.U);
    }
    // iterations: where it applies, fewer rounds change the history.
    if (info.usesIterations) {
      Options oneRound = options;
      oneRound.iterations = 1;
      oneRound.maskSearchRounds = 0;
      Result fewer = compressWith(layer, layer.hessian, oneRound);
      EXPECT_LT(fewer.objectiveHistory.size(), result.objectiveHistory.size());
    }
  }
}
