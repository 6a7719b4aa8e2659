//===- slr-eval.cpp - perplexity of model IR on a text file ---------------===//
//
//   slr-eval model.mlirbc --tokenizer model.gguf --text tinystories_val.txt
//
// Compiles the model IR (dense or after --slr-compress) with the fast CPU
// pipeline and reports mean NLL and perplexity under the protocol of
// ../shared/data/README.md (blocks split on blank lines, each scored from BOS
// with context <= 512) or, with --protocol=stream, the WikiText protocol
// (whole text, non-overlapping windows).
//
//===----------------------------------------------------------------------===//

#include "slr/Execution/CompiledModel.h"
#include "slr/Execution/TextTask.h"
#include "slr/Model/Evaluation.h"
#include "slr/Support/Blas.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include <chrono>

using namespace llvm;

static cl::OptionCategory toolOptions("slr-eval options");

static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("<model IR (.mlir/.mlirbc)>"),
                                      cl::Required, cl::cat(toolOptions));
static cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("GGUF file or Hugging Face folder (tokenizer.json) "
                           "holding the tokenizer"),
                  cl::Required, cl::cat(toolOptions));
static cl::opt<std::string> textPath("text", cl::desc("text to score"),
                                     cl::Required, cl::cat(toolOptions));
static cl::opt<slr::PerplexityOptions::Protocol> protocol(
    "protocol", cl::desc("how the text is cut into windows"),
    cl::init(slr::PerplexityOptions::Protocol::Blocks),
    cl::values(clEnumValN(slr::PerplexityOptions::Protocol::Blocks, "blocks",
                          "blank-line separated blocks, each from BOS"),
               clEnumValN(slr::PerplexityOptions::Protocol::Stream, "stream",
                          "whole text, non-overlapping windows")),
    cl::cat(toolOptions));
static cl::opt<bool> unpackSparse(
    "unpack-sparse",
    cl::desc("run slr.linear by unpacking S and calling BLAS on every call "
             "(default: the CPU runtime's call, packed kernel for few rows, "
             "sgemm on decoded tiles of S for many)"),
    cl::init(false), cl::cat(toolOptions));
static cl::opt<int64_t> contextLength("context", cl::desc("window length"),
                                      cl::init(512), cl::cat(toolOptions));
static cl::opt<int64_t> maxBlocks("max-blocks",
                                  cl::desc("stop after N blocks (0: all)"),
                                  cl::init(0), cl::cat(toolOptions));
static cl::opt<int64_t> maxWindows("max-windows",
                                   cl::desc("stop after N windows (0: all)"),
                                   cl::init(0), cl::cat(toolOptions));
