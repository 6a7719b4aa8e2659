//===- TokenizerTest.cpp - Tokenizer and Unicode class tests --------------===//

#include "slr/Support/Tokenizer.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Unicode.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>

using namespace slr;

namespace {

std::string sharedDataPath(llvm::StringRef relative) {
  return (llvm::Twine(SLR_SHARED_DATA_DIR) + "/" + relative).str();
}

std::vector<std::string> toStrings(const std::vector<llvm::StringRef> &refs) {
  return std::vector<std::string>(refs.begin(), refs.end());
}

//===----------------------------------------------------------------------===//
// Unicode helpers
//===----------------------------------------------------------------------===//

TEST(UnicodeTest, DecodesAndEncodesUTF8) {
  uint32_t codePoint;
  EXPECT_EQ(decodeUTF8("A", 0, codePoint), 1u);
  EXPECT_EQ(codePoint, 0x41u);
  EXPECT_EQ(decodeUTF8("\xc3\xa9", 0, codePoint), 2u); // é
  EXPECT_EQ(codePoint, 0xe9u);
  EXPECT_EQ(decodeUTF8("\xe2\x96\x81", 0, codePoint), 3u); // ▁
  EXPECT_EQ(codePoint, 0x2581u);
  EXPECT_EQ(decodeUTF8("\xf0\x9f\x98\x80", 0, codePoint), 4u); // emoji
  EXPECT_EQ(codePoint, 0x1f600u);
  // Invalid input is consumed one byte at a time as U+FFFD.
  EXPECT_EQ(decodeUTF8("\xff", 0, codePoint), 1u);
  EXPECT_EQ(codePoint, 0xfffdu);
  EXPECT_EQ(decodeUTF8("\xe2\x96", 0, codePoint), 1u);     // truncated
  EXPECT_EQ(decodeUTF8("\xc0\xaf", 0, codePoint), 1u);     // overlong '/'
  EXPECT_EQ(decodeUTF8("\xed\xa0\x80", 0, codePoint), 1u); // surrogate
  for (uint32_t value : {0x24u, 0xe9u, 0x2581u, 0x1f600u}) {
    std::string encoded;
    appendUTF8(value, encoded);
    EXPECT_EQ(decodeUTF8(encoded, 0, codePoint), encoded.size());
    EXPECT_EQ(codePoint, value);
  }
}

TEST(UnicodeTest, ClassifiesCharacters) {
  for (uint32_t letter : std::vector<uint32_t>{
           'a', 'Z', 0xe9u /*é*/, 0x3b1u /*α*/, 0x436u /*ж*/, 0x5d0u /*א*/,
           0x4e2du /*中*/, 0x3042u /*あ*/, 0xac00u /*가*/, 0x915u /*क*/})
    EXPECT_TRUE(isUnicodeLetter(letter)) << letter;
  for (uint32_t notLetter :
       std::vector<uint32_t>{'1', ' ', '.', '\'', 0xd7u /*×*/, 0x2014u /*—*/,
                             0x301u /*combining acute*/, 0x1f600u, 0x3002u})
    EXPECT_FALSE(isUnicodeLetter(notLetter)) << notLetter;
  for (uint32_t number :
       std::vector<uint32_t>{'0', '9', 0xb2u /*²*/, 0xbdu /*½*/, 0x663u,
                             0x967u /*१*/, 0xff11u /*１*/, 0x2160u /*Ⅰ*/})
    EXPECT_TRUE(isUnicodeNumber(number)) << number;
  EXPECT_FALSE(isUnicodeNumber('a'));
  EXPECT_FALSE(isUnicodeLetter(0x967u));
  for (uint32_t space :
       std::vector<uint32_t>{' ', '\t', '\n', '\r', 0xa0u, 0x3000u, 0x2009u})
    EXPECT_TRUE(isUnicodeWhitespace(space)) << space;
  EXPECT_FALSE(isUnicodeWhitespace('x'));
  EXPECT_FALSE(isUnicodeWhitespace(0x200bu)); // zero width space is Cf
}

//===----------------------------------------------------------------------===//
// Byte-level BPE on a small hand-made vocabulary
//===----------------------------------------------------------------------===//

/// GPT-2's bytes_to_unicode, written out independently of the library.
unsigned gpt2ByteCodePoint(unsigned b) {
  auto printable = [](unsigned c) {
    return (c >= 0x21 && c <= 0x7e) || (c >= 0xa1 && c <= 0xac) ||
           (c >= 0xae && c <= 0xff);
  };
  if (printable(b))
    return b;
  unsigned rank = 0;
  for (unsigned c = 0; c < b; ++c)
    rank += !printable(c);
  return 0x100 + rank;
}

/// Vocabulary: specials, the 256 byte characters (GPT-2 mapping), then the
/// merge results. Merges: "h e", "l l", "he ll", "hell o", "Ġ w", "o r".
std::unique_ptr<Tokenizer>
makeBytePairTokenizer(Tokenizer::PreTokenizer preTokenizer) {
  std::vector<std::string> tokens = {"<|endoftext|>", "<|im_start|>"};
  std::vector<int32_t> types = {Tokenizer::Control, Tokenizer::Control};
  for (unsigned b = 0; b < 256; ++b) {
    unsigned codePoint = gpt2ByteCodePoint(b);
    std::string text;
    appendUTF8(codePoint, text);
    tokens.push_back(text);
    types.push_back(Tokenizer::Normal);
  }
  std::vector<std::string> merges = {"h e", "l l", "he ll", "hell o",
                                     "Ġ w", "o r", "Ġw or"};
  for (const char *merged : {"he", "ll", "hell", "hello", "Ġw", "or", "Ġwor"}) {
    tokens.push_back(merged);
    types.push_back(Tokenizer::Normal);
  }
  return llvm::cantFail(Tokenizer::createBytePair(
      tokens, merges, types, preTokenizer, /*bosId=*/1, /*eosId=*/0,
      /*unknownId=*/-1));
}

TEST(BytePairTokenizerTest, AppliesMergesByRank) {
  auto tokenizer = makeBytePairTokenizer(Tokenizer::PreTokenizer::GPT2);
  const int32_t byteBase = 2;
  std::vector<int32_t> ids = tokenizer->encode("hello world");
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(tokenizer->getTokenText(ids[0]), "hello");
  EXPECT_EQ(tokenizer->getTokenText(ids[1]), "Ġwor");
  EXPECT_EQ(ids[2], byteBase + 'l');
  EXPECT_EQ(ids[3], byteBase + 'd');
  EXPECT_EQ(tokenizer->decode(ids), "hello world");
  // Newline and space map to Ċ and Ġ.
  ids = tokenizer->encode("\n ");
  EXPECT_EQ(tokenizer->getTokenText(ids[0]), "\xc4\x8a");
  EXPECT_EQ(tokenizer->getTokenText(ids[1]), "\xc4\xa0");
  // Control tokens vanish from decoded text; every byte round-trips.
  std::string allBytes;
  for (int b = 1; b < 256; ++b)
    allBytes.push_back(static_cast<char>(b));
  std::vector<int32_t> withControl = tokenizer->encode(allBytes);
  withControl.insert(withControl.begin(), 1);
  EXPECT_EQ(tokenizer->decode(withControl), allBytes);
}

TEST(BytePairTokenizerTest, GPT2PreTokenizer) {
  auto tokenizer = makeBytePairTokenizer(Tokenizer::PreTokenizer::GPT2);
  EXPECT_EQ(toStrings(tokenizer->preTokenize(
                "Hello world's  test 123!!\n\nx DON'T caf\xc3\xa9 ")),
            (std::vector<std::string>{"Hello", " world", "'s", " ", " test",
                                      " 123", "!!", "\n", "\n", "x", " DON",
                                      "'", "T", " caf\xc3\xa9", " "}));
  EXPECT_EQ(
      toStrings(tokenizer->preTokenize("   a\t\tb ...  ")),
      (std::vector<std::string>{"  ", " a", "\t", "\t", "b", " ...", "  "}));
  EXPECT_TRUE(tokenizer->preTokenize("").empty());
}

TEST(BytePairTokenizerTest, SingleDigitPreTokenizer) {
  auto tokenizer =
      makeBytePairTokenizer(Tokenizer::PreTokenizer::GPT2SingleDigits);
  EXPECT_EQ(toStrings(tokenizer->preTokenize("in 2024, x9")),
            (std::vector<std::string>{"in", " ", "2", "0", "2", "4", ",", " x",
                                      "9"}));
}

TEST(BytePairTokenizerTest, Llama3PreTokenizer) {
  auto tokenizer = makeBytePairTokenizer(Tokenizer::PreTokenizer::Llama3);
  EXPECT_EQ(
      toStrings(tokenizer->preTokenize(
          "Hello world's  test 12345!!\n\nx DON'T \"quoted\"\n  \n y")),
      (std::vector<std::string>{"Hello", " world", "'s", " ", " test", " ",
                                "123", "45", "!!\n\n", "x", " DON", "'T", " \"",
                                "quoted", "\"\n", "  \n", " y"}));
}

// Expected pieces from the Hugging Face `tokenizers` library's Split
// pre-tokenizer (Oniguruma regex engine) with the patterns above, for text
// that exercises combining marks (Devanagari vowel signs are \p{M}, not
// \p{L}), non-ASCII digits, Greek, emoji and Latin-1 numbers.
TEST(BytePairTokenizerTest, PreTokenizersMatchTheRegexOnMultiScriptText) {
  const char *text = "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0"
                     "\xa4\xa4\xe0\xa5\x87 \xe0\xa4\xa6\xe0\xa5\x81\xe0\xa4"
                     "\xa8\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe \xe0\xa5\xa7"
                     "\xe0\xa5\xa8\xe0\xa5\xa9, \xce\x9a\xce\xb1\xce\xbb\xce"
                     "\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1! \xf0\x9f\x98\x80"
                     "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd x\xc2\xb2+\xc2\xbd "
                     "caf\xc3\xa9";
  auto gpt2 = makeBytePairTokenizer(Tokenizer::PreTokenizer::GPT2);
  EXPECT_EQ(
      toStrings(gpt2->preTokenize(text)),
      (std::vector<std::string>{
          "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8",
          "\xe0\xa5\x8d",
          "\xe0\xa4\xa4",
          "\xe0\xa5\x87",
          " \xe0\xa4\xa6",
          "\xe0\xa5\x81",
          "\xe0\xa4\xa8",
          "\xe0\xa4\xbf",
          "\xe0\xa4\xaf",
          "\xe0\xa4\xbe",
          " \xe0\xa5\xa7\xe0\xa5\xa8\xe0\xa5\xa9",
          ",",
          " \xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1",
          "!",
          " \xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
          " x",
          "\xc2\xb2",
          "+",
          "\xc2\xbd",
          " caf\xc3\xa9"}));
  auto llama3 = makeBytePairTokenizer(Tokenizer::PreTokenizer::Llama3);
  EXPECT_EQ(
      toStrings(llama3->preTokenize(text)),
      (std::vector<std::string>{
          "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8", "\xe0\xa5\x8d\xe0\xa4\xa4",
          "\xe0\xa5\x87", " \xe0\xa4\xa6", "\xe0\xa5\x81\xe0\xa4\xa8",
          "\xe0\xa4\xbf\xe0\xa4\xaf", "\xe0\xa4\xbe", " ",
          "\xe0\xa5\xa7\xe0\xa5\xa8\xe0\xa5\xa9", ",",
          " \xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1",
          "!", " \xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", " x",
          "\xc2\xb2", "+", "\xc2\xbd", " caf\xc3\xa9"}));
}

//===----------------------------------------------------------------------===//
// SentencePiece-style BPE on the real stories260K vocabulary
//===----------------------------------------------------------------------===//

class StoriesTokenizerTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string path = sharedDataPath("models/stories260K.gguf");
    if (!llvm::sys::fs::exists(path))
      GTEST_SKIP() << "missing " << path;
    auto file = GGUFFile::open(path);
    ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
    auto created = Tokenizer::fromGGUF(**file);
    ASSERT_TRUE(static_cast<bool>(created))
        << llvm::toString(created.takeError());
    tokenizer = std::move(*created);
  }
  std::unique_ptr<Tokenizer> tokenizer;
};

