//===- PassOptionCheck.h - One-line errors for bad pass options --*- C++
//-*-===//
//
// MLIR parses pass options with llvm::cl, which prints a malformed value
// ("'abc' value invalid for long argument!") straight to stderr and leaves
// the pass manager an empty error message. slr's passes and pipelines check
// the values first and report one clear line through the pipeline's error
// handler instead.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_DIALECT_SLR_UTILS_PASSOPTIONCHECK_H
#define SLR_DIALECT_SLR_UTILS_PASSOPTIONCHECK_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

#include <cstdint>
#include <optional>
#include <string>

namespace slr {

/// The value syntaxes of llvm::cl's parsers for the types options use.
enum class PassOptionKind { String, Bool, Int, Int64, UInt64, Double };

/// The kind of an option (mlir::Pass::Option and PassPipelineOptions'
/// Option derive from llvm::cl::opt).
template <typename P>
PassOptionKind passOptionKind(const llvm::cl::opt<bool, false, P> &) {
  return PassOptionKind::Bool;
}
template <typename P>
PassOptionKind passOptionKind(const llvm::cl::opt<int, false, P> &) {
  return PassOptionKind::Int;
}
template <typename P>
PassOptionKind passOptionKind(const llvm::cl::opt<long, false, P> &) {
  return PassOptionKind::Int64;
}
template <typename P>
PassOptionKind passOptionKind(const llvm::cl::opt<long long, false, P> &) {
  return PassOptionKind::Int64;
}
template <typename P>
PassOptionKind passOptionKind(const llvm::cl::opt<unsigned long, false, P> &) {
  return PassOptionKind::UInt64;
}
template <typename P>
PassOptionKind
passOptionKind(const llvm::cl::opt<unsigned long long, false, P> &) {
  return PassOptionKind::UInt64;
}
template <typename P>
PassOptionKind passOptionKind(const llvm::cl::opt<double, false, P> &) {
  return PassOptionKind::Double;
}
template <typename P>
PassOptionKind passOptionKind(const llvm::cl::opt<std::string, false, P> &) {
  return PassOptionKind::String;
}

/// Option name -> kind for the given option members.
template <typename... Options>
llvm::StringMap<PassOptionKind> passOptionKinds(const Options &...options) {
  llvm::StringMap<PassOptionKind> kinds;
  (kinds.insert({options.ArgStr, passOptionKind(options)}), ...);
  return kinds;
}

/// Checks every `key=value` of a textual option string (the syntax of
/// mlir::detail::PassOptions::parseFromString: space-separated, values
/// optionally quoted or in braces) whose key is in `kinds` against the
/// syntax llvm::cl would accept. Returns "<owner>: <key> must be ..., got
/// '<value>'" for the first bad value; keys not in `kinds` are left to MLIR.
std::optional<std::string>
checkPassOptionValues(llvm::StringRef owner, llvm::StringRef options,
                      const llvm::StringMap<PassOptionKind> &kinds);

} // namespace slr

#endif // SLR_DIALECT_SLR_UTILS_PASSOPTIONCHECK_H
