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

/// llvm::json::parse for files from outside: refuses input nested deeper
/// than `limit` ("nests arrays or objects deeper than N levels"; config files
/// nest a few levels), and stores every number of value exactly 2^63 as an
/// unsigned integer. llvm::json::Value::getAsInteger, and so every
/// fromJSON/ObjectMapper of an integer, converts a double of 2^63 to int64_t
/// (undefined behaviour) because double(INT64_MAX) rounds up to 2^63; as an
/// unsigned it is out of range and refused.
llvm::Expected<llvm::json::Value> parseUntrustedJSON(llvm::StringRef text,
                                                     unsigned limit = 64);

} // namespace slr

#endif // SLR_SUPPORT_NESTING_H