TEST_F(StoriesTokenizerTest, ReadsVocabularyAndSpecialTokens) {
  EXPECT_EQ(tokenizer->getKind(), Tokenizer::Kind::SentencePiece);
  EXPECT_EQ(tokenizer->getVocabularySize(), 512);
  EXPECT_EQ(tokenizer->getBosId(), 1);
  EXPECT_EQ(tokenizer->getEosId(), 2);
  EXPECT_EQ(tokenizer->getUnknownId(), 0);
  EXPECT_TRUE(tokenizer->getAddBos());
  EXPECT_EQ(tokenizer->getTokenText(1), "<s>");
  EXPECT_EQ(tokenizer->lookup("\xe2\x96\x81"
                              "Once"),
            403);
  EXPECT_EQ(tokenizer->lookup("no such token"), -1);
}

// Expected ids come from an independent reimplementation of llama2.c's
// encoder (run.c: add the dummy prefix, look up each UTF-8 character or fall
// back to <0xNN> = 3 + byte, then repeatedly merge the adjacent pair whose
// concatenation has the highest score, leftmost on ties) in Python over this
// vocabulary; the same reimplementation reproduces all 4,302 blocks of
// tinystories_val.txt token for token.
TEST_F(StoriesTokenizerTest, EncodesKnownStrings) {
  struct Case {
    const char *text;
    std::vector<int32_t> ids;
  } cases[] = {
      {"Once upon a time", {403, 407, 261, 378}},
      {"Hello world", {346, 306, 414, 263, 304, 341}},
      {"Lily and Tim", {317, 269, 326}},
      {"caf\xc3\xa9 \xe2\x98\x83", {280, 412, 431, 485, 410, 229, 155, 134}},
      {"a\nb", {261, 13, 430}},
      {"  two  spaces ",
       {410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419, 410}},
      {"The cat sat. \"Wow!\" said Ben.",
       {291, 280, 294, 262, 294, 426, 313, 448, 327, 443, 436, 336, 368, 302,
        426}},
      {"", {}},
  };
  for (const Case &c : cases)
    EXPECT_EQ(tokenizer->encode(c.text), c.ids) << c.text;
}

