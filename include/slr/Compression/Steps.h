//===- Steps.h - Building blocks of the layer compression -------*- C++ -*-===//
//
// The individual steps that compress() chains together, exposed so that they
// can be tested and benchmarked alone. Everything works in double precision
// on dense row-major matrices; W is N x K (rows = outputs), H is K x K.
//
// Conventions: "prune" functions take the target in `weights` and overwrite it
// with the sparse result; masks are std::vector<uint8_t> of the matrix's size
// with 1 = kept.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_COMPRESSION_STEPS_H
#define SLR_COMPRESSION_STEPS_H

#include "slr/Compression/Compression.h"

#include <cstdint>
#include <vector>

namespace slr::compression {

/// Dense row-major matrix of doubles. A 0 x 0 matrix stands for "zero" where
/// a function says so.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> data;

  Matrix() = default;
  Matrix(int64_t rows, int64_t cols, double fill = 0.0)
      : rows(rows), cols(cols), data(static_cast<size_t>(rows * cols), fill) {}

  bool empty() const { return data.empty(); }
  double &operator()(int64_t row, int64_t col) {
    return data[static_cast<size_t>(row * cols + col)];
  }
  double operator()(int64_t row, int64_t col) const {
    return data[static_cast<size_t>(row * cols + col)];
  }
  double *rowData(int64_t row) { return data.data() + row * cols; }
  const double *rowData(int64_t row) const { return data.data() + row * cols; }

  static Matrix fromFloats(const float *values, int64_t rows, int64_t cols);
  std::vector<float> toFloats() const;
};

/// C = A * B (or with transposes), via BLAS dgemm.
Matrix multiply(const Matrix &a, const Matrix &b, bool transposeA = false,
                bool transposeB = false);
/// The same into `product`, reusing its storage when it has the right size
/// (iterative steps call it on large matrices many times).
void multiplyInto(const Matrix &a, const Matrix &b, Matrix &product,
                  bool transposeA = false, bool transposeB = false);

/// Right-multiplication by a fixed matrix B in single precision (BLAS sgemm,
/// twice dgemm's throughput). For iterations whose products only steer the
/// next step, such as the conjugate-gradient refits; objectives stay double.
class SinglePrecisionProduct {
public:
  explicit SinglePrecisionProduct(const Matrix &right);
  /// product = left * B (left.cols == B.rows), reusing product's storage.
  void apply(const Matrix &left, Matrix &product);

private:
  int64_t rows = 0, cols = 0;
  std::vector<float> right, leftScratch, productScratch;
};

//===----------------------------------------------------------------------===//
// Hessian preparation
//===----------------------------------------------------------------------===//

/// Checks that H (size x size) is finite, symmetric (to 1e-6 of its largest
/// diagonal entry), has a non-negative diagonal, and has zero rows where the
/// diagonal is zero (dead inputs).
Status validateHessian(const double *hessian, int64_t size);

/// Everything the steps need from H, computed once per layer.
struct HessianFactors {
  /// H + lambda I; a dead input j (H_jj == 0) gets row/column j zeroed and
  /// diagonal 1 + lambda, as SparseGPT does.
  Matrix damped;
  /// 1 where H_jj == 0.
  std::vector<uint8_t> deadInputs;
  /// lambda actually used.
  double damping = 0.0;
  /// R with damped = R R^T (lower triangular; the upper triangle is zero).
  Matrix cholLower;
  /// U with damped^-1 = U^T U (upper triangular): SparseGPT's factor.
  /// Empty until computeInverseCholesky().
  Matrix inverseCholUpper;
  /// ADMM: damped = Dg * (Q diag(eigenvalues) Q^T) * Dg with Dg =
  /// diag(columnScale) = sqrt(diag damped), i.e. the eigen-decomposition of
  /// the unit-diagonal Hessian. Empty until computeScaledEigen().
  std::vector<double> columnScale;
  Matrix scaledEigenvectors;
  std::vector<double> scaledEigenvalues;
};

