//===- Tokenizer.cpp - Tokenizers described by GGUF metadata --------------===//

#include "slr/Support/Tokenizer.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Nesting.h"
#include "slr/Support/Unicode.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"

#include <algorithm>
#include <limits>
#include <queue>

using namespace slr;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;

static Error tokenizerError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "tokenizer: " + message);
}

/// SentencePiece's visible space, U+2581.
static constexpr StringRef kSpaceMarker = "\xe2\x96\x81";

//===----------------------------------------------------------------------===//
// Construction
//===----------------------------------------------------------------------===//

/// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
/// other 68 bytes to U+0100 onwards in byte order.
static uint32_t byteToPrintableCodePoint(uint8_t byte) {
  auto isPrintable = [](unsigned b) {
    return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) ||
           (b >= 0xae && b <= 0xff);
  };
  if (isPrintable(byte))
    return byte;
  uint32_t rank = 0;
  for (unsigned b = 0; b < byte; ++b)
    if (!isPrintable(b))
      ++rank;
  return 0x100 + rank;
}

/// Inverse of byteToPrintableCodePoint, or -1.
static int printableCodePointToByte(uint32_t codePoint) {
  static const std::vector<int> table = [] {
    std::vector<int> inverse(0x200, -1);
    for (unsigned b = 0; b < 256; ++b)
      inverse[byteToPrintableCodePoint(static_cast<uint8_t>(b))] =
          static_cast<int>(b);
    return inverse;
  }();
  return codePoint < table.size() ? table[codePoint] : -1;
}

/// "<0xNN>" -> NN, or -1.
static int parseByteTokenText(StringRef text) {
  if (text.size() != 6 || !text.starts_with("<0x") || !text.ends_with(">"))
    return -1;
  unsigned value;
  if (text.substr(3, 2).getAsInteger(16, value) || value > 255)
    return -1;
  return static_cast<int>(value);
}

Error Tokenizer::initializeVocabulary() {
  if (tokens.empty())
    return tokenizerError("empty vocabulary");
  if (tokens.size() > static_cast<size_t>(INT32_MAX))
    return tokenizerError("vocabulary too large");
  if (!tokenTypes.empty() && tokenTypes.size() != tokens.size())
    return tokenizerError("token_type has " + Twine(tokenTypes.size()) +
                          " entries for " + Twine(tokens.size()) + " tokens");
  if (tokenTypes.empty())
    tokenTypes.assign(tokens.size(), Normal);
  if (!scores.empty() && scores.size() != tokens.size())
    return tokenizerError("scores has " + Twine(scores.size()) +
                          " entries for " + Twine(tokens.size()) + " tokens");
  if (scores.empty())
    scores.assign(tokens.size(), 0.0f);
  for (int32_t id : {bosId, eosId, unknownId})
    if (id < -1 || id >= getVocabularySize())
      return tokenizerError("special token id " + Twine(id) +
                            " is outside the vocabulary");
  for (size_t id = 0; id < tokens.size(); ++id)
    tokenIds.try_emplace(tokens[id], static_cast<int32_t>(id)); // first wins
  std::fill(std::begin(byteTokens), std::end(byteTokens), -1);
  for (size_t id = 0; id < tokens.size(); ++id) {
    int byte = parseByteTokenText(tokens[id]);
    if (byte >= 0 &&
        (tokenTypes[id] == Byte || tokenTypes[id] == Normal ||
         tokenTypes[id] == Undefined) &&
        byteTokens[byte] < 0)
      byteTokens[byte] = static_cast<int32_t>(id);
  }
  std::fill(std::begin(byteCharTokens), std::end(byteCharTokens), -1);
  return Error::success();
}

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::createSentencePiece(std::vector<std::string> tokens,
                               std::vector<float> scores,
                               std::vector<int32_t> tokenTypes, int32_t bosId,
                               int32_t eosId, int32_t unknownId) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  tokenizer->kind = Kind::SentencePiece;
  tokenizer->tokens = std::move(tokens);
  tokenizer->scores = std::move(scores);
  tokenizer->tokenTypes = std::move(tokenTypes);
  tokenizer->bosId = bosId;
  tokenizer->eosId = eosId;
  tokenizer->unknownId = unknownId;
  if (Error error = tokenizer->initializeVocabulary())
    return error;
  return tokenizer;
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::createBytePair(
    std::vector<std::string> tokens, llvm::ArrayRef<std::string> mergeList,
    std::vector<int32_t> tokenTypes, PreTokenizer preTokenizer, int32_t bosId,
    int32_t eosId, int32_t unknownId) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  tokenizer->kind = Kind::BytePairGPT2;
  tokenizer->preTokenizer = preTokenizer;
  tokenizer->addBos = false;
  tokenizer->addSpacePrefix = false;
  tokenizer->tokens = std::move(tokens);
  tokenizer->tokenTypes = std::move(tokenTypes);
  tokenizer->bosId = bosId;
  tokenizer->eosId = eosId;
  tokenizer->unknownId = unknownId;
  if (Error error = tokenizer->initializeVocabulary())
    return error;
  for (unsigned b = 0; b < 256; ++b) {
    std::string text;
    appendUTF8(byteToPrintableCodePoint(static_cast<uint8_t>(b)), text);
    tokenizer->byteCharTokens[b] = tokenizer->lookup(text);
  }
  for (size_t rank = 0; rank < mergeList.size(); ++rank) {
    StringRef merge = mergeList[rank];
    // Token texts never contain a space (bytes are mapped), so the first
    // space separates the pair.
    size_t space = merge.find(' ');
    if (space == StringRef::npos || space == 0 || space + 1 == merge.size())
      return tokenizerError("malformed merge #" + Twine(rank) + " '" + merge +
                            "'");
    StringRef left = merge.substr(0, space), right = merge.substr(space + 1);
    int32_t leftId = tokenizer->lookup(left);
    int32_t rightId = tokenizer->lookup(right);
    int32_t mergedId = tokenizer->lookup((left + right).str());
    // Merges whose parts or result are not tokens can never apply here.
    if (leftId < 0 || rightId < 0 || mergedId < 0)
      continue;
    uint64_t key =
        (static_cast<uint64_t>(leftId) << 32) | static_cast<uint32_t>(rightId);
    tokenizer->merges.try_emplace(
        key, std::make_pair(static_cast<int32_t>(rank), mergedId));
  }
  return tokenizer;
}

