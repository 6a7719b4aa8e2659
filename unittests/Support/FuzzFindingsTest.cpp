//===- FuzzFindingsTest.cpp - Inputs found by the fuzz targets ------------===//
//
// Each test feeds a minimised input that one of the fuzz/ targets found to
// the reader it broke (see docs/RELIABILITY.md).
//
//===----------------------------------------------------------------------===//

#include "slr/Support/Tokenizer.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace slr;

namespace {

/// A SentencePiece vocabulary with byte fallback: <unk>, <s>, </s>, the 256
/// byte tokens, "▁" and "a".
std::unique_ptr<Tokenizer> makeByteFallbackTokenizer() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {Tokenizer::Unknown, Tokenizer::Control,
                                Tokenizer::Control};
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    snprintf(name, sizeof(name), "<0x%02X>", byte);
    tokens.push_back(name);
    types.push_back(Tokenizer::Byte);
  }
  tokens.push_back("\xe2\x96\x81");
  tokens.push_back("a");
  types.push_back(Tokenizer::Normal);
  types.push_back(Tokenizer::Normal);
  std::vector<float> scores(tokens.size(), 0.0f);
  return llvm::cantFail(Tokenizer::createSentencePiece(
      std::move(tokens), std::move(scores), std::move(types), /*bosId=*/1,
      /*eosId=*/2, /*unknownId=*/0));
}

// slr-fuzz-tokenizer: an invalid UTF-8 lead byte before a space swallowed the
// first byte of the space marker, so the space decoded as the bytes of "▁".
TEST(FuzzFindingsTest, SentencePieceInvalidLeadByteBeforeSpace) {
  std::unique_ptr<Tokenizer> tokenizer = makeByteFallbackTokenizer();
  for (std::string text :
       {"\xc3 a", "a\xe2\x96 a", "\xf0\x9f a \xff", "\xc3"}) {
    std::vector<int32_t> ids = tokenizer->encode(text);
    EXPECT_EQ(tokenizer->decode(ids), text);
    // The space is the "▁" token, never the byte token of 0xE2.
    EXPECT_EQ(std::count(ids.begin(), ids.end(), tokenizer->lookup("<0xE2>")),
              std::count(text.begin(), text.end(), '\xe2'));
  }
}

} // namespace
