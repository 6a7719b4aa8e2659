//===- Compression.h - Sparse plus low-rank layer compression ---*- C++ -*-===//
//
// Compresses one linear layer W (N x K, row-major float, y = x * W^T with
// N = d_out and K = d_in) into a sparse part S (n:m along K, or unstructured)
// plus a low-rank part L = U * V (U: N x r, V: r x K), given the calibration
// statistic H = X^T X (K x K, double). Quality is measured by the layer-wise
// reconstruction error
//
//   f(S, L) = 1/2 tr((W - S - L) H (W - S - L)^T),
//
// reported relative to f(0, 0) = 1/2 tr(W H W^T). See docs/DESIGN.md section 3.
//
// Plain C++17 (std + BLAS/LAPACK behind the interface): no MLIR/LLVM types.
// Errors are returned as Status values, never asserted or thrown.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_COMPRESSION_COMPRESSION_H
#define SLR_COMPRESSION_COMPRESSION_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slr::compression {

/// Success or an error with a human-readable message.
struct [[nodiscard]] Status {
  bool ok = true;
  std::string message;

  static Status success() { return Status(); }
  static Status error(std::string message) {
    Status status;
    status.ok = false;
    status.message = std::move(message);
    return status;
  }
  explicit operator bool() const { return ok; }
};

/// Which entries of S may be non-zero.
///   - n:m (default 2:4): at most n non-zeros in every aligned group of m
///     consecutive entries along K (columns [g*m, g*m + m) of each row).
///   - unstructured (unstructuredFraction >= 0): that fraction of the entries
///     is zero; where the budget is counted (per row, per matrix, per block)
///     depends on the method and is documented there.
struct SparsityPattern {
  int n = 2;
  int m = 4;
  double unstructuredFraction = -1.0;

  static SparsityPattern nm(int n, int m) {
    SparsityPattern pattern;
    pattern.n = n;
    pattern.m = m;
    return pattern;
  }
  static SparsityPattern unstructured(double zeroFraction) {
    SparsityPattern pattern;
    pattern.unstructuredFraction = zeroFraction;
    return pattern;
  }
  bool isUnstructured() const { return unstructuredFraction >= 0.0; }
  /// Fraction of entries that may be non-zero (n/m, or 1 - fraction).
  double density() const;
};

/// Parses "2:4" (n:m) or "unstructured:0.5" / "0.5" / "50%" (fraction of
/// zeros). Prints in the first two forms.
std::optional<SparsityPattern> parseSparsityPattern(std::string_view text);
std::string toString(const SparsityPattern &pattern);

