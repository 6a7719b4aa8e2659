//===- LaunchPolicy.h - Launch geometry of slr's GPU kernels ----*- C++ -*-===//
//
// Plain C++, header-only, no MLIR: how many CTAs each generated kernel is
// launched with for M rows of x. --slr-gpu-materialize-launchers emits the
// same arithmetic as IR (M is only known at run time); programs that launch
// the kernels themselves (the GPU benchmark) call these functions.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_CONVERSION_SLRTOGPU_LAUNCHPOLICY_H
#define SLR_CONVERSION_SLRTOGPU_LAUNCHPOLICY_H

#include <algorithm>
#include <cstdint>

namespace slr {

/// CTAs the low-rank projection kernel aims for (about one wave on an
/// A100/H100): small M is split over K across CTAs instead.
inline constexpr int64_t kLowRankTargetCtas = 128;

inline constexpr int64_t ceilDiv(int64_t value, int64_t divisor) {
  return (value + divisor - 1) / divisor;
}

/// grid.z of the low-rank kernel: clamp(ceil(target / ctas), 1, kBlocks)
/// with ctas = (rank / tileN) * ceil(rows / tileM) (at least 1).
inline int64_t lowRankSplitK(int64_t rows, int64_t rank, int64_t tileN,
                             int64_t tileM, int64_t kBlocks) {
  int64_t ctas = std::max<int64_t>((rank / tileN) * ceilDiv(rows, tileM), 1);
  return std::clamp<int64_t>(ceilDiv(kLowRankTargetCtas, ctas), 1, kBlocks);
}

} // namespace slr

#endif // SLR_CONVERSION_SLRTOGPU_LAUNCHPOLICY_H
