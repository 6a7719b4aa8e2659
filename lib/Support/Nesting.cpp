//===- Nesting.cpp - Bracket nesting pre-scan for recursive parsers -------===//

#include "slr/Support/Nesting.h"

using namespace slr;

/// Rewrites numbers equal to 2^63 as uint64_t (see parseUntrustedJSON). The
/// recursion is bounded by the nesting limit checked before parsing.
static void storeTwoToThe63AsUnsigned(llvm::json::Value &value) {
  constexpr uint64_t kTwoToThe63 = uint64_t(1) << 63;
  if (std::optional<double> number = value.getAsNumber()) {
    // Of the numbers that read as 2^63, only a double has no getAsUINT64
    // (an int64 near INT64_MAX rounds to 2^63 too, and is kept).
    if (*number == 0x1p63 && !value.getAsUINT64())
      value = kTwoToThe63;
  } else if (llvm::json::Array *array = value.getAsArray()) {
    for (llvm::json::Value &element : *array)
      storeTwoToThe63AsUnsigned(element);
  } else if (llvm::json::Object *object = value.getAsObject()) {
    for (auto &member : *object)
      storeTwoToThe63AsUnsigned(member.second);
  }
}

llvm::Expected<llvm::json::Value> slr::parseUntrustedJSON(llvm::StringRef text,
                                                          unsigned limit) {
  if (nestsDeeperThan(text, limit))
    return llvm::createStringError("nests arrays or objects deeper than " +
                                   llvm::Twine(limit) + " levels");
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (value)
    storeTwoToThe63AsUnsigned(*value);
  return value;
}

bool slr::nestsDeeperThan(llvm::StringRef text, unsigned limit) {
  unsigned depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    switch (text[i]) {
    case '"':
      // Skip the string; an escaped character may be '"'.
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      break;
    case '/':
      if (i + 1 < text.size() && text[i + 1] == '/')
        while (i < text.size() && text[i] != '\n')
          ++i;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (++depth > limit)
        return true;
      break;
    case '>':
      if (i > 0 && text[i - 1] == '-')
        break;
      [[fallthrough]];
    case ')':
    case ']':
    case '}':
      if (depth > 0)
        --depth;
      break;
    default:
      break;
    }
  }
  return false;
}
