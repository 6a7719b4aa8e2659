//===- Compression.cpp - Options, validation and the common driver steps --===//

#include "LayerCompressor.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace slr::compression {

//===----------------------------------------------------------------------===//
// Names and budgets
//===----------------------------------------------------------------------===//

double SparsityPattern::density() const {
  if (isUnstructured())
    return 1.0 - unstructuredFraction;
  return m > 0 ? static_cast<double>(n) / m : 0.0;
}

static std::string lowercase(std::string_view text) {
  std::string result(text);
  for (char &c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

/// Parses the whole of `text` as a double.
static std::optional<double> parseDouble(const std::string &text) {
  if (text.empty())
    return std::nullopt;
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

static std::optional<int> parseInt(const std::string &text) {
  if (text.empty() || text.size() > 6 ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return std::isdigit(c); }))
    return std::nullopt;
  return std::atoi(text.c_str());
}

std::optional<SparsityPattern> parseSparsityPattern(std::string_view text) {
  std::string lowered = lowercase(text);
  const std::string prefix = "unstructured:";
  std::optional<double> fraction;
  if (lowered.rfind(prefix, 0) == 0) {
    fraction = parseDouble(lowered.substr(prefix.size()));
  } else if (size_t colon = lowered.find(':'); colon != std::string::npos) {
    std::optional<int> n = parseInt(lowered.substr(0, colon));
    std::optional<int> m = parseInt(lowered.substr(colon + 1));
    if (!n || !m || *m < 1 || *n > *m)
      return std::nullopt;
    return SparsityPattern::nm(*n, *m);
  } else if (!lowered.empty() && lowered.back() == '%') {
    fraction = parseDouble(lowered.substr(0, lowered.size() - 1));
    if (fraction)
      *fraction /= 100.0;
  } else {
    fraction = parseDouble(lowered);
  }
  if (!fraction || *fraction < 0.0 || *fraction > 1.0)
    return std::nullopt;
  return SparsityPattern::unstructured(*fraction);
}

std::string toString(const SparsityPattern &pattern) {
  if (pattern.isUnstructured()) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "unstructured:%g",
                  pattern.unstructuredFraction);
    return buffer;
  }
  return std::to_string(pattern.n) + ":" + std::to_string(pattern.m);
}

std::optional<Method> parseMethod(std::string_view name) {
  if (const CompressionMethodInfo *info = findCompressionMethod(name))
    return info->method;
  return std::nullopt;
}

const char *methodName(Method method) {
  return compressionMethodInfo(method).name.data();
}

std::optional<SparseStep> parseSparseStep(std::string_view name) {
  std::string lowered = lowercase(name);
  if (lowered == "obs" || lowered == "sparsegpt")
    return SparseStep::OBS;
  if (lowered == "admm" || lowered == "alps")
    return SparseStep::ADMM;
  return std::nullopt;
}

const char *sparseStepName(SparseStep step) {
  return step == SparseStep::OBS ? "obs" : "admm";
}

std::optional<DampingScale> parseDampingScale(std::string_view name) {
  std::string lowered = lowercase(name);
  if (lowered == "median")
    return DampingScale::Median;
  if (lowered == "mean")
    return DampingScale::Mean;
  return std::nullopt;
}

const char *dampingScaleName(DampingScale scale) {
  return scale == DampingScale::Median ? "median" : "mean";
}

