//===- CompressionBench.cpp - compression methods on real layers ----------===//
//
// For every linear layer of a real llama checkpoint, with H = X^T X from real
// activations (the reference forward pass over calibration text), runs each
// compression method at the same N:M + rank budget and prints relative
// objective f/f(W,0), time, rank and density. Ends with the HASSLE-free/OATS
// objective ratio per layer and the summary table.
//
//   slr-bench-compression --gguf ../shared/data/models/stories260K.gguf
//       --text ../shared/data/text/tinystories_val.txt --rank 16
//
//===----------------------------------------------------------------------===//

#include "slr/Calibration/CalibrationFile.h"
#include "slr/Compression/Compression.h"
#include "slr/Compression/MethodRegistry.h"
#include "slr/Model/Evaluation.h"
#include "slr/Model/LlamaReference.h"
#include "slr/Support/Blas.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>

using namespace llvm;
namespace cmp = slr::compression;

static cl::OptionCategory benchmarkCategory("slr-bench-compression options");

static cl::opt<std::string> ggufPath("gguf", cl::desc("llama GGUF checkpoint"),
                                     cl::Required, cl::cat(benchmarkCategory));
static cl::opt<std::string> textPath("text", cl::desc("calibration text"),
                                     cl::Required, cl::cat(benchmarkCategory));
static cl::opt<int64_t> maxTokens("tokens",
                                  cl::desc("calibration tokens (0 = all)"),
                                  cl::init(32768), cl::cat(benchmarkCategory));
static cl::opt<int64_t> rankOption("rank",
                                   cl::desc("rank of the low-rank part"),
                                   cl::init(64), cl::cat(benchmarkCategory));
static cl::opt<std::string> sparsity("sparsity", cl::desc("N:M pattern"),
                                     cl::init("2:4"),
                                     cl::cat(benchmarkCategory));
static cl::opt<int> iterations("iterations", cl::desc("alternating rounds"),
                               cl::init(cmp::Options().iterations),
                               cl::cat(benchmarkCategory));
static cl::opt<int> warmStartRounds(
    "warm-start-rounds", cl::desc("HASSLE-free's diagonal-relaxation rounds"),
    cl::init(cmp::Options().warmStartRounds), cl::cat(benchmarkCategory));
static cl::opt<int> maxWarmStartRounds(
    "max-warm-start-rounds",
    cl::desc("HASSLE-free's diagonal-relaxation rounds at most (it stops "
             "earlier once converged or out of its work budget)"),
    cl::init(cmp::Options().maxWarmStartRounds), cl::cat(benchmarkCategory));
static cl::opt<bool> threeBlockWarmStart(
    "three-block-warm-start",
    cl::desc("HASSLE-free: also start from 3BASiL's answer when better"),
    cl::init(cmp::Options().threeBlockWarmStart), cl::cat(benchmarkCategory));
static cl::opt<int> maskSearchRounds(
    "mask-search-rounds",
    cl::desc("HASSLE-free's mask-search rounds at most (0: none; it stops "
             "earlier once converged or out of its work budget)"),
    cl::init(cmp::Options().maskSearchRounds), cl::cat(benchmarkCategory));
static cl::opt<uint64_t> seed("seed",
                              cl::desc("seed of the methods' random choices"),
                              cl::init(0), cl::cat(benchmarkCategory));
static cl::opt<double> maskSearchTolerance(
    "mask-search-tolerance",
    cl::desc("HASSLE-free's mask search stops when a round lowers the "
             "objective by less than this (relative)"),
    cl::init(cmp::Options().maskSearchTolerance), cl::cat(benchmarkCategory));
static cl::opt<double> maskSearchWork(
    "mask-search-work",
    cl::desc("HASSLE-free's mask-search budget, counted as N*K^3 per round"),
    cl::init(cmp::Options().maskSearchWork), cl::cat(benchmarkCategory));
static cl::opt<int> refitIterations(
    "refit-iterations",
    cl::desc("CG refit iterations after each sparse step (-1: default)"),
    cl::init(cmp::Options().refitIterations), cl::cat(benchmarkCategory));
static cl::opt<std::string> sparseStep("sparse-step",
                                       cl::desc("HASSLE-free's sparse step "
                                                "(obs, admm)"),
                                       cl::init("obs"),
                                       cl::cat(benchmarkCategory));
static cl::opt<std::string>
    layerFilter("layers", cl::desc("regex over layer names (default: all)"),
                cl::init(""), cl::cat(benchmarkCategory));
