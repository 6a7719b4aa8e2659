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
// Both kinds also read from and write to Hugging Face tokenizer.json (a BPE
// model): byte-level BPE with a ByteLevel pre-tokenizer, and SentencePiece-
// style BPE with byte fallback ("▁" for spaces by a normalizer or a Metaspace
// pre-tokenizer). tokenizer.json ranks merges where SentencePiece scores
// tokens: writing lists every split of every token into two tokens, ordered
// by the score of the result; reading scores each token by the rank of the
// first merge that makes it, so a written file tokenizes as the original.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_TOKENIZER_H
#define SLR_SUPPORT_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

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

  /// Builds the tokenizer a Hugging Face tokenizer.json describes. BOS and
  /// EOS ids come from the post-processor's template when it names them,
  /// else from `bosId` / `eosId` (config.json's bos_token_id, -1: none).
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromHuggingFaceJSON(llvm::StringRef jsonText, int32_t bosId = -1,
                      int32_t eosId = -1);
  /// Reads `folder`/tokenizer.json, with bos_token_id / eos_token_id from
  /// `folder`/config.json when it exists.
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromHuggingFaceFolder(llvm::StringRef folder);
  /// The tokenizer.json of this tokenizer (fromHuggingFaceJSON reads it back
  /// into one that encodes and decodes alike); fails for tokens that are not
  /// valid UTF-8.
  llvm::Expected<llvm::json::Value> toHuggingFaceJSON() const;

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
  PreTokenizer getPreTokenizer() const { return preTokenizer; }
  /// SentencePiece: whether a "▁" is prepended to the text.
  bool getAddSpacePrefix() const { return addSpacePrefix; }
  int32_t getTokenType(int32_t id) const {
    return id >= 0 && id < getVocabularySize() ? tokenTypes[id] : Undefined;
  }
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
