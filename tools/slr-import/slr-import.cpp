//===- slr-import.cpp - GGUF checkpoint to slr model IR -------------------===//
//
//   slr-import model.gguf -o model.mlirbc     (bytecode: weights stay binary)
//   slr-import model.gguf -o model.mlir --emit=text
//   slr-import model.gguf --lora adapter.gguf -o merged.mlirbc
//   slr-import model.gguf --packed model.packed.safetensors -o hf.mlirbc
//   slr-import hf-folder/ -o model.mlirbc     (Hugging Face checkpoint:
//                                             config.json, *.safetensors)
//
//===----------------------------------------------------------------------===//

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Export/Export.h"
#include "slr/Import/HuggingFaceLlama.h"
#include "slr/Import/LlamaImporter.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Safetensors.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory toolOptions("slr-import options");

static cl::opt<std::string> inputPath(cl::Positional,
                                      cl::desc("<model.gguf | hf-folder>"),
                                      cl::Required, cl::cat(toolOptions));
static cl::opt<std::string> outputPath("o", cl::desc("output file"),
                                       cl::value_desc("path"), cl::Required,
                                       cl::cat(toolOptions));
static cl::opt<std::string>
    loraPath("lora",
             cl::desc("merge a LoRA adapter into the weights: a llama.cpp "
                      "adapter GGUF for a GGUF model, a PEFT adapter folder "
                      "for a Hugging Face folder"),
             cl::value_desc("adapter.gguf | adapter-folder"), cl::init(""),
             cl::cat(toolOptions));
static cl::opt<std::string> packedPath(
    "packed",
    cl::desc("put the sparse + low-rank layers of slr-export's packed "
             "safetensors file into the model (slr.linear)"),
    cl::value_desc("model.packed.safetensors"), cl::init(""),
    cl::cat(toolOptions));
enum class EmitKind { Bytecode, Text };
static cl::opt<EmitKind> emitKind(
    "emit", cl::desc("output format"), cl::init(EmitKind::Bytecode),
    cl::values(clEnumValN(EmitKind::Bytecode, "bytecode", "MLIR bytecode"),
               clEnumValN(EmitKind::Text, "text", "textual MLIR")),
    cl::cat(toolOptions));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-import") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  slr::installToolFatalErrorHandlers("slr-import");
  cl::HideUnrelatedOptions(toolOptions);
  cl::ParseCommandLineOptions(
      argc, argv,
      "slr-import: llama checkpoint (GGUF or Hugging Face folder) to model "
      "IR\n");

  mlir::DialectRegistry registry;
  slr::registerLlamaModelDialects(registry);
  registry.insert<slr::SLRDialect>();
  mlir::MLIRContext context(registry);
  auto logConfig = [](const slr::LlamaConfig &config) {
    errs() << "slr-import: llama, " << config.numLayers << " layers, dim "
           << config.dim << ", FFN " << config.hiddenDim << ", heads "
           << config.numHeads << "/" << config.numKVHeads << ", vocab "
           << config.vocabSize << (config.tiedOutput ? ", tied output" : "")
           << "\n";
  };
  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (sys::fs::is_directory(inputPath)) {
    auto checkpoint = slr::HuggingFaceLlamaCheckpoint::open(inputPath);
    if (!checkpoint)
      return fail(toString(checkpoint.takeError()));
    logConfig(checkpoint->getConfig());
    errs() << "slr-import: Hugging Face " << checkpoint->getHFConfig().modelType
           << ", " << checkpoint->getNumShards() << " safetensors file"
           << (checkpoint->getNumShards() == 1 ? "" : "s") << ", "
           << checkpoint->describeDTypes();
    if (const slr::Tokenizer *tokenizer = checkpoint->getTokenizer())
      errs() << ", tokenizer.json: "
             << (tokenizer->getKind() == slr::Tokenizer::Kind::SentencePiece
                     ? "SentencePiece-style"
                     : "byte-level")
             << " BPE, " << tokenizer->getVocabularySize() << " tokens";
    else
      errs() << ", no tokenizer.json";
    errs() << "\n";
    auto imported = loraPath.empty()
                        ? slr::importLlamaHuggingFace(context, *checkpoint)
                        : slr::importLlamaHuggingFaceWithPeft(
                              context, *checkpoint, loraPath);
    if (!imported)
      return fail(toString(imported.takeError()));
    module = std::move(*imported);
  } else {
    auto file = slr::GGUFFile::open(inputPath);
    if (!file)
      return fail(toString(file.takeError()));
    auto config = slr::readLlamaConfig(**file);
    if (!config)
      return fail(toString(config.takeError()));
    logConfig(*config);
    std::unique_ptr<slr::GGUFFile> lora;
    if (!loraPath.empty()) {
      auto adapter = slr::GGUFFile::open(loraPath);
      if (!adapter)
        return fail(toString(adapter.takeError()));
      lora = std::move(*adapter);
    }
    auto imported = slr::importLlamaGGUF(context, **file, lora.get());
    if (!imported)
      return fail(toString(imported.takeError()));
    module = std::move(*imported);
  }
  if (!packedPath.empty()) {
    auto packed = slr::SafetensorsFile::open(packedPath);
    if (!packed)
      return fail(toString(packed.takeError()));
    if (Error error = slr::applyPackedLayers(*module, *packed))
      return fail(toString(std::move(error)));
  }
  if (failed(mlir::verify(*module)))
    return fail("internal error: the generated IR does not verify");

  // Through a temporary file: a failed write leaves no partial IR behind.
  Error written =
      slr::writeFileAtomically(outputPath, [&](raw_ostream &os) -> Error {
        if (emitKind == EmitKind::Text) {
          module->print(os);
          return Error::success();
        }
        if (failed(mlir::writeBytecodeToFile(*module, os)))
          return createStringError("cannot write bytecode to '" + outputPath +
                                   "'");
        return Error::success();
      });
  if (written)
    return fail(toString(std::move(written)));
  errs() << "slr-import: wrote " << outputPath << "\n";
  return 0;
}
