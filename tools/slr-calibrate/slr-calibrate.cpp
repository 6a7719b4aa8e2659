//===- slr-calibrate.cpp - calibration statistics by running model IR -----===//
//
//   slr-calibrate model.mlirbc --tokenizer model.gguf
//       --text tinystories_val.txt -o calib.safetensors [--max-tokens N]
//
// Instruments the model IR (--slr-instrument-calibration), JIT-compiles it
// with the fast CPU pipeline and runs it on token windows of the text (the
// same windows slr-eval uses); the runtime accumulates H = X^T X per named
// linear layer in float64. Writes one K x K F64 tensor per layer, keyed by
// the layer's stable name, with the token count, the model file's SHA-256
// and the window length in the metadata.
//
//   slr-calibrate --merge a.safetensors b.safetensors ... -o all.safetensors
//
// Adds calibration shards (the same model and context, different parts of
// the text, e.g. one per job of a job array): H and the token counts add in
// float64, in the order given. Shards whose layer sets, K or metadata differ
// are refused.
//
//===----------------------------------------------------------------------===//

#include "slr/Calibration/CalibrationFile.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"
#include "slr/Execution/CompiledModel.h"
#include "slr/Execution/TextTask.h"
#include "slr/Model/Evaluation.h"
#include "slr/Runtime/CPURuntime.h"
#include "slr/Support/Blas.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/WithColor.h"

#include <chrono>

using namespace llvm;

static cl::OptionCategory toolOptions("slr-calibrate options");

static cl::list<std::string>
    inputPaths(cl::Positional,
               cl::desc("<model IR (.mlir/.mlirbc)> | --merge <shards...>"),
               cl::cat(toolOptions));
static cl::opt<bool> merge("merge",
                           cl::desc("add the calibration files given as inputs "
                                    "(shards of one calibration) into -o"),
                           cl::init(false), cl::cat(toolOptions));
static cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("GGUF file or Hugging Face folder (tokenizer.json) "
                           "holding the tokenizer"),
                  cl::cat(toolOptions));
static cl::opt<std::string> textPath("text", cl::desc("calibration text"),
                                     cl::cat(toolOptions));
static cl::opt<std::string> outputPath("o", cl::desc("output safetensors"),
                                       cl::Required, cl::cat(toolOptions));
static cl::opt<int64_t> maxTokens("max-tokens",
                                  cl::desc("calibration tokens (0: all)"),
                                  cl::init(32768), cl::cat(toolOptions));
static cl::opt<int64_t> contextLength("context", cl::desc("window length"),
                                      cl::init(512), cl::cat(toolOptions));
static cl::opt<std::string>
    layers("layers", cl::desc("regex over layer names to record (all)"),
           cl::init(""), cl::cat(toolOptions));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-calibrate") << message << "\n";
  return 1;
}

/// --merge: the shards added in the order given, written atomically.
static int mergeShards() {
  if (!tokenizerPath.empty() || !textPath.empty() ||
      layers.getNumOccurrences() || maxTokens.getNumOccurrences() ||
      contextLength.getNumOccurrences())
    return fail("--merge takes calibration files and -o only");
  if (inputPaths.empty())
    return fail("--merge needs at least one calibration file");
  auto merged = slr::CalibrationFile::read(inputPaths.front());
  if (!merged)
    return fail(toString(merged.takeError()));
  for (const std::string &path : llvm::drop_begin(inputPaths)) {
    auto shard = slr::CalibrationFile::read(path);
    if (!shard)
      return fail(toString(shard.takeError()));
    if (Error error = merged->merge(*shard, inputPaths.front(), path))
      return fail(toString(std::move(error)));
  }
  if (Error error = merged->write(outputPath))
    return fail(toString(std::move(error)));
  errs() << format("slr-calibrate: merged %zu files, %zu layers, %lld tokens "
                   "-> %s\n",
                   inputPaths.size(), merged->layers.size(),
                   (long long)merged->tokenCount, outputPath.c_str());
  return 0;
}