enum class Method {
  /// Keep the largest |W_ij| (n:m per group; unstructured per matrix). Rank 0.
  Magnitude,
  /// Keep the largest |W_ij| * ||X_j|| with ||X_j|| = sqrt(H_jj) (n:m per
  /// group; unstructured per row, as in the Wanda paper). Rank 0.
  Wanda,
  /// One SparseGPT OBS sweep (or ADMM, see SparseStep) on W. Rank 0: the
  /// rank option is ignored; use HassleFree for sparse plus low-rank.
  SparseGPT,
  /// OATS: alternate truncated SVD of (W - S) D and hard thresholding of
  /// (W - L) D with D = sqrt(diag H) (the diagonal relaxation of f), keeping
  /// the last iterate. Unstructured budgets are per row.
  OATS,
  /// Best rank-r approximation under the full H; no sparse part (S = 0).
  SVDOnly,
  /// HASSLE-free (arXiv 2502.00899): alternating minimisation of the exact f
  /// (sparse step under the full H, closed-form low-rank step), started from
  /// a few rounds of the diagonal relaxation (warmStartRounds), keeping the
  /// best iterate; never worse than its pruning-only or warm start. On
  /// small layers a mask search with the low-rank left factor free follows
  /// (maskSearchRounds).
  HassleFree,
  /// 3BASiL (arXiv 2603.01376, NeurIPS 2025): ADMM over three blocks, the
  /// reconstruction D, S and L with D = S + L, on the exact f (D-update under
  /// the damped H through its eigen-decomposition; S and L updates the
  /// projections onto the pattern and onto rank r), with a penalty that grows
  /// every 3 iterations by 1.3, 1.2 or 1.1 as the support still moves much,
  /// some or little; then the support is fixed and S (conjugate gradients,
  /// refitIterations, 10 by default) and L (closed form) are refit in turn
  /// until a round gains less than 1e-4, at most `iterations` rounds. Where
  /// the paper leaves it open: the ADMM runs in the coordinates where H has a
  /// unit diagonal (as ALPS does; the projections then weigh input j by
  /// sqrt(H_jj)), starts from S = the projection of W and L = the best rank-r
  /// fit of the rest, with rho = admmInitialPenalty, for at most
  /// admmIterations; unstructured budgets are per row. The best iterate is
  /// kept: never worse than its start.
  ThreeBASiL,
  /// slr's default: ThreeBASiL's three-block ADMM and refits with four
  /// changes. The penalty grows at half its logarithmic rate (every 3
  /// iterations by 1.15, 1.1 or 1.05 as the support still moves much, some
  /// or little), which ends at lower objectives; the L-update
  /// is two steps of subspace iteration from the previous iterate's row
  /// space instead of an exact truncated SVD, which the slower growth lets
  /// follow the top-r subspace and which pays for the extra iterations; the
  /// ADMM also ends once a period changes fewer than 1 in 10^4 kept entries
  /// (the refits settle them); and the refits go on past `iterations`
  /// rounds, up to 3 x iterations, while a round gains at least 1%
  /// (near-exact layers). Measurements: docs/BENCHMARKS.md. The best
  /// iterate is kept: never worse than its start. HassleFree stays
  /// selectable by name.
  SLR,
};

/// The names (and aliases) of the method registry
/// (slr/Compression/MethodRegistry.h), case-insensitive.
std::optional<Method> parseMethod(std::string_view name);
const char *methodName(Method method);

/// How the sparse step solves min_S f(S, L) for fixed L.
enum class SparseStep {
  /// SparseGPT's OBS column sweep ("obs"). Fast, a heuristic (timings in
  /// docs/BENCHMARKS.md, "Figures behind the compression defaults").
  OBS,
  /// ALPS-style ADMM with an increasing penalty, then a conjugate-gradient
  /// refit on the support ("admm"). Better optima but slower: two N x K x K
  /// GEMMs per iteration (figures in docs/BENCHMARKS.md).
  ADMM,
};
std::optional<SparseStep> parseSparseStep(std::string_view name);
const char *sparseStepName(SparseStep step);

/// What the damping lambda = percdamp * scale is relative to.
enum class DampingScale {
  /// The median of diag H over the live inputs ("median"). Robust to the few
  /// outlier-activation channels of LLMs: on SmolLM2-135M blk.11.ffn_down one
  /// input's H_jj is 2.6e6 x the median and the mean is 1939 x the median, so
  /// a mean-relative lambda would swamp every other input and the exact
  /// objective would degrade to nearly its diagonal relaxation.
  Median,
  /// The mean of diag H ("mean"), as SparseGPT does.
  Mean,
};
std::optional<DampingScale> parseDampingScale(std::string_view name);
const char *dampingScaleName(DampingScale scale);

/// How the best rank-r approximation is computed.
enum class SVDAlgorithm {
  /// Eigen when min(N, K) <= 4096, Randomized above.
  Auto,
  /// Eigen-decomposition of the smaller Gram matrix (LAPACK dsyevr, top r
  /// pairs only): exact up to double rounding, several times faster than a
  /// full SVD.
  Eigen,
  /// Thin SVD (LAPACK dgesdd), truncated. Slowest, reference quality.
  FullSVD,
  /// Randomized range finder with power iterations (seeded).
  Randomized,
};