/// Reads an optional integer token id; -1 when absent.
static Expected<int32_t> readTokenId(const GGUFFile &file, StringRef key) {
  Expected<int64_t> id = file.getInteger(key, -1);
  if (!id)
    return id.takeError();
  if (*id < -1 || *id > INT32_MAX)
    return tokenizerError("'" + key + "' = " + Twine(*id) +
                          " is not a valid token id");
  return static_cast<int32_t>(*id);
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromGGUF(const GGUFFile &file) {
  Expected<std::string> model = file.getString("tokenizer.ggml.model");
  if (!model)
    return model.takeError();
  const GGUFValue *tokenList = file.findMetadata("tokenizer.ggml.tokens");
  if (!tokenList || !tokenList->isArray() ||
      tokenList->getElementType() != GGUFValueType::String)
    return tokenizerError("tokenizer.ggml.tokens is missing or not an array "
                          "of strings");
  std::vector<std::string> tokens = tokenList->getStrings().vec();

  std::vector<int32_t> tokenTypes;
  if (const GGUFValue *types = file.findMetadata("tokenizer.ggml.token_type")) {
    std::optional<std::vector<int64_t>> values = types->getIntegerArray();
    if (!values)
      return tokenizerError("tokenizer.ggml.token_type is not an integer "
                            "array");
    tokenTypes.assign(values->begin(), values->end());
  }

  Expected<int32_t> bosId = readTokenId(file, "tokenizer.ggml.bos_token_id");
  if (!bosId)
    return bosId.takeError();
  Expected<int32_t> eosId = readTokenId(file, "tokenizer.ggml.eos_token_id");
  if (!eosId)
    return eosId.takeError();
  Expected<int32_t> unknownId =
      readTokenId(file, "tokenizer.ggml.unknown_token_id");
  if (!unknownId)
    return unknownId.takeError();

  std::unique_ptr<Tokenizer> tokenizer;
  if (*model == "llama") {
    std::vector<float> scores;
    if (const GGUFValue *values = file.findMetadata("tokenizer.ggml.scores")) {
      std::optional<std::vector<double>> numbers = values->getDoubleArray();
      if (!numbers)
        return tokenizerError("tokenizer.ggml.scores is not a number array");
      scores.assign(numbers->begin(), numbers->end());
    }
    auto created =
        createSentencePiece(std::move(tokens), std::move(scores),
                            std::move(tokenTypes), *bosId, *eosId, *unknownId);
    if (!created)
      return created.takeError();
    tokenizer = std::move(*created);
  } else if (*model == "gpt2") {
    const GGUFValue *mergeList = file.findMetadata("tokenizer.ggml.merges");
    if (!mergeList || !mergeList->isArray() ||
        mergeList->getElementType() != GGUFValueType::String)
      return tokenizerError("tokenizer.ggml.merges is missing or not an "
                            "array of strings");
    Expected<std::string> pre = file.getString("tokenizer.ggml.pre", "default");
    if (!pre)
      return pre.takeError();
    // Unknown pre-tokenizer names fall back to the GPT-2 pattern.
    PreTokenizer preTokenizer = PreTokenizer::GPT2;
    if (*pre == "llama3" || *pre == "llama-v3" || *pre == "llama-bpe")
      preTokenizer = PreTokenizer::Llama3;
    else if (*pre == "smollm" || *pre == "starcoder" || *pre == "refact" ||
             *pre == "codeshell")
      preTokenizer = PreTokenizer::GPT2SingleDigits;
    auto created = createBytePair(std::move(tokens), mergeList->getStrings(),
                                  std::move(tokenTypes), preTokenizer, *bosId,
                                  *eosId, *unknownId);
    if (!created)
      return created.takeError();
    tokenizer = std::move(*created);
  } else {
    return tokenizerError("unsupported tokenizer model '" + *model + "'");
  }

  bool defaultAddBos = tokenizer->kind == Kind::SentencePiece;
  Expected<bool> addBos =
      file.getBool("tokenizer.ggml.add_bos_token", defaultAddBos);
  if (!addBos)
    return addBos.takeError();
  tokenizer->addBos = *addBos;
  if (tokenizer->kind == Kind::SentencePiece) {
    Expected<bool> addSpacePrefix =
        file.getBool("tokenizer.ggml.add_space_prefix", true);
    if (!addSpacePrefix)
      return addSpacePrefix.takeError();
    tokenizer->addSpacePrefix = *addSpacePrefix;
  }
  return tokenizer;
}

//===----------------------------------------------------------------------===//
// Lookups and decoding
//===----------------------------------------------------------------------===//

StringRef Tokenizer::getTokenText(int32_t id) const {
  if (id < 0 || id >= getVocabularySize())
    return StringRef();
  return tokens[id];
}

int32_t Tokenizer::lookup(StringRef tokenText) const {
  auto it = tokenIds.find(tokenText);
  return it == tokenIds.end() ? -1 : it->second;
}

std::string Tokenizer::decodeToken(int32_t id) const {
  if (id < 0 || id >= getVocabularySize() || tokenTypes[id] == Control)
    return std::string();
  StringRef text = tokens[id];
  std::string result;
  if (kind == Kind::SentencePiece) {
    int byte = parseByteTokenText(text);
    if (byte >= 0 && tokenTypes[id] == Byte)
      return std::string(1, static_cast<char>(byte));
    // "▁" marks a space.
    for (size_t i = 0; i < text.size();) {
      if (text.substr(i).starts_with(kSpaceMarker)) {
        result.push_back(' ');
        i += kSpaceMarker.size();
      } else {
        result.push_back(text[i++]);
      }
    }
    return result;
  }
  if (tokenTypes[id] == UserDefined)
    return text.str();
  // Byte-level: each printable character stands for one byte.
  for (size_t i = 0; i < text.size();) {
    uint32_t codePoint;
    size_t length = decodeUTF8(text, i, codePoint);
    int byte = printableCodePointToByte(codePoint);
    if (byte >= 0)
      result.push_back(static_cast<char>(byte));
    else
      result.append(text.substr(i, length).str());
    i += length;
  }
  return result;
}

std::string Tokenizer::decode(llvm::ArrayRef<int32_t> ids) const {
  std::string result;
  bool first = true;
  for (int32_t id : ids) {
    std::string piece = decodeToken(id);
    if (piece.empty())
      continue;
    if (first && addSpacePrefix && piece.front() == ' ')
      piece.erase(0, 1);
    first = false;
    result += piece;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// SentencePiece-style encoding
//===----------------------------------------------------------------------===//

void Tokenizer::appendByteTokens(StringRef bytes,
                                 std::vector<int32_t> &out) const {
  for (char c : bytes) {
    int32_t id = byteTokens[static_cast<uint8_t>(c)];
    if (id >= 0)
      out.push_back(id);
    else if (unknownId >= 0)
      out.push_back(unknownId);
  }
}

namespace {
/// One symbol of the merge list: a byte range of the normalised text.
struct Symbol {
  int32_t previous;
  int32_t next;
  size_t start;
  size_t length; // 0 once merged into its left neighbour
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  size_t length; // combined length when the candidate was made

  /// Highest score first, then leftmost.
  bool operator<(const Bigram &other) const {
    if (score != other.score)
      return score < other.score;
    return left > other.left;
  }
};
} // namespace

void Tokenizer::encodeSentencePiece(StringRef text,
                                    std::vector<int32_t> &out) const {
  // Like llama2.c and llama.cpp: no dummy prefix (and no tokens) for "".
  if (text.empty())
    return;
  std::string normalized;
  normalized.reserve(text.size() + 3 + text.size() / 2);
  if (addSpacePrefix)
    normalized += kSpaceMarker;
  for (char c : text) {
    if (c == ' ')
      normalized += kSpaceMarker;
    else
      normalized.push_back(c);
  }
  if (normalized.empty())
    return;

  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < normalized.size();) {
    // One symbol per valid UTF-8 character, one per byte of an invalid
    // sequence: a lead byte alone must not swallow the next character (a
    // "\xc3" before a space took the first byte of its U+2581, so the space
    // came back as the bytes of "▁"; found by slr-fuzz-tokenizer).
    uint32_t codePoint;
    size_t length = decodeUTF8(normalized, offset, codePoint);
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, index + 1, offset, length});
    offset += length;
  }
  symbols.back().next = -1;

  std::priority_queue<Bigram> candidates;
  auto tryAddBigram = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0)
      return;
    size_t length = symbols[left].length + symbols[right].length;
    int32_t id =
        lookup(StringRef(normalized).substr(symbols[left].start, length));
    // -inf: a token no merge makes (a Hugging Face BPE file's semantics).
    if (id >= 0 && scores[id] != -std::numeric_limits<float>::infinity())
      candidates.push({left, right, scores[id], length});
  };
  for (size_t i = 1; i < symbols.size(); ++i)
    tryAddBigram(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!candidates.empty()) {
    Bigram bigram = candidates.top();
    candidates.pop();
    Symbol &left = symbols[bigram.left];
    Symbol &right = symbols[bigram.right];
    // Stale candidate: one side has changed since it was queued.
    if (left.length == 0 || right.length == 0 ||
        left.length + right.length != bigram.length)
      continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].previous = bigram.left;
    tryAddBigram(left.previous, bigram.left);
    tryAddBigram(bigram.left, left.next);
  }

  for (int32_t index = 0; index >= 0; index = symbols[index].next) {
    StringRef piece = StringRef(normalized)
                          .substr(symbols[index].start, symbols[index].length);
    int32_t id = lookup(piece);
    if (id >= 0)
      out.push_back(id);
    else
      appendByteTokens(piece, out); // byte fallback (only single characters)
  }
}

