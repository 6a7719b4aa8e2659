//===- Nesting.cpp - Bracket nesting pre-scan for recursive parsers -------===//

#include "slr/Support/Nesting.h"

using namespace slr;

llvm::Expected<llvm::json::Value>
slr::parseJSONNestedAtMost(llvm::StringRef text, unsigned limit) {
  if (nestsDeeperThan(text, limit))
    return llvm::createStringError("nests arrays or objects deeper than " +
                                   llvm::Twine(limit) + " levels");
  return llvm::json::parse(text);
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