static cl::opt<std::string> jsonPath("json",
                                     cl::desc("also write the result as JSON"),
                                     cl::init(""), cl::cat(toolOptions));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-eval") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  auto processStart = std::chrono::steady_clock::now();
  slr::selectBlasKernelsForHost(argv);
  InitLLVM init(argc, argv);
  slr::installToolFatalErrorHandlers("slr-eval");
  cl::HideUnrelatedOptions(toolOptions);
  cl::ParseCommandLineOptions(argc, argv, "slr-eval: perplexity of model IR\n");
  if (contextLength < 2)
    return fail("--context must be at least 2");
  if (maxBlocks < 0 || maxWindows < 0)
    return fail("--max-blocks and --max-windows must be >= 0");

  mlir::DialectRegistry registry;
  slr::registerModelIRDialects(registry);
  mlir::MLIRContext context(registry);
  auto task = slr::loadTextTask(context, modelPath, tokenizerPath, textPath);
  if (!task)
    return fail(toString(task.takeError()));
  auto &tokenizer = task->tokenizer;
  auto &text = task->text;
  auto &module = task->module;
  auto start = std::chrono::steady_clock::now();
  auto model = slr::CompiledModel::compile(*module, unpackSparse);
  if (!model)
    return fail(toString(model.takeError()));
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if ((*model)->vocabSize() != tokenizer->getVocabularySize())
    return fail("the model has " + Twine((*model)->vocabSize()) +
                " logits but the tokenizer " +
                Twine(tokenizer->getVocabularySize()) + " tokens");
  errs() << format("slr-eval: compiled %s in %.1f s\n", modelPath.c_str(),
                   compileSeconds);

  slr::PerplexityOptions options;
  options.protocol = protocol;
  options.contextLength = contextLength;
  options.maxBlocks = maxBlocks;
  options.maxWindows = maxWindows;
  start = std::chrono::steady_clock::now();
  options.progress = [&](const slr::NLLSum &running, int64_t windows) {
    if (windows % 200 == 0)
      errs() << format("  %6lld windows, %8lld tokens, mean NLL %.4f\n",
                       (long long)windows, (long long)running.numPredicted,
                       running.totalNLL /
                           std::max<int64_t>(1, running.numPredicted));
  };
  // The model's own time, without tokenizing the text: what tokens/s counts.
  double scoringSeconds = 0, firstWindowSeconds = 0;
  int64_t forwardTokens = 0;
  slr::WindowScorer scorer =
      [&](ArrayRef<int32_t> window) -> Expected<slr::NLLSum> {
    auto windowStart = std::chrono::steady_clock::now();
    Expected<slr::Logits> logits = (*model)->forward(window);
    if (!logits)
      return logits.takeError();
    slr::NLLSum sum =
        slr::nllFromLogits(logits->values(), (*model)->vocabSize(), window);
    auto windowEnd = std::chrono::steady_clock::now();
    scoringSeconds +=
        std::chrono::duration<double>(windowEnd - windowStart).count();
    // Time to first token: from the start of the process (reading the model,
    // the tokenizer and the text, compiling) to the first window's logits.
    if (forwardTokens == 0)
      firstWindowSeconds =
          std::chrono::duration<double>(windowEnd - processStart).count();
    forwardTokens += window.size();
    return sum;
  };
  auto result =
      slr::evaluatePerplexity(scorer, *tokenizer, text->getBuffer(), options);
  if (!result)
    return fail(toString(result.takeError()));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  outs() << format("%-28s %10s %10s %10s %10s %10s\n", "model", "protocol",
                   "tokens", "mean NLL", "perplexity", "time[s]");
  outs() << format("%-28s %10s %10lld %10.4f %10.3f %10.1f\n",
                   sys::path::filename(modelPath).str().c_str(),
                   protocol == slr::PerplexityOptions::Protocol::Blocks
                       ? "blocks"
                       : "stream",
                   (long long)result->sum.numPredicted, result->meanNLL(),
                   result->perplexity(), seconds);
  if (!jsonPath.empty()) {
    std::string text;
    raw_string_ostream os(text);
    json::OStream json(os, 2);
    json.object([&] {
      json.attribute("model", modelPath);
      json.attribute("text", textPath);
      json.attribute("protocol",
                     protocol == slr::PerplexityOptions::Protocol::Blocks
                         ? "blocks"
                         : "stream");
      json.attribute("context", static_cast<int64_t>(contextLength));
      json.attribute("blocks", result->numBlocks);
      json.attribute("windows", result->numWindows);
      json.attribute("predicted_tokens", result->sum.numPredicted);
      json.attribute("mean_nll", result->meanNLL());
      json.attribute("perplexity", result->perplexity());
      json.attribute("seconds", seconds);
      json.attribute("compile_seconds", compileSeconds);
      json.attribute("forward_tokens", forwardTokens);
      json.attribute("scoring_seconds", scoringSeconds);
      json.attribute("first_window_seconds", firstWindowSeconds);
    });
    os << "\n";
    if (Error error = slr::writeFileAtomically(jsonPath, text))
      return fail(toString(std::move(error)));
  }
  if (Error error = slr::flushStdout())
    return fail(toString(std::move(error)));
  return 0;
}