//===----------------------------------------------------------------------===//
// GPT-2 style pre-tokenizer
//===----------------------------------------------------------------------===//

namespace {
enum class CharClass { Letter, Number, Whitespace, Other, End };

/// Cursor over code points with their regex character class.
class CharScanner {
public:
  explicit CharScanner(StringRef text) : text(text) {}

  /// Class and byte length of the character at `offset`.
  CharClass classify(size_t offset, size_t *length = nullptr,
                     uint32_t *codePointOut = nullptr) const {
    if (offset >= text.size()) {
      if (length)
        *length = 0;
      return CharClass::End;
    }
    uint32_t codePoint;
    size_t size = decodeUTF8(text, offset, codePoint);
    if (length)
      *length = size;
    if (codePointOut)
      *codePointOut = codePoint;
    if (isUnicodeLetter(codePoint))
      return CharClass::Letter;
    if (isUnicodeNumber(codePoint))
      return CharClass::Number;
    if (isUnicodeWhitespace(codePoint))
      return CharClass::Whitespace;
    return CharClass::Other;
  }

  /// End of the run of characters of class `cls` starting at `offset`,
  /// taking at most `limit` characters.
  size_t skip(size_t offset, CharClass cls,
              size_t limit = std::numeric_limits<size_t>::max()) const {
    size_t length;
    for (size_t count = 0; count < limit && classify(offset, &length) == cls;
         ++count)
      offset += length;
    return offset;
  }

  bool isNewline(size_t offset) const {
    return offset < text.size() &&
           (text[offset] == '\n' || text[offset] == '\r');
  }

  StringRef text;
};
} // namespace

/// Length of "'s|'t|'re|'ve|'m|'ll|'d" at `offset`, or 0.
static size_t matchContraction(StringRef text, size_t offset, bool ignoreCase) {
  if (text[offset] != '\'')
    return 0;
  StringRef rest = text.substr(offset + 1);
  auto startsWith = [&](StringRef suffix) {
    return ignoreCase ? rest.starts_with_insensitive(suffix)
                      : rest.starts_with(suffix);
  };
  for (StringRef suffix : {"s", "t", "m", "d"})
    if (startsWith(suffix))
      return 2;
  for (StringRef suffix : {"re", "ve", "ll"})
    if (startsWith(suffix))
      return 3;
  return 0;
}

