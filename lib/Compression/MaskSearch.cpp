//===- MaskSearch.cpp - n:m mask local search with the left factor free ---===//
//
// With the low-rank part's row space V fixed and its left factor U free,
// min over S, U of 1/2 tr((T - S - U V) H (T - S - U V)^T) splits into rows,
// and optimising u out of each leaves min over s of (t - s) P (t - s)^T with
// the projected metric P = H - H V^T (V H V^T)^+ V H. The exact alternation
// keeps U fixed while it prunes, and that holds it in the relaxation's basin;
// choosing the masks with U free lets it leave.
//
// Per row, with kept set A (pruned set B = the rest) the optimal residual e
// has e_B = t_B and (P e)_A = 0; the cost is t_B^T (P / P_AA) t_B. The search
// keeps M = P_AA^-1 and visits groups: freeing the group's pruned entries
// (bordering M) gives the optimum e* with the whole group free; pruning any
// m - n of its entries then costs c0 + d^T (N_QQ)^-1 d (OBS with several
// constraints), d = t_Q - e*_Q, so every choice of a group is priced in
// O(|A|^2) without refactoring.
//
//===----------------------------------------------------------------------===//

#include "slr/Compression/Steps.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <thread>

namespace slr::compression {

Status projectedMetric(const Matrix &hessian, const Matrix &rowSpace,
                       Matrix &metric) {
  const int64_t size = hessian.rows, rank = rowSpace.rows;
  if (hessian.cols != size || (rank > 0 && rowSpace.cols != size))
    return Status::error("projected metric: V must be r x K for a K x K H");
  metric = hessian;
  if (rank == 0)
    return Status::success();
  Matrix hessianRows = multiply(rowSpace, hessian);           // V H (r x K)
  Matrix gram = multiply(hessianRows, rowSpace, false, true); // V H V^T
  std::vector<double> eigenvalues(rank);
  int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', rank, gram.data.data(),
                            rank, eigenvalues.data());
  if (info != 0)
    return Status::error("projected metric: LAPACK dsyevd failed (info " +
                         std::to_string(info) + ")");
  // Pseudo-inverse: a rank-deficient V (dependent rows) projects out only
  // the space it spans.
  double largest = std::max(eigenvalues.back(), 0.0);
  Matrix whitened(rank, size); // diag(lambda^-1/2) Q^T V H
  int64_t kept = 0;
  for (int64_t k = 0; k < rank; ++k) {
    if (!(eigenvalues[k] > 1e-12 * largest))
      continue;
    double scale = 1.0 / std::sqrt(eigenvalues[k]);
    double *out = whitened.rowData(kept++);
    for (int64_t i = 0; i < rank; ++i) {
      double weight = gram(i, k) * scale;
      const double *in = hessianRows.rowData(i);
      for (int64_t j = 0; j < size; ++j)
        out[j] += weight * in[j];
    }
  }
  if (kept > 0)
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, size, kept, -1.0,
                whitened.data.data(), size, 1.0, metric.data.data(), size);
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < i; ++j)
      metric(j, i) = metric(i, j);
  return Status::success();
}

