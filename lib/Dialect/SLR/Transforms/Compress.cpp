//===- Compress.cpp - --slr-compress --------------------------------------===//
//
// Rewrites constant-weight linear layers into slr.linear using the
// compression library and per-layer calibration statistics.
//
//===----------------------------------------------------------------------===//

#include "slr/Calibration/CalibrationFile.h"
#include "slr/Compression/Compression.h"
#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/LinearMatching.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"
#include "slr/Sparsity/NMLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

namespace slr {
#define GEN_PASS_DEF_SLRCOMPRESS
#include "slr/Dialect/SLR/Transforms/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;
namespace cmp = slr::compression;

namespace {

struct LayerReport {
  std::string name;
  int64_t numOutputFeatures = 0, numInputFeatures = 0, rank = 0;
  double relativeObjective = 0, pruningOnlyObjective = -1, seconds = 0;
  int64_t deadInputs = 0, warmStartRounds = 0;
  /// -1 where the method has no mask search.
  int64_t maskSearchRounds = -1;
};

/// Whether the accumulator is a constant zero (then y = x * W^T exactly).
bool isZeroInit(Value init) {
  if (matchPattern(init, m_AnyZeroFloat()))
    return true;
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

/// H = I: for calibration-free methods the objective is the Frobenius error.
std::vector<double> identityHessian(int64_t size) {
  std::vector<double> hessian(size * size, 0.0);
  for (int64_t i = 0; i < size; ++i)
    hessian[i * size + i] = 1.0;
  return hessian;
}

struct SLRCompressPass : slr::impl::SLRCompressBase<SLRCompressPass> {
  using SLRCompressBase::SLRCompressBase;

  void runOnOperation() override;

private:
  LogicalResult parseOptions(cmp::Options &options);
  LogicalResult compressLayer(ConstantWeightLinear &layer,
                              const cmp::Options &options,
                              const CalibrationFile *calibration,
                              LayerReport &report);
  void printSummary(ArrayRef<LayerReport> reports, unsigned skipped);
  LogicalResult writeReport(ArrayRef<LayerReport> reports,
                            const cmp::Options &options);
};

LogicalResult SLRCompressPass::parseOptions(cmp::Options &options) {
  ModuleOp module = getOperation();
  std::optional<cmp::Method> parsedMethod = cmp::parseMethod(method);
  if (!parsedMethod)
    return module.emitError("slr-compress: unknown method '")
           << method
           << "' (expected hassle-free, sparsegpt, oats, wanda or magnitude)";
  if (*parsedMethod == cmp::Method::SVDOnly)
    return module.emitError("slr-compress: method 'svd' has no sparse part "
                            "and no slr.linear form; use it from the library");
  std::optional<cmp::SparsityPattern> pattern =
      cmp::parseSparsityPattern(sparsity);
  if (!pattern)
    return module.emitError("slr-compress: cannot parse sparsity '")
           << sparsity << "' (expected N:M such as 2:4)";
  if (pattern->isUnstructured())
    return module.emitError("slr-compress: unstructured sparsity has no "
                            "slr.linear form; use an N:M pattern");
  if (pattern->n <= 0 || pattern->n >= pattern->m || pattern->m > 64)
    return module.emitError("slr-compress: sparsity ")
           << sparsity << " needs 0 < N < M <= 64";
  std::optional<cmp::SparseStep> step = cmp::parseSparseStep(sparseStep);
  if (!step)
    return module.emitError("slr-compress: unknown sparse-step '")
           << sparseStep << "' (expected obs or admm)";
  if (rank < 0)
    return module.emitError("slr-compress: rank must be >= 0");
  if (iterations < 1)
    return module.emitError("slr-compress: iterations must be >= 1");
  if (!(percdamp >= 0.0))
    return module.emitError("slr-compress: percdamp must be >= 0");
  std::optional<cmp::DampingScale> scale = cmp::parseDampingScale(dampingScale);
  if (!scale)
    return module.emitError("slr-compress: unknown damping-scale '")
           << dampingScale << "' (expected median or mean)";
  if (warmStartRounds < 0)
    return module.emitError("slr-compress: warm-start-rounds must be >= 0");
  if (maxWarmStartRounds < 0)
    return module.emitError("slr-compress: max-warm-start-rounds must be >= 0");
  if (maskSearchRounds < 0)
    return module.emitError("slr-compress: mask-search-rounds must be >= 0");
  if (refitIterations < -1)
    return module.emitError(
        "slr-compress: refit-iterations must be >= 0 (or -1: the default)");
  options.method = *parsedMethod;
  options.pattern = *pattern;
  options.rank = rank;
  options.compressionRatio = compressionRatio;
  options.iterations = iterations;
  options.warmStartRounds = warmStartRounds;
  options.maxWarmStartRounds = maxWarmStartRounds;
  options.maskSearchRounds = maskSearchRounds;
  options.refitIterations = refitIterations;
  options.percdamp = percdamp;
  options.dampingScale = *scale;
  options.sparseStep = *step;
  options.seed = seed;
  return success();
}

LogicalResult SLRCompressPass::compressLayer(ConstantWeightLinear &layer,
                                             const cmp::Options &options,
                                             const CalibrationFile *calibration,
                                             LayerReport &report) {
  Operation *op = layer.op;
  const int64_t numRows = layer.numOutputFeatures;
  const int64_t numCols = layer.numInputFeatures;
  const unsigned n = options.pattern.n, m = options.pattern.m;

  std::vector<double> identity;
  const std::vector<double> *hessian = nullptr;
  if (calibration) {
    const LayerCalibration *entry = calibration->lookup(layer.name);
    if (!entry)
      return op->emitError("slr-compress: calibration file has no entry for "
                           "layer '")
             << layer.name << "'";
    if (entry->numFeatures != numCols)
      return op->emitError("slr-compress: calibration matrix for '")
             << layer.name << "' is " << entry->numFeatures << "x"
             << entry->numFeatures << " but the layer has K = " << numCols
             << " input features";
    hessian = &entry->hessian;
  } else {
    identity = identityHessian(numCols);
    hessian = &identity;
  }

  std::vector<float> stored, weights;
  std::string error;
  if (!readFloatElements(layer.weight, stored, error))
    return op->emitError("slr-compress: ") << error;
  if (layer.weightIsTransposed) {
    weights.resize(stored.size());
    for (int64_t k = 0; k < numCols; ++k)
      for (int64_t i = 0; i < numRows; ++i)
        weights[i * numCols + k] = stored[k * numRows + i];
  } else {
    weights = std::move(stored);
  }
  for (float value : weights)
    if (!std::isfinite(value))
      return op->emitError("slr-compress: weight of layer '")
             << layer.name << "' contains NaN or Inf";

  auto start = std::chrono::steady_clock::now();
  cmp::Result result;
  cmp::Status status =
      cmp::compress(weights.data(), weights.size(), numRows, numCols,
                    hessian->data(), hessian->size(), options, result);
  if (!status)
    return op->emitError("slr-compress: layer '")
           << layer.name << "': " << status.message;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  // Pack S and build the replacement.
  std::vector<float> values(numRows * numCols / m * n);
  std::vector<uint64_t> positions(numRows * numCols / m);
  packNM(result.S.data(), numRows, numCols, n, m, values.data(),
         positions.data());

  OpBuilder builder(op);
  Location loc = op->getLoc();
  MLIRContext *ctx = builder.getContext();
  auto inputType = cast<RankedTensorType>(layer.input.getType());
  Type elementType = inputType.getElementType();
  unsigned positionBits = n * bitsPerPosition(m);
  Type positionType = IntegerType::get(
      ctx,
      std::max(8u, static_cast<unsigned>(llvm::PowerOf2Ceil(positionBits))));
  auto constant = [&](ElementsAttr attr) -> Value {
    return arith::ConstantOp::create(builder, loc, attr);
  };
  std::string blobPrefix = layer.name;
  Value valuesConst = constant(makeFloatElements(
      RankedTensorType::get({numRows, numCols / m * n}, elementType), values,
      blobPrefix + ".s_values"));
  Value positionsConst = constant(makeIntegerElements(
      RankedTensorType::get({numRows, numCols / m}, positionType), positions,
      blobPrefix + ".s_positions"));
  Value u, v;
  if (result.rank > 0) {
    u = constant(makeFloatElements(
        RankedTensorType::get({numRows, result.rank}, elementType), result.U,
        blobPrefix + ".u"));
    v = constant(makeFloatElements(
        RankedTensorType::get({result.rank, numCols}, elementType), result.V,
        blobPrefix + ".v"));
  }
  auto resultType = cast<RankedTensorType>(layer.init.getType());
  Value linear = LinearOp::create(
      builder, loc, resultType, layer.input, valuesConst, positionsConst, u, v,
      /*bias=*/Value(), NMSparsityAttr::get(ctx, n, m));
  linear.getDefiningOp()->setAttr(kLayerNameAttr,
                                  builder.getStringAttr(layer.name));
  // Non-zero accumulators (e.g. a fused residual) are added back.
  if (!isZeroInit(layer.init))
    linear = arith::AddFOp::create(builder, loc, linear, layer.init);
  // The dense weight's constant goes too once nothing else reads it, so
  // that the compressed model does not carry W beside S, U and V.
  SmallVector<Operation *> weightConstants;
  for (Value operand : op->getOperands())
    if (operand != layer.input && operand != layer.init)
      if (auto constantOp = operand.getDefiningOp<arith::ConstantOp>())
        weightConstants.push_back(constantOp);
  op->getResult(0).replaceAllUsesWith(linear);
  op->erase();
  for (Operation *constantOp : weightConstants)
    if (constantOp->use_empty())
      constantOp->erase();

  report.name = layer.name;
  report.numOutputFeatures = numRows;
  report.numInputFeatures = numCols;
  report.rank = result.rank;
  report.relativeObjective = result.relativeObjective;
  if (options.method == cmp::Method::HassleFree &&
      !result.objectiveHistory.empty())
    report.pruningOnlyObjective = result.objectiveHistory.front();
  report.deadInputs = result.deadInputs;
  report.warmStartRounds = result.warmStartRounds;
  if (options.method == cmp::Method::HassleFree)
    report.maskSearchRounds = result.maskSearchRounds;
  return success();
}

void SLRCompressPass::printSummary(ArrayRef<LayerReport> reports,
                                   unsigned skipped) {
  llvm::raw_ostream &os = llvm::errs();
  os << "slr-compress: " << reports.size() << " layers compressed, " << skipped
     << " left dense (method " << method << ", " << sparsity << ")\n";
  os << llvm::format("%-28s %6s %6s %5s %12s %12s %8s\n", "layer", "N", "K",
                     "rank", "rel.obj", "prune-only", "time[s]");
  double total = 0, sumObjective = 0;
  for (const LayerReport &r : reports) {
    os << llvm::format("%-28s %6lld %6lld %5lld %12.6f ", r.name.c_str(),
                       (long long)r.numOutputFeatures,
                       (long long)r.numInputFeatures, (long long)r.rank,
                       r.relativeObjective);
    if (r.pruningOnlyObjective >= 0)
      os << llvm::format("%12.6f", r.pruningOnlyObjective);
    else
      os << llvm::format("%12s", "-");
    os << llvm::format(" %8.3f\n", r.seconds);
    total += r.seconds;
    sumObjective += r.relativeObjective;
  }
  if (!reports.empty())
    os << llvm::format("%-28s %6s %6s %5s %12.6f %12s %8.3f\n", "mean / total",
                       "", "", "", sumObjective / reports.size(), "", total);
}

LogicalResult SLRCompressPass::writeReport(ArrayRef<LayerReport> reports,
                                           const cmp::Options &options) {
  std::error_code ec;
  llvm::raw_fd_ostream file(report, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return getOperation().emitError("slr-compress: cannot write report '")
           << report << "': " << ec.message();
  llvm::json::OStream json(file, 2);
  json.object([&] {
    json.attribute("method", std::string(method));
    json.attribute("sparsity", std::string(sparsity));
    json.attribute("rank_option", static_cast<int64_t>(rank));
    json.attribute("iterations", static_cast<int64_t>(iterations));
    json.attribute("warm_start_rounds", static_cast<int64_t>(warmStartRounds));
    json.attribute("max_warm_start_rounds",
                   static_cast<int64_t>(maxWarmStartRounds));
    json.attribute("mask_search_rounds",
                   static_cast<int64_t>(maskSearchRounds));
    json.attribute("refit_iterations", static_cast<int64_t>(refitIterations));
    json.attribute("calibration", std::string(calibration));
    json.attributeArray("layers", [&] {
      for (const LayerReport &r : reports)
        json.object([&] {
          json.attribute("name", r.name);
          json.attribute("N", r.numOutputFeatures);
          json.attribute("K", r.numInputFeatures);
          json.attribute("rank", r.rank);
          json.attribute("relative_objective", r.relativeObjective);
          if (r.pruningOnlyObjective >= 0)
            json.attribute("pruning_only_relative_objective",
                           r.pruningOnlyObjective);
          json.attribute("dead_inputs", r.deadInputs);
          if (r.warmStartRounds > 0)
            json.attribute("warm_start_rounds_run", r.warmStartRounds);
          if (r.maskSearchRounds >= 0)
            json.attribute("mask_search_rounds_run", r.maskSearchRounds);
          json.attribute("seconds", r.seconds);
        });
    });
  });
  file << "\n";
  return success();
}

void SLRCompressPass::runOnOperation() {
  ModuleOp module = getOperation();
  cmp::Options options;
  if (failed(parseOptions(options)))
    return signalPassFailure();

  llvm::Regex layerFilter(layers);
  std::string regexError;
  if (!layers.empty() && !layerFilter.isValid(regexError)) {
    module.emitError("slr-compress: invalid layers regex '")
        << layers << "': " << regexError;
    return signalPassFailure();
  }

  bool needsCalibration = options.method != cmp::Method::Magnitude;
  std::optional<CalibrationFile> calibrationFile;
  if (!calibration.empty()) {
    llvm::Expected<CalibrationFile> loaded = CalibrationFile::read(calibration);
    if (!loaded) {
      module.emitError("slr-compress: ") << llvm::toString(loaded.takeError());
      return signalPassFailure();
    }
    calibrationFile = std::move(*loaded);
  } else if (needsCalibration) {
    module.emitError("slr-compress: method '")
        << method << "' needs calibration=<file> (see slr-calibrate)";
    return signalPassFailure();
  }

  // Collect first: rewriting while walking would invalidate the walk.
  SmallVector<ConstantWeightLinear> layersToCompress;
  unsigned skipped = 0;
  forEachLinearCandidate(module, [&](linalg::LinalgOp op,
                                     const std::string &name,
                                     std::optional<ConstantWeightLinear> &match,
                                     const LinearMatchFailure &failure) {
    std::string reason = failure.reason;
    if (match && !layers.empty() && !layerFilter.match(name))
      reason = "not selected by layers='" + layers + "'";
    else if (match && match->numInputFeatures % options.pattern.m != 0)
      reason = "K = " + std::to_string(match->numInputFeatures) +
               " is not a multiple of " + std::to_string(options.pattern.m);
    if (match && reason.empty()) {
      layersToCompress.push_back(*match);
      return;
    }
    ++skipped;
    if (explainSkipped)
      op.emitRemark("slr-compress: left '") << name << "' dense: " << reason;
  });

  SmallVector<LayerReport> reports;
  for (auto [index, layer] : llvm::enumerate(layersToCompress)) {
    LayerReport layerReport;
    if (!quiet)
      llvm::errs() << "[" << index + 1 << "/" << layersToCompress.size() << "] "
                   << layer.name << " (" << layer.numOutputFeatures << "x"
                   << layer.numInputFeatures << ") ...";
    if (failed(compressLayer(layer, options,
                             calibrationFile ? &*calibrationFile : nullptr,
                             layerReport))) {
      if (!quiet)
        llvm::errs() << " failed\n";
      return signalPassFailure();
    }
    if (!quiet)
      llvm::errs() << llvm::format(
          " rel.obj %.6f, rank %lld, %.2f s\n", layerReport.relativeObjective,
          (long long)layerReport.rank, layerReport.seconds);
    reports.push_back(std::move(layerReport));
  }
  if (!quiet)
    printSummary(reports, skipped);
  if (!report.empty() && failed(writeReport(reports, options)))
    return signalPassFailure();
}

} // namespace