/// `\s+(?!\S)|\s+` at a whitespace character: the whole run at the end of
/// the text, else the run minus its last character (which then prefixes the
/// next word), but at least one character.
static size_t matchWhitespaceRun(const CharScanner &scanner, size_t offset) {
  size_t end = scanner.skip(offset, CharClass::Whitespace);
  if (end == scanner.text.size())
    return end - offset;
  size_t lastStart = offset, length;
  for (size_t position = offset; position < end; position += length) {
    scanner.classify(position, &length);
    lastStart = position;
  }
  return lastStart > offset ? lastStart - offset : end - offset;
}

/// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|
/// \s+(?!\S)|\s+
static size_t matchGPT2(const CharScanner &scanner, size_t offset) {
  if (size_t length = matchContraction(scanner.text, offset, false))
    return length;
  size_t start = offset;
  if (scanner.text[offset] == ' ') {
    CharClass next = scanner.classify(offset + 1);
    if (next == CharClass::Letter || next == CharClass::Number ||
        next == CharClass::Other)
      start = offset + 1;
  }
  switch (CharClass cls = scanner.classify(start)) {
  case CharClass::Letter:
  case CharClass::Number:
  case CharClass::Other:
    return scanner.skip(start, cls) - offset;
  case CharClass::Whitespace:
    return matchWhitespaceRun(scanner, offset);
  case CharClass::End:
    break;
  }
  return 1;
}

/// Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
/// \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
static size_t matchLlama3(const CharScanner &scanner, size_t offset) {
  if (size_t length = matchContraction(scanner.text, offset, true))
    return length;
  size_t firstLength;
  CharClass first = scanner.classify(offset, &firstLength);
  if (first == CharClass::Letter)
    return scanner.skip(offset, CharClass::Letter) - offset;
  if (first != CharClass::Number && !scanner.isNewline(offset) &&
      scanner.classify(offset + firstLength) == CharClass::Letter)
    return scanner.skip(offset + firstLength, CharClass::Letter) - offset;
  if (first == CharClass::Number)
    return scanner.skip(offset, CharClass::Number, 3) - offset;
  size_t start = offset;
  if (scanner.text[offset] == ' ' &&
      scanner.classify(offset + 1) == CharClass::Other)
    start = offset + 1;
  if (scanner.classify(start) == CharClass::Other) {
    size_t end = scanner.skip(start, CharClass::Other);
    while (scanner.isNewline(end))
      ++end;
    return end - offset;
  }
  if (first == CharClass::Whitespace) {
    // \s*[\r\n]+ ends just after the run's last newline, if it has one.
    size_t end = scanner.skip(offset, CharClass::Whitespace);
    for (size_t position = end; position > offset; --position)
      if (scanner.isNewline(position - 1))
        return position - offset;
    return matchWhitespaceRun(scanner, offset);
  }
  return firstLength > 0 ? firstLength : 1;
}

std::vector<StringRef> Tokenizer::preTokenize(StringRef text) const {
  std::vector<StringRef> pieces;
  auto splitSegment = [&](StringRef segment) {
    CharScanner scanner(segment);
    for (size_t offset = 0; offset < segment.size();) {
      size_t length = preTokenizer == PreTokenizer::Llama3
                          ? matchLlama3(scanner, offset)
                          : matchGPT2(scanner, offset);
      length = std::max<size_t>(1, std::min(length, segment.size() - offset));
      pieces.push_back(segment.substr(offset, length));
      offset += length;
    }
  };
  if (preTokenizer != PreTokenizer::GPT2SingleDigits) {
    splitSegment(text);
    return pieces;
  }
  // Every digit is a segment of its own; the GPT-2 pattern then runs on the
  // text between digits.
  CharScanner scanner(text);
  size_t segmentStart = 0;
  for (size_t offset = 0, length; offset < text.size(); offset += length) {
    if (scanner.classify(offset, &length) != CharClass::Number)
      continue;
    splitSegment(text.slice(segmentStart, offset));
    pieces.push_back(text.substr(offset, length));
    segmentStart = offset + length;
  }
  splitSegment(text.substr(segmentStart));
  return pieces;
}

//===----------------------------------------------------------------------===//
// Byte-level BPE encoding
//===----------------------------------------------------------------------===//

namespace {
/// A pair of adjacent symbols whose merge applies, as it was when queued.
struct MergeCandidate {
  int32_t rank;
  int32_t left; // index of the left symbol
  int32_t leftId, rightId, mergedId;

  /// Lowest rank first, then leftmost (std::priority_queue pops the
  /// greatest).
  bool operator<(const MergeCandidate &other) const {
    if (rank != other.rank)
      return rank > other.rank;
    return left > other.left;
  }
};
} // namespace

void Tokenizer::encodeBytePairPiece(StringRef piece,
                                    std::vector<int32_t> &out) const {
  // Symbols in a linked list (a merge keeps the left one, which keeps its
  // index, so indices stay in text order).
  struct Symbol {
    int32_t id; // -1 once merged into its left neighbour
    int32_t previous, next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  for (char c : piece) {
    int32_t id = byteCharTokens[static_cast<uint8_t>(c)];
    if (id < 0)
      id = unknownId;
    if (id >= 0) {
      int32_t index = static_cast<int32_t>(symbols.size());
      symbols.push_back({id, index - 1, index + 1});
    }
  }
  if (symbols.empty())
    return;
  symbols.back().next = -1;

  // Apply the lowest-ranked applicable merge, leftmost first, until none
  // applies: the candidates wait in a heap and those a merge has made stale
  // are skipped, so a word of n bytes costs O(n log n), not O(n^2) (a 200 KB
  // "word" took minutes).
  std::priority_queue<MergeCandidate> candidates;
  auto consider = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0)
      return;
    int32_t leftId = symbols[left].id, rightId = symbols[symbols[left].next].id;
    auto it = merges.find((static_cast<uint64_t>(leftId) << 32) |
                          static_cast<uint32_t>(rightId));
    if (it != merges.end())
      candidates.push(
          {it->second.first, left, leftId, rightId, it->second.second});
  };
  for (int32_t i = 0; i < static_cast<int32_t>(symbols.size()); ++i)
    consider(i);
  while (!candidates.empty()) {
    MergeCandidate candidate = candidates.top();
    candidates.pop();
    Symbol &left = symbols[candidate.left];
    // Stale: the left symbol or its right neighbour is no longer the one the
    // candidate was made for.
    if (left.id != candidate.leftId || left.next < 0 ||
        symbols[left.next].id != candidate.rightId)
      continue;
    Symbol &right = symbols[left.next];
    left.id = candidate.mergedId;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].previous = candidate.left;
    right.id = -1;
    consider(left.previous);
    consider(candidate.left);
  }
  for (int32_t index = 0; index >= 0; index = symbols[index].next)
    out.push_back(symbols[index].id);
}