TEST_F(StoriesTokenizerTest, DecodeInvertsEncode) {
  for (const char *text :
       {"Once upon a time, there was a little girl named Lily.",
        "  leading and trailing  ", "tabs\tand\nnewlines\n\n", "",
        "snowman \xe2\x98\x83 and caf\xc3\xa9 and \xe6\x97\xa5\xe6\x9c\xac",
        "\"Quotes\" and 'apostrophes' -- 123 + 456 = 579!", " "}) {
    std::vector<int32_t> ids = tokenizer->encode(text);
    EXPECT_EQ(tokenizer->decode(ids), text) << text;
    // BOS/EOS are control tokens and do not appear in the text.
    ids.insert(ids.begin(), tokenizer->getBosId());
    ids.push_back(tokenizer->getEosId());
    EXPECT_EQ(tokenizer->decode(ids), text) << text;
  }
  EXPECT_EQ(tokenizer->decodeToken(403), " Once");
  EXPECT_EQ(tokenizer->decodeToken(13), "\n");
}

TEST_F(StoriesTokenizerTest, TokenizesTheStoriesCorpusLosslessly) {
  std::string path = sharedDataPath("text/tinystories_val.txt");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    GTEST_SKIP() << "missing " << path;
  llvm::StringRef text = (*buffer)->getBuffer().take_front(100000);
  std::vector<int32_t> ids = tokenizer->encode(text);
  EXPECT_EQ(tokenizer->decode(ids), text);
  // The llama2.c-style Python reimplementation (see EncodesKnownStrings)
  // also gives 47,692 tokens for these 100,000 bytes as one sequence.
  EXPECT_EQ(ids.size(), 47692u);
}

//===----------------------------------------------------------------------===//
// Byte-level BPE: the heap-based merge loop against the quadratic one
//===----------------------------------------------------------------------===//

/// The byte-level BPE merge rules as the tokenizer derives them from a merge
/// list: (left id, right id) -> (rank, merged id), first rank wins, merges
/// whose parts or result are not tokens dropped; and each byte's token.
struct MergeTable {
  std::map<std::pair<int32_t, int32_t>, std::pair<int32_t, int32_t>> merges;
  int32_t byteIds[256];
};