/// Damps H (validated beforehand) and factors it. lambda starts at
/// percdamp * scale, scale = median or mean of the live inputs' diag H (1 when
/// every input is dead); when the Cholesky fails it is raised tenfold (from at
/// least 1e-6 * scale) up to max(lambda, mean(diag H)) before giving up with an
/// error.
Status prepareHessian(const Matrix &hessian, double percdamp,
                      DampingScale scale, HessianFactors &factors);
/// Computes factors.inverseCholUpper from factors.cholLower.
Status computeInverseCholesky(HessianFactors &factors);
/// Computes the ADMM eigen-decomposition fields from factors.damped.
Status computeScaledEigen(HessianFactors &factors);

//===----------------------------------------------------------------------===//
// Objective
//===----------------------------------------------------------------------===//

/// f(S, L) = 1/2 tr((W - S - L) H (W - S - L)^T). S or L may be empty (0).
double objective(const Matrix &weights, const Matrix &sparse,
                 const Matrix &lowRank, const Matrix &hessian);

//===----------------------------------------------------------------------===//
// Sparse steps
//===----------------------------------------------------------------------===//

/// Where an unstructured budget is counted.
enum class BudgetScope { PerRow, PerMatrix };

/// Number of entries kept out of `count` at a fraction of zeros: count -
/// ceil(fraction * count), so per-scope budgets never add up to more than the
/// whole-matrix budget.
int64_t keptCount(int64_t count, double zeroFraction);

/// Keeps the highest scores: the n largest of every aligned group of m, or
/// keptCount() per scope when unstructured. Ties keep the lower index.
std::vector<uint8_t> selectMask(const Matrix &scores,
                                const SparsityPattern &pattern,
                                BudgetScope scope);

/// Zeroes the entries of `weights` outside `mask`.
void applyMask(Matrix &weights, const std::vector<uint8_t> &mask);

/// Magnitude pruning by |W_ij|.
void pruneMagnitude(Matrix &weights, const SparsityPattern &pattern);
/// Wanda pruning by |W_ij| * sqrt(H_jj) (unstructured budgets per row).
void pruneWanda(Matrix &weights, const Matrix &hessian,
                const SparsityPattern &pattern);

/// SparseGPT's OBS sweep of `weights` (the target on entry, S on exit) under
/// the damped Hessian whose inverse is U^T U (inverseCholUpper). Columns are
/// visited left to right in blocks of blockSize (rounded down to a multiple
/// of m); n:m masks are chosen per group on the already-updated weights by
/// w_j^2 / U_jj^2; unstructured masks per block over all rows. Each pruned
/// weight's error is compensated on the not yet visited columns, lazily per
/// block through one GEMM.
void pruneOBS(Matrix &weights, const Matrix &inverseCholUpper,
              const SparsityPattern &pattern, int64_t blockSize);

struct ADMMOptions {
  int maxIterations = 300;
  /// Penalty rho (relative to the unit diagonal) and its growth per iteration.
  double initialPenalty = 0.01;
  double penaltyGrowth = 1.05;
  /// Conjugate-gradient refit on the final support.
  int refitIterations = 10;
};

/// ALPS-style ADMM for min_S 1/2 tr((T - S) Hd (T - S)^T) over the pattern,
/// with T = `weights` on entry and S on exit. Works on the unit-diagonal
/// Hessian (needs computeScaledEigen), so the projection keeps the largest
/// |w_j| sqrt(Hd_jj) (unstructured budgets per matrix). The penalty grows
/// geometrically until the support stops changing; then the kept weights are
/// refit on it.
/// Returns the number of ADMM iterations run.
int pruneADMM(Matrix &weights, const HessianFactors &factors,
              const SparsityPattern &pattern, const ADMMOptions &options);

/// Precision of the products with H inside an iterative solver.
enum class ProductPrecision { Double, Single };

/// Refits the entries of `weights` inside `mask` (the rest are set to 0) to
/// minimise 1/2 tr((T - S) H (T - S)^T) with Jacobi-preconditioned conjugate
/// gradients, one independent system per row, starting from `weights`. Stops
/// after maxIterations or when every row's residual drops below
/// relativeTolerance times its initial value. Returns the iterations run.
/// Single-precision products (the default: the compression runs a few
/// iterations per round, and this halves their cost) limit the attainable
/// accuracy to about 1e-6 relative; Double reaches the exact solution.
int refitOnSupport(const Matrix &target, const Matrix &hessian,
                   const std::vector<uint8_t> &mask, int maxIterations,
                   double relativeTolerance, Matrix &weights,
                   ProductPrecision precision = ProductPrecision::Single);

