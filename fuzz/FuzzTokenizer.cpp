//===- FuzzTokenizer.cpp - libFuzzer target: tokenizers on any text -------===//
//
// Encodes the input as text with the real tokenizers: stories260K's
// SentencePiece-style BPE (../shared/data, required) and SmolLM2-135M's GPT-2
// byte-level BPE (when fetched: SLR_SMOLLM2_GGUF, else
// ~/.cache/slr/SmolLM2-135M-Instruct.Q4_1.gguf, as the unit tests find it).
// Checks what Tokenizer.h promises: ids in the vocabulary, and
// decode(encode(s)) == s, except where the vocabulary cannot represent s:
// SentencePiece text containing U+2581 itself (the space marker), GPT-2 text
// with a byte whose printable character is not a token (SmolLM2 lacks 21:
// 0x04, 0x06, ..., 0xC0, 0xC1, 0xF1-0xFF; they become the unknown token).
//
//===----------------------------------------------------------------------===//

#include "FuzzCommon.h"

#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"
#include "slr/Support/Unicode.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"

#include <vector>

using namespace slr;

namespace {
struct LoadedTokenizer {
  std::unique_ptr<GGUFFile> file;
  std::unique_ptr<Tokenizer> tokenizer;
  /// GPT-2 kind: whether each byte's printable character is a token.
  bool representable[256];
};
} // namespace

/// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves,
/// the others for U+0100 onwards in byte order.
static std::string byteCharacter(unsigned byte) {
  auto printable = [](unsigned b) {
    return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) ||
           (b >= 0xae && b <= 0xff);
  };
  unsigned codePoint = byte;
  if (!printable(byte)) {
    codePoint = 256;
    for (unsigned b = 0; b < byte; ++b)
      codePoint += !printable(b);
  }
  std::string text;
  appendUTF8(codePoint, text);
  return text;
}

static std::vector<LoadedTokenizer> &tokenizers() {
  static std::vector<LoadedTokenizer> loaded;
  return loaded;
}

static bool load(const std::string &path, bool required) {
  if (!llvm::sys::fs::exists(path)) {
    if (required) {
      llvm::errs() << "slr-fuzz-tokenizer: " << path << " is missing\n";
      std::abort();
    }
    return false;
  }
  auto file = GGUFFile::open(path);
  if (!file) {
    llvm::errs() << "slr-fuzz-tokenizer: " << toString(file.takeError())
                 << "\n";
    std::abort();
  }
  auto tokenizer = Tokenizer::fromGGUF(**file);
  if (!tokenizer) {
    llvm::errs() << "slr-fuzz-tokenizer: " << toString(tokenizer.takeError())
                 << "\n";
    std::abort();
  }
  llvm::errs() << "slr-fuzz-tokenizer: " << path << " ("
               << (*tokenizer)->getVocabularySize() << " tokens)\n";
  LoadedTokenizer loaded{std::move(*file), std::move(*tokenizer), {}};
  for (unsigned byte = 0; byte < 256; ++byte)
    loaded.representable[byte] =
        loaded.tokenizer->lookup(byteCharacter(byte)) >= 0;
  tokenizers().push_back(std::move(loaded));
  return true;
}

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  std::optional<std::string> data =
      llvm::sys::Process::GetEnv("SLR_SHARED_DATA_DIR");
  load((data ? *data : std::string(SLR_SHARED_DATA_DIR)) +
           "/models/stories260K.gguf",
       /*required=*/true);
  std::optional<std::string> smollm =
      llvm::sys::Process::GetEnv("SLR_SMOLLM2_GGUF");
  if (!smollm)
    if (std::optional<std::string> home = llvm::sys::Process::GetEnv("HOME"))
      smollm = *home + "/.cache/slr/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!smollm || !load(*smollm, /*required=*/false))
    llvm::errs() << "slr-fuzz-tokenizer: SmolLM2-135M not found (run "
                    "scripts/fetch-smollm2.sh); GPT-2 BPE not fuzzed\n";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  for (const LoadedTokenizer &loaded : tokenizers()) {
    const Tokenizer &tokenizer = *loaded.tokenizer;
    std::vector<int32_t> ids = tokenizer.encode(text);
    for (int32_t id : ids)
      SLR_FUZZ_CHECK(id >= 0 && id < tokenizer.getVocabularySize());
    SLR_FUZZ_CHECK(text.empty() == ids.empty());
    if (tokenizer.getKind() == Tokenizer::Kind::SentencePiece &&
        text.contains("\xe2\x96\x81"))
      continue;
    if (tokenizer.getKind() == Tokenizer::Kind::BytePairGPT2 &&
        llvm::any_of(text, [&](char c) {
          return !loaded.representable[static_cast<uint8_t>(c)];
        }))
      continue;
    std::string decoded = tokenizer.decode(ids);
    if (decoded != text) {
      llvm::errs() << "round trip differs: ";
      llvm::errs().write_escaped(text) << " -> ";
      llvm::errs().write_escaped(decoded) << "\n";
      SLR_FUZZ_CHECK(false && "decode(encode(text)) != text");
    }
  }
  return 0;
}
