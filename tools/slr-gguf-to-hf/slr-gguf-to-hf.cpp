//===- slr-gguf-to-hf.cpp - llama GGUF to a Hugging Face folder -----------===//
//
//   slr-gguf-to-hf model.gguf -o folder [--dtype=f32|f16|bf16] [--shards=N]
//
// Writes config.json, model.safetensors (or N shards and
// model.safetensors.index.json) and tokenizer.json: the checkpoint
// transformers would load, from the weights (dequantised to f32, then
// stored in --dtype) and tokenizer of the GGUF. q / k rows go back to HF's
// rotate_half order. A developer and test tool: it makes the folders that
// test slr-import's Hugging Face reader from the bundled GGUFs.
//
//===----------------------------------------------------------------------===//

#include "slr/Import/HuggingFaceLlama.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/FloatConversion.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory toolOptions("slr-gguf-to-hf options");

static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.gguf>"),
                                      cl::Required, cl::cat(toolOptions));
static cl::opt<std::string> outputPath("o", cl::desc("output folder"),
                                       cl::value_desc("folder"), cl::Required,
                                       cl::cat(toolOptions));
enum class DType { F32, F16, BF16 };
static cl::opt<DType>
    dtype("dtype", cl::desc("safetensors dtype of the weights"),
          cl::init(DType::F32),
          cl::values(clEnumValN(DType::F32, "f32", "float32"),
                     clEnumValN(DType::F16, "f16", "float16 (rounded)"),
                     clEnumValN(DType::BF16, "bf16", "bfloat16 (rounded)")),
          cl::cat(toolOptions));
static cl::opt<unsigned> numShards(
    "shards",
    cl::desc("number of safetensors shards (1: model.safetensors, no index)"),
    cl::init(1), cl::cat(toolOptions));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-gguf-to-hf") << message << "\n";
  return 1;
}

static std::string pathIn(StringRef name) {
  SmallString<256> path(outputPath);
  sys::path::append(path, name);
  return std::string(path);
}

static Error writeJSON(StringRef name, const json::Value &value) {
  return slr::writeFileAtomically(pathIn(name),
                                  formatv("{0:2}", value).str() + "\n");
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  slr::installToolFatalErrorHandlers("slr-gguf-to-hf");
  cl::HideUnrelatedOptions(toolOptions);
  cl::ParseCommandLineOptions(
      argc, argv, "slr-gguf-to-hf: llama GGUF to a Hugging Face folder\n");
  if (numShards < 1 || numShards > 99)
    return fail("--shards must be in [1, 99]");
  auto file = slr::GGUFFile::open(inputPath);
  if (!file)
    return fail(toString(file.takeError()));
  auto config = slr::readLlamaConfig(**file);
  if (!config)
    return fail(toString(config.takeError()));
  auto tokenizer = slr::Tokenizer::fromGGUF(**file);
  if (!tokenizer)
    return fail(toString(tokenizer.takeError()));
  auto tokenizerJSON = (*tokenizer)->toHuggingFaceJSON();
  if (!tokenizerJSON)
    return fail(toString(tokenizerJSON.takeError()));
  if (std::error_code error = sys::fs::create_directories(outputPath))
    return fail("cannot create '" + outputPath + "': " + error.message());

  const char *dtypeNames[] = {"float32", "float16", "bfloat16"};
  slr::HuggingFaceLlamaConfig hf = slr::toHuggingFaceLlamaConfig(*config);
  hf.torchDtype = dtypeNames[static_cast<int>(dtype.getValue())];
  if ((*tokenizer)->getBosId() >= 0)
    hf.bosTokenId = (*tokenizer)->getBosId();
  if ((*tokenizer)->getEosId() >= 0)
    hf.eosTokenId = (*tokenizer)->getEosId();
  if (Error error = writeJSON("config.json", slr::toJSON(hf)))
    return fail(toString(std::move(error)));
  if (Error error = writeJSON("tokenizer.json", *tokenizerJSON))
    return fail(toString(std::move(error)));

  // Shards of about equal size, tensors in checkpoint order.
  std::vector<slr::LlamaTensorSpec> specs = slr::getLlamaTensorSpecs(*config);
  uint64_t elementBytes = dtype == DType::F32 ? 4 : 2, totalBytes = 0;
  for (const slr::LlamaTensorSpec &spec : specs) {
    uint64_t count = 1;
    for (int64_t dim : spec.shape)
      count *= dim;
    totalBytes += count * elementBytes;
  }
  json::Object weightMap;
  slr::SafetensorsWriter writer;
  unsigned shard = 0;
  uint64_t written = 0;
  auto shardName = [&](unsigned index) {
    return numShards == 1 ? std::string("model.safetensors")
                          : formatv("model-{0:d5}-of-{1:d5}.safetensors",
                                    index + 1, unsigned(numShards))
                                .str();
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    const slr::LlamaTensorSpec &spec = specs[i];
    auto values = (*file)->readTensorAsFloat(spec.ggufName);
    if (!values)
      return fail(toString(values.takeError()));
    if (spec.ropeRows != slr::RopeRows::None)
      *values = slr::permuteRopeRows(
          *values,
          spec.ropeRows == slr::RopeRows::Query ? config->numHeads
                                                : config->numKVHeads,
          config->headDim(), spec.shape.back(), slr::RopePermutation::GGUFToHF);
    std::string hfName = *slr::getHFTensorName(spec.ggufName);
    if (dtype == DType::F32) {
      writer.addF32(hfName, spec.shape, *values);
    } else {
      std::vector<uint8_t> bytes(values->size() * 2);
      for (size_t j = 0; j < values->size(); ++j) {
        uint16_t bits = dtype == DType::F16
                            ? slr::floatToHalf((*values)[j])
                            : slr::floatToBfloat16((*values)[j]);
        bytes[2 * j] = bits & 0xff;
        bytes[2 * j + 1] = bits >> 8;
      }
      writer.addRaw(hfName,
                    dtype == DType::F16 ? slr::SafetensorsDType::F16
                                        : slr::SafetensorsDType::BF16,
                    spec.shape, bytes);
    }
    weightMap[hfName] = shardName(shard);
    written += values->size() * elementBytes;
    bool last = i + 1 == specs.size();
    if (last || (shard + 1 < numShards &&
                 written * numShards >= totalBytes * (shard + 1))) {
      writer.setMetadata("format", "pt");
      if (Error error = writer.write(pathIn(shardName(shard))))
        return fail(toString(std::move(error)));
      writer = slr::SafetensorsWriter();
      ++shard;
    }
  }
  if (shard != numShards)
    return fail("the model has too few tensors for " + Twine(numShards) +
                " shards");
  if (numShards > 1) {
    json::Object index{
        {"metadata", json::Object{{"total_size", int64_t(totalBytes)}}},
        {"weight_map", std::move(weightMap)}};
    if (Error error =
            writeJSON("model.safetensors.index.json", std::move(index)))
      return fail(toString(std::move(error)));
  }
  errs() << "slr-gguf-to-hf: wrote " << outputPath << " (" << specs.size()
         << " tensors, " << dtypeNames[static_cast<int>(dtype.getValue())]
         << ", " << numShards << " safetensors file"
         << (numShards == 1 ? "" : "s") << ")\n";
  return 0;
}
