//===- Tokenizer.cpp - Tokenizers described by GGUF metadata --------------===//

#include "slr/Support/Tokenizer.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Unicode.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"

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
    if (id >= 0)
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