/// "methods to run, ...: a, b, c" from the method registry.
static const std::string &methodHelp() {
  static const std::string help =
      "methods to run, comma-separated or repeated (default: all): " +
      cmp::compressionMethodNames(cmp::MethodSelection::All);
  return help;
}
static cl::list<std::string> methods("method", cl::desc(methodHelp()),
                                     cl::CommaSeparated,
                                     cl::cat(benchmarkCategory));
static cl::opt<std::string>
    csvPath("csv", cl::desc("also write the per-layer table as CSV"),
            cl::init(""), cl::cat(benchmarkCategory));
static cl::opt<double>
    percdamp("percdamp",
             cl::desc("damping, fraction of the median (or mean) of diag H"),
             cl::init(cmp::Options().percdamp), cl::cat(benchmarkCategory));
static cl::opt<std::string>
    dampingScale("damping-scale",
                 cl::desc("what percdamp is relative to (median, mean)"),
                 cl::init(cmp::dampingScaleName(cmp::Options().dampingScale)),
                 cl::cat(benchmarkCategory));
static cl::opt<std::string> calibrationPath(
    "calibration",
    cl::desc("calibration file (safetensors, as slr-calibrate writes): read "
             "H from it when it exists, otherwise compute H and write it "
             "there, so repeated runs skip the forward passes"),
    cl::init(""), cl::cat(benchmarkCategory));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-bench-compression") << message << "\n";
  return 1;
}