std::string describeOptions(const Options &o) {
  std::string text;
  auto add = [&](const char *key, const std::string &value) {
    text += (text.empty() ? "" : " ") + std::string(key) + "=" + value;
  };
  auto number = [](double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.17g", value);
    return std::string(buffer);
  };
  auto integer = [](int64_t value) { return std::to_string(value); };
  add("method", methodName(o.method));
  add("pattern", o.pattern.isUnstructured()
                     ? "unstructured:" + number(o.pattern.unstructuredFraction)
                     : toString(o.pattern));
  add("rank", integer(o.rank));
  add("compression-ratio", number(o.compressionRatio));
  add("iterations", integer(o.iterations));
  add("warm-start-rounds", integer(o.warmStartRounds));
  add("three-block-warm-start", integer(o.threeBlockWarmStart));
  add("max-warm-start-rounds", integer(o.maxWarmStartRounds));
  add("warm-start-tolerance", number(o.warmStartTolerance));
  add("warm-start-work", number(o.warmStartWork));
  add("percdamp", number(o.percdamp));
  add("damping-scale", dampingScaleName(o.dampingScale));
  add("sparse-step", sparseStepName(o.sparseStep));
  add("block-size", integer(o.blockSize));
  add("admm-iterations", integer(o.admmIterations));
  add("admm-initial-penalty", number(o.admmInitialPenalty));
  add("admm-penalty-growth", number(o.admmPenaltyGrowth));
  add("refit-iterations", integer(o.refitIterations));
  add("mask-search-rounds", integer(o.maskSearchRounds));
  add("mask-search-tolerance", number(o.maskSearchTolerance));
  add("mask-search-kicks", integer(o.maskSearchKicks));
  add("mask-search-kick-fraction", number(o.maskSearchKickFraction));
  add("mask-search-work", number(o.maskSearchWork));
  add("svd-algorithm", integer(static_cast<int>(o.svdAlgorithm)));
  add("oversampling", integer(o.oversampling));
  add("power-iterations", integer(o.powerIterations));
  add("seed", std::to_string(o.seed));
  return text;
}

int64_t rankForCompressionRatio(int64_t numRows, int64_t numCols,
                                double density, double compressionRatio) {
  double rows = static_cast<double>(numRows),
         cols = static_cast<double>(numCols);
  double rank =
      (1.0 - density - compressionRatio) * rows * cols / (rows + cols);
  // Absorb rounding such as (1 - 0.5 - 0.4) = 0.0999...98.
  return static_cast<int64_t>(std::floor(rank + 1e-9 * std::max(1.0, rank)));
}

bool satisfiesPattern(const float *matrix, int64_t numRows, int64_t numCols,
                      const SparsityPattern &pattern) {
  if (pattern.isUnstructured()) {
    int64_t nonZeros = 0;
    for (int64_t i = 0; i < numRows * numCols; ++i)
      nonZeros += matrix[i] != 0.0f;
    return nonZeros <=
           keptCount(numRows * numCols, pattern.unstructuredFraction);
  }
  if (pattern.m <= 0 || numCols % pattern.m != 0)
    return false;
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t start = 0; start < numCols; start += pattern.m) {
      int nonZeros = 0;
      for (int j = 0; j < pattern.m; ++j)
        nonZeros += matrix[row * numCols + start + j] != 0.0f;
      if (nonZeros > pattern.n)
        return false;
    }
  return true;
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

static Status requireNonNegative(const char *name, int value) {
  if (value >= 0)
    return Status::success();
  return Status::error(std::string(name) + " must be non-negative, got " +
                       std::to_string(value));
}

static Status requireFiniteNonNegative(const char *name, double value) {
  if (value >= 0.0 && std::isfinite(value))
    return Status::success();
  return Status::error(std::string(name) +
                       " must be a finite non-negative number");
}

/// A work budget: non-negative, infinity allowed (no limit).
static Status requireBudget(const char *name, double value) {
  if (value >= 0.0)
    return Status::success();
  return Status::error(std::string(name) + " must be non-negative");
}

