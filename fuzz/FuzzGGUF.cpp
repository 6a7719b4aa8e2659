//===- FuzzGGUF.cpp - libFuzzer target: GGUF reader and what reads it -----===//
//
// Feeds the input to GGUFFile::parse and, when it parses, to everything that
// consumes a GGUF: the typed metadata getters, every tensor's dequantisation,
// the tokenizer built from tokenizer.ggml.* (which then encodes and decodes a
// fixed text), the llama hyper-parameters, and for small models the whole
// importer (model IR, verified). Errors are the expected outcome and are
// dropped; a crash, sanitizer report, hang or IR that does not verify is a
// finding.
//
//===----------------------------------------------------------------------===//

#include "FuzzCommon.h"

#include "slr/Import/LlamaImporter.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

using namespace slr;

static void touchValue(const GGUFValue &value) {
  (void)value.getAsInteger();
  (void)value.getAsUnsigned();
  (void)value.getAsDouble();
  (void)value.getAsBool();
  (void)value.getAsString();
  if (!value.isArray())
    return;
  (void)value.getIntegerArray();
  (void)value.getDoubleArray();
  size_t size = value.getArraySize();
  // A few elements, and the last: nested arrays recurse.
  for (size_t i = 0; i < size && i < 4; ++i)
    touchValue(value.getArrayElement(i));
  if (size > 0)
    touchValue(value.getArrayElement(size - 1));
}

static void fuzzTokenizer(const GGUFFile &file) {
  auto tokenizer = Tokenizer::fromGGUF(file);
  if (!tokenizer) {
    slr::fuzz::dropError(tokenizer.takeError());
    return;
  }
  const Tokenizer &t = **tokenizer;
  static const char kText[] = "Once upon a time, Lily's 3 cats ran 1234 m.\n"
                              "\xe2\x96\x81 caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c"
                              "\xac \xf0\x9f\x98\x80 \xff\xfe  \t\r\n end";
  std::vector<int32_t> ids = t.encode(kText);
  for (int32_t id : ids)
    SLR_FUZZ_CHECK(id >= 0 && id < t.getVocabularySize());
  (void)t.decode(ids);
  for (int32_t id : {t.getBosId(), t.getEosId(), t.getUnknownId(), -1, 0,
                     t.getVocabularySize()}) {
    (void)t.decodeToken(id);
    (void)t.getTokenText(id);
  }
}

// The importer materialises every weight as f32 in the IR; keep what a
// fuzzed header may ask for within the input's own size class.
static constexpr int64_t kMaxImportElements = 1 << 20;

static void fuzzImport(const GGUFFile &file) {
  auto config = readLlamaConfig(file);
  if (!config) {
    slr::fuzz::dropError(config.takeError());
    return;
  }
  uint64_t elements = 0;
  for (const GGUFTensorInfo &tensor : file.getTensors())
    elements += tensor.numElements;
  if (elements > kMaxImportElements)
    return;
  mlir::DialectRegistry registry;
  registerLlamaModelDialects(registry);
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  slr::fuzz::SilenceDiagnostics silence(context);
  auto module = importLlamaGGUF(context, file);
  if (!module) {
    slr::fuzz::dropError(module.takeError());
    return;
  }
  // The importer succeeded, so its IR must be valid.
  SLR_FUZZ_CHECK(mlir::succeeded(mlir::verify(**module)));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto file = GGUFFile::parse(slr::fuzz::borrowBuffer(data, size, "fuzz.gguf"));
  if (!file) {
    slr::fuzz::dropError(file.takeError());
    return 0;
  }
  const GGUFFile &gguf = **file;
  for (const auto &entry : gguf.getMetadata())
    touchValue(entry.second);
  for (const char *key : {"general.architecture", "llama.context_length",
                          "llama.rope.freq_base", "general.alignment"}) {
    slr::fuzz::dropError(gguf.getInteger(key).takeError());
    slr::fuzz::dropError(gguf.getDouble(key, 0.0).takeError());
    slr::fuzz::dropError(gguf.getString(key).takeError());
    slr::fuzz::dropError(gguf.getBool(key, false).takeError());
  }
  for (const GGUFTensorInfo &tensor : gguf.getTensors()) {
    llvm::ArrayRef<uint8_t> bytes = gguf.getTensorBytes(tensor);
    SLR_FUZZ_CHECK(bytes.size() == tensor.numBytes);
    auto values = gguf.readTensorAsFloat(tensor);
    if (!values) {
      slr::fuzz::dropError(values.takeError());
      continue;
    }
    SLR_FUZZ_CHECK(values->size() == tensor.numElements);
  }
  fuzzTokenizer(gguf);
  fuzzImport(gguf);
  return 0;
}
