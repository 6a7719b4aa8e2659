//===- MethodRegistry.cpp - The table of compression methods --------------===//

#include "slr/Compression/MethodRegistry.h"
#include "LayerCompressor.h"

#include <algorithm>
#include <cctype>

namespace slr::compression {

const std::vector<CompressionMethodInfo> &compressionMethods() {
  using namespace detail;
  // clang-format off
  static const std::vector<CompressionMethodInfo> methods = {
    // method, name, aliases, summary,
    //   needsCalibration, pruningOnly, hasSparsePart, usesSparseStep,
    //   usesIterations, defaultObsRefitIterations, driver
    {Method::Magnitude, "magnitude", "",
     "keep the largest |W_ij|; pruning only, no calibration",
     false, true, true, false, false, 0, runMagnitude},
    {Method::Wanda, "wanda", "",
     "keep the largest |W_ij| sqrt(H_jj); pruning only",
     true, true, true, false, false, 0, runWanda},
    {Method::SparseGPT, "sparsegpt", "",
     "one OBS (or ADMM) sweep under H; pruning only",
     true, true, true, true, false, 0, runSparseGPT},
    {Method::SVDOnly, "svd", "svd-only",
     "best rank-r approximation under H; no sparse part",
     true, false, false, false, false, 0, runSVDOnly},
    {Method::OATS, "oats", "",
     "sparse + low-rank under the diagonal of H (OATS)",
     true, false, true, false, true, 0, runOATS},
    {Method::ThreeBASiL, "3basil", "3-basil,threebasil",
     "sparse + low-rank by 3-block ADMM over S, L and S + L, then refits on "
     "the support (3BASiL)",
     true, false, true, false, true, 0, runThreeBASiL},
    {Method::HassleFree, "hassle-free", "hasslefree,hassle_free",
     "sparse + low-rank, exact alternating minimisation from the OATS "
     "warm start, then mask search",
     true, false, true, true, true, 4, runHassleFree},
    {Method::SLR, "slr", "default",
     "sparse + low-rank by 3BASiL's 3-block ADMM with a slower penalty "
     "schedule, then refits on the support (the default)",
     true, false, true, false, true, 0, runSLR},
  };
  // clang-format on
  return methods;
}

static bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const CompressionMethodInfo *findCompressionMethod(std::string_view name) {
  for (const CompressionMethodInfo &info : compressionMethods()) {
    if (equalsIgnoringCase(name, info.name))
      return &info;
    std::string_view aliases = info.aliases;
    while (!aliases.empty()) {
      size_t comma = std::min(aliases.find(','), aliases.size());
      if (equalsIgnoringCase(name, aliases.substr(0, comma)))
        return &info;
      aliases.remove_prefix(std::min(comma + 1, aliases.size()));
    }
  }
  return nullptr;
}

const CompressionMethodInfo &compressionMethodInfo(Method method) {
  const std::vector<CompressionMethodInfo> &methods = compressionMethods();
  auto it = std::find_if(
      methods.begin(), methods.end(),
      [&](const CompressionMethodInfo &info) { return info.method == method; });
  // Every enumerator has an entry (the registry's unit test checks it).
  return it != methods.end() ? *it : methods.front();
}

bool isSelected(const CompressionMethodInfo &info, MethodSelection selection) {
  return selection == MethodSelection::All || info.hasSparsePart;
}

std::string compressionMethodNames(MethodSelection selection) {
  std::string names;
  for (const CompressionMethodInfo &info : compressionMethods()) {
    if (!isSelected(info, selection))
      continue;
    if (!names.empty())
      names += ", ";
    names += info.name;
  }
  return names;
}

std::string unknownMethodMessage(std::string_view name,
                                 MethodSelection selection) {
  return "unknown method '" + std::string(name) +
         "'; expected one of: " + compressionMethodNames(selection);
}

} // namespace slr::compression