static Status validateOptions(const Options &options, int64_t numCols) {
  const SparsityPattern &pattern = options.pattern;
  if (pattern.isUnstructured()) {
    if (!(pattern.unstructuredFraction <= 1.0))
      return Status::error("unstructured sparsity fraction must lie in [0, 1], "
                           "got " +
                           std::to_string(pattern.unstructuredFraction));
  } else if (!std::isnan(pattern.unstructuredFraction)) {
    if (pattern.m < 1 || pattern.n < 0 || pattern.n > pattern.m)
      return Status::error("invalid n:m pattern " + toString(pattern) +
                           ": need m >= 1 and 0 <= n <= m");
    if (numCols % pattern.m != 0)
      return Status::error(
          "K = " + std::to_string(numCols) + " is not a multiple of m = " +
          std::to_string(pattern.m) + ": the " + toString(pattern) +
          " groups are aligned along K (the input dimension)");
  } else {
    return Status::error("unstructured sparsity fraction is NaN");
  }
  if (options.compressionRatio >= 0.0) {
    if (!(options.compressionRatio <= 1.0))
      return Status::error("compression ratio must lie in [0, 1], got " +
                           std::to_string(options.compressionRatio));
  } else if (std::isnan(options.compressionRatio)) {
    return Status::error("compression ratio is NaN");
  } else if (options.rank < 0) {
    return Status::error("rank must be non-negative, got " +
                         std::to_string(options.rank));
  }
  if (options.iterations < 1)
    return Status::error("iterations must be at least 1, got " +
                         std::to_string(options.iterations));
  for (const Status &status :
       {requireNonNegative("warmStartRounds", options.warmStartRounds),
        requireNonNegative("maxWarmStartRounds", options.maxWarmStartRounds),
        requireFiniteNonNegative("warmStartTolerance",
                                 options.warmStartTolerance),
        requireBudget("warmStartWork", options.warmStartWork),
        requireNonNegative("maskSearchRounds", options.maskSearchRounds),
        requireFiniteNonNegative("maskSearchTolerance",
                                 options.maskSearchTolerance),
        requireBudget("maskSearchWork", options.maskSearchWork),
        requireNonNegative("maskSearchKicks", options.maskSearchKicks),
        requireFiniteNonNegative("percdamp", options.percdamp)})
    if (!status)
      return status;
  if (!(options.maskSearchKickFraction >= 0.0 &&
        options.maskSearchKickFraction <= 1.0))
    return Status::error("maskSearchKickFraction must be in [0, 1]");
  if (options.blockSize < 1)
    return Status::error("blockSize must be positive");
  if (options.admmIterations < 1 || !(options.admmInitialPenalty > 0.0) ||
      !std::isfinite(options.admmInitialPenalty) ||
      !(options.admmPenaltyGrowth >= 1.0) ||
      !std::isfinite(options.admmPenaltyGrowth))
    return Status::error("ADMM needs at least one iteration, a positive "
                         "finite initial penalty and a growth factor >= 1");
  if (options.oversampling < 0 || options.powerIterations < 0)
    return Status::error("oversampling and powerIterations must be >= 0");
  return Status::success();
}

//===----------------------------------------------------------------------===//
// What the drivers share
//===----------------------------------------------------------------------===//