std::vector<int32_t> Tokenizer::encode(StringRef text) const {
  std::vector<int32_t> ids;
  if (kind == Kind::SentencePiece) {
    encodeSentencePiece(text, ids);
    return ids;
  }
  for (StringRef piece : preTokenize(text))
    encodeBytePairPiece(piece, ids);
  return ids;
}

//===----------------------------------------------------------------------===//
// Hugging Face tokenizer.json
//===----------------------------------------------------------------------===//

static Error jsonError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "tokenizer.json: " + message);
}

/// The pre-tokenizer patterns of the byte-level kinds as tokenizer.json's
/// Split pre-tokenizer spells them.
static constexpr StringRef kGPT2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
static constexpr StringRef kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// A Sequence's elements (under `listKey`), or the one object itself; null
/// and absent give none.
static std::vector<const llvm::json::Object *>
flattenSequence(const llvm::json::Value *value, StringRef listKey) {
  std::vector<const llvm::json::Object *> steps;
  const llvm::json::Object *object = value ? value->getAsObject() : nullptr;
  if (!object)
    return steps;
  if (object->getString("type") == "Sequence") {
    if (const llvm::json::Array *list = object->getArray(listKey))
      for (const llvm::json::Value &element : *list)
        for (const llvm::json::Object *step :
             flattenSequence(&element, listKey))
          steps.push_back(step);
    return steps;
  }
  steps.push_back(object);
  return steps;
}

static StringRef stepType(const llvm::json::Object *step) {
  return step->getString("type").value_or("");
}

/// The text of a Split step's pattern ({"Regex": ...} or {"String": ...}).
static StringRef splitPattern(const llvm::json::Object *step) {
  if (const llvm::json::Object *pattern = step->getObject("pattern")) {
    if (std::optional<StringRef> regex = pattern->getString("Regex"))
      return *regex;
    if (std::optional<StringRef> text = pattern->getString("String"))
      return *text;
  }
  return "";
}

