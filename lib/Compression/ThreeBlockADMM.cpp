//===- ThreeBlockADMM.cpp - The 3BASiL driver -----------------------------===//
//
// 3BASiL (Makni, Meng, Mazumder, NeurIPS 2025, arXiv 2603.01376): f is split
// over three blocks, the reconstruction D, the sparse part S and the low-rank
// part L, tied by D = S + L:
//
//   min 1/2 tr((W - D) H (W - D)^T)  s.t.  D = S + L, S on the pattern,
//                                          rank(L) <= r,
//
// and solved by ADMM on its augmented Lagrangian
//   1/2 tr((W - D) H (W - D)^T) + <Y, D - S - L> + rho/2 ||D - S - L||^2
// with a growing penalty rho; then S's support is fixed and S and L are
// refit under the exact f. Written here from the paper's description (no
// code of its repository). See Method::ThreeBASiL for the choices made where
// the description leaves them open.
//
//===----------------------------------------------------------------------===//

#include "LayerCompressor.h"

#include <algorithm>
#include <cmath>

namespace slr::compression::detail {

namespace {

/// The ADMM state, in the coordinates where H has a unit diagonal
/// (X~ = X Dg, Dg = sqrt(diag Hd)): the penalty is then scale-free, as in
/// ALPS, and the Euclidean projections weigh each input by sqrt(H_jj).
struct ADMMState {
  Matrix reconstruction, sparse, lowRank, dual;
  Matrix left, right; // lowRank = left * right
  std::vector<uint8_t> mask;
};

/// The n:m (or per-row unstructured) projection of `values`: the largest
/// magnitudes kept.
void projectOntoPattern(const Matrix &values, const SparsityPattern &pattern,
                        Matrix &projected, std::vector<uint8_t> &mask) {
  Matrix scores = values;
  for (double &value : scores.data)
    value = std::fabs(value);
  mask = selectMask(scores, pattern, BudgetScope::PerRow);
  projected = values;
  applyMask(projected, mask);
}

/// The rank-r projection of `values` (truncated SVD), as factors and product.
Status projectOntoRank(const Matrix &values, int64_t rank,
                       const LowRankOptions &options, Matrix &left,
                       Matrix &right, Matrix &product) {
  if (Status status = bestRankApproximation(values, rank, options, left, right);
      !status)
    return status;
  product =
      left.cols > 0 ? multiply(left, right) : Matrix(values.rows, values.cols);
  return Status::success();
}

} // namespace

const PenaltySchedule PenaltySchedule::threeBASiL = {1.3, 1.2, 1.1};
const PenaltySchedule PenaltySchedule::slow = {1.15, 1.1, 1.05};

Status runThreeBlockADMM(LayerCompressor &layer, Iterate &best,
                         std::vector<double> *history,
                         const PenaltySchedule &schedule, int trackingSteps,
                         double settledFraction, int refitRoundFactor) {
  HessianFactors &factors = layer.factors;
  const Options &options = layer.options;
  const SparsityPattern &pattern = options.pattern;
  const int64_t numRows = layer.weights.rows, numCols = layer.weights.cols;
  const int64_t rank = layer.rank;
  const LowRankOptions lowRankOptions = layer.lowRankOptions();
  if (factors.scaledEigenvectors.empty())
    if (Status status = computeScaledEigen(factors); !status)
      return status;
  const std::vector<double> &scale = factors.columnScale;
  const std::vector<double> &eigenvalues = factors.scaledEigenvalues;

  Matrix target = layer.liveWeights;
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t col = 0; col < numCols; ++col)
      target(row, col) *= scale[col];