struct Options {
  Method method = Method::SLR;
  SparsityPattern pattern;
  /// Rank r of the low-rank part; clamped to min(N, K).
  int64_t rank = 64;
  /// When >= 0, overrides `rank` with rankForCompressionRatio(N, K, density,
  /// compressionRatio) (density 0 for SVDOnly).
  double compressionRatio = -1.0;
  /// Alternating rounds (HassleFree, OATS). HassleFree stops early when an
  /// iterate repeats its predecessor's objective (a fixed point).
  int iterations = 20;
  /// HassleFree: rounds of the diagonal relaxation (OATS's updates) that give
  /// the first low-rank part. OATS's own answer (the iterate after
  /// `iterations` of them) is a candidate, so HassleFree is never worse than
  /// OATS. Starting from L = 0 instead (0 rounds: round 1 is SparseGPT) leaves
  /// the low-rank structure of W in S, and the exact alternation moves it
  /// into L only slowly (20 rounds end well above the warm-started result).
  /// A better converged warm start also ends lower, and
  /// its rounds cost a seventh of an exact one (docs/BENCHMARKS.md).
  ///
  /// These are the minimum: the relaxation goes on while its own objective
  /// ||(W - S - L) D||^2 fell by more than warmStartTolerance (relative) over
  /// its last 10 rounds, up to maxWarmStartRounds and as long as the rounds'
  /// work, counted as N * K * r per round (what their time follows, measured
  /// on SmolLM2's shapes), stays within warmStartWork. The default work is
  /// that of 40 rounds on a 576 x 1536 layer at rank 64, so large layers keep
  /// warmStartRounds while smaller ones, whose rounds are cheap, run longer
  /// (what that gains: docs/BENCHMARKS.md).
  int warmStartRounds = 40;
  /// HassleFree: also run ThreeBASiL's ADMM and refits after the diagonal
  /// relaxation, with a penalty growing at half 3BASiL's rate (better
  /// optima for more iterations); its answer is a candidate, and the exact
  /// alternation and the mask search start from it when it is the better of
  /// the two (what it gains and costs: docs/BENCHMARKS.md).
  bool threeBlockWarmStart = false;
  int maxWarmStartRounds = 1000;
  double warmStartTolerance = 1e-4;
  double warmStartWork = 40.0 * 576 * 1536 * 64;
  /// Damping H += lambda I with lambda = percdamp * median (or mean) of
  /// diag H, see DampingScale.
  double percdamp = 0.01;
  DampingScale dampingScale = DampingScale::Median;
  SparseStep sparseStep = SparseStep::OBS;
  /// Columns per OBS block (rounded down to a multiple of m, at least m).
  int64_t blockSize = 128;
  /// ADMM: maximum iterations, initial penalty (relative to the unit-diagonal
  /// Hessian, as in ALPS) and its growth factor per iteration. ThreeBASiL
  /// reads the first two (its penalty grows on its own schedule).
  int admmIterations = 300;
  double admmInitialPenalty = 0.01;
  double admmPenaltyGrowth = 1.05;
  /// Conjugate-gradient iterations refitting the kept weights on their fixed
  /// support after each sparse step (in single precision). -1: the step's
  /// default (10 for ADMM as in ALPS and for ThreeBASiL's refits; 4 for OBS
  /// inside HassleFree, where each costs about half an OBS sweep plus a
  /// low-rank step and the gains level off after about 10; 0 for SparseGPT
  /// alone, the published method).
  int refitIterations = -1;
  /// HassleFree, n:m patterns: rounds of the mask search that follow the
  /// exact alternation (0: none). Each round fixes the low-rank part's row
  /// space V, chooses every row's mask by local search with S and U jointly
  /// optimal (searchMasks under projectedMetric()), then refits S on the new
  /// masks and takes the closed-form low-rank step. The exact alternation
  /// keeps U fixed while it prunes and stalls in the relaxation's basin; this
  /// leaves it. When a round lowers the best objective by less than
  /// maskSearchTolerance (relative), the search restarts from the best
  /// iterate with random masks (seeded) in maskSearchKickFraction of the
  /// groups, up to maskSearchKicks times (iterated local search), then stops
  /// (what it gains: docs/BENCHMARKS.md). The rounds' work is counted as
  /// N * K^3 each
  /// (each row's search is O(K^3)); the next round runs only while the total
  /// stays within maskSearchWork. The default pays for 100 rounds of a
  /// 64 x 172 layer and none of a 192 x 576 one, whose rounds take seconds.
  int maskSearchRounds = 100;
  double maskSearchTolerance = 1e-3;
  int maskSearchKicks = 20;
  double maskSearchKickFraction = 0.2;
  double maskSearchWork = 100.0 * 64 * 172 * 172 * 172;
  SVDAlgorithm svdAlgorithm = SVDAlgorithm::Auto;
  /// Randomized SVD: extra sketch columns and power iterations.
  int oversampling = 10;
  int powerIterations = 4;
  /// Seed of every random choice (only the randomized SVD draws today).
  uint64_t seed = 0;
};