namespace {

/// Groups have at most this many entries (a choice is a bit set).
constexpr int maxGroupSize = 16;

/// Solves the tiny SPD system a x = b (size <= maxGroupSize, row-major) in
/// place by Cholesky: b becomes x, a its factor; false when a is not positive
/// definite. Hand-written because it runs for every choice of every group,
/// where LAPACKE's row-major copies cost more than the 2 x 2 solve itself.
bool solveTiny(double *a, double *b, int size) {
  for (int j = 0; j < size; ++j) {
    double diagonal = a[j * size + j];
    for (int k = 0; k < j; ++k)
      diagonal -= a[j * size + k] * a[j * size + k];
    if (!(diagonal > 0.0))
      return false;
    diagonal = std::sqrt(diagonal);
    a[j * size + j] = diagonal;
    for (int i = j + 1; i < size; ++i) {
      double value = a[i * size + j];
      for (int k = 0; k < j; ++k)
        value -= a[i * size + k] * a[j * size + k];
      a[i * size + j] = value / diagonal;
    }
  }
  for (int i = 0; i < size; ++i) { // L y = b
    for (int k = 0; k < i; ++k)
      b[i] -= a[i * size + k] * b[k];
    b[i] /= a[i * size + i];
  }
  for (int i = size - 1; i >= 0; --i) { // L^T x = y
    for (int k = i + 1; k < size; ++k)
      b[i] -= a[k * size + i] * b[k];
    b[i] /= a[i * size + i];
  }
  return true;
}

// The row search's vector kernels are plain loops: its vectors are short and
// used per group, where BLAS's call and threading overhead costs more than it
// saves, and the search threads must not call into OpenBLAS (its own threads
// would compete with them).

/// x . y with four partial sums, which the compiler can keep in vector
/// registers without reassociating (no -ffast-math needed).
double dot(const double *x, const double *y, int64_t size) {
  double sums[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + 4 <= size; i += 4)
    for (int lane = 0; lane < 4; ++lane)
      sums[lane] += x[i + lane] * y[i + lane];
  for (; i < size; ++i)
    sums[0] += x[i] * y[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

/// y = alpha * A x for the leading size x size block of a full symmetric
/// row-major matrix with leading dimension `stride`.
void symmetricProduct(const double *a, int64_t stride, int64_t size,
                      double alpha, const double *x, double *y) {
  for (int64_t i = 0; i < size; ++i)
    y[i] = alpha * dot(a + i * stride, x, size);
}

/// The search state of one row: the kept columns, M = P_AA^-1 over them (in
/// the order of `kept`, leading dimension K), the optimal residual e, the
/// gradient g = P e (zero on A) and the cost e^T P e.
class RowSearch {
public:
  explicit RowSearch(const Matrix &metric)
      : metric(metric), size(metric.rows), position(size, -1),
        inverse(static_cast<size_t>(size * size)), residual(size),
        gradient(size), scratch(size) {}

  /// Starts on the row `rowTarget` from the kept columns in `mask` (1 =
  /// kept); false when P_AA is not positive definite.
  bool reset(const double *rowTarget, const uint8_t *mask) {
    target = rowTarget;
    kept.clear();
    std::fill(position.begin(), position.end(), -1);
    // M grows by bordering, one kept column at a time: O(|A|^3) like a
    // Cholesky, without LAPACK, which the search threads must not call
    // (OpenBLAS's own threads would compete with them).
    for (int64_t col = 0; col < size; ++col)
      if (mask[col] && !addColumn(col))
        return false;
    updateResidual();
    return true;
  }

  double cost() const { return currentCost; }
  bool isKept(int64_t col) const { return position[col] >= 0; }

  /// Tries every choice of kept entries in columns [first, first + m) that
  /// keeps as many as now, and keeps the cheapest; true when it changed the
  /// mask.
  bool improveGroup(int64_t first, int width) {
    std::array<int64_t, maxGroupSize> pruned, group;
    int64_t numPruned = 0;
    for (int a = 0; a < width; ++a) {
      group[a] = first + a;
      if (!isKept(group[a]))
        pruned[numPruned++] = group[a];
    }
    if (numPruned == 0 || numPruned == width)
      return false;
    const int64_t count = keptCount();

    // Border M with the group's pruned columns: mc_k = M P_Ak, Schur
    // complement Sc = P_KK - P_KA M P_AK.
    bordered.resize(static_cast<size_t>(count * numPruned));
    for (int64_t k = 0; k < numPruned; ++k) {
      for (int64_t i = 0; i < count; ++i)
        scratch[i] = metric(kept[i], pruned[k]);
      symmetricProduct(inverse.data(), size, count, 1.0, scratch.data(),
                       &bordered[k * count]);
    }
    std::array<double, maxGroupSize * maxGroupSize> schur, schurInverse, block;
    for (int64_t k = 0; k < numPruned; ++k)
      for (int64_t l = 0; l < numPruned; ++l) {
        double value = metric(pruned[k], pruned[l]);
        for (int64_t i = 0; i < count; ++i)
          value -= metric(kept[i], pruned[k]) * bordered[l * count + i];
        schur[k * numPruned + l] = value;
      }
    for (int64_t k = 0; k < numPruned; ++k) { // Sc is symmetric: rows = columns
      std::fill_n(&schurInverse[k * numPruned], numPruned, 0.0);
      schurInverse[k * numPruned + k] = 1.0;
      std::copy_n(schur.begin(), numPruned * numPruned, block.begin());
      if (!solveTiny(block.data(), &schurInverse[k * numPruned],
                     static_cast<int>(numPruned)))
        return false;
    }

    // The group with every entry free: N = its block of P_FF^-1, e* its
    // optimal residual, c0 its cost.
    std::array<double, maxGroupSize> freeGradient{}; // Sc^-1 g_K
    double freeCost = currentCost;
    for (int64_t k = 0; k < numPruned; ++k) {
      for (int64_t l = 0; l < numPruned; ++l)
        freeGradient[k] +=
            schurInverse[k * numPruned + l] * gradient[pruned[l]];
      freeCost -= gradient[pruned[k]] * freeGradient[k];
    }
    std::array<double, maxGroupSize * maxGroupSize> groupInverse;
    std::array<double, maxGroupSize> groupResidual;
    // mc_k at a kept column of the group.
    auto borderedRow = [&](int64_t col, int64_t k) {
      return bordered[k * count + position[col]];
    };
    auto pruneIndex = [&](int64_t col) {
      return std::find(pruned.begin(), pruned.begin() + numPruned, col) -
             pruned.begin();
    };
    for (int a = 0; a < width; ++a) {
      int64_t colA = group[a];
      if (isKept(colA)) {
        double value = residual[colA];
        for (int64_t k = 0; k < numPruned; ++k)
          value += borderedRow(colA, k) * freeGradient[k];
        groupResidual[a] = value;
      } else {
        groupResidual[a] = target[colA] - freeGradient[pruneIndex(colA)];
      }
      for (int b = 0; b < width; ++b) {
        int64_t colB = group[b];
        double value;
        if (isKept(colA) && isKept(colB)) {
          value = at(position[colA], position[colB]);
          for (int64_t k = 0; k < numPruned; ++k)
            for (int64_t l = 0; l < numPruned; ++l)
              value += borderedRow(colA, k) * schurInverse[k * numPruned + l] *
                       borderedRow(colB, l);
        } else if (isKept(colA) || isKept(colB)) {
          int64_t keptCol = isKept(colA) ? colA : colB;
          int64_t l = pruneIndex(isKept(colA) ? colB : colA);
          value = 0.0;
          for (int64_t k = 0; k < numPruned; ++k)
            value -= borderedRow(keptCol, k) * schurInverse[k * numPruned + l];
        } else {
          value = schurInverse[pruneIndex(colA) * numPruned + pruneIndex(colB)];
        }
        groupInverse[a * width + b] = value;
      }
    }

    // Every way to prune as many entries as now (bit sets).
    unsigned current = 0;
    for (int a = 0; a < width; ++a)
      if (!isKept(group[a]))
        current |= 1u << a;
    unsigned bestChoice = current;
    double bestCost = currentCost;
    std::array<double, maxGroupSize> difference, solved;
    std::array<int, maxGroupSize> members;
    for (unsigned choice = 0; choice < (1u << width); ++choice) {
      if (choice == current ||
          __builtin_popcount(choice) != static_cast<int>(numPruned))
        continue;
      int numMembers = 0;
      for (int a = 0; a < width; ++a)
        if (choice & (1u << a))
          members[numMembers++] = a;
      for (int64_t k = 0; k < numPruned; ++k) {
        difference[k] = target[group[members[k]]] - groupResidual[members[k]];
        for (int64_t l = 0; l < numPruned; ++l)
          block[k * numPruned + l] =
              groupInverse[members[k] * width + members[l]];
      }
      solved = difference;
      if (!solveTiny(block.data(), solved.data(), static_cast<int>(numPruned)))
        continue;
      double cost = freeCost;
      for (int64_t k = 0; k < numPruned; ++k)
        cost += difference[k] * solved[k];
      // Strictly lower beyond rounding, so the search cannot cycle.
      if (cost < bestCost - 1e-12 * std::fabs(currentCost)) {
        bestCost = cost;
        bestChoice = choice;
      }
    }
    if (bestChoice == current)
      return false;
    bool grown = true;
    for (int a = 0; a < width && grown; ++a)
      if ((current & (1u << a)) && !(bestChoice & (1u << a)))
        grown = addColumn(group[a]);
    if (!grown) {
      // Rounding made the bordering fail where the priced choice did not:
      // rebuild the old mask's state (which was positive definite).
      std::vector<uint8_t> oldMask(size);
      for (int64_t col = 0; col < size; ++col)
        oldMask[col] = isKept(col) && !(col >= first && col < first + width &&
                                        (current & (1u << (col - first))));
      reset(target, oldMask.data());
      return false;
    }
    for (int a = 0; a < width; ++a)
      if (!(current & (1u << a)) && (bestChoice & (1u << a)))
        removeColumn(group[a]);
    updateResidual();
    return true;
  }

  /// s = t - e on the kept columns, 0 elsewhere.
  void sparseRow(double *out) const {
    for (int64_t col = 0; col < size; ++col)
      out[col] = isKept(col) ? target[col] - residual[col] : 0.0;
  }

private:
  int64_t keptCount() const { return static_cast<int64_t>(kept.size()); }
  double &at(int64_t i, int64_t j) { return inverse[i * size + j]; }
  double at(int64_t i, int64_t j) const { return inverse[i * size + j]; }

  /// Borders M with column `col`: O(|A|^2). False when P_AA would not be
  /// positive definite.
  bool addColumn(int64_t col) {
    const int64_t count = keptCount();
    for (int64_t i = 0; i < count; ++i)
      scratch[i] = metric(kept[i], col);
    product.resize(count);
    symmetricProduct(inverse.data(), size, count, 1.0, scratch.data(),
                     product.data());
    double schur =
        metric(col, col) - dot(scratch.data(), product.data(), count);
    if (!(schur > 1e-14 * std::fabs(metric(col, col))))
      return false;
    for (int64_t i = 0; i < count; ++i) {
      double scaled = product[i] / schur;
      double *row = &at(i, 0);
      for (int64_t j = 0; j < count; ++j)
        row[j] += scaled * product[j];
    }
    for (int64_t i = 0; i < count; ++i)
      at(i, count) = at(count, i) = -product[i] / schur;
    at(count, count) = 1.0 / schur;
    position[col] = count;
    kept.push_back(col);
    return true;
  }

  /// Removes column `col` from M (a downdate), moving the last kept column
  /// into its place: O(|A|^2).
  void removeColumn(int64_t col) {
    const int64_t count = keptCount(), index = position[col];
    const double pivot = at(index, index);
    for (int64_t i = 0; i < count; ++i)
      scratch[i] = at(i, index);
    for (int64_t i = 0; i < count; ++i)
      for (int64_t j = 0; j < count; ++j)
        at(i, j) -= scratch[i] * scratch[j] / pivot;
    const int64_t last = count - 1;
    if (index != last) {
      for (int64_t i = 0; i < count; ++i)
        at(index, i) = at(last, i);
      for (int64_t i = 0; i < count; ++i)
        at(i, index) = at(i, last);
      kept[index] = kept[last];
      position[kept[index]] = index;
    }
    kept.pop_back();
    position[col] = -1;
  }

  /// e_B = t_B, e_A = -M P_AB t_B; g = P e; cost = e^T g.
  void updateResidual() {
    for (int64_t col = 0; col < size; ++col)
      residual[col] = isKept(col) ? 0.0 : target[col];
    const int64_t count = keptCount();
    if (count > 0) {
      for (int64_t i = 0; i < count; ++i)
        scratch[i] = dot(metric.rowData(kept[i]), residual.data(), size);
      product.resize(count);
      symmetricProduct(inverse.data(), size, count, -1.0, scratch.data(),
                       product.data());
      for (int64_t i = 0; i < count; ++i)
        residual[kept[i]] = product[i];
    }
    symmetricProduct(metric.data.data(), size, size, 1.0, residual.data(),
                     gradient.data());
    currentCost = dot(residual.data(), gradient.data(), size);
  }

  const Matrix &metric;
  const double *target = nullptr;
  int64_t size;
  std::vector<int64_t> kept, position;
  std::vector<double> inverse, residual, gradient, scratch, bordered, product;
  double currentCost = 0.0;
};

} // namespace

Status searchMasks(const Matrix &target, const Matrix &metric,
                   const SparsityPattern &pattern, int maxPasses,
                   std::vector<uint8_t> &mask, Matrix &sparse,
                   MaskSearchStats *stats) {
  const int64_t numRows = target.rows, numCols = target.cols;
  if (pattern.isUnstructured() || pattern.m <= 0 || pattern.m > maxGroupSize ||
      numCols % pattern.m != 0)
    return Status::error("mask search: needs an n:m pattern (m <= 16) whose "
                         "m divides the columns");
  if (metric.rows != numCols || metric.cols != numCols ||
      mask.size() != target.data.size())
    return Status::error("mask search: shapes of P or the mask do not match");
  sparse = Matrix(numRows, numCols);
  // Rows are independent: split them over a few threads (interleaved), each
  // with its own search state. The result does not depend on their number.
  const int64_t numGroups = numCols / pattern.m;
  const int64_t numWorkers = std::clamp<int64_t>(
      std::min<int64_t>(std::thread::hardware_concurrency(), numRows / 8), 1,
      8);
  std::vector<MaskSearchStats> workerStats(numWorkers);
  std::vector<uint8_t> failed(numWorkers, 0);
  auto work = [&](int64_t worker) {
    RowSearch rowSearch(metric);
    MaskSearchStats &local = workerStats[worker];
    for (int64_t row = worker; row < numRows; row += numWorkers) {
      uint8_t *rowMask = mask.data() + row * numCols;
      if (!rowSearch.reset(target.rowData(row), rowMask)) {
        failed[worker] = 1;
        return;
      }
      for (int pass = 0; pass < maxPasses; ++pass) {
        bool changed = false;
        for (int64_t group = 0; group < numGroups; ++group)
          if (rowSearch.improveGroup(group * pattern.m, pattern.m)) {
            changed = true;
            ++local.changedGroups;
          }
        if (!changed)
          break;
      }
      for (int64_t col = 0; col < numCols; ++col)
        rowMask[col] = rowSearch.isKept(col) ? 1 : 0;
      rowSearch.sparseRow(sparse.rowData(row));
      local.cost += 0.5 * rowSearch.cost();
    }
  };
  std::vector<std::thread> threads;
  for (int64_t worker = 1; worker < numWorkers; ++worker)
    threads.emplace_back(work, worker);
  work(0);
  for (std::thread &thread : threads)
    thread.join();
  if (std::find(failed.begin(), failed.end(), 1) != failed.end())
    return Status::error("mask search: P restricted to a row's kept "
                         "entries is not positive definite");
  MaskSearchStats total;
  for (const MaskSearchStats &local : workerStats) {
    total.changedGroups += local.changedGroups;
    total.cost += local.cost;
  }
  if (stats)
    *stats = total;
  return Status::success();
}

} // namespace slr::compression