/// The special token a TemplateProcessing post-processor puts before the
/// text ({"single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": ...}]}),
/// or "".
static std::string templateBosToken(const llvm::json::Value *postProcessor) {
  for (const llvm::json::Object *step :
       flattenSequence(postProcessor, "processors")) {
    if (stepType(step) != "TemplateProcessing")
      continue;
    const llvm::json::Array *single = step->getArray("single");
    if (!single || single->empty())
      continue;
    const llvm::json::Object *first = single->front().getAsObject();
    if (const llvm::json::Object *special =
            first ? first->getObject("SpecialToken") : nullptr)
      if (std::optional<StringRef> id = special->getString("id"))
        return id->str();
  }
  return "";
}

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromHuggingFaceJSON(StringRef jsonText, int32_t bosId,
                               int32_t eosId) {
  Expected<llvm::json::Value> root = parseUntrustedJSON(jsonText);
  if (!root)
    return jsonError(llvm::toString(root.takeError()));
  const llvm::json::Object *object = root->getAsObject();
  if (!object)
    return jsonError("not a JSON object");
  const llvm::json::Object *model = object->getObject("model");
  if (!model)
    return jsonError("no 'model' object");
  StringRef modelType = model->getString("type").value_or("");
  if (modelType != "BPE")
    return jsonError("unsupported model type '" + modelType +
                     "' (slr reads BPE tokenizers)");

  // Vocabulary: model.vocab plus added_tokens, ids dense from 0.
  const llvm::json::Object *vocab = model->getObject("vocab");
  if (!vocab)
    return jsonError("model.vocab is missing or not an object");
  std::vector<std::string> tokens;
  std::vector<bool> assigned;
  auto assign = [&](StringRef text, const llvm::json::Value &idValue,
                    StringRef where) -> Error {
    std::optional<int64_t> id = idValue.getAsInteger();
    if (!id || *id < 0 || *id >= INT32_MAX)
      return jsonError(where + " '" + text + "' has no valid id");
    if (static_cast<uint64_t>(*id) >= tokens.size()) {
      // Ids are dense: more than the entries seen so far would leave gaps
      // (checked below), but bound the allocation by the file's size.
      if (static_cast<uint64_t>(*id) > jsonText.size())
        return jsonError(where + " '" + text + "' has id " + Twine(*id) +
                         ", beyond any vocabulary this file can hold");
      tokens.resize(*id + 1);
      assigned.resize(*id + 1, false);
    }
    if (assigned[*id] && tokens[*id] != text)
      return jsonError("id " + Twine(*id) + " is both '" + tokens[*id] +
                       "' and '" + text + "'");
    tokens[*id] = text.str();
    assigned[*id] = true;
    return Error::success();
  };
  for (const auto &[text, id] : *vocab)
    if (Error error = assign(text.str(), id, "model.vocab token"))
      return error;
  std::vector<std::pair<int32_t, bool>> added; // (id, special)
  if (const llvm::json::Value *addedValue = object->get("added_tokens")) {
    const llvm::json::Array *list = addedValue->getAsArray();
    if (!list)
      return jsonError("added_tokens is not an array");
    for (const llvm::json::Value &entry : *list) {
      const llvm::json::Object *token = entry.getAsObject();
      std::optional<StringRef> content =
          token ? token->getString("content") : std::nullopt;
      const llvm::json::Value *id = token ? token->get("id") : nullptr;
      if (!content || !id)
        return jsonError("an added_tokens entry lacks 'id' or 'content'");
      if (Error error = assign(*content, *id, "added token"))
        return error;
      added.push_back({static_cast<int32_t>(*id->getAsInteger()),
                       token->getBoolean("special").value_or(false)});
    }
  }
  if (tokens.empty())
    return jsonError("empty vocabulary");
  for (size_t id = 0; id < tokens.size(); ++id)
    if (!assigned[id])
      return jsonError("no token has id " + Twine(id) + " (of " +
                       Twine(tokens.size()) + ")");
  auto idOf = [&](StringRef text) -> int32_t {
    for (size_t id = 0; id < tokens.size(); ++id)
      if (tokens[id] == text)
        return static_cast<int32_t>(id);
    return -1;
  };

  // Merges: "a b" strings or ["a", "b"] pairs, in rank order.
  std::vector<std::pair<std::string, std::string>> mergePairs;
  if (const llvm::json::Value *mergesValue = model->get("merges")) {
    const llvm::json::Array *list = mergesValue->getAsArray();
    if (!list)
      return jsonError("model.merges is not an array");
    for (const llvm::json::Value &merge : *list) {
      if (std::optional<StringRef> text = merge.getAsString()) {
        auto [left, right] = text->split(' ');
        if (left.empty() || right.empty())
          return jsonError("malformed merge #" + Twine(mergePairs.size()) +
                           " '" + *text + "'");
        mergePairs.push_back({left.str(), right.str()});
        continue;
      }
      const llvm::json::Array *pair = merge.getAsArray();
      std::optional<StringRef> left, right;
      if (pair && pair->size() == 2) {
        left = (*pair)[0].getAsString();
        right = (*pair)[1].getAsString();
      }
      if (!left || !right || left->empty() || right->empty())
        return jsonError("malformed merge #" + Twine(mergePairs.size()));
      mergePairs.push_back({left->str(), right->str()});
    }
  }
  // As in the tokenizers library: a merge of, or into, text that is not a
  // token could never apply; the file is broken.
  llvm::StringMap<int32_t> tokenIds;
  for (size_t id = 0; id < tokens.size(); ++id)
    tokenIds.try_emplace(tokens[id], static_cast<int32_t>(id));
  for (size_t rank = 0; rank < mergePairs.size(); ++rank) {
    const auto &[left, right] = mergePairs[rank];
    for (const std::string &part : {left, right, left + right})
      if (!tokenIds.count(part))
        return jsonError("merge #" + Twine(rank) + " '" + left + " " + right +
                         "': '" + part + "' is not a token");
  }

  std::string bosText = templateBosToken(object->get("post_processor"));
  if (!bosText.empty()) {
    bosId = idOf(bosText);
    if (bosId < 0)
      return jsonError("the post-processor's '" + bosText + "' is not a token");
  }
  int32_t unknownId = -1;
  if (const llvm::json::Value *unk = model->get("unk_token");
      unk && unk->kind() != llvm::json::Value::Null) {
    std::optional<StringRef> text = unk->getAsString();
    if (!text || (unknownId = idOf(*text)) < 0)
      return jsonError("model.unk_token is not a token");
  }
  for (int32_t id : {bosId, eosId})
    if (id < -1 || id >= static_cast<int64_t>(tokens.size()))
      return jsonError("special token id " + Twine(id) +
                       " is outside the vocabulary of " + Twine(tokens.size()));

  std::vector<int32_t> tokenTypes(tokens.size(), Normal);
  for (auto [id, special] : added)
    tokenTypes[id] = special ? Control : UserDefined;
  // An unknown token that is also an added special token stays a control
  // token (SmolLM2's id 0, "<|endoftext|>").
  if (unknownId >= 0 && tokenTypes[unknownId] == Normal)
    tokenTypes[unknownId] = Unknown;

  std::vector<const llvm::json::Object *> preSteps =
      flattenSequence(object->get("pre_tokenizer"), "pretokenizers");
  bool byteLevel = llvm::any_of(preSteps, [](const llvm::json::Object *step) {
    return stepType(step) == "ByteLevel";
  });
  std::unique_ptr<Tokenizer> tokenizer;
  if (byteLevel) {
    // ByteLevel last, after at most one Split or Digits step.
    std::string shape;
    for (const llvm::json::Object *step : preSteps) {
      StringRef type = stepType(step);
      if (type == "ByteLevel") {
        if (step->getBoolean("add_prefix_space").value_or(true))
          return jsonError("ByteLevel add_prefix_space is not supported");
        shape += step->getBoolean("use_regex").value_or(true)
                     ? "ByteLevel(regex)"
                     : "ByteLevel";
      } else if (type == "Digits" &&
                 step->getBoolean("individual_digits").value_or(false)) {
        shape += "Digits+";
      } else if (type == "Split" && splitPattern(step) == kLlama3Pattern) {
        shape += "Llama3+";
      } else if (type == "Split" && splitPattern(step) == kGPT2Pattern) {
        shape += "GPT2+";
      } else {
        shape = "unsupported";
        break;
      }
    }
    PreTokenizer preTokenizer;
    if (shape == "ByteLevel(regex)" || shape == "GPT2+ByteLevel")
      preTokenizer = PreTokenizer::GPT2;
    else if (shape == "Digits+ByteLevel(regex)")
      preTokenizer = PreTokenizer::GPT2SingleDigits;
    else if (shape == "Llama3+ByteLevel")
      preTokenizer = PreTokenizer::Llama3;
    else
      return jsonError("unsupported pre_tokenizer (slr reads ByteLevel alone, "
                       "after individual Digits, or after the GPT-2 or "
                       "Llama 3 Split pattern)");
    std::vector<std::string> mergeList;
    mergeList.reserve(mergePairs.size());
    for (const auto &[left, right] : mergePairs)
      mergeList.push_back(left + " " + right);
    auto created =
        createBytePair(std::move(tokens), mergeList, std::move(tokenTypes),
                       preTokenizer, bosId, eosId, unknownId);
    if (!created)
      return created.takeError();
    tokenizer = std::move(*created);
  } else {
    // SentencePiece-style: "▁" for spaces, prepended by a Prepend normalizer
    // or a Metaspace pre-tokenizer, bytes by byte fallback.
    bool replacesSpaces = false, prependsSpace = false;
    for (const llvm::json::Object *step :
         flattenSequence(object->get("normalizer"), "normalizers")) {
      StringRef type = stepType(step);
      if (type == "Prepend" && step->getString("prepend") == kSpaceMarker)
        prependsSpace = true;
      else if (type == "Replace" && splitPattern(step) == " " &&
               step->getString("content") == kSpaceMarker)
        replacesSpaces = true;
      else
        return jsonError("unsupported normalizer '" + type + "'");
    }
    for (const llvm::json::Object *step : preSteps) {
      if (stepType(step) != "Metaspace" ||
          step->getString("replacement") != kSpaceMarker ||
          step->getBoolean("split").value_or(false))
        return jsonError("unsupported pre_tokenizer '" + stepType(step) +
                         "' for a SentencePiece-style tokenizer");
      replacesSpaces = true;
      std::optional<StringRef> scheme = step->getString("prepend_scheme");
      prependsSpace = scheme
                          ? *scheme != "never"
                          : step->getBoolean("add_prefix_space").value_or(true);
    }
    if (!replacesSpaces)
      return jsonError("neither a byte-level nor a SentencePiece-style "
                       "tokenizer (no ByteLevel pre-tokenizer, no \"▁\" for "
                       "spaces)");
    if (!model->getBoolean("byte_fallback").value_or(false))
      return jsonError("SentencePiece-style tokenizers need byte_fallback");
    // Byte tokens <0xNN> are what byte fallback emits.
    for (size_t id = 0; id < tokens.size(); ++id)
      if (tokenTypes[id] == Normal && parseByteTokenText(tokens[id]) >= 0)
        tokenTypes[id] = Byte;
    // The first merge making a token ranks it: score -rank. As in the
    // tokenizers library, no merge makes the others: their -inf score keeps
    // the SentencePiece encoder from joining them (with one lowest score,
    // ties among them would be broken unlike the file's meaning; found by
    // slr-fuzz-hf on a file without merges).
    llvm::StringMap<int32_t> ids;
    for (size_t id = 0; id < tokens.size(); ++id)
      ids.try_emplace(tokens[id], static_cast<int32_t>(id));
    float unranked = -std::numeric_limits<float>::infinity();
    std::vector<float> scores(tokens.size(), unranked);
    std::vector<bool> ranked(tokens.size(), false);
    for (size_t rank = 0; rank < mergePairs.size(); ++rank) {
      auto it = ids.find(mergePairs[rank].first + mergePairs[rank].second);
      if (it == ids.end() || ranked[it->second])
        continue;
      ranked[it->second] = true;
      scores[it->second] = -static_cast<float>(rank);
    }
    auto created =
        createSentencePiece(std::move(tokens), std::move(scores),
                            std::move(tokenTypes), bosId, eosId, unknownId);
    if (!created)
      return created.takeError();
    tokenizer = std::move(*created);
    tokenizer->addSpacePrefix = prependsSpace;
  }
  tokenizer->addBos = !bosText.empty();
  return tokenizer;
}

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromHuggingFaceFolder(StringRef folder) {
  std::string tokenizerPath = (folder + "/tokenizer.json").str();
  auto text = readInputFile(tokenizerPath, "tokenizer", kMaxTextFileBytes);
  if (!text)
    return text.takeError();
  int32_t ids[2] = {-1, -1};
  std::string configPath = (folder + "/config.json").str();
  if (llvm::sys::fs::exists(configPath)) {
    auto config = readInputFile(configPath, "config", kMaxTextFileBytes);
    if (!config)
      return config.takeError();
    Expected<llvm::json::Value> root =
        parseUntrustedJSON((*config)->getBuffer());
    if (!root)
      return llvm::createStringError("config.json: " +
                                     llvm::toString(root.takeError()));
    const llvm::json::Object *object = root->getAsObject();
    const char *keys[2] = {"bos_token_id", "eos_token_id"};
    for (int i = 0; object && i < 2; ++i) {
      const llvm::json::Value *value = object->get(keys[i]);
      // An EOS list (several end tokens): the first.
      if (value && value->getAsArray() && !value->getAsArray()->empty())
        value = &value->getAsArray()->front();
      if (!value || value->kind() == llvm::json::Value::Null)
        continue;
      std::optional<int64_t> id = value->getAsInteger();
      if (!id || *id < 0 || *id >= INT32_MAX)
        return llvm::createStringError(llvm::Twine("config.json: ") + keys[i] +
                                       " is not a token id");
      ids[i] = static_cast<int32_t>(*id);
    }
  }
  auto tokenizer = fromHuggingFaceJSON((*text)->getBuffer(), ids[0], ids[1]);
  if (!tokenizer) {
    // Name the file itself, not just "tokenizer.json".
    std::string message = llvm::toString(tokenizer.takeError());
    StringRef reason(message);
    reason.consume_front("tokenizer.json: ");
    return llvm::createStringError(tokenizerPath + ": " + reason);
  }
  return tokenizer;
}