namespace detail {

Status LayerCompressor::prepare() {
  if (Status status = prepareHessian(hessian, options.percdamp,
                                     options.dampingScale, factors);
      !status)
    return status;
  if (method.usesSparseStep) {
    Status status = options.sparseStep == SparseStep::OBS
                        ? computeInverseCholesky(factors)
                        : computeScaledEigen(factors);
    if (!status)
      return status;
  }
  liveWeights = weights;
  for (int64_t row = 0; row < weights.rows; ++row)
    for (int64_t col = 0; col < weights.cols; ++col)
      if (factors.deadInputs[col])
        liveWeights(row, col) = 0.0;
  reference = objective(weights, Matrix(), Matrix(), hessian);
  return Status::success();
}

Matrix LayerCompressor::sparseStep(const Matrix &target) const {
  Matrix sparse = target;
  if (options.sparseStep == SparseStep::ADMM) {
    ADMMOptions admm;
    admm.maxIterations = options.admmIterations;
    admm.initialPenalty = options.admmInitialPenalty;
    admm.penaltyGrowth = options.admmPenaltyGrowth;
    admm.refitIterations =
        options.refitIterations < 0 ? 10 : options.refitIterations;
    pruneADMM(sparse, factors, options.pattern, admm);
    return sparse;
  }
  pruneOBS(sparse, factors.inverseCholUpper, options.pattern,
           options.blockSize);
  int refitIterations = obsRefitIterations();
  if (refitIterations > 0) {
    std::vector<uint8_t> mask(sparse.data.size());
    for (size_t i = 0; i < mask.size(); ++i)
      mask[i] = sparse.data[i] != 0.0;
    refitOnSupport(target, factors.damped, mask, refitIterations, 1e-10,
                   sparse);
  }
  return sparse;
}

/// f(S, L) from the low-rank step's tr(E' Hd E'^T), E' = W_live - S - L and
/// Hd = H + lambda I + (1 on dead inputs' diagonal): subtracting the damping's
/// share costs O(N K) instead of the N x K x K product of objective(). W and
/// W_live differ only on dead inputs, where H is zero.
double LayerCompressor::undampedObjective(double dampedRemainder,
                                          const Matrix &residual,
                                          const Matrix &lowRank) const {
  double dampingShare = 0.0;
  for (int64_t row = 0; row < residual.rows; ++row) {
    const double *e = residual.rowData(row), *l = lowRank.rowData(row);
    for (int64_t col = 0; col < residual.cols; ++col) {
      double difference = e[col] - l[col];
      double weight = factors.damping + (factors.deadInputs[col] ? 1.0 : 0.0);
      dampingShare += weight * difference * difference;
    }
  }
  return 0.5 * std::max(0.0, dampedRemainder - dampingShare);
}

LowRankOptions LayerCompressor::lowRankOptions() const {
  LowRankOptions lowRank;
  lowRank.algorithm = options.svdAlgorithm;
  lowRank.oversampling = options.oversampling;
  lowRank.powerIterations = options.powerIterations;
  lowRank.seed = options.seed;
  return lowRank;
}

double LayerCompressor::evaluate(const Matrix &sparse, const Matrix &u,
                                 const Matrix &v) const {
  Matrix lowRank = u.cols > 0 ? multiply(u, v) : Matrix();
  return objective(weights, sparse, lowRank, hessian);
}

Matrix difference(const Matrix &a, const Matrix &b) {
  Matrix result = a;
  for (size_t i = 0; i < result.data.size(); ++i)
    result.data[i] -= b.data[i];
  return result;
}

Status LayerCompressor::fitLowRank(Iterate &current, Matrix &lowRank) const {
  Matrix residual = difference(liveWeights, current.sparse);
  double dampedRemainder;
  if (Status status =
          lowRankStep(residual, factors.cholLower, rank, lowRankOptions(),
                      current.u, current.v, &dampedRemainder);
      !status)
    return status;
  lowRank = multiply(current.u, current.v);
  current.objective =
      std::isnan(dampedRemainder)
          ? objective(weights, current.sparse, lowRank, hessian)
          : undampedObjective(dampedRemainder, residual, lowRank);
  return Status::success();
}

Status LayerCompressor::run(Result &result) {
  if (Status status = prepare(); !status)
    return status;
  Iterate best;
  best.u = Matrix(weights.rows, 0);
  best.v = Matrix(0, weights.cols);
  if (Status status = method.driver(*this, best); !status)
    return status;

  // Dead inputs carry no signal; keep their weights out of S explicitly.
  for (int64_t row = 0; row < best.sparse.rows; ++row)
    for (int64_t col = 0; col < best.sparse.cols; ++col)
      if (factors.deadInputs[col])
        best.sparse(row, col) = 0.0;

  Result output;
  output.S = best.sparse.toFloats();
  output.U = best.u.toFloats();
  output.V = best.v.toFloats();
  output.rank = best.u.cols;
  // Report the objective of what is returned, i.e. after rounding to float.
  Matrix roundedSparse =
      Matrix::fromFloats(output.S.data(), weights.rows, weights.cols);
  Matrix roundedLowRank;
  if (output.rank > 0)
    roundedLowRank = multiply(
        Matrix::fromFloats(output.U.data(), weights.rows, output.rank),
        Matrix::fromFloats(output.V.data(), output.rank, weights.cols));
  output.objective = objective(weights, roundedSparse, roundedLowRank, hessian);
  output.referenceObjective = reference;
  output.relativeObjective = relative(output.objective);
  output.objectiveHistory = std::move(history);
  output.damping = factors.damping;
  for (uint8_t dead : factors.deadInputs)
    output.deadInputs += dead;
  output.warmStartRounds = warmStartRoundsRun;
  output.maskSearchRounds = maskSearchRoundsRun;
  result = std::move(output);
  return Status::success();
}

} // namespace detail