/// Every field of `options` as "key=value" words, doubles to 17 digits: two
/// Options give the same text iff compress() treats them alike (what
/// --slr-compress's per-layer result files fingerprint). A new field of
/// Options belongs here.
std::string describeOptions(const Options &options);

struct Result {
  /// Dense N x K sparse part (zeros off-pattern).
  std::vector<float> S;
  /// Low-rank factors, L = U * V: U is N x rank, V is rank x K (row-major).
  /// The columns of U and rows of V are balanced (equal norms).
  std::vector<float> U, V;
  int64_t rank = 0;
  /// f(S, U V) / f(0, 0) for the returned float matrices, with the undamped
  /// H; 0 when f(0, 0) = 0.
  double relativeObjective = 0.0;
  /// f(S, U V) and f(0, 0) themselves.
  double objective = 0.0;
  double referenceObjective = 0.0;
  /// Relative objective per iterate. HassleFree: entry 0 is the pruning-only
  /// start (S, 0), then (when warmStartRounds > 0) the warm start, (with
  /// threeBlockWarmStart) the three-block ADMM's answer, then one
  /// entry per round, then one per mask-search round. OATS: one entry per
  /// round. ThreeBASiL and SLR: the start, the ADMM's answer, then one
  /// per refit round. Other methods: the single result.
  std::vector<double> objectiveHistory;
  /// Damping lambda actually used (it grows when the Cholesky of the damped
  /// Hessian fails).
  double damping = 0.0;
  /// Inputs with H_jj == 0; their weights do not affect f and are zero in S.
  int64_t deadInputs = 0;
  /// HassleFree: diagonal-relaxation rounds the warm start ran.
  int warmStartRounds = 0;
  /// HassleFree: mask-search rounds run (see Options::maskSearchRounds).
  int maskSearchRounds = 0;
};

/// r = floor((1 - density - c) * N * K / (N + K)): the rank that the
/// parameters left over by the sparse part buy when only a fraction 1 - c of
/// the dense parameter count may be kept. Negative when the budget is
/// exhausted by the sparse part.
int64_t rankForCompressionRatio(int64_t numRows, int64_t numCols,
                                double density, double compressionRatio);

/// Compresses W (numRows x numCols, row-major, weightsSize entries) with H
/// (numCols x numCols, hessianSize entries). On error `result` is untouched.
Status compress(const float *weights, size_t weightsSize, int64_t numRows,
                int64_t numCols, const double *hessian, size_t hessianSize,
                const Options &options, Result &result);

inline Status compress(const std::vector<float> &weights, int64_t numRows,
                       int64_t numCols, const std::vector<double> &hessian,
                       const Options &options, Result &result) {
  return compress(weights.data(), weights.size(), numRows, numCols,
                  hessian.data(), hessian.size(), options, result);
}

/// Whether a dense row-major matrix has at most n non-zeros in every aligned
/// group of m along its rows (n:m), or at most floor((1 - fraction) * size)
/// non-zeros in total (unstructured).
bool satisfiesPattern(const float *matrix, int64_t numRows, int64_t numCols,
                      const SparsityPattern &pattern);

} // namespace slr::compression

#endif // SLR_COMPRESSION_COMPRESSION_H