Expected<llvm::json::Value> Tokenizer::toHuggingFaceJSON() const {
  using llvm::json::Array;
  using llvm::json::Object;
  for (size_t id = 0; id < tokens.size(); ++id)
    if (!llvm::json::isUTF8(tokens[id]))
      return tokenizerError("token " + Twine(id) +
                            " is not valid UTF-8 (tokenizer.json is JSON)");
  llvm::json::Object vocab;
  for (size_t id = 0; id < tokens.size(); ++id)
    vocab[tokens[id]] = static_cast<int64_t>(id);
  Array added;
  for (size_t id = 0; id < tokens.size(); ++id) {
    int32_t type = tokenTypes[id];
    if (type != Control && type != UserDefined)
      continue;
    added.push_back(Object{{"id", static_cast<int64_t>(id)},
                           {"content", tokens[id]},
                           {"single_word", false},
                           {"lstrip", false},
                           {"rstrip", false},
                           {"normalized", false},
                           {"special", type != UserDefined}});
  }
  llvm::json::Value post = nullptr;
  if (addBos && bosId >= 0) {
    std::string bos = tokens[bosId];
    post = Object{
        {"type", "TemplateProcessing"},
        {"single",
         Array{Object{{"SpecialToken", Object{{"id", bos}, {"type_id", 0}}}},
               Object{{"Sequence", Object{{"id", "A"}, {"type_id", 0}}}}}},
        {"pair",
         Array{Object{{"SpecialToken", Object{{"id", bos}, {"type_id", 0}}}},
               Object{{"Sequence", Object{{"id", "A"}, {"type_id", 0}}}},
               Object{{"SpecialToken", Object{{"id", bos}, {"type_id", 1}}}},
               Object{{"Sequence", Object{{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens",
         Object{{bos, Object{{"id", bos},
                             {"ids", Array{static_cast<int64_t>(bosId)}},
                             {"tokens", Array{bos}}}}}}};
  }
  llvm::json::Value unk = nullptr;
  if (unknownId >= 0)
    unk = tokens[unknownId];

  Array mergeList;
  llvm::json::Value normalizer = nullptr, preTokenizerValue = nullptr,
                    decoder = nullptr;
  bool byteFallback = kind == Kind::SentencePiece;
  if (kind == Kind::BytePairGPT2) {
    // The merges back in rank order.
    std::vector<std::pair<int32_t, uint64_t>> ranked;
    for (const auto &[pair, rankAndId] : merges)
      ranked.push_back({rankAndId.first, pair});
    llvm::sort(ranked);
    for (const auto &[rank, pair] : ranked)
      mergeList.push_back(tokens[pair >> 32] + " " +
                          tokens[static_cast<uint32_t>(pair)]);
    Object byteLevelStep{{"type", "ByteLevel"},
                         {"add_prefix_space", false},
                         {"trim_offsets", true},
                         {"use_regex", preTokenizer != PreTokenizer::Llama3}};
    switch (preTokenizer) {
    case PreTokenizer::GPT2:
      preTokenizerValue = std::move(byteLevelStep);
      break;
    case PreTokenizer::GPT2SingleDigits:
      preTokenizerValue =
          Object{{"type", "Sequence"},
                 {"pretokenizers",
                  Array{Object{{"type", "Digits"}, {"individual_digits", true}},
                        std::move(byteLevelStep)}}};
      break;
    case PreTokenizer::Llama3:
      preTokenizerValue =
          Object{{"type", "Sequence"},
                 {"pretokenizers",
                  Array{Object{{"type", "Split"},
                               {"pattern", Object{{"Regex", kLlama3Pattern}}},
                               {"behavior", "Isolated"},
                               {"invert", false}},
                        std::move(byteLevelStep)}}};
      break;
    }
    decoder = Object{{"type", "ByteLevel"},
                     {"add_prefix_space", true},
                     {"trim_offsets", true},
                     {"use_regex", true}};
  } else {
    // Every split of a token into two tokens, best-scored result first.
    struct Candidate {
      float score;
      int32_t merged;
      size_t split;
    };
    std::vector<Candidate> candidates;
    for (size_t id = 0; id < tokens.size(); ++id) {
      StringRef text = tokens[id];
      uint32_t codePoint;
      for (size_t split = decodeUTF8(text, 0, codePoint); split < text.size();
           split += decodeUTF8(text, split, codePoint))
        if (scores[id] != -std::numeric_limits<float>::infinity() &&
            lookup(text.take_front(split)) >= 0 &&
            lookup(text.drop_front(split)) >= 0)
          candidates.push_back({scores[id], static_cast<int32_t>(id), split});
    }
    llvm::stable_sort(candidates, [](const Candidate &a, const Candidate &b) {
      if (a.score != b.score)
        return a.score > b.score;
      return a.merged < b.merged;
    });
    for (const Candidate &candidate : candidates) {
      StringRef text = tokens[candidate.merged];
      mergeList.push_back(Array{text.take_front(candidate.split),
                                text.drop_front(candidate.split)});
    }
    Array normalizers;
    if (addSpacePrefix)
      normalizers.push_back(
          Object{{"type", "Prepend"}, {"prepend", kSpaceMarker}});
    normalizers.push_back(Object{{"type", "Replace"},
                                 {"pattern", Object{{"String", " "}}},
                                 {"content", kSpaceMarker}});
    normalizer =
        Object{{"type", "Sequence"}, {"normalizers", std::move(normalizers)}};
    Array decoders{Object{{"type", "Replace"},
                          {"pattern", Object{{"String", kSpaceMarker}}},
                          {"content", " "}},
                   Object{{"type", "ByteFallback"}}, Object{{"type", "Fuse"}}};
    if (addSpacePrefix)
      decoders.push_back(Object{
          {"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    decoder = Object{{"type", "Sequence"}, {"decoders", std::move(decoders)}};
  }
  return llvm::json::Value(
      Object{{"version", "1.0"},
             {"truncation", nullptr},
             {"padding", nullptr},
             {"added_tokens", std::move(added)},
             {"normalizer", std::move(normalizer)},
             {"pre_tokenizer", std::move(preTokenizerValue)},
             {"post_processor", std::move(post)},
             {"decoder", std::move(decoder)},
             {"model", Object{{"type", "BPE"},
                              {"dropout", nullptr},
                              {"unk_token", std::move(unk)},
                              {"continuing_subword_prefix", nullptr},
                              {"end_of_word_suffix", nullptr},
                              {"fuse_unk", byteFallback},
                              {"byte_fallback", byteFallback},
                              {"ignore_merges", false},
                              {"vocab", std::move(vocab)},
                              {"merges", std::move(mergeList)}}}});
}