Status compress(const float *weights, size_t weightsSize, int64_t numRows,
                int64_t numCols, const double *hessian, size_t hessianSize,
                const Options &options, Result &result) {
  if (numRows <= 0 || numCols <= 0)
    return Status::error("W must have a positive shape, got " +
                         std::to_string(numRows) + " x " +
                         std::to_string(numCols));
  if (!weights || weightsSize != static_cast<size_t>(numRows * numCols))
    return Status::error(
        "W has " + std::to_string(weights ? weightsSize : 0) +
        " entries, expected N x K = " + std::to_string(numRows) + " x " +
        std::to_string(numCols));
  if (!hessian || hessianSize != static_cast<size_t>(numCols * numCols))
    return Status::error(
        "H has " + std::to_string(hessian ? hessianSize : 0) +
        " entries, expected K x K = " + std::to_string(numCols) + " x " +
        std::to_string(numCols));
  if (Status status = validateOptions(options, numCols); !status)
    return status;
  for (int64_t i = 0; i < numRows * numCols; ++i)
    if (!std::isfinite(weights[i]))
      return Status::error("W has a non-finite entry (" +
                           std::to_string(weights[i]) + ") at (" +
                           std::to_string(i / numCols) + ", " +
                           std::to_string(i % numCols) + ")");
  if (Status status = validateHessian(hessian, numCols); !status)
    return status;

  const CompressionMethodInfo &method = compressionMethodInfo(options.method);
  int64_t rank = options.rank;
  if (method.pruningOnly) {
    rank = 0;
  } else if (options.compressionRatio >= 0.0) {
    double density = method.hasSparsePart ? options.pattern.density() : 0.0;
    rank = rankForCompressionRatio(numRows, numCols, density,
                                   options.compressionRatio);
    if (rank < 0)
      return Status::error(
          "compression ratio " + std::to_string(options.compressionRatio) +
          " is not reachable: the sparse part alone keeps a fraction " +
          std::to_string(density) + " of the parameters");
  }
  rank = std::min(rank, std::min(numRows, numCols));

  // f and its minimiser do not depend on the scale of H, but the arithmetic
  // does: D = sqrt(diag H), chol(H) and the products of the low-rank step
  // scale with it, so an H of 1e-300 underflows there (0/0 reaches LAPACK as
  // NaN) and the single-precision refit flushes any H below ~1e-38 to zero.
  // Scaling H by a power of two (exact) so that its largest diagonal entry
  // lies in [0.5, 1) makes the result independent of the scale: H and
  // H * 2^k give bit-identical S, U and V.
  double largestDiagonal = 0.0;
  for (int64_t j = 0; j < numCols; ++j)
    largestDiagonal = std::max(largestDiagonal, hessian[j * numCols + j]);
  int exponent = 0;
  if (largestDiagonal > 0.0)
    std::frexp(largestDiagonal, &exponent);
  Matrix hessianMatrix(numCols, numCols);
  for (int64_t i = 0; i < numCols * numCols; ++i)
    hessianMatrix.data[i] = std::ldexp(hessian[i], -exponent);
  detail::LayerCompressor compressor(
      Matrix::fromFloats(weights, numRows, numCols), std::move(hessianMatrix),
      options, method, rank);
  if (Status status = compressor.run(result); !status)
    return status;
  // Back to the caller's scale (relative objectives are unchanged).
  result.objective = std::ldexp(result.objective, exponent);
  result.referenceObjective = std::ldexp(result.referenceObjective, exponent);
  result.damping = std::ldexp(result.damping, exponent);
  return Status::success();
}

} // namespace slr::compression