MergeTable makeMergeTable(const Tokenizer &tokenizer,
                          llvm::ArrayRef<std::string> merges) {
  MergeTable table;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    auto [left, right] = llvm::StringRef(merges[rank]).split(' ');
    int32_t leftId = tokenizer.lookup(left), rightId = tokenizer.lookup(right);
    int32_t mergedId = tokenizer.lookup((left + right).str());
    if (leftId >= 0 && rightId >= 0 && mergedId >= 0)
      table.merges.try_emplace({leftId, rightId},
                               std::make_pair(int32_t(rank), mergedId));
  }
  for (unsigned b = 0; b < 256; ++b) {
    std::string text;
    appendUTF8(gpt2ByteCodePoint(b), text);
    table.byteIds[b] = tokenizer.lookup(text);
  }
  return table;
}

/// The merge loop slr had before the heap (O(n^2) per word): scan for the
/// lowest-ranked applicable pair, leftmost on ties, merge it, repeat. The
/// new loop must give exactly its ids.
std::vector<int32_t> encodeQuadratic(const Tokenizer &tokenizer,
                                     const MergeTable &table,
                                     llvm::StringRef text) {
  std::vector<int32_t> ids;
  for (llvm::StringRef piece : tokenizer.preTokenize(text)) {
    std::vector<int32_t> symbols;
    for (char c : piece) {
      int32_t id = table.byteIds[static_cast<uint8_t>(c)];
      if (id < 0)
        id = tokenizer.getUnknownId();
      if (id >= 0)
        symbols.push_back(id);
    }
    while (symbols.size() > 1) {
      int32_t bestRank = INT32_MAX, bestMerged = -1;
      size_t bestIndex = 0;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        auto it = table.merges.find({symbols[i], symbols[i + 1]});
        if (it != table.merges.end() && it->second.first < bestRank) {
          bestRank = it->second.first;
          bestMerged = it->second.second;
          bestIndex = i;
        }
      }
      if (bestMerged < 0)
        break;
      symbols[bestIndex] = bestMerged;
      symbols.erase(symbols.begin() + bestIndex + 1);
    }
    ids.insert(ids.end(), symbols.begin(), symbols.end());
  }
  return ids;
}

/// A byte-level BPE tokenizer trained on `corpus` by plain pair counting
/// (most frequent pair first, smallest ids on ties): the 256 byte
/// characters, then up to `numMerges` merge results. Different pairs may
/// make the same text ("ab c", "a bc"), as in real vocabularies.
struct TrainedBytePair {
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<std::string> merges;
};

TrainedBytePair trainBytePair(llvm::StringRef corpus, int numMerges) {
  std::vector<std::string> tokens;
  for (unsigned b = 0; b < 256; ++b) {
    tokens.emplace_back();
    appendUTF8(gpt2ByteCodePoint(b), tokens.back());
  }
  auto base = llvm::cantFail(Tokenizer::createBytePair(
      tokens, {}, {}, Tokenizer::PreTokenizer::GPT2, -1, -1, -1));
  std::map<std::string, int64_t> wordCounts;
  for (llvm::StringRef piece : base->preTokenize(corpus))
    ++wordCounts[piece.str()];
  std::vector<std::pair<std::vector<int32_t>, int64_t>> words;
  for (const auto &[word, count] : wordCounts) {
    std::vector<int32_t> ids;
    for (char c : word)
      ids.push_back(static_cast<uint8_t>(c));
    words.emplace_back(std::move(ids), count);
  }
  std::vector<std::string> merges;
  for (int m = 0; m < numMerges; ++m) {
    std::map<std::pair<int32_t, int32_t>, int64_t> pairCounts;
    for (const auto &[ids, count] : words)
      for (size_t i = 0; i + 1 < ids.size(); ++i)
        pairCounts[{ids[i], ids[i + 1]}] += count;
    auto best = std::max_element(
        pairCounts.begin(), pairCounts.end(),
        [](const auto &a, const auto &b) { return a.second < b.second; });
    if (best == pairCounts.end())
      break;
    auto [left, right] = best->first;
    std::string text = tokens[left] + tokens[right];
    auto found = std::find(tokens.begin(), tokens.end(), text);
    int32_t merged = static_cast<int32_t>(found - tokens.begin());
    if (found == tokens.end())
      tokens.push_back(text);
    merges.push_back(tokens[left] + " " + tokens[right]);
    for (auto &[ids, count] : words) {
      std::vector<int32_t> next;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 1 < ids.size() && ids[i] == left && ids[i + 1] == right) {
          next.push_back(merged);
          ++i;
        } else {
          next.push_back(ids[i]);
        }
      }
      ids = std::move(next);
    }
  }
  auto tokenizer = llvm::cantFail(Tokenizer::createBytePair(
      tokens, merges, {}, Tokenizer::PreTokenizer::GPT2, -1, -1, -1));
  return {std::move(tokenizer), std::move(merges)};
}

/// Seeded text with words over a small alphabet (so merges chain deeply),
/// punctuation, digits, newlines and multi-byte characters.
std::string randomText(std::mt19937 &random, size_t numWords) {
  const std::vector<std::string> pieces = {
      "a", "b",  "n",        "an",       "ba",           "e",
      "t", "th", "\xc3\xa9", "\xd0\xb6", "\xe4\xb8\xad", "'s",
      "1", "9",  ",",        "."};
  std::string text;
  for (size_t w = 0; w < numWords; ++w) {
    size_t length = 1 + random() % 8;
    for (size_t i = 0; i < length; ++i)
      text += pieces[random() % pieces.size()];
    text += random() % 17 == 0 ? "\n" : random() % 5 == 0 ? "  " : " ";
  }
  return text;
}