/// Hex SHA-256 of a file's bytes: which model the statistics belong to.
static Expected<std::string> fileSha256(StringRef path) {
  auto buffer = slr::readInputFile(path, "model IR", slr::kMaxModelFileBytes);
  if (!buffer)
    return buffer.takeError();
  SHA256 hash;
  hash.update(arrayRefFromStringRef((*buffer)->getBuffer()));
  return toHex(hash.final(), /*LowerCase=*/true);
}

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  InitLLVM init(argc, argv);
  slr::installToolFatalErrorHandlers("slr-calibrate");
  cl::HideUnrelatedOptions(toolOptions);
  cl::ParseCommandLineOptions(argc, argv,
                              "slr-calibrate: H = X^T X per linear layer\n");
  if (merge)
    return mergeShards();
  if (inputPaths.size() != 1)
    return fail("expected one model IR file (or --merge with calibration "
                "files), got " +
                Twine(inputPaths.size()));
  const std::string &modelPath = inputPaths.front();
  if (tokenizerPath.empty() || textPath.empty())
    return fail("--tokenizer and --text are required (or --merge)");
  if (contextLength < 2)
    return fail("--context must be at least 2");
  if (maxTokens < 0)
    return fail("--max-tokens must be >= 0");
  mlir::DialectRegistry registry;
  slr::registerModelIRDialects(registry);
  mlir::MLIRContext context(registry);
  auto task = slr::loadTextTask(context, modelPath, tokenizerPath, textPath);
  if (!task)
    return fail(toString(task.takeError()));
  auto &tokenizer = task->tokenizer;
  auto &text = task->text;
  auto &module = task->module;
  mlir::PassManager pm(&context);
  slr::SLRInstrumentCalibrationOptions instrumentOptions;
  instrumentOptions.layers = layers;
  pm.addPass(slr::createSLRInstrumentCalibration(instrumentOptions));
  if (failed(pm.run(*module)))
    return fail("instrumenting the model IR failed");
  auto model = slr::CompiledModel::compile(*module);
  if (!model)
    return fail(toString(model.takeError()));
  // A tokenizer of another model gives ids the model reads as other tokens:
  // statistics of the wrong text, silently.
  if ((*model)->vocabSize() != tokenizer->getVocabularySize())
    return fail("the model has " + Twine((*model)->vocabSize()) +
                " logits but the tokenizer " +
                Twine(tokenizer->getVocabularySize()) + " tokens");
  if ((*model)->calibrationLayers().empty())
    return fail("no linear layer to calibrate in '" + modelPath + "'");

  slr::runtime::ActivationRecorder recorder((*model)->calibrationLayers());
  slr::runtime::setActivationRecorder(&recorder);
  slr::CalibrationOptions options;
  options.contextLength = contextLength;
  options.maxTokens = maxTokens;
  auto start = std::chrono::steady_clock::now();
  int64_t windows = 0, tokens = 0;
  auto run = [&](ArrayRef<int32_t> window) -> Error {
    // Only the recorded activations matter; the logits are freed at once.
    if (Expected<slr::Logits> logits = (*model)->forward(window); !logits)
      return logits.takeError();
    tokens += window.size();
    if (++windows % 20 == 0)
      errs() << format("  %6lld windows, %8lld tokens\n", (long long)windows,
                       (long long)tokens);
    return Error::success();
  };
  if (Error error = slr::forEachCalibrationWindow(*tokenizer, text->getBuffer(),
                                                  options, run))
    return fail(toString(std::move(error)));
  slr::runtime::setActivationRecorder(nullptr);
  if (!recorder.error().empty())
    return fail(recorder.error());
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  slr::CalibrationFile calibration;
  calibration.tokenCount = tokens;
  // What --merge checks: shards of one calibration share these.
  auto modelHash = fileSha256(modelPath);
  if (!modelHash)
    return fail(toString(modelHash.takeError()));
  calibration.metadata["model_sha256"] = *modelHash;
  calibration.metadata["context"] = std::to_string(contextLength);
  outs() << format("%-28s %6s %10s\n", "layer", "K", "tokens");
  for (size_t layer = 0; layer < recorder.layerNames().size(); ++layer) {
    if (recorder.numFeatures(layer) == 0)
      return fail("layer '" + recorder.layerNames()[layer] +
                  "' was never reached");
    outs() << format("%-28s %6lld %10lld\n",
                     recorder.layerNames()[layer].c_str(),
                     (long long)recorder.numFeatures(layer),
                     (long long)recorder.numRows(layer));
    calibration.add(recorder.layerNames()[layer],
                    {recorder.numFeatures(layer), recorder.takeHessian(layer)});
  }
  // Written through a temporary file, and refused when H is not finite.
  if (Error error = calibration.write(outputPath))
    return fail(toString(std::move(error)));
  errs() << format("slr-calibrate: %lld layers, %lld tokens in %lld windows, "
                   "%.1f s -> %s\n",
                   (long long)recorder.layerNames().size(), (long long)tokens,
                   (long long)windows, seconds, outputPath.c_str());
  if (Error error = slr::flushStdout())
    return fail(toString(std::move(error)));
  return 0;
}
