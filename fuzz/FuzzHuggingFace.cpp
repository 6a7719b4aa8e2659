//===- FuzzHuggingFace.cpp - libFuzzer target: HF config / tokenizer JSON -===//
//
// Reads the input both as a Hugging Face config.json and as a
// tokenizer.json, the two JSON files of a checkpoint folder slr-import and
// slr-eval parse. Checks, for input that reads:
//  - config.json: toLlamaConfig's result validates, its tensor specs have
//    positive shapes, and toHuggingFaceLlamaConfig -> toJSON -> parse ->
//    toLlamaConfig gives the same model config;
//  - tokenizer.json: a non-empty vocabulary, BOS/EOS ids in it, encode of a
//    fixed text gives ids in the vocabulary, and toHuggingFaceJSON (when the
//    tokens are UTF-8) reads back into a tokenizer of the same vocabulary
//    that encodes the text alike.
//
//===----------------------------------------------------------------------===//

#include "FuzzCommon.h"

#include "slr/Import/HuggingFaceLlama.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/Support/JSON.h"

using namespace slr;

static void fuzzConfig(llvm::StringRef text) {
  llvm::Expected<HuggingFaceLlamaConfig> hf = parseHuggingFaceLlamaConfig(text);
  if (!hf)
    return fuzz::dropError(hf.takeError());
  llvm::Expected<LlamaConfig> config = toLlamaConfig(*hf);
  if (!config)
    return fuzz::dropError(config.takeError());
  if (llvm::Error error = config->validate()) {
    llvm::errs() << "validate: " << llvm::toString(std::move(error)) << "\n";
    SLR_FUZZ_CHECK(false);
  }
  for (const LlamaTensorSpec &spec : getLlamaTensorSpecs(*config))
    for (int64_t extent : spec.shape)
      SLR_FUZZ_CHECK(extent > 0);

  std::string written;
  llvm::raw_string_ostream os(written);
  os << toJSON(toHuggingFaceLlamaConfig(*config));
  llvm::Expected<HuggingFaceLlamaConfig> reread =
      parseHuggingFaceLlamaConfig(written);
  if (!reread) {
    llvm::errs() << "re-read: " << llvm::toString(reread.takeError()) << "\n";
    SLR_FUZZ_CHECK(false);
  }
  llvm::Expected<LlamaConfig> again = toLlamaConfig(*reread);
  if (!again) {
    llvm::errs() << "re-read: " << llvm::toString(again.takeError()) << "\n";
    SLR_FUZZ_CHECK(false);
  }
  SLR_FUZZ_CHECK(again->vocabSize == config->vocabSize &&
                 again->dim == config->dim &&
                 again->hiddenDim == config->hiddenDim &&
                 again->numLayers == config->numLayers &&
                 again->numHeads == config->numHeads &&
                 again->numKVHeads == config->numKVHeads &&
                 again->contextLength == config->contextLength &&
                 again->tiedOutput == config->tiedOutput);
}

static void checkEncode(const Tokenizer &tokenizer,
                        const std::vector<int32_t> &ids) {
  for (int32_t id : ids)
    SLR_FUZZ_CHECK(id >= 0 && id < tokenizer.getVocabularySize());
}

static void fuzzTokenizer(llvm::StringRef text) {
  auto tokenizer = Tokenizer::fromHuggingFaceJSON(text);
  if (!tokenizer)
    return fuzz::dropError(tokenizer.takeError());
  const Tokenizer &t = **tokenizer;
  SLR_FUZZ_CHECK(t.getVocabularySize() > 0);
  for (int32_t id : {t.getBosId(), t.getEosId(), t.getUnknownId()})
    SLR_FUZZ_CHECK(id >= -1 && id < t.getVocabularySize());
  static const char *kText =
      "Once upon a time, don't 123 caf\xc3\xa9 \xe2\x96\x81 "
      "\xf0\x9f\x98\x80 \xff <s>";
  std::vector<int32_t> ids = t.encode(kText);
  checkEncode(t, ids);
  (void)t.decode(ids);

  llvm::Expected<llvm::json::Value> json = t.toHuggingFaceJSON();
  if (!json)
    return fuzz::dropError(json.takeError()); // tokens that are not UTF-8
  std::string written;
  llvm::raw_string_ostream os(written);
  os << *json;
  auto reread =
      Tokenizer::fromHuggingFaceJSON(written, t.getBosId(), t.getEosId());
  if (!reread) {
    llvm::errs() << "re-read: " << llvm::toString(reread.takeError()) << "\n";
    SLR_FUZZ_CHECK(false);
  }
  SLR_FUZZ_CHECK((*reread)->getVocabularySize() == t.getVocabularySize());
  SLR_FUZZ_CHECK((*reread)->encode(kText) == ids);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = fuzz::borrowBuffer(data, size, "input.json");
  fuzzConfig(buffer->getBuffer());
  fuzzTokenizer(buffer->getBuffer());
  return 0;
}
