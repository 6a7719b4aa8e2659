//===- PassOptionCheck.cpp - One-line errors for bad pass options ---------===//

#include "slr/Dialect/SLR/Utils/PassOptionCheck.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace llvm;
using slr::PassOptionKind;

namespace {
/// Removes one pair of enclosing quotes or braces, as MLIR does.
StringRef unwrap(StringRef text) {
  text = text.trim();
  if (text.size() > 2)
    for (auto [open, close] :
         {std::pair{'\'', '\''}, std::pair{'"', '"'}, std::pair{'{', '}'}})
      if (text.front() == open && text.back() == close)
        return text.drop_front().drop_back().trim();
  return text;
}

/// Splits off the next `key[=value]` the way MLIR's parseNextArg does:
/// the value ends at a space outside quotes and braces.
std::pair<StringRef, StringRef> nextOption(StringRef &options) {
  options = options.ltrim();
  size_t keyEnd = options.find_first_of("= ");
  StringRef key = options.take_front(keyEnd).trim();
  if (keyEnd == StringRef::npos || options[keyEnd] == ' ') {
    options = options.drop_front(std::min(keyEnd, options.size()));
    return {key, StringRef()};
  }
  options = options.drop_front(keyEnd + 1);
  size_t end = 0, size = options.size();
  unsigned braces = 0;
  while (end < size && (braces > 0 || options[end] != ' ')) {
    char c = options[end];
    if ((c == '\'' || c == '"') && braces == 0) {
      size_t close = options.find(c, end + 1);
      end = close == StringRef::npos ? size : close + 1;
      continue;
    }
    if (c == '{')
      ++braces;
    else if (c == '}' && braces > 0)
      --braces;
    ++end;
  }
  StringRef value = options.take_front(end);
  options = options.drop_front(end);
  return {key, unwrap(value)};
}

/// `text` with unprintable bytes as \xHH, so that an error line stays one
/// readable line.
std::string printable(StringRef text) {
  std::string result;
  raw_string_ostream os(result);
  for (unsigned char c : text) {
    if (isPrint(c))
      os << c;
    else
      os << "\\x" << hexdigit(c >> 4, /*LowerCase=*/true)
         << hexdigit(c & 15, /*LowerCase=*/true);
  }
  return result;
}

/// What llvm::cl's parser for `kind` accepts; a description of the expected
/// syntax when `value` is not that.
std::optional<const char *> checkValue(PassOptionKind kind, StringRef value) {
  switch (kind) {
  case PassOptionKind::String:
    return std::nullopt;
  case PassOptionKind::Bool:
    // An option given without a value ("quiet") means true.
    if (value.empty() || value == "true" || value == "TRUE" ||
        value == "True" || value == "1" || value == "false" ||
        value == "FALSE" || value == "False" || value == "0")
      return std::nullopt;
    return "true or false (or 1 or 0)";
  case PassOptionKind::Int: {
    int parsed;
    if (!value.getAsInteger(0, parsed))
      return std::nullopt;
    return "an integer (32-bit)";
  }
  case PassOptionKind::Int64: {
    int64_t parsed;
    if (!value.getAsInteger(0, parsed))
      return std::nullopt;
    return "an integer";
  }
  case PassOptionKind::UInt64: {
    uint64_t parsed;
    if (!value.getAsInteger(0, parsed))
      return std::nullopt;
    return "a non-negative integer";
  }
  case PassOptionKind::Double: {
    SmallString<32> text(value);
    char *end = nullptr;
    std::strtod(text.c_str(), &end);
    if (!value.empty() && end && *end == '\0')
      return std::nullopt;
    return "a number";
  }
  }
  return std::nullopt;
}
} // namespace

std::optional<std::string>
slr::checkPassOptionValues(StringRef owner, StringRef options,
                           const StringMap<PassOptionKind> &kinds) {
  while (!options.trim().empty()) {
    auto [key, value] = nextOption(options);
    auto it = kinds.find(key);
    if (key.empty() || it == kinds.end())
      continue;
    if (std::optional<const char *> expected = checkValue(it->second, value))
      return (owner + ": " + printable(key) + " must be " + *expected +
              ", got '" + printable(value) + "'")
          .str();
  }
  return std::nullopt;
}
