//===- slr-calibrate.cpp - calibration statistics by running model IR -----===//
//
//   slr-calibrate model.mlirbc --tokenizer model.gguf
//       --text tinystories_val.txt -o calib.safetensors [--max-tokens N]
//
// Instruments the model IR (--slr-instrument-calibration), JIT-compiles it
// with the fast CPU pipeline and runs it on token windows of the text (the
// same windows slr-eval uses); the runtime accumulates H = X^T X per named
// linear layer in float64. Writes one K x K F64 tensor per layer, keyed by
// the layer's stable name, with the token count in the metadata.
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
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <chrono>

using namespace llvm;

static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("<model IR (.mlir/.mlirbc)>"),
                                      cl::Required);
static cl::opt<std::string>
    tokenizerPath("tokenizer", cl::desc("GGUF file holding the tokenizer"),
                  cl::Required);
static cl::opt<std::string> textPath("text", cl::desc("calibration text"),
                                     cl::Required);
static cl::opt<std::string> outputPath("o", cl::desc("output safetensors"),
                                       cl::Required);
static cl::opt<int64_t> maxTokens("max-tokens",
                                  cl::desc("calibration tokens (0: all)"),
                                  cl::init(32768));
static cl::opt<int64_t> contextLength("context", cl::desc("window length"),
                                      cl::init(512));
static cl::opt<std::string>
    layers("layers", cl::desc("regex over layer names to record (all)"),
           cl::init(""));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-calibrate") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  InitLLVM init(argc, argv);
  slr::installToolFatalErrorHandlers("slr-calibrate");
  cl::ParseCommandLineOptions(argc, argv,
                              "slr-calibrate: H = X^T X per linear layer\n");
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
  std::vector<float> logits;
  int64_t windows = 0, tokens = 0;
  auto run = [&](ArrayRef<int32_t> window) -> Error {
    if (Error error = (*model)->forward(window, logits))
      return error;
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
                    {recorder.numFeatures(layer), recorder.hessian(layer)});
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