void expectSameAsQuadratic(const TrainedBytePair &bpe, llvm::StringRef text,
                           const std::string &what) {
  MergeTable table = makeMergeTable(*bpe.tokenizer, bpe.merges);
  std::vector<int32_t> ids = bpe.tokenizer->encode(text);
  ASSERT_EQ(ids, encodeQuadratic(*bpe.tokenizer, table, text)) << what;
  EXPECT_EQ(bpe.tokenizer->decode(ids), text) << what;
}

TEST(BytePairMergeLoopTest, MatchesTheQuadraticLoopOnRandomText) {
  std::mt19937 random(13);
  std::string corpus = randomText(random, 6000);
  TrainedBytePair bpe = trainBytePair(corpus, 300);
  ASSERT_EQ(bpe.merges.size(), 300u);
  expectSameAsQuadratic(bpe, corpus, "the training corpus");
  expectSameAsQuadratic(bpe, randomText(random, 5000), "unseen text");
  // Arbitrary bytes (invalid UTF-8 included), and long single-piece words
  // where merges overlap and chain: "aaaa...", random a/b/n runs.
  for (int trial = 0; trial < 20; ++trial) {
    std::string bytes;
    for (int i = 0; i < 2000; ++i)
      bytes.push_back(static_cast<char>(random() % 256));
    expectSameAsQuadratic(bpe, bytes, "random bytes #" + std::to_string(trial));
    std::string word;
    for (int i = 0; i < 3000; ++i)
      word.push_back("abn"[random() % (trial % 3 + 1)]);
    expectSameAsQuadratic(bpe, word, "random word #" + std::to_string(trial));
  }
}

TEST(BytePairMergeLoopTest, MatchesTheQuadraticLoopOnTheBundledTexts) {
  auto stories =
      llvm::MemoryBuffer::getFile(sharedDataPath("text/tinystories_val.txt"));
  auto wiki = llvm::MemoryBuffer::getFile(sharedDataPath("text/wiki.test.raw"));
  if (!stories || !wiki)
    GTEST_SKIP() << "missing " << SLR_SHARED_DATA_DIR;
  TrainedBytePair bpe =
      trainBytePair((*stories)->getBuffer().take_front(50000), 500);
  expectSameAsQuadratic(bpe, (*stories)->getBuffer().take_front(200000),
                        "tinystories_val.txt");
  expectSameAsQuadratic(bpe, (*wiki)->getBuffer().take_front(200000),
                        "wiki.test.raw");
}

// A 200 KB "word" (one pre-tokenizer piece) took minutes with the quadratic
// loop (100 KB: 47 s); the heap makes it O(n log n). This test only has to
// finish within its ctest TIMEOUT.
TEST(BytePairMergeLoopTest, EncodesA200KBWord) {
  std::mt19937 random(7);
  TrainedBytePair bpe = trainBytePair(randomText(random, 6000), 300);
  std::string word;
  for (int i = 0; i < 200000; ++i)
    word.push_back("abn"[random() % 3]);
  ASSERT_EQ(bpe.tokenizer->preTokenize(word).size(), 1u);
  std::vector<int32_t> ids = bpe.tokenizer->encode(word);
  EXPECT_EQ(bpe.tokenizer->decode(ids), word);
  EXPECT_LT(ids.size(), word.size() / 2); // merges did apply
  // And exactly the quadratic loop's ids on a prefix it handles quickly.
  expectSameAsQuadratic(bpe, llvm::StringRef(word).take_front(10000),
                        "10 KB prefix");
}

//===----------------------------------------------------------------------===//
// Tokenizers from synthetic GGUF metadata
//===----------------------------------------------------------------------===//

TEST(TokenizerFromGGUFTest, ReportsBadMetadata) {
  auto build = [](const std::function<void(GGUFWriter &)> &fill) {
    GGUFWriter writer;
    fill(writer);
    auto file =
        llvm::cantFail(GGUFFile::parse(llvm::MemoryBuffer::getMemBufferCopy(
            writer.serialize(), "tokenizer.gguf")));
    auto tokenizer = Tokenizer::fromGGUF(*file);
    if (tokenizer)
      return std::string();
    return llvm::toString(tokenizer.takeError());
  };
  EXPECT_EQ(build([](GGUFWriter &) {}),
            "gguf: missing metadata key 'tokenizer.ggml.model'");
  EXPECT_EQ(build([](GGUFWriter &w) {
              w.addString("tokenizer.ggml.model", "bert");
              w.addStringArray("tokenizer.ggml.tokens", {"a"});
            }),
            "tokenizer: unsupported tokenizer model 'bert'");
  EXPECT_EQ(build([](GGUFWriter &w) {
              w.addString("tokenizer.ggml.model", "llama");
            }),
            "tokenizer: tokenizer.ggml.tokens is missing or not an array of "
            "strings");
  EXPECT_EQ(build([](GGUFWriter &w) {
              w.addString("tokenizer.ggml.model", "llama");
              w.addStringArray("tokenizer.ggml.tokens", {"a", "b"});
              w.addFloat32Array("tokenizer.ggml.scores", {0.0f});
            }),
            "tokenizer: scores has 1 entries for 2 tokens");
  EXPECT_EQ(build([](GGUFWriter &w) {
              w.addString("tokenizer.ggml.model", "llama");
              w.addStringArray("tokenizer.ggml.tokens", {"a", "b"});
              w.addUInt32("tokenizer.ggml.bos_token_id", 2);
            }),
            "tokenizer: special token id 2 is outside the vocabulary");
  EXPECT_EQ(build([](GGUFWriter &w) {
              w.addString("tokenizer.ggml.model", "gpt2");
              w.addStringArray("tokenizer.ggml.tokens", {"a", "b"});
            }),
            "tokenizer: tokenizer.ggml.merges is missing or not an array of "
            "strings");
  EXPECT_EQ(build([](GGUFWriter &w) {
              w.addString("tokenizer.ggml.model", "gpt2");
              w.addStringArray("tokenizer.ggml.tokens", {"a", "b"});
              w.addStringArray("tokenizer.ggml.merges", {"ab"});
            }),
            "tokenizer: malformed merge #0 'ab'");
  EXPECT_EQ(build([](GGUFWriter &w) {
              w.addString("tokenizer.ggml.model", "llama");
              w.addStringArray("tokenizer.ggml.tokens", {"a", "b"});
            }),
            "");
}

