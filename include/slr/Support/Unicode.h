//===- Unicode.h - UTF-8 and character classes for tokenizers ---*- C++ -*-===//
//
// What the tokenizers' pre-tokenizers need: lenient UTF-8 decoding and the
// \p{L} / \p{N} / \s classes of the GPT-2 style split regexes.
//
// The classes are an approximation by code-point ranges (no Unicode tables):
// exact for ASCII and Latin-1, and right for the letters, digits, spaces and
// punctuation of the common scripts (Latin, Greek, Cyrillic, Arabic, Hebrew,
// Indic digits, CJK, kana, Hangul, fullwidth forms). Combining marks count as
// neither letters nor numbers, as in the regexes.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_UNICODE_H
#define SLR_SUPPORT_UNICODE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace slr {

/// Decodes the UTF-8 sequence at `text[offset]`. Returns its length in bytes
/// (1 to 4) and stores the code point; an invalid or truncated sequence is
/// consumed as one byte and decodes to U+FFFD.
size_t decodeUTF8(llvm::StringRef text, size_t offset, uint32_t &codePoint);

/// Appends the UTF-8 encoding of `codePoint` (which must be <= 0x10FFFF).
void appendUTF8(uint32_t codePoint, std::string &out);

/// Length in bytes of the UTF-8 sequence a lead byte announces (1 for
/// continuation or invalid bytes).
size_t utf8SequenceLength(uint8_t leadByte);

bool isUnicodeLetter(uint32_t codePoint);
bool isUnicodeNumber(uint32_t codePoint);
bool isUnicodeWhitespace(uint32_t codePoint);

} // namespace slr

#endif // SLR_SUPPORT_UNICODE_H