  // Back to the original coordinates: S = S~ Dg^-1, V = V~ Dg^-1.
  auto unscale = [&](const ADMMState &state, Iterate &iterate) {
    iterate.sparse = state.sparse;
    iterate.u = state.left;
    iterate.v = state.right;
    for (int64_t col = 0; col < numCols; ++col) {
      for (int64_t row = 0; row < numRows; ++row)
        iterate.sparse(row, col) /= scale[col];
      for (int64_t k = 0; k < iterate.v.rows; ++k)
        iterate.v(k, col) /= scale[col];
    }
    balanceFactors(iterate.u, iterate.v);
    iterate.objective = layer.evaluate(iterate.sparse, iterate.u, iterate.v);
  };
  auto consider = [&](const Iterate &iterate) {
    if (history)
      history->push_back(layer.relative(iterate.objective));
    if (iterate.objective < best.objective)
      best = iterate;
  };

  // Start: S the projection of W, L the best rank-r fit of the rest (one
  // round of the diagonal relaxation); D = S + L, Y = 0.
  ADMMState state;
  projectOntoPattern(target, pattern, state.sparse, state.mask);
  if (Status status = projectOntoRank(difference(target, state.sparse), rank,
                                      lowRankOptions, state.left, state.right,
                                      state.lowRank);
      !status)
    return status;
  state.dual = Matrix(numRows, numCols);
  {
    Iterate start;
    unscale(state, start);
    consider(start);
  }

