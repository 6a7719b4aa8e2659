//===- Hessian.cpp - Validation, damping and factorisations of H ----------===//

#include "slr/Compression/Steps.h"

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace slr::compression {

static std::string formatDouble(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

Status validateHessian(const double *hessian, int64_t size) {
  double largestDiagonal = 0.0;
  for (int64_t i = 0; i < size; ++i) {
    for (int64_t j = 0; j < size; ++j) {
      double value = hessian[i * size + j];
      if (!std::isfinite(value))
        return Status::error(
            "Hessian H has a non-finite entry (" + formatDouble(value) +
            ") at (" + std::to_string(i) + ", " + std::to_string(j) + ")");
    }
    double diagonal = hessian[i * size + i];
    if (diagonal < 0.0)
      return Status::error("Hessian H has a negative diagonal entry H(" +
                           std::to_string(i) + ", " + std::to_string(i) +
                           ") = " + formatDouble(diagonal) +
                           "; H = X^T X must be positive semi-definite");
    largestDiagonal = std::max(largestDiagonal, diagonal);
  }
  // Accumulation in a different order on each triangle leaves rounding-level
  // asymmetry; anything larger means a wrong or half-filled matrix.
  double tolerance = 1e-6 * largestDiagonal;
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < i; ++j) {
      double difference =
          std::fabs(hessian[i * size + j] - hessian[j * size + i]);
      if (difference > tolerance)
        return Status::error(
            "Hessian H is not symmetric: H(" + std::to_string(i) + ", " +
            std::to_string(j) + ") = " + formatDouble(hessian[i * size + j]) +
            " but H(" + std::to_string(j) + ", " + std::to_string(i) +
            ") = " + formatDouble(hessian[j * size + i]));
    }
  // A zero diagonal entry means the input is always zero, so its whole row
  // must vanish; otherwise H is indefinite and f can go negative.
  for (int64_t j = 0; j < size; ++j) {
    if (hessian[j * size + j] != 0.0)
      continue;
    for (int64_t k = 0; k < size; ++k)
      if (std::fabs(hessian[j * size + k]) > tolerance)
        return Status::error("Hessian H has H(" + std::to_string(j) + ", " +
                             std::to_string(j) + ") = 0 but H(" +
                             std::to_string(j) + ", " + std::to_string(k) +
                             ") = " + formatDouble(hessian[j * size + k]) +
                             "; H = X^T X must be positive semi-definite");
  }
  return Status::success();
}

/// Lower Cholesky factor of `matrix` + lambda I with the upper triangle
/// zeroed; returns LAPACK's info (0 on success).
static int choleskyLower(const Matrix &matrix, double lambda, Matrix &factor) {
  factor = matrix;
  int64_t size = matrix.rows;
  for (int64_t i = 0; i < size; ++i)
    factor(i, i) += lambda;
  int info =
      LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', size, factor.data.data(), size);
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = i + 1; j < size; ++j)
      factor(i, j) = 0.0;
  return info;
}

/// The damping's unit: median or mean of the live inputs' diag H.
static double dampingUnit(const Matrix &hessian,
                          const std::vector<uint8_t> &deadInputs,
                          DampingScale scale) {
  std::vector<double> diagonal;
  for (int64_t j = 0; j < hessian.rows; ++j)
    if (!deadInputs[j])
      diagonal.push_back(hessian(j, j));
  if (diagonal.empty())
    return 1.0;
  if (scale == DampingScale::Mean) {
    double sum = 0.0;
    for (double value : diagonal)
      sum += value;
    return sum / static_cast<double>(diagonal.size());
  }
  auto middle = diagonal.begin() + diagonal.size() / 2;
  std::nth_element(diagonal.begin(), middle, diagonal.end());
  return *middle;
}

Status prepareHessian(const Matrix &hessian, double percdamp,
                      DampingScale scale, HessianFactors &factors) {
  int64_t size = hessian.rows;
  factors = HessianFactors();
  factors.damped = hessian;
  factors.deadInputs.assign(static_cast<size_t>(size), 0);
  Matrix &damped = factors.damped;
  for (int64_t j = 0; j < size; ++j) {
    if (hessian(j, j) != 0.0)
      continue;
    // An input that is always zero: its weights never matter. Decouple it so
    // H stays positive definite (SparseGPT sets H_jj = 1).
    factors.deadInputs[j] = 1;
    for (int64_t i = 0; i < size; ++i) {
      damped(i, j) = 0.0;
      damped(j, i) = 0.0;
    }
    damped(j, j) = 1.0;
  }
  double unit = dampingUnit(hessian, factors.deadInputs, scale);
  double lambda = percdamp * unit;
  // Escalation goes up to the mean, which bounds the median from above.
  double largestLambda = std::max(
      lambda, dampingUnit(hessian, factors.deadInputs, DampingScale::Mean));
  int info = 0;
  while (true) {
    info = choleskyLower(damped, lambda, factors.cholLower);
    if (info == 0)
      break;
    double next = std::max(10.0 * lambda, 1e-6 * unit);
    if (next > largestLambda * (1.0 + 1e-12))
      return Status::error(
          "Cholesky factorisation of the damped Hessian failed even with "
          "damping lambda = " +
          formatDouble(lambda) + " (" + formatDouble(lambda / unit) + " x " +
          dampingScaleName(scale) +
          "(diag H)); H is not positive semi-definite (LAPACK dpotrf info = " +
          std::to_string(info) + ")");
    lambda = next;
  }
  for (int64_t j = 0; j < size; ++j)
    damped(j, j) += lambda;
  factors.damping = lambda;
  return Status::success();
}

Status computeInverseCholesky(HessianFactors &factors) {
  int64_t size = factors.cholLower.rows;
  Matrix inverse = factors.cholLower;
  int info =
      LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', size, inverse.data.data(), size);
  if (info != 0)
    return Status::error("inverting the damped Hessian failed (LAPACK dpotri "
                         "info = " +
                         std::to_string(info) + ")");
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < i; ++j)
      inverse(j, i) = inverse(i, j);
  info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', size, inverse.data.data(), size);
  if (info != 0)
    return Status::error(
        "Cholesky factorisation of the inverse damped Hessian failed (LAPACK "
        "dpotrf info = " +
        std::to_string(info) +
        "); H is too ill-conditioned, raise the damping (percdamp)");
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < i; ++j)
      inverse(i, j) = 0.0;
  factors.inverseCholUpper = std::move(inverse);
  return Status::success();
}

Status computeScaledEigen(HessianFactors &factors) {
  const Matrix &damped = factors.damped;
  int64_t size = damped.rows;
  factors.columnScale.resize(size);
  for (int64_t j = 0; j < size; ++j)
    factors.columnScale[j] = std::sqrt(damped(j, j));
  Matrix scaled(size, size);
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < size; ++j)
      scaled(i, j) =
          damped(i, j) / (factors.columnScale[i] * factors.columnScale[j]);
  factors.scaledEigenvalues.assign(size, 0.0);
  int info =
      LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', size, scaled.data.data(), size,
                     factors.scaledEigenvalues.data());
  if (info != 0)
    return Status::error("eigen-decomposition of the Hessian failed (LAPACK "
                         "dsyevd info = " +
                         std::to_string(info) + ")");
  // The damped Hessian is positive definite; clamp rounding below zero.
  for (double &value : factors.scaledEigenvalues)
    value = std::max(value, 0.0);
  factors.scaledEigenvectors = std::move(scaled);
  return Status::success();
}

} // namespace slr::compression
