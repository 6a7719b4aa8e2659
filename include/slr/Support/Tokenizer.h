//===- Tokenizer.h - Tokenizers described by GGUF metadata ------*- C++ -*-===//
//
// The two tokenizer families llama-architecture GGUF files carry:
//
//  - "llama": SentencePiece-style BPE over a scored vocabulary. Spaces become
//    U+2581 ("▁"), a leading "▁" is added (add_dummy_prefix), then adjacent
//    symbols are merged greedily, always the pair whose merged text is the
//    vocabulary entry with the highest score (leftmost on ties). Characters
//    missing from the vocabulary fall back to byte tokens "<0xNN>".
//  - "gpt2": byte-level BPE. The text is split by a pre-tokenizer regex
//    (implemented by hand: GPT-2's, Llama-3's, or GPT-2's with single digits
//    for SmolLM/StarCoder, chosen by tokenizer.ggml.pre), bytes are mapped to
//    printable characters (GPT-2's bytes_to_unicode), and the ranked
//    tokenizer.ggml.merges are applied lowest rank first.
//
// Special tokens in the input text are not parsed; they are encoded as text.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_TOKENIZER_H
#define SLR_SUPPORT_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slr {

class GGUFFile;

class Tokenizer {
public:
  enum class Kind { SentencePiece, BytePairGPT2 };
  /// Pre-tokenizer split patterns for the GPT-2 kind.
  enum class PreTokenizer {
    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
    /// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    GPT2,
    /// GPT2 after splitting every digit off on its own (SmolLM, StarCoder).
    GPT2SingleDigits,
    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    ///  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Llama3,
  };

  /// GGUF token types (tokenizer.ggml.token_type).
  enum TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
  };

  /// Builds the tokenizer described by the tokenizer.ggml.* metadata.
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromGGUF(const GGUFFile &file);

  /// Builds a SentencePiece-style tokenizer from a vocabulary (tests).
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  createSentencePiece(std::vector<std::string> tokens,
                      std::vector<float> scores,
                      std::vector<int32_t> tokenTypes, int32_t bosId,
                      int32_t eosId, int32_t unknownId);
  /// Builds a byte-level BPE tokenizer from a vocabulary and merges ("a b").
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  createBytePair(std::vector<std::string> tokens,
                 llvm::ArrayRef<std::string> merges,
                 std::vector<int32_t> tokenTypes, PreTokenizer preTokenizer,
                 int32_t bosId, int32_t eosId, int32_t unknownId);

  /// Token ids for `text`, without BOS/EOS.
  std::vector<int32_t> encode(llvm::StringRef text) const;
  /// Text of `ids`: control tokens (BOS, EOS, ...) are dropped, byte tokens
  /// become bytes, and for SentencePiece the dummy-prefix space of the first
  /// token is removed, so decode(encode(s)) == s.
  std::string decode(llvm::ArrayRef<int32_t> ids) const;
  /// The text one token contributes in the middle of a sequence.
  std::string decodeToken(int32_t id) const;

  /// The GPT-2 pre-tokenizer's pieces of `text` (exposed for tests).
  std::vector<llvm::StringRef> preTokenize(llvm::StringRef text) const;

  Kind getKind() const { return kind; }
  int32_t getVocabularySize() const {
    return static_cast<int32_t>(tokens.size());
  }
  /// -1 when the model defines none.
  int32_t getBosId() const { return bosId; }
  int32_t getEosId() const { return eosId; }
  int32_t getUnknownId() const { return unknownId; }
  /// tokenizer.ggml.add_bos_token (true by default for SentencePiece).
  bool getAddBos() const { return addBos; }
  llvm::StringRef getTokenText(int32_t id) const;
  /// The id of a vocabulary entry, or -1.
  int32_t lookup(llvm::StringRef tokenText) const;

private:
  Tokenizer() = default;
  llvm::Error initializeVocabulary();
  void encodeSentencePiece(llvm::StringRef text,
                           std::vector<int32_t> &out) const;
  void encodeBytePairPiece(llvm::StringRef piece,
                           std::vector<int32_t> &out) const;
  void appendByteTokens(llvm::StringRef bytes, std::vector<int32_t> &out) const;

  Kind kind = Kind::SentencePiece;
  PreTokenizer preTokenizer = PreTokenizer::GPT2;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> tokenTypes;
  llvm::StringMap<int32_t> tokenIds;
  int32_t bosId = -1;
  int32_t eosId = -1;
  int32_t unknownId = -1;
  bool addBos = true;
  bool addSpacePrefix = true;
  /// SentencePiece byte-fallback tokens "<0xNN>" by byte value (-1: none).
  int32_t byteTokens[256];
  /// Byte-level BPE: (left id, right id) -> (rank, merged id).
  llvm::DenseMap<uint64_t, std::pair<int32_t, int32_t>> merges;
  /// Byte-level BPE: token id of each byte's printable character.
  int32_t byteCharTokens[256];
};

} // namespace slr

#endif // SLR_SUPPORT_TOKENIZER_H
