//===- ReferenceEval.cpp - Perplexity of a GGUF model on a text file ------===//
//
// Test-only driver of the reference llama forward pass:
//
//   slr-reference-eval MODEL.gguf TEXT [--protocol=blocks|stream]
//       [--context=512] [--max-blocks=N] [--max-windows=N] [--no-bos]
//       [--show-tokens=N] [--generate=PROMPT] [--blas-threads=N]
//       [--batch-tokens=N] [--progress]
//
// prints the mean NLL (nats/token), the perplexity, the token count and the
// wall time. --show-tokens prints the tokenization of the first N bytes.
//
//===----------------------------------------------------------------------===//

#include "slr/Model/Evaluation.h"
#include "slr/Model/LlamaReference.h"
#include "slr/Support/Blas.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>

using namespace slr;
namespace cl = llvm::cl;

static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.gguf>"),
                                      cl::Required);
static cl::opt<std::string> textPath(cl::Positional, cl::desc("<text file>"),
                                     cl::Required);
static cl::opt<std::string>
    protocol("protocol", cl::desc("blocks (data README) or stream (WikiText)"),
             cl::init("blocks"));
static cl::opt<int64_t> contextLength("context", cl::desc("window length"),
                                      cl::init(512));
static cl::opt<int64_t> maxBlocks("max-blocks", cl::desc("0 = all"),
                                  cl::init(0));
static cl::opt<int64_t> maxWindows("max-windows", cl::desc("0 = all"),
                                   cl::init(0));
static cl::opt<bool> noBos("no-bos", cl::desc("do not prepend BOS"));
static cl::opt<size_t> showTokens("show-tokens",
                                  cl::desc("print the tokens of N bytes"),
                                  cl::init(0));
static cl::opt<bool> progress("progress", cl::desc("report every batch"));
static cl::opt<int> blasThreads("blas-threads",
                                cl::desc("BLAS threads (OpenBLAS; 0 = its "
                                         "default)"),
                                cl::init(0));
static cl::opt<int64_t> batchTokens("batch-tokens",
                                    cl::desc("tokens per forward pass"),
                                    cl::init(4096));
static cl::opt<std::string>
    generatePrompt("generate", cl::desc("greedily continue this prompt"),
                   cl::init(""));
static cl::opt<int> generateTokens("generate-tokens",
                                   cl::desc("tokens to generate"),
                                   cl::init(24));

static int fail(llvm::Error error) {
  llvm::errs() << "slr-reference-eval: " << llvm::toString(std::move(error))
               << "\n";
  return 1;
}

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  cl::ParseCommandLineOptions(argc, argv, "reference llama perplexity\n");
  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };

  if (blasThreads > 0 && !setBlasThreadCount(blasThreads))
    llvm::errs() << "warning: cannot set BLAS threads (not OpenBLAS)\n";
  auto file = GGUFFile::open(modelPath);
  if (!file)
    return fail(file.takeError());
  auto tokenizer = Tokenizer::fromGGUF(**file);
  if (!tokenizer)
    return fail(tokenizer.takeError());
  auto model = LlamaModel::load(**file);
  if (!model)
    return fail(model.takeError());
  const ReferenceLlamaConfig &config = (*model)->getConfig();
  llvm::outs() << "model: " << config.numLayers << " layers, dim "
               << config.embeddingDim << ", ffn " << config.feedForwardDim
               << ", heads " << config.numHeads << "/" << config.numKVHeads
               << ", vocab " << config.vocabularySize << ", rope base "
               << config.ropeFreqBase << ", eps " << config.rmsNormEpsilon
               << (config.tiedOutput ? ", tied head" : ", untied head")
               << "; loaded in " << llvm::format("%.2f", seconds()) << " s\n";

  if (!generatePrompt.empty()) {
    // Greedy decoding with full recomputation: slow but simple, a sanity
    // check of tokenizer and forward pass together.
    std::vector<int32_t> ids;
    if ((*tokenizer)->getAddBos() && (*tokenizer)->getBosId() >= 0)
      ids.push_back((*tokenizer)->getBosId());
    size_t promptLength = ids.size();
    for (int32_t id : (*tokenizer)->encode(generatePrompt))
      ids.push_back(id);
    promptLength = ids.size();
    int64_t vocabulary = config.vocabularySize;
    for (int step = 0; step < generateTokens; ++step) {
      auto logits = (*model)->computeLogits(ids);
      if (!logits)
        return fail(logits.takeError());
      const float *last = logits->data() + (ids.size() - 1) * vocabulary;
      ids.push_back(static_cast<int32_t>(
          std::max_element(last, last + vocabulary) - last));
      if (ids.back() == (*tokenizer)->getEosId())
        break;
    }
    llvm::outs() << "prompt: " << generatePrompt << "\ncontinuation: "
                 << (*tokenizer)
                        ->decode(llvm::ArrayRef<int32_t>(ids).drop_front(
                            promptLength))
                 << "\n";
  }

  auto text = readInputFile(textPath, "text file", kMaxTextFileBytes);
  if (!text)
    return fail(text.takeError());
  llvm::StringRef contents = (*text)->getBuffer();

  if (showTokens > 0) {
    llvm::StringRef sample = contents.take_front(showTokens);
    std::vector<int32_t> ids = (*tokenizer)->encode(sample);
    llvm::outs() << "tokens of the first " << sample.size() << " bytes ("
                 << ids.size() << "):";
    for (int32_t id : ids)
      llvm::outs() << " " << id << ":'" << (*tokenizer)->getTokenText(id)
                   << "'";
    llvm::outs() << "\nround trip "
                 << ((*tokenizer)->decode(ids) == sample ? "ok" : "DIFFERS")
                 << "\n";
  }

  PerplexityOptions options;
  if (protocol == "stream")
    options.protocol = PerplexityOptions::Protocol::Stream;
  else if (protocol != "blocks")
    return fail(llvm::createStringError("unknown protocol " + protocol));
  options.contextLength = contextLength;
  options.maxBlocks = maxBlocks;
  options.maxWindows = maxWindows;
  options.prependBos = !noBos;
  options.batchTokens = batchTokens;
  if (progress)
    options.progress = [&](const NLLSum &sum, int64_t windows) {
      llvm::errs() << llvm::format("window %lld: %lld tokens, mean NLL %.5f, "
                                   "%.1f s\n",
                                   static_cast<long long>(windows),
                                   static_cast<long long>(sum.numPredicted),
                                   sum.totalNLL / sum.numPredicted, seconds());
    };
  auto evalStart = seconds();
  auto result = evaluatePerplexity(**model, **tokenizer, contents, options);
  if (!result)
    return fail(result.takeError());
  llvm::outs() << llvm::format(
      "mean NLL %.5f nats/token, perplexity %.4f over %lld predicted tokens "
      "(%lld blocks, %lld windows); evaluation %.2f s, total %.2f s\n",
      result->meanNLL(), result->perplexity(),
      static_cast<long long>(result->sum.numPredicted),
      static_cast<long long>(result->numBlocks),
      static_cast<long long>(result->numWindows), seconds() - evalStart,
      seconds());
  if (llvm::Error error = flushStdout())
    return fail(std::move(error));
  return 0;
}
