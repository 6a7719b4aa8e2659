//===- Compression.cpp - Option handling and the per-method drivers -------===//

#include "slr/Compression/Compression.h"
#include "slr/Compression/Steps.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>

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
  std::string lowered = lowercase(name);
  if (lowered == "magnitude")
    return Method::Magnitude;
  if (lowered == "wanda")
    return Method::Wanda;
  if (lowered == "sparsegpt")
    return Method::SparseGPT;
  if (lowered == "oats")
    return Method::OATS;
  if (lowered == "svd" || lowered == "svd-only")
    return Method::SVDOnly;
  if (lowered == "hassle-free" || lowered == "hasslefree" ||
      lowered == "hassle_free")
    return Method::HassleFree;
  return std::nullopt;
}

const char *methodName(Method method) {
  switch (method) {
  case Method::Magnitude:
    return "magnitude";
  case Method::Wanda:
    return "wanda";
  case Method::SparseGPT:
    return "sparsegpt";
  case Method::OATS:
    return "oats";
  case Method::SVDOnly:
    return "svd";
  case Method::HassleFree:
    return "hassle-free";
  }
  return "unknown";
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

static bool isPruningOnly(Method method) {
  return method == Method::Magnitude || method == Method::Wanda ||
         method == Method::SparseGPT;
}

//===----------------------------------------------------------------------===//
// Drivers
//===----------------------------------------------------------------------===//

namespace {
/// One candidate answer: S and the factors of L (L = U V).
struct Iterate {
  Matrix sparse, u, v;
  double objective = std::numeric_limits<double>::infinity();
};

/// How long the diagonal relaxation runs: at least minRounds, then on while
/// its own objective fell by more than `tolerance` (relative) over the last
/// 10 rounds, up to maxRounds.
struct RelaxationSchedule {
  int minRounds = 0;
  int maxRounds = 0;
  double tolerance = 0.0;
  /// Set by the run: the rounds done.
  int roundsRun = 0;
};

class LayerCompressor {
public:
  LayerCompressor(Matrix weights, Matrix hessian, const Options &options,
                  int64_t rank)
      : weights(std::move(weights)), hessian(std::move(hessian)),
        options(options), rank(rank) {}

  Status run(Result &result);

private:
  Status prepare();
  Matrix sparseStep(const Matrix &target) const;
  LowRankOptions lowRankOptions() const;
  /// CG refit iterations after a sparse step of HassleFree (default 4).
  int hassleFreeRefitIterations() const {
    return options.refitIterations < 0 ? 4 : options.refitIterations;
  }
  double evaluate(const Matrix &sparse, const Matrix &u, const Matrix &v) const;
  double relative(double value) const {
    return reference > 0.0 ? value / reference : 0.0;
  }

  double undampedObjective(double dampedRemainder, const Matrix &residual,
                           const Matrix &lowRank) const;
  Status runDiagonalRelaxation(RelaxationSchedule &schedule, Iterate &last,
                               std::vector<double> *roundObjectives,
                               int captureRound = 0,
                               Iterate *captured = nullptr);
  RelaxationSchedule warmStartSchedule() const;
  Status runPruningOnly(Iterate &best);
  Status runSVDOnly(Iterate &best);
  Status runOATS(Iterate &best);
  /// The closed-form low-rank step for current.sparse, and the objective.
  Status fitLowRank(Iterate &current, Matrix &lowRank) const;
  Status runHassleFree(Iterate &best);
  Status runMaskSearch(Iterate &best);

  Matrix weights; // W as given (double)
  Matrix hessian; // H as given, undamped: the objective's
  const Options &options;
  int64_t rank;
  HessianFactors factors;
  Matrix liveWeights; // W with dead inputs' columns zeroed: what we fit
  double reference = 0.0;
  std::vector<double> history;
  int warmStartRoundsRun = 0;
  int maskSearchRoundsRun = 0;
};
} // namespace

Status LayerCompressor::prepare() {
  if (Status status = prepareHessian(hessian, options.percdamp,
                                     options.dampingScale, factors);
      !status)
    return status;
  if (options.method == Method::HassleFree ||
      options.method == Method::SparseGPT) {
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
  int refitIterations = options.method == Method::HassleFree
                            ? hassleFreeRefitIterations()
                            : std::max(options.refitIterations, 0);
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

Status LayerCompressor::runPruningOnly(Iterate &best) {
  best.sparse = liveWeights;
  switch (options.method) {
  case Method::Magnitude:
    pruneMagnitude(best.sparse, options.pattern);
    break;
  case Method::Wanda:
    pruneWanda(best.sparse, hessian, options.pattern);
    break;
  default:
    best.sparse = sparseStep(liveWeights);
    break;
  }
  best.objective = evaluate(best.sparse, best.u, best.v);
  history.push_back(relative(best.objective));
  return Status::success();
}

Status LayerCompressor::runSVDOnly(Iterate &best) {
  best.sparse = Matrix(weights.rows, weights.cols);
  if (Status status = lowRankStep(liveWeights, factors.cholLower, rank,
                                  lowRankOptions(), best.u, best.v);
      !status)
    return status;
  best.objective = evaluate(best.sparse, best.u, best.v);
  history.push_back(relative(best.objective));
  return Status::success();
}

/// OATS's alternation: truncated SVD of (W - S) D and hard thresholding of
/// (W - L) D, D = sqrt(diag H) (damped, so dead inputs do not divide by zero),
/// i.e. the error treated as unweighted after scaling the inputs. Runs as
/// `schedule` says and returns the last iterate and, when asked, every
/// round's relative exact objective and the iterate after round
/// `captureRound` (1-based).
Status LayerCompressor::runDiagonalRelaxation(
    RelaxationSchedule &schedule, Iterate &last,
    std::vector<double> *roundObjectives, int captureRound, Iterate *captured) {
  const int64_t numRows = weights.rows, numCols = weights.cols;
  std::vector<double> scale(numCols);
  for (int64_t j = 0; j < numCols; ++j)
    scale[j] = std::sqrt(factors.damped(j, j));
  Matrix scaledWeights = liveWeights;
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t col = 0; col < numCols; ++col)
      scaledWeights(row, col) *= scale[col];

  // The relaxation's own objective ||(W - S - L) D||^2 per round: the pruned
  // entries of (W - L) D, O(N K).
  constexpr int convergenceWindow = 10;
  std::vector<double> relaxedObjectives;
  Matrix scaledSparse(numRows, numCols), left, right;
  int round = 0;
  while (round < schedule.maxRounds) {
    Matrix scaledLowRank(numRows, numCols);
    if (rank > 0) {
      Matrix difference = scaledWeights;
      for (size_t i = 0; i < difference.data.size(); ++i)
        difference.data[i] -= scaledSparse.data[i];
      if (Status status = bestRankApproximation(difference, rank,
                                                lowRankOptions(), left, right);
          !status)
        return status;
      scaledLowRank = multiply(left, right);
    }
    scaledSparse = scaledWeights;
    for (size_t i = 0; i < scaledSparse.data.size(); ++i)
      scaledSparse.data[i] -= scaledLowRank.data[i];
    Matrix scores = scaledSparse;
    double relaxed = 0.0;
    for (double &value : scores.data) {
      relaxed += value * value;
      value = std::fabs(value);
    }
    applyMask(scaledSparse,
              selectMask(scores, options.pattern, BudgetScope::PerRow));
    for (double value : scaledSparse.data)
      relaxed -= value * value; // Kept entries equal (W - L) D.
    relaxedObjectives.push_back(relaxed);
    ++round;

    bool capture = captured && round == captureRound;
    bool stop = round >= schedule.maxRounds;
    if (!stop && round >= schedule.minRounds && round > convergenceWindow)
      stop = relaxedObjectives[round - 1 - convergenceWindow] - relaxed <=
             schedule.tolerance * relaxed;
    if (capture || stop || roundObjectives) {
      // Unscale: S = S~ D^-1, L = left (right D^-1).
      last.sparse = scaledSparse;
      last.u = left;
      last.v = right;
      for (int64_t col = 0; col < numCols; ++col) {
        for (int64_t row = 0; row < numRows; ++row)
          last.sparse(row, col) /= scale[col];
        for (int64_t k = 0; k < last.v.rows; ++k)
          last.v(k, col) /= scale[col];
      }
      if (rank == 0) {
        last.u = Matrix(numRows, 0);
        last.v = Matrix(0, numCols);
      }
      last.objective = evaluate(last.sparse, last.u, last.v);
      if (roundObjectives)
        roundObjectives->push_back(relative(last.objective));
      if (capture) {
        *captured = last;
        balanceFactors(captured->u, captured->v);
      }
    }
    if (stop)
      break;
  }
  schedule.roundsRun = round;
  balanceFactors(last.u, last.v);
  return Status::success();
}

/// The warm start's schedule: at least warmStartRounds, more while the
/// rounds stay within warmStartWork (see Options).
RelaxationSchedule LayerCompressor::warmStartSchedule() const {
  RelaxationSchedule schedule;
  schedule.minRounds = options.warmStartRounds;
  double roundWork = static_cast<double>(weights.rows) * weights.cols *
                     std::max<int64_t>(rank, 1);
  double affordable = std::floor(options.warmStartWork / roundWork);
  schedule.maxRounds = std::max(options.warmStartRounds,
                                static_cast<int>(std::min<double>(
                                    options.maxWarmStartRounds, affordable)));
  schedule.tolerance = options.warmStartTolerance;
  return schedule;
}

Status LayerCompressor::runOATS(Iterate &best) {
  // OATS keeps the last iterate, not the best, after a fixed round count.
  RelaxationSchedule schedule;
  schedule.minRounds = schedule.maxRounds = rank > 0 ? options.iterations : 1;
  return runDiagonalRelaxation(schedule, best, &history);
}

/// a - b.
static Matrix difference(const Matrix &a, const Matrix &b) {
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

Status LayerCompressor::runHassleFree(Iterate &best) {
  const int64_t numRows = weights.rows, numCols = weights.cols;
  // The pruning-only start (L = 0) is a candidate: never worse than it.
  best.sparse = sparseStep(liveWeights);
  best.u = Matrix(numRows, 0);
  best.v = Matrix(0, numCols);
  best.objective = evaluate(best.sparse, best.u, best.v);
  history.push_back(relative(best.objective));
  if (rank == 0)
    return Status::success(); // Nothing alternates.

  Matrix lowRank(numRows, numCols);
  Iterate current;
  if (options.warmStartRounds > 0) {
    // Only the last warm-start round is a history entry. It and, when the
    // warm start runs longer than OATS, OATS's own answer (the iterate after
    // `iterations` rounds) are candidates: never worse than OATS.
    Iterate oats;
    RelaxationSchedule schedule = warmStartSchedule();
    if (Status status = runDiagonalRelaxation(schedule, current,
                                              /*roundObjectives=*/nullptr,
                                              options.iterations, &oats);
        !status)
      return status;
    warmStartRoundsRun = schedule.roundsRun;
    history.push_back(relative(current.objective));
    if (schedule.roundsRun > options.iterations &&
        oats.objective < best.objective)
      best = oats;
    if (current.objective < best.objective)
      best = current;
    lowRank = multiply(current.u, current.v);
  }
  double previous = std::numeric_limits<double>::infinity();
  for (int round = 0; round < options.iterations; ++round) {
    if (round == 0 && options.warmStartRounds == 0) {
      current.sparse = best.sparse; // L = 0: the pruning-only start.
    } else {
      current.sparse = sparseStep(difference(liveWeights, lowRank));
    }
    if (Status status = fitLowRank(current, lowRank); !status)
      return status;
    history.push_back(relative(current.objective));
    if (current.objective < best.objective)
      best = current;
    // A fixed point: further rounds would reproduce it.
    if (std::fabs(previous - current.objective) <= 1e-13 * reference)
      break;
    previous = current.objective;
  }
  return runMaskSearch(best);
}

Status LayerCompressor::runMaskSearch(Iterate &best) {
  const int64_t numRows = weights.rows, numCols = weights.cols;
  const SparsityPattern &pattern = options.pattern;
  // At full rank L alone fits W; with n = m nothing is pruned. Groups of
  // more than 16 have too many choices to enumerate (searchMasks refuses).
  if (pattern.isUnstructured() || pattern.n >= pattern.m || pattern.m > 16 ||
      best.v.rows == 0 || best.v.rows >= std::min(numRows, numCols))
    return Status::success();
  const double roundWork = static_cast<double>(numRows) * numCols * numCols *
                           static_cast<double>(numCols);
  const int rounds = static_cast<int>(
      std::min<double>(options.maskSearchRounds,
                       std::floor(options.maskSearchWork / roundWork)));
  const int refitIterations = hassleFreeRefitIterations();
  std::mt19937_64 random(options.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double meanDiagonal = 0.0;
  for (int64_t j = 0; j < numCols; ++j)
    meanDiagonal += factors.damped(j, j) / numCols;
  const double jitter = std::max(factors.damping, 1e-8 * meanDiagonal);
  int kicksLeft = options.maskSearchKicks;
  bool kick = false;
  Iterate current = best;
  Matrix metric;
  for (int round = 0; round < rounds; ++round) {
    if (Status status = projectedMetric(factors.damped, current.v, metric);
        !status)
      return status;
    // The damping once more keeps P positive definite on every row's kept
    // entries, also when r > K - (kept per row) (P has rank K - r); with
    // percdamp = 0 a small floor does.
    for (int64_t j = 0; j < numCols; ++j)
      metric(j, j) += jitter;
    Matrix scores = current.sparse;
    for (double &value : scores.data)
      value = std::fabs(value);
    if (kick) {
      // Random masks for a fraction of the groups (seeded): the search then
      // starts next to the best iterate rather than on it.
      for (size_t first = 0; first < scores.data.size(); first += pattern.m)
        if (uniform(random) < options.maskSearchKickFraction)
          for (int offset = 0; offset < pattern.m; ++offset)
            scores.data[first + offset] = uniform(random);
      kick = false;
    }
    std::vector<uint8_t> mask =
        selectMask(scores, pattern, BudgetScope::PerRow);
    // The search only refines a valid answer: where P is numerically
    // singular on some row's kept entries it ends, keeping the best so far.
    if (!searchMasks(liveWeights, metric, pattern, /*maxPasses=*/3, mask,
                     current.sparse))
      break;
    // S was fit for U optimal per row; refit it for the low-rank step's L.
    if (Status status = lowRankStep(difference(liveWeights, current.sparse),
                                    factors.cholLower, rank, lowRankOptions(),
                                    current.u, current.v);
        !status)
      return status;
    refitOnSupport(difference(liveWeights, multiply(current.u, current.v)),
                   factors.damped, mask, refitIterations, 1e-10,
                   current.sparse);
    Matrix lowRank;
    if (Status status = fitLowRank(current, lowRank); !status)
      return status;
    history.push_back(relative(current.objective));
    ++maskSearchRoundsRun;
    const double previousBest = best.objective;
    if (current.objective < best.objective)
      best = current;
    if (previousBest - best.objective >
        options.maskSearchTolerance * best.objective)
      continue;
    if (kicksLeft-- <= 0)
      break;
    kick = true;
    current = best;
  }
  return Status::success();
}

Status LayerCompressor::run(Result &result) {
  if (Status status = prepare(); !status)
    return status;
  Iterate best;
  best.u = Matrix(weights.rows, 0);
  best.v = Matrix(0, weights.cols);
  Status status = Status::success();
  switch (options.method) {
  case Method::Magnitude:
  case Method::Wanda:
  case Method::SparseGPT:
    status = runPruningOnly(best);
    break;
  case Method::SVDOnly:
    status = runSVDOnly(best);
    break;
  case Method::OATS:
    status = runOATS(best);
    break;
  case Method::HassleFree:
    status = runHassleFree(best);
    break;
  }
  if (!status)
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

  int64_t rank = options.rank;
  if (isPruningOnly(options.method)) {
    rank = 0;
  } else if (options.compressionRatio >= 0.0) {
    double density =
        options.method == Method::SVDOnly ? 0.0 : options.pattern.density();
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
  LayerCompressor compressor(Matrix::fromFloats(weights, numRows, numCols),
                             std::move(hessianMatrix), options, rank);
  if (Status status = compressor.run(result); !status)
    return status;
  // Back to the caller's scale (relative objectives are unchanged).
  result.objective = std::ldexp(result.objective, exponent);
  result.referenceObjective = std::ldexp(result.referenceObjective, exponent);
  result.damping = std::ldexp(result.damping, exponent);
  return Status::success();
}

} // namespace slr::compression