// SmolLM2-135M's tokenizer (GPT-2 byte-level BPE, "smollm" pre-tokenizer)
// when the model has been fetched (see ../shared/data/README.md): from
// SLR_SMOLLM2_GGUF, else where scripts/fetch-smollm2.sh caches it.
TEST(SmolLMTokenizerTest, EncodesWikiTextLosslessly) {
  std::optional<std::string> path =
      llvm::sys::Process::GetEnv("SLR_SMOLLM2_GGUF");
  if (!path) {
    std::optional<std::string> home = llvm::sys::Process::GetEnv("HOME");
    if (home)
      path = *home + "/.cache/slr/SmolLM2-135M-Instruct.Q4_1.gguf";
  }
  if (!path || !llvm::sys::fs::exists(*path))
    GTEST_SKIP() << "set SLR_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf "
                    "or run scripts/fetch-smollm2.sh";
  auto file = llvm::cantFail(GGUFFile::open(*path));
  auto tokenizer = llvm::cantFail(Tokenizer::fromGGUF(*file));
  EXPECT_EQ(tokenizer->getKind(), Tokenizer::Kind::BytePairGPT2);
  EXPECT_EQ(tokenizer->getVocabularySize(), 49152);
  std::string text =
      " = Robert Boulter = \n \n Robert Boulter is an English film , "
      "television and theatre actor . He had a guest @-@ starring role in "
      "2000 .\n";
  std::vector<int32_t> ids = tokenizer->encode(text);
  EXPECT_EQ(tokenizer->decode(ids), text);
  std::vector<std::string> pieces;
  for (int32_t id : ids)
    pieces.push_back(tokenizer->decodeToken(id));
  // Whole words with their leading space, digits one by one.
  EXPECT_EQ(pieces[0], " =");
  EXPECT_EQ(pieces[1], " Robert");
  auto year = std::find(pieces.begin(), pieces.end(), "2");
  ASSERT_NE(year, pieces.end());
  EXPECT_EQ(*std::prev(year), " ");
  EXPECT_EQ(*std::next(year), "0");

  // The heap-based merge loop gives the quadratic loop's ids on real merges.
  auto wiki = llvm::MemoryBuffer::getFile(sharedDataPath("text/wiki.test.raw"));
  if (!wiki)
    return;
  const GGUFValue *merges = file->findMetadata("tokenizer.ggml.merges");
  ASSERT_NE(merges, nullptr);
  MergeTable table = makeMergeTable(*tokenizer, merges->getStrings());
  llvm::StringRef sample = (*wiki)->getBuffer().take_front(100000);
  EXPECT_EQ(tokenizer->encode(sample),
            encodeQuadratic(*tokenizer, table, sample));
}

//===----------------------------------------------------------------------===//
// Hugging Face tokenizer.json
//===----------------------------------------------------------------------===//

std::optional<std::string> smolLMPath() {
  std::optional<std::string> path =
      llvm::sys::Process::GetEnv("SLR_SMOLLM2_GGUF");
  if (!path) {
    std::optional<std::string> home = llvm::sys::Process::GetEnv("HOME");
    if (home)
      path = *home + "/.cache/slr/SmolLM2-135M-Instruct.Q4_1.gguf";
  }
  if (!path || !llvm::sys::fs::exists(*path))
    return std::nullopt;
  return path;
}

/// Writes `original` as tokenizer.json, reads it back, and checks that both
/// tokenize `samples` and `text` (a real corpus) identically.
void expectSameThroughTokenizerJSON(const Tokenizer &original,
                                    llvm::ArrayRef<std::string> samples,
                                    llvm::StringRef text) {
  llvm::Expected<llvm::json::Value> json = original.toHuggingFaceJSON();
  ASSERT_TRUE(static_cast<bool>(json)) << llvm::toString(json.takeError());
  std::string serialized = llvm::formatv("{0}", *json).str();
  auto read = Tokenizer::fromHuggingFaceJSON(serialized, original.getBosId(),
                                             original.getEosId());
  ASSERT_TRUE(static_cast<bool>(read)) << llvm::toString(read.takeError());
  const Tokenizer &copy = **read;
  EXPECT_EQ(copy.getKind(), original.getKind());
  EXPECT_EQ(copy.getPreTokenizer(), original.getPreTokenizer());
  EXPECT_EQ(copy.getVocabularySize(), original.getVocabularySize());
  EXPECT_EQ(copy.getBosId(), original.getBosId());
  EXPECT_EQ(copy.getEosId(), original.getEosId());
  EXPECT_EQ(copy.getAddBos(), original.getAddBos());
  EXPECT_EQ(copy.getAddSpacePrefix(), original.getAddSpacePrefix());
  for (int32_t id = 0; id < original.getVocabularySize(); ++id) {
    ASSERT_EQ(copy.getTokenText(id), original.getTokenText(id)) << id;
    ASSERT_EQ(copy.decodeToken(id), original.decodeToken(id)) << id;
  }
  for (const std::string &sample : samples) {
    std::vector<int32_t> ids = original.encode(sample);
    EXPECT_EQ(copy.encode(sample), ids) << sample;
    EXPECT_EQ(copy.decode(ids), original.decode(ids)) << sample;
  }
  EXPECT_EQ(copy.encode(text), original.encode(text));
}

