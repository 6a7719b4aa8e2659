//===- Nesting.h - Bracket nesting pre-scan ---------------------*- C++ -*-===//
//
// llvm::json::parse and MLIR's text parser recurse once per nesting level
// and overflow the stack on inputs of tens of thousands of '[' (SIGSEGV).
// Readers run this linear, iterative scan first and refuse such input with
// an error instead.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_NESTING_H
#define SLR_SUPPORT_NESTING_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace slr {

/// Whether brackets ( [ { < nest deeper than `limit` in `text` (JSON or MLIR
/// text). Brackets inside "strings" (with backslash escapes) and `//` line
/// comments do not count, nor the '>' of "->". Closing brackets are not
/// matched against their kind: unbalanced text can only count shallower.
bool nestsDeeperThan(llvm::StringRef text, unsigned limit);

/// llvm::json::parse after the pre-scan: "nests arrays or objects deeper
/// than N levels" for deeper input (config files nest a few levels).
llvm::Expected<llvm::json::Value> parseJSONNestedAtMost(llvm::StringRef text,
                                                        unsigned limit = 64);

} // namespace slr

#endif // SLR_SUPPORT_NESTING_H
