//===- MethodRegistry.h - The table of compression methods ------*- C++ -*-===//
//
// One entry per compression method: its name, what it needs and produces,
// its defaults and its driver. Everything that enumerates methods reads this
// table: parseMethod / methodName, compress(), the --slr-compress option's
// help text and errors, slr-opt --list-compression-methods (which the flow
// scripts ask), and slr-bench-compression's --method. Adding a method is an
// enumerator of Method, one entry in lib/Compression/MethodRegistry.cpp and
// its driver file in lib/Compression (see docs/HOWTO.md).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_COMPRESSION_METHODREGISTRY_H
#define SLR_COMPRESSION_METHODREGISTRY_H

#include "slr/Compression/Compression.h"

#include <string>
#include <string_view>
#include <vector>

namespace slr::compression {

namespace detail {
class LayerCompressor;
struct Iterate;
} // namespace detail

/// Computes a layer's best answer into `best` from the prepared layer
/// (lib/Compression/LayerCompressor.h).
using MethodDriver = Status (*)(detail::LayerCompressor &layer,
                                detail::Iterate &best);

struct CompressionMethodInfo {
  Method method;
  /// The canonical name (lower case), what methodName() returns.
  std::string_view name;
  /// Other accepted spellings, comma-separated (case-insensitive like name).
  std::string_view aliases;
  /// One line for help texts.
  std::string_view summary;
  /// Whether the method reads H (otherwise H = I does, the Frobenius error).
  bool needsCalibration;
  /// Whether the result has no low-rank part (the rank option is ignored).
  bool pruningOnly;
  /// Whether the result has a sparse part (an slr.linear form); false for a
  /// low-rank-only method, whose rank from a compression ratio then counts
  /// no sparse parameters.
  bool hasSparsePart;
  /// Whether the method runs the sparse step (OBS or ADMM on the full H),
  /// so that the layer's factors for it are computed.
  bool usesSparseStep;
  /// Whether `iterations` (alternating rounds) applies.
  bool usesIterations;
  /// The CG refit iterations after an OBS sparse step when refitIterations
  /// is -1 (ADMM's default is 10 for every method).
  int defaultObsRefitIterations;
  MethodDriver driver;
};

/// Every method, simplest first: the order help texts and the benchmark
/// list them.
const std::vector<CompressionMethodInfo> &compressionMethods();
/// The entry of a name or alias (case-insensitive); nullptr when unknown.
const CompressionMethodInfo *findCompressionMethod(std::string_view name);
/// The entry of a method (every enumerator has one).
const CompressionMethodInfo &compressionMethodInfo(Method method);

/// Which methods a list names: all, or those with a sparse part (what
/// --slr-compress can turn into slr.linear).
enum class MethodSelection { All, WithSparsePart };
bool isSelected(const CompressionMethodInfo &info, MethodSelection selection);
/// The selected canonical names joined by ", ".
std::string compressionMethodNames(MethodSelection selection);
/// "unknown method 'x'; expected one of: a, b, c".
std::string unknownMethodMessage(std::string_view name,
                                 MethodSelection selection);

} // namespace slr::compression

#endif // SLR_COMPRESSION_METHODREGISTRY_H