const std::vector<std::string> kTokenizerSamples = {
    "",
    "Once upon a time, there was a little girl named Lily.",
    "  two  spaces and a tab\tand\nnew lines\n\n",
    "digits 1234567 and 3.14, punctuation!?;: (quotes) \"x\" 'y' it's",
    "caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac 5 \xf0\x9f\x98\x80 "
    "\xe4\xb8\xad\xe6\x96\x87",
    "\xff\xfe invalid bytes \xc3",
    "<s> special text </s> <|im_start|>"};

TEST(HuggingFaceTokenizerTest, StoriesRoundTripsThroughTokenizerJSON) {
  std::string path = sharedDataPath("models/stories260K.gguf");
  if (!llvm::sys::fs::exists(path))
    GTEST_SKIP() << "no " << path;
  auto file = llvm::cantFail(GGUFFile::open(path));
  auto tokenizer = llvm::cantFail(Tokenizer::fromGGUF(*file));
  ASSERT_EQ(tokenizer->getKind(), Tokenizer::Kind::SentencePiece);
  auto stories =
      llvm::MemoryBuffer::getFile(sharedDataPath("text/tinystories_val.txt"));
  ASSERT_TRUE(static_cast<bool>(stories));
  expectSameThroughTokenizerJSON(*tokenizer, kTokenizerSamples,
                                 (*stories)->getBuffer().take_front(200000));
}

TEST(HuggingFaceTokenizerTest, SmolLMRoundTripsThroughTokenizerJSON) {
  std::optional<std::string> path = smolLMPath();
  if (!path)
    GTEST_SKIP() << "set SLR_SMOLLM2_GGUF or run scripts/fetch-smollm2.sh";
  auto file = llvm::cantFail(GGUFFile::open(*path));
  auto tokenizer = llvm::cantFail(Tokenizer::fromGGUF(*file));
  ASSERT_EQ(tokenizer->getKind(), Tokenizer::Kind::BytePairGPT2);
  auto wiki = llvm::MemoryBuffer::getFile(sharedDataPath("text/wiki.test.raw"));
  ASSERT_TRUE(static_cast<bool>(wiki));
  expectSameThroughTokenizerJSON(*tokenizer, kTokenizerSamples,
                                 (*wiki)->getBuffer().take_front(200000));
}

TEST(HuggingFaceTokenizerTest, ReadsHandWrittenTokenizers) {
  // Byte-level, in the shape transformers writes (merges as pairs, the
  // Llama 3 Split pattern, BOS from the template).
  auto byteLevel = Tokenizer::fromHuggingFaceJSON(R"({
    "added_tokens": [{"id": 5, "content": "<|bos|>", "special": true}],
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex":
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}}]},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3,
                                       "\u0120ab": 4},
              "merges": [["a", "b"], ["\u0120", "ab"]]}})");
  ASSERT_TRUE(static_cast<bool>(byteLevel))
      << llvm::toString(byteLevel.takeError());
  EXPECT_EQ((*byteLevel)->getPreTokenizer(), Tokenizer::PreTokenizer::Llama3);
  EXPECT_EQ((*byteLevel)->getBosId(), 5);
  EXPECT_TRUE((*byteLevel)->getAddBos());
  EXPECT_EQ((*byteLevel)->getTokenType(5), Tokenizer::Control);
  EXPECT_EQ((*byteLevel)->encode("ab ab"), (std::vector<int32_t>{2, 4}));

  // SentencePiece-style with a Metaspace pre-tokenizer (prepend "first"):
  // merges rank the results, byte fallback for the rest.
  auto sentencePiece = Tokenizer::fromHuggingFaceJSON(R"({
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                      "prepend_scheme": "first", "split": false},
    "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
      "vocab": {"<unk>": 0, "<0x21>": 1, "\u2581": 2, "a": 3, "b": 4,
                "\u2581a": 5, "ab": 6, "\u2581ab": 7},
      "merges": ["a b", "\u2581 a", "\u2581 ab", "\u2581a b"]}})",
                                                      /*bosId=*/-1,
                                                      /*eosId=*/0);
  ASSERT_TRUE(static_cast<bool>(sentencePiece))
      << llvm::toString(sentencePiece.takeError());
  EXPECT_EQ((*sentencePiece)->getKind(), Tokenizer::Kind::SentencePiece);
  EXPECT_TRUE((*sentencePiece)->getAddSpacePrefix());
  EXPECT_FALSE((*sentencePiece)->getAddBos());
  EXPECT_EQ((*sentencePiece)->getUnknownId(), 0);
  EXPECT_EQ((*sentencePiece)->getTokenType(1), Tokenizer::Byte);
  // "▁ab!": ab first (rank 0), then ▁+ab; "!" by byte fallback.
  EXPECT_EQ((*sentencePiece)->encode("ab!"), (std::vector<int32_t>{7, 1}));
  EXPECT_EQ((*sentencePiece)->decode({7, 1}), "ab!");

  // A token no merge makes is never joined, as in the tokenizers library:
  // without merges "ab" stays "▁", "a", "b". Before, all such tokens shared
  // one lowest score, and the file written back (merges ordered by id)
  // encoded differently (found by slr-fuzz-hf).
  auto noMerges = Tokenizer::fromHuggingFaceJSON(R"({
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                      "prepend_scheme": "first", "split": false},
    "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
      "vocab": {"<unk>": 0, "<0x21>": 1, "\u2581": 2, "a": 3, "b": 4,
                "\u2581a": 5, "ab": 6, "\u2581ab": 7}}})");
  ASSERT_TRUE(static_cast<bool>(noMerges))
      << llvm::toString(noMerges.takeError());
  EXPECT_EQ((*noMerges)->encode("ab!"), (std::vector<int32_t>{2, 3, 4, 1}));
  llvm::Expected<llvm::json::Value> written = (*noMerges)->toHuggingFaceJSON();
  ASSERT_TRUE(static_cast<bool>(written))
      << llvm::toString(written.takeError());
  std::string text;
  llvm::raw_string_ostream os(text);
  os << *written;
  auto reread = Tokenizer::fromHuggingFaceJSON(text);
  ASSERT_TRUE(static_cast<bool>(reread)) << llvm::toString(reread.takeError());
  EXPECT_EQ((*reread)->encode("ab!"), (std::vector<int32_t>{2, 3, 4, 1}));
}

