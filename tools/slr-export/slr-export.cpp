//===- slr-export.cpp - Compressed model IR to other engines' files -------===//
//
//   slr-export hf.mlirbc --format=gguf --source model.gguf -o DIR
//       DIR/model.gguf (S dense) + DIR/adapter.gguf (LoRA: U, V)
//   slr-export hf.mlirbc --format=hf --source model.gguf -o DIR
//       DIR/config.json, model.safetensors (S dense), tokenizer.json,
//       adapter_config.json + adapter_model.safetensors (PEFT LoRA)
//   slr-export hf.mlirbc --format=packed -o DIR
//       DIR/model.packed.safetensors (values, positions, U, V, bias)
//
//===----------------------------------------------------------------------===//

#include "slr/Execution/CompiledModel.h"
#include "slr/Export/Export.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/GGUF.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory toolOptions("slr-export options");

static cl::opt<std::string> inputPath(cl::Positional,
                                      cl::desc("<compressed model IR>"),
                                      cl::Required, cl::cat(toolOptions));
static cl::opt<std::string> outputDir("o", cl::desc("output folder"),
                                      cl::value_desc("dir"), cl::Required,
                                      cl::cat(toolOptions));
enum class Format { GGUF, HF, Packed };
static cl::opt<Format> outputFormat(
    "format", cl::desc("what to write"), cl::Required,
    cl::values(clEnumValN(Format::GGUF, "gguf",
                          "llama.cpp: base model GGUF + LoRA adapter GGUF"),
               clEnumValN(Format::HF, "hf",
                          "transformers + PEFT: Hugging Face folder with a "
                          "LoRA adapter"),
               clEnumValN(Format::Packed, "packed",
                          "slr's packed N:M form as safetensors")),
    cl::cat(toolOptions));
static cl::opt<std::string>
    sourcePath("source",
               cl::desc("the checkpoint the IR was imported from (gguf: "
                        "metadata, tokenizer and non-linear tensors)"),
               cl::value_desc("checkpoint"), cl::cat(toolOptions));
static cl::opt<slr::ExportFloatType> baseType(
    "dtype", cl::desc("storage of S in the base model (gguf, hf)"),
    cl::init(slr::ExportFloatType::F32),
    cl::values(clEnumValN(slr::ExportFloatType::F32, "f32", "exact"),
               clEnumValN(slr::ExportFloatType::F16, "f16", "half"),
               clEnumValN(slr::ExportFloatType::BF16, "bf16", "bfloat16")),
    cl::cat(toolOptions));

static cl::opt<bool> noTokenizer("no-tokenizer",
                                 cl::desc("hf: do not write tokenizer.json"),
                                 cl::init(false), cl::cat(toolOptions));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-export") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  slr::installToolFatalErrorHandlers("slr-export");
  cl::HideUnrelatedOptions(toolOptions);
  cl::ParseCommandLineOptions(
      argc, argv,
      "slr-export: compressed model IR to files other engines load\n");
  if (outputFormat != Format::Packed && sourcePath.empty())
    return fail(std::string("--format=") +
                (outputFormat == Format::GGUF ? "gguf" : "hf") +
                " needs --source, the GGUF the IR was imported from");

  mlir::DialectRegistry registry;
  slr::registerModelIRDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = slr::loadModelIR(context, inputPath);
  if (!module)
    return fail(toString(module.takeError()));
  auto model = slr::collectExportModel(**module);
  if (!model)
    return fail(toString(model.takeError()));

  Expected<std::vector<slr::ExportFile>> files = std::vector<slr::ExportFile>{};
  if (outputFormat != Format::Packed) {
    auto source = slr::GGUFFile::open(sourcePath);
    if (!source)
      return fail(toString(source.takeError()));
    if (outputFormat == Format::GGUF) {
      slr::GGUFExportOptions options;
      options.baseType = baseType;
      files = slr::exportGGUF(*model, **source, options);
    } else {
      slr::HuggingFaceExportOptions options;
      options.weightType = baseType;
      options.tokenizer = !noTokenizer;
      files = slr::exportHuggingFace(*model, **source, options);
    }
  } else {
    files = slr::exportPacked(*model);
  }
  if (!files)
    return fail(toString(files.takeError()));
  if (Error error = slr::writeExportFiles(outputDir, *files))
    return fail(toString(std::move(error)));

  size_t compressed = 0;
  for (const slr::ExportLayer &layer : model->layers)
    compressed += layer.compressed ? 1 : 0;
  errs() << "slr-export: " << model->layers.size() << " linear layers ("
         << compressed << " sparse + low-rank):";
  for (const slr::ExportFile &file : *files)
    errs() << " " << file.name;
  errs() << " in " << outputDir << "\n";
  return 0;
}