  // The D-update solves D (Hs + rho I) = B Hs + rho (S + L) - Y through
  // Hs = Q diag(lambda) Q^T: the data term (B Q) diag(lambda) once, then two
  // products with Q per iteration, in single precision (they only steer the
  // iteration; every objective is evaluated in double).
  const Matrix &eigenvectors = factors.scaledEigenvectors;
  Matrix eigenvectorsTransposed(numCols, numCols);
  for (int64_t i = 0; i < numCols; ++i)
    for (int64_t j = 0; j < numCols; ++j)
      eigenvectorsTransposed(j, i) = eigenvectors(i, j);
  SinglePrecisionProduct rotate(eigenvectors),
      rotateBack(eigenvectorsTransposed);
  Matrix dataTerm = multiply(target, eigenvectors);
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t col = 0; col < numCols; ++col)
      dataTerm(row, col) *= eigenvalues[col];

  int64_t keptTotal = 0;
  for (uint8_t kept : state.mask)
    keptTotal += kept;
  // The penalty schedule (ALPS's, which 3BASiL follows): every
  // `penaltyPeriod` iterations rho grows by a factor that is larger while
  // the support still moves (at least a tenth, a 200th, or less of the kept
  // entries changed in the period). The iteration stops once a period leaves
  // the support unchanged and D agrees with S + L, or (settledFraction >= 0)
  // changed in at most that fraction of the kept entries.
  constexpr int penaltyPeriod = 3;
  constexpr double residualTolerance = 1e-8;
  double rho = options.admmInitialPenalty;
  int64_t periodChanges = 0;
  Matrix rhs(numRows, numCols), rotated, shifted(numRows, numCols);
  std::vector<uint8_t> previousMask = state.mask;
  for (int iteration = 1; iteration <= options.admmIterations; ++iteration) {
    // D-update.
    for (size_t i = 0; i < rhs.data.size(); ++i)
      rhs.data[i] = rho * (state.sparse.data[i] + state.lowRank.data[i]) -
                    state.dual.data[i];
    rotate.apply(rhs, rotated);
    for (int64_t row = 0; row < numRows; ++row)
      for (int64_t col = 0; col < numCols; ++col)
        rotated(row, col) =
            (rotated(row, col) + dataTerm(row, col)) / (eigenvalues[col] + rho);
    rotateBack.apply(rotated, state.reconstruction);
    // S-update: the projection of D - L + Y / rho.
    for (size_t i = 0; i < shifted.data.size(); ++i)
      shifted.data[i] = state.reconstruction.data[i] - state.lowRank.data[i] +
                        state.dual.data[i] / rho;
    projectOntoPattern(shifted, pattern, state.sparse, state.mask);
    // L-update: the rank-r projection of D - S + Y / rho (or, tracking, its
    // approximation from the previous L's row space).
    for (size_t i = 0; i < shifted.data.size(); ++i)
      shifted.data[i] = state.reconstruction.data[i] - state.sparse.data[i] +
                        state.dual.data[i] / rho;
    if (trackingSteps > 0) {
      if (Status status =
              trackRankApproximation(shifted, rank, trackingSteps,
                                     lowRankOptions, state.left, state.right);
          !status)
        return status;
      state.lowRank = state.left.cols > 0 ? multiply(state.left, state.right)
                                          : Matrix(numRows, numCols);
    } else if (Status status =
                   projectOntoRank(shifted, rank, lowRankOptions, state.left,
                                   state.right, state.lowRank);
               !status) {
      return status;
    }
    // Dual ascent.
    double residual = 0.0, norm = 0.0;
    for (size_t i = 0; i < state.dual.data.size(); ++i) {
      double gap = state.reconstruction.data[i] - state.sparse.data[i] -
                   state.lowRank.data[i];
      state.dual.data[i] += rho * gap;
      residual += gap * gap;
      norm += state.reconstruction.data[i] * state.reconstruction.data[i];
    }
    for (size_t i = 0; i < state.mask.size(); ++i)
      periodChanges += state.mask[i] != previousMask[i];
    previousMask = state.mask;
    if (iteration % penaltyPeriod != 0)
      continue;
    if (periodChanges == 0 && residual <= residualTolerance * norm)
      break;
    // Where a few entries still move the refits finish it; an unchanged
    // support with D not yet S + L goes on (near-exact layers get there).
    if (periodChanges > 0 &&
        periodChanges <= settledFraction * static_cast<double>(keptTotal))
      break;
    double growth = periodChanges >= keptTotal / 10    ? schedule.moving
                    : periodChanges >= keptTotal / 200 ? schedule.settling
                                                       : schedule.settled;
    rho *= growth;
    periodChanges = 0;
  }
  Iterate current;
  unscale(state, current);
  consider(current);

  // The final refits on the fixed support, under the exact f: S by
  // conjugate gradients for the current L, then L in closed form for that
  // S, until a round gains less than refitTolerance (relative) or after
  // `iterations` rounds; with refitRoundFactor > 1, on up to that many times
  // `iterations` while each round gains at least 1%.
  constexpr double refitTolerance = 1e-4;
  const int refitIterations =
      options.refitIterations < 0 ? 10 : options.refitIterations;
  Matrix lowRank = current.u.cols > 0 ? multiply(current.u, current.v)
                                      : Matrix(numRows, numCols);
  const int refitRounds = refitRoundFactor * options.iterations;
  for (int round = 0; round < refitRounds; ++round) {
    const double previous = current.objective;
    refitOnSupport(difference(layer.liveWeights, lowRank), factors.damped,
                   state.mask, refitIterations, 1e-10, current.sparse);
    if (rank == 0)
      current.objective = layer.evaluate(current.sparse, current.u, current.v);
    else if (Status status = layer.fitLowRank(current, lowRank); !status)
      return status;
    consider(current);
    // Past `iterations` rounds only while a round gains at least 1%.
    const double tolerance = round < options.iterations ? refitTolerance : 1e-2;
    if (previous - current.objective <= tolerance * current.objective)
      break;
  }
  return Status::success();
}

Status runThreeBASiL(LayerCompressor &layer, Iterate &best) {
  return runThreeBlockADMM(layer, best, &layer.history,
                           PenaltySchedule::threeBASiL);
}

Status runSLR(LayerCompressor &layer, Iterate &best) {
  // The penalty grows at half 3BASiL's rate (lower optima). The slow
  // growth moves D - S + Y / rho little per iteration, so two
  // steps of subspace iteration from the previous L's row space follow its
  // top-r subspace (docs/BENCHMARKS.md): three N x K x r products per step
  // instead of a K x K (or N x N) Gram matrix and its eigenvectors.
  // The refits go on while they pay (a near-exact layer, rank 16 of 32 rows,
  // gains a few per cent per round for many rounds).
  return runThreeBlockADMM(layer, best, &layer.history, PenaltySchedule::slow,
                           /*trackingSteps=*/2, /*settledFraction=*/1e-4,
                           /*refitRoundFactor=*/3);
}

} // namespace slr::compression::detail