TEST(HuggingFaceTokenizerTest, RejectsBadTokenizerJSON) {
  auto error = [](llvm::StringRef text) {
    auto tokenizer = Tokenizer::fromHuggingFaceJSON(text);
    return tokenizer ? std::string() : llvm::toString(tokenizer.takeError());
  };
  const char *byteLevel = R"("pre_tokenizer": {"type": "ByteLevel",
      "add_prefix_space": false})";
  auto bpe = [&](llvm::StringRef model) {
    return error(("{" + llvm::Twine(byteLevel) +
                  ", \"model\": {\"type\": " + "\"BPE\", " + model + "}}")
                     .str());
  };
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"])"),
            "");
  // Merges of, or into, text that is not a token (the tokenizers library
  // refuses them too).
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "b": 1}, "merges": ["a b"])"),
            "tokenizer.json: merge #0 'a b': 'ab' is not a token");
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "ac": 1}, "merges": [["a", "c"]])"),
            "tokenizer.json: merge #0 'a c': 'c' is not a token");
  EXPECT_EQ(error("{"), "tokenizer.json: [1:1, byte=1]: Expected object key");
  EXPECT_EQ(error("[]"), "tokenizer.json: not a JSON object");
  // Deep nesting is refused before the recursive parser overflows the stack.
  EXPECT_EQ(error(std::string(100000, '[')),
            "tokenizer.json: nests arrays or objects deeper than 64 levels");
  EXPECT_EQ(error(R"({"model": {"type": "Unigram", "vocab": []}})"),
            "tokenizer.json: unsupported model type 'Unigram' (slr reads BPE "
            "tokenizers)");
  EXPECT_EQ(bpe(R"("vocab": [])"),
            "tokenizer.json: model.vocab is missing or not an object");
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "b": 2})"),
            "tokenizer.json: no token has id 1 (of 3)");
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "b": -1})"),
            "tokenizer.json: model.vocab token 'b' has no valid id");
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "b": 99999999})"),
            "tokenizer.json: model.vocab token 'b' has id 99999999, beyond "
            "any vocabulary this file can hold");
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "b": 1}, "merges": ["ab"])"),
            "tokenizer.json: malformed merge #0 'ab'");
  EXPECT_EQ(bpe(R"("vocab": {"a": 0, "b": 1}, "merges": [["a"]])"),
            "tokenizer.json: malformed merge #0");
  EXPECT_EQ(bpe(R"("vocab": {"a": 0}, "unk_token": "<unk>")"),
            "tokenizer.json: model.unk_token is not a token");
  EXPECT_EQ(error(R"({"added_tokens": [{"id": 0, "content": "x"}],
                      "model": {"type": "BPE", "vocab": {"a": 0}}})"),
            "tokenizer.json: id 0 is both 'a' and 'x'");
  EXPECT_EQ(error(R"({"pre_tokenizer": {"type": "Whitespace"},
                      "model": {"type": "BPE", "vocab": {"a": 0}}})"),
            "tokenizer.json: unsupported pre_tokenizer 'Whitespace' for a "
            "SentencePiece-style tokenizer");
  EXPECT_EQ(error(R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                        {"type": "Split", "pattern": {"Regex": "\\w+"}},
                        {"type": "ByteLevel", "add_prefix_space": false}]},
                      "model": {"type": "BPE", "vocab": {"a": 0}}})"),
            "tokenizer.json: unsupported pre_tokenizer (slr reads ByteLevel "
            "alone, after individual Digits, or after the GPT-2 or Llama 3 "
            "Split pattern)");
  EXPECT_EQ(error(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})"),
            "tokenizer.json: neither a byte-level nor a SentencePiece-style "
            "tokenizer (no ByteLevel pre-tokenizer, no \"\xe2\x96\x81\" for "
            "spaces)");
  EXPECT_EQ(error(R"({"normalizer": {"type": "Replace", "pattern":
                        {"String": " "}, "content": "\u2581"},
                      "model": {"type": "BPE", "vocab": {"a": 0}}})"),
            "tokenizer.json: SentencePiece-style tokenizers need "
            "byte_fallback");
  EXPECT_EQ(error(R"({"normalizer": {"type": "NFKC"},
                      "model": {"type": "BPE", "vocab": {"a": 0}}})"),
            "tokenizer.json: unsupported normalizer 'NFKC'");
  auto outside = Tokenizer::fromHuggingFaceJSON(
      ("{" + llvm::Twine(byteLevel) +
       R"(, "model": {"type": "BPE", "vocab": {"a": 0}}})")
          .str(),
      /*bosId=*/3);
  ASSERT_FALSE(static_cast<bool>(outside));
  EXPECT_EQ(llvm::toString(outside.takeError()),
            "tokenizer.json: special token id 3 is outside the vocabulary of "
            "1");
}

} // namespace