/// H per layer: from --calibration when that file exists, otherwise from the
/// reference forward pass over the text (then cached in --calibration).
static Expected<slr::CalibrationFile>
loadOrComputeCalibration(slr::LlamaModel &model,
                         const slr::Tokenizer &tokenizer, StringRef text) {
  if (!calibrationPath.empty() && sys::fs::exists(calibrationPath)) {
    errs() << "calibration: reading " << calibrationPath << "\n";
    return slr::CalibrationFile::read(calibrationPath);
  }
  errs() << "calibrating on " << textPath << " (" << maxTokens
         << " tokens max) ...\n";
  auto start = std::chrono::steady_clock::now();
  slr::CalibrationOptions options;
  options.maxTokens = maxTokens;
  auto grams = slr::accumulateInputGrams(model, tokenizer, text, options);
  if (!grams)
    return grams.takeError();
  slr::CalibrationFile calibration;
  for (auto &[name, statistics] : *grams) {
    calibration.tokenCount = statistics.numTokens;
    calibration.add(name, {statistics.numFeatures, std::move(statistics.gram)});
  }
  errs() << llvm::format(
      "calibration: %.1f s\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  if (!calibrationPath.empty())
    if (Error error = calibration.write(calibrationPath))
      return error;
  return calibration;
}

namespace {
struct Row {
  std::string layer, method;
  int64_t numRows, numCols, rank;
  double relativeObjective, seconds, density;
};
} // namespace

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(benchmarkCategory);
  cl::ParseCommandLineOptions(argc, argv, "slr compression benchmark\n");

  auto file = slr::GGUFFile::open(ggufPath);
  if (!file)
    return fail(toString(file.takeError()));
  auto model = slr::LlamaModel::load(**file);
  if (!model)
    return fail(toString(model.takeError()));
  auto tokenizer = slr::Tokenizer::fromGGUF(**file);
  if (!tokenizer)
    return fail(toString(tokenizer.takeError()));
  auto text = MemoryBuffer::getFile(textPath);
  if (!text)
    return fail("cannot read " + textPath + ": " + text.getError().message());
  auto pattern = cmp::parseSparsityPattern(sparsity);
  if (!pattern)
    return fail("bad --sparsity " + sparsity);

  std::optional<cmp::SparseStep> step = cmp::parseSparseStep(sparseStep);
  if (!step)
    return fail("bad --sparse-step " + sparseStep);
  std::optional<cmp::DampingScale> scale = cmp::parseDampingScale(dampingScale);
  if (!scale)
    return fail("bad --damping-scale " + dampingScale);

  SmallVector<cmp::Method> selected;
  if (methods.empty())
    for (const cmp::CompressionMethodInfo &info : cmp::compressionMethods())
      selected.push_back(info.method);
  for (const std::string &name : methods) {
    const cmp::CompressionMethodInfo *info = cmp::findCompressionMethod(name);
    if (!info)
      return fail("--method: " +
                  cmp::unknownMethodMessage(name, cmp::MethodSelection::All));
    selected.push_back(info->method);
  }

  Expected<slr::CalibrationFile> calibration =
      loadOrComputeCalibration(**model, **tokenizer, (*text)->getBuffer());
  if (!calibration)
    return fail(toString(calibration.takeError()));

  Regex filter(layerFilter);
  std::vector<Row> rows;
  outs() << llvm::format("%-22s %-12s %6s %6s %5s %12s %9s %8s\n", "layer",
                         "method", "N", "K", "rank", "rel.obj", "time[s]",
                         "density");
  for (const std::string &name : (*model)->getLinearNames()) {
    if (!layerFilter.empty() && !filter.match(name))
      continue;
    const slr::LinearWeight *weight = (*model)->findLinear(name);
    const slr::LayerCalibration *gram = calibration->lookup(name);
    if (!weight || !gram)
      return fail("no weight or statistics for " + name);
    for (cmp::Method method : selected) {
      cmp::Options options;
      options.percdamp = percdamp;
      options.dampingScale = *scale;
      options.method = method;
      options.pattern = *pattern;
      options.rank = rankOption;
      options.iterations = iterations;
      options.sparseStep = *step;
      options.warmStartRounds = warmStartRounds;
      options.maxWarmStartRounds = maxWarmStartRounds;
      options.maskSearchRounds = maskSearchRounds;
      options.threeBlockWarmStart = threeBlockWarmStart;
      options.maskSearchWork = maskSearchWork;
      options.maskSearchTolerance = maskSearchTolerance;
      options.seed = seed;
      options.refitIterations = refitIterations;
      cmp::Result result;
      auto begin = std::chrono::steady_clock::now();
      cmp::Status status =
          cmp::compress(weight->values, weight->outFeatures, weight->inFeatures,
                        gram->hessian, options, result);
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - begin)
                           .count();
      if (!status)
        return fail(name + " / " + cmp::methodName(method) + ": " +
                    status.message);
      int64_t nonZeros = std::count_if(result.S.begin(), result.S.end(),
                                       [](float v) { return v != 0.0f; });
      Row row{name,
              cmp::methodName(method),
              weight->outFeatures,
              weight->inFeatures,
              result.rank,
              result.relativeObjective,
              seconds,
              static_cast<double>(nonZeros) / result.S.size()};
      outs() << llvm::format(
          "%-22s %-12s %6lld %6lld %5lld %12.6f %9.3f %8.3f\n",
          row.layer.c_str(), row.method.c_str(), (long long)row.numRows,
          (long long)row.numCols, (long long)row.rank, row.relativeObjective,
          row.seconds, row.density);
      outs().flush();
      rows.push_back(row);
    }
  }

  // Summary: mean objective and time per method, HASSLE-free / OATS ratios.
  outs() << "\nsummary (" << sparsity << ", rank " << rankOption
         << ", T = " << iterations << ")\n";
  outs() << llvm::format("%-12s %14s %14s %12s\n", "method", "mean rel.obj",
                         "max rel.obj", "total[s]");
  for (cmp::Method method : selected) {
    double sum = 0, max = 0, seconds = 0;
    int count = 0;
    for (const Row &row : rows)
      if (row.method == cmp::methodName(method)) {
        sum += row.relativeObjective;
        max = std::max(max, row.relativeObjective);
        seconds += row.seconds;
        ++count;
      }
    if (count)
      outs() << llvm::format("%-12s %14.6f %14.6f %12.2f\n",
                             cmp::methodName(method), sum / count, max,
                             seconds);
  }
  double worstRatio = 0;
  std::string worstLayer;
  for (const Row &hassle : rows) {
    if (hassle.method != cmp::methodName(cmp::Method::HassleFree))
      continue;
    for (const Row &oats : rows)
      if (oats.layer == hassle.layer &&
          oats.method == cmp::methodName(cmp::Method::OATS) &&
          oats.relativeObjective > 0) {
        double ratio = hassle.relativeObjective / oats.relativeObjective;
        if (ratio > worstRatio) {
          worstRatio = ratio;
          worstLayer = hassle.layer;
        }
      }
  }
  if (!worstLayer.empty())
    outs() << llvm::format(
        "hassle-free / oats objective: worst layer %s at %.3fx (target <= "
        "0.5x)\n",
        worstLayer.c_str(), worstRatio);

  if (!csvPath.empty()) {
    std::error_code ec;
    raw_fd_ostream csv(csvPath, ec, sys::fs::OF_Text);
    if (ec)
      return fail("cannot write " + csvPath + ": " + ec.message());
    csv << "layer,method,N,K,rank,relative_objective,seconds,density\n";
    for (const Row &row : rows)
      csv << row.layer << "," << row.method << "," << row.numRows << ","
          << row.numCols << "," << row.rank << ","
          << llvm::format("%.9g", row.relativeObjective) << ","
          << llvm::format("%.4f", row.seconds) << ","
          << llvm::format("%.4f", row.density) << "\n";
  }
  return 0;
}