/// The sparse step's metric when the low-rank part's left factor U is
/// optimised together with S for a fixed row space V (r x K): min over u of
/// (t - s - u V) H (t - s - u V)^T = (t - s) P (t - s)^T with
/// P = H - H V^T (V H V^T)^+ V H (pseudo-inverse: dependent rows of V are
/// harmless). P is positive semi-definite of rank K - rank(V).
Status projectedMetric(const Matrix &hessian, const Matrix &rowSpace,
                       Matrix &metric);

struct MaskSearchStats {
  /// Groups whose choice changed, over all rows and passes.
  int64_t changedGroups = 0;
  /// 1/2 sum over rows of (t - s) P (t - s)^T for the final masks.
  double cost = 0.0;
};

/// Local search over n:m masks: for each row t of `target`, minimises
/// (t - s) P (t - s)^T (P = `metric`, positive definite on every row's kept
/// entries) over s with an n:m mask, by visiting the groups in turn and
/// choosing each one's n kept entries as the cheapest of all C(m, n) with the
/// rest of the row fixed and s optimal for every choice. A row stops when a
/// pass changes none of its groups, or after maxPasses. `mask` is the start
/// on entry (exactly n kept per group) and the result on exit; `sparse`
/// receives the optimal s for it. The cost never rises.
Status searchMasks(const Matrix &target, const Matrix &metric,
                   const SparsityPattern &pattern, int maxPasses,
                   std::vector<uint8_t> &mask, Matrix &sparse,
                   MaskSearchStats *stats = nullptr);

//===----------------------------------------------------------------------===//
// Low-rank steps
//===----------------------------------------------------------------------===//

struct LowRankOptions {
  SVDAlgorithm algorithm = SVDAlgorithm::Auto;
  int oversampling = 10;
  int powerIterations = 4;
  uint64_t seed = 0;
};

/// Best rank-`rank` approximation of M as left (M.rows x r) * right
/// (r x M.cols), r = min(rank, M.rows, M.cols) (randomized: approximately
/// best). Fails only when LAPACK does.
Status bestRankApproximation(const Matrix &matrix, int64_t rank,
                             const LowRankOptions &options, Matrix &left,
                             Matrix &right);

/// `steps` steps of subspace iteration towards the best rank-`rank`
/// approximation of M, from the row space of `right` (r x M.cols, e.g. the
/// approximation of a nearby matrix): each sets left = an orthonormal basis
/// of M right^T and right = left^T M, so left * right is the best
/// approximation of M within that column space. Three N x K x r products and
/// a QR per step instead of a Gram matrix and its eigenvectors. Where
/// `right` has not that shape, steps < 1 or r is 0 or min(M.rows, M.cols):
/// the exact bestRankApproximation.
Status trackRankApproximation(const Matrix &matrix, int64_t rank, int steps,
                              const LowRankOptions &options, Matrix &left,
                              Matrix &right);

/// Closed-form low-rank step: the minimiser of 1/2 tr((E - L) H (E - L)^T)
/// over rank(L) <= rank, with H = R R^T (R = cholLower), is
/// L = [E R]_r R^-1. Returns L = U * V with balanced factors (U: N x r,
/// V: r x K). When `remainder` is given it receives ||(E - L) R||_F^2 =
/// tr((E - L) H (E - L)^T), a by-product that spares callers an N x K x K
/// product, or NaN where the step took a shortcut (rank 0 or full rank).
Status lowRankStep(const Matrix &residual, const Matrix &cholLower,
                   int64_t rank, const LowRankOptions &options, Matrix &u,
                   Matrix &v, double *remainder = nullptr);

/// Scales column k of u and row k of v so that both have the same norm.
void balanceFactors(Matrix &u, Matrix &v);

} // namespace slr::compression

#endif // SLR_COMPRESSION_STEPS_H
