//===- Compress.cpp - --slr-compress --------------------------------------===//
//
// Rewrites constant-weight linear layers into slr.linear using the
// compression library and per-layer calibration statistics.
//
//===----------------------------------------------------------------------===//

#include "slr/Calibration/CalibrationFile.h"
#include "slr/Compression/Compression.h"
#include "slr/Compression/MethodRegistry.h"
#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/LinearMatching.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"
#include "slr/Dialect/SLR/Utils/PassOptionCheck.h"
#include "slr/Sparsity/NMLayout.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/Safetensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/SHA256.h"
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
  /// The rank option when it exceeded min(N, K) and was clamped; else -1.
  int64_t requestedRank = -1;
};

/// A linear layer left dense, and why.
struct SkippedLayer {
  std::string name, reason;
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

/// A layer's answer in the form the IR takes: packed S, the low-rank
/// factors, and what the report says about it.
struct LayerAnswer {
  std::vector<float> values;
  std::vector<uint64_t> positions;
  std::vector<float> u, v;
  int64_t rank = 0;
  double relativeObjective = 0, pruningOnlyObjective = -1, seconds = 0;
  int64_t deadInputs = 0, warmStartRounds = 0, maskSearchRounds = -1;
};

constexpr StringLiteral kResultFormat = "slr-compress layer result 1";

/// SHA-256 (hex) of what a layer's answer depends on: its name and shape,
/// W (row-major N x K), H and every compression option.
std::string layerFingerprint(StringRef name, int64_t numRows, int64_t numCols,
                             ArrayRef<float> weights, ArrayRef<double> hessian,
                             const cmp::Options &options) {
  llvm::SHA256 hash;
  auto text = [&](StringRef value) {
    hash.update(llvm::arrayRefFromStringRef(value));
    hash.update(ArrayRef<uint8_t>{0});
  };
  text(kResultFormat);
  text(name);
  text(std::to_string(numRows) + "x" + std::to_string(numCols));
  hash.update(
      ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(weights.data()),
                        weights.size() * sizeof(float)));
  hash.update(
      ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(hessian.data()),
                        hessian.size() * sizeof(double)));
  text(cmp::describeOptions(options));
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

/// DIR/<name>.safetensors, with every byte of the name outside
/// [A-Za-z0-9._-] written as %XX (distinct names give distinct files).
std::string resultPath(StringRef dir, StringRef name) {
  std::string file;
  for (char c : name) {
    if (llvm::isAlnum(c) || c == '.' || c == '_' || c == '-')
      file += c;
    else
      file += "%" + llvm::utohexstr(static_cast<uint8_t>(c), false, 2);
  }
  SmallString<256> path(dir);
  llvm::sys::path::append(path, file + ".safetensors");
  return std::string(path);
}

std::string printDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

llvm::Error writeLayerResult(StringRef path, StringRef name,
                             StringRef fingerprint, int64_t numRows,
                             int64_t numCols, const LayerAnswer &answer) {
  SafetensorsWriter writer;
  writer.setMetadata("format", kResultFormat);
  writer.setMetadata("layer", name);
  writer.setMetadata("fingerprint", fingerprint);
  writer.setMetadata("relative_objective",
                     printDouble(answer.relativeObjective));
  writer.setMetadata("pruning_only_relative_objective",
                     printDouble(answer.pruningOnlyObjective));
  writer.setMetadata("seconds", printDouble(answer.seconds));
  writer.setMetadata("dead_inputs", std::to_string(answer.deadInputs));
  writer.setMetadata("warm_start_rounds_run",
                     std::to_string(answer.warmStartRounds));
  writer.setMetadata("mask_search_rounds_run",
                     std::to_string(answer.maskSearchRounds));
  int64_t groups = static_cast<int64_t>(answer.positions.size()) / numRows;
  writer.addF32("s_values",
                {numRows, static_cast<int64_t>(answer.values.size()) / numRows},
                answer.values);
  writer.addRaw("s_positions", SafetensorsDType::U64, {numRows, groups},
                ArrayRef<uint8_t>(
                    reinterpret_cast<const uint8_t *>(answer.positions.data()),
                    answer.positions.size() * sizeof(uint64_t)));
  writer.addF32("u", {numRows, answer.rank}, answer.u);
  writer.addF32("v", {answer.rank, numCols}, answer.v);
  return writer.write(path);
}

/// Reads a result written by writeLayerResult for this layer, W, H and
/// options; an error says what does not match.
llvm::Error readLayerResult(StringRef path, StringRef name,
                            StringRef fingerprint, int64_t numRows,
                            int64_t numCols, unsigned n, unsigned m,
                            LayerAnswer &answer) {
  auto fail = [&](const Twine &why) {
    return llvm::createStringError("result file '" + path + "': " + why);
  };
  auto file = SafetensorsFile::open(path);
  if (!file)
    return fail(llvm::toString(file.takeError()));
  if (file->metadata("format") != kResultFormat)
    return fail("not a layer result of this slr-compress (format '" +
                file->metadata("format") + "')");
  if (file->metadata("layer") != name)
    return fail("holds layer '" + file->metadata("layer") + "', not '" + name +
                "'");
  if (file->metadata("fingerprint") != fingerprint)
    return fail("stale: it was computed from another W, H or options than "
                "layer '" +
                name + "' has now");
  auto number = [&](StringRef key, double &value) -> llvm::Error {
    if (file->metadata(key).getAsDouble(value, /*AllowInexact=*/true))
      return fail("metadata '" + key + "' is not a number");
    return llvm::Error::success();
  };
  auto integer = [&](StringRef key, int64_t &value) -> llvm::Error {
    if (file->metadata(key).getAsInteger(10, value))
      return fail("metadata '" + key + "' is not an integer");
    return llvm::Error::success();
  };
  if (llvm::Error error = llvm::joinErrors(
          number("relative_objective", answer.relativeObjective),
          number("pruning_only_relative_objective",
                 answer.pruningOnlyObjective)))
    return error;
  if (llvm::Error error =
          llvm::joinErrors(number("seconds", answer.seconds),
                           integer("dead_inputs", answer.deadInputs)))
    return error;
  if (llvm::Error error = llvm::joinErrors(
          integer("warm_start_rounds_run", answer.warmStartRounds),
          integer("mask_search_rounds_run", answer.maskSearchRounds)))
    return error;
  auto tensor = [&](StringRef tensorName, SafetensorsDType dtype,
                    ArrayRef<int64_t> shape)
      -> llvm::Expected<const SafetensorsTensor *> {
    const SafetensorsTensor *found = file->lookup(tensorName);
    if (!found || found->dtype != dtype || found->shape.size() != 2 ||
        found->shape[0] != shape[0] ||
        (shape[1] >= 0 && found->shape[1] != shape[1]))
      return fail("tensor '" + tensorName +
                  "' is missing or of the wrong "
                  "type or shape");
    return found;
  };
  const int64_t groups = numCols / m;
  auto values =
      tensor("s_values", SafetensorsDType::F32, {numRows, groups * n});
  if (!values)
    return values.takeError();
  auto positions =
      tensor("s_positions", SafetensorsDType::U64, {numRows, groups});
  if (!positions)
    return positions.takeError();
  auto u = tensor("u", SafetensorsDType::F32, {numRows, -1});
  if (!u)
    return u.takeError();
  answer.rank = (*u)->shape[1];
  auto v = tensor("v", SafetensorsDType::F32, {answer.rank, numCols});
  if (!v)
    return v.takeError();
  for (auto [source, target] :
       {std::pair(*values, &answer.values), std::pair(*u, &answer.u),
        std::pair(*v, &answer.v)})
    if (llvm::Error error = file->readAsFloat(*source, *target))
      return error;
  ArrayRef<uint8_t> bytes = file->rawData(**positions);
  answer.positions.resize(numRows * groups);
  if (bytes.size() != answer.positions.size() * sizeof(uint64_t))
    return fail("tensor 's_positions' has the wrong size");
  std::memcpy(answer.positions.data(), bytes.data(), bytes.size());
  return llvm::Error::success();
}

/// The method option's help, from the registry: "compression method: a, b;
/// a: <summary>; b: <summary>" over the methods with an slr.linear form.
StringRef methodOptionHelp() {
  static const std::string help = [] {
    std::string text =
        "compression method: " +
        cmp::compressionMethodNames(cmp::MethodSelection::WithSparsePart);
    for (const cmp::CompressionMethodInfo &info : cmp::compressionMethods())
      if (cmp::isSelected(info, cmp::MethodSelection::WithSparsePart))
        text +=
            "; " + std::string(info.name) + ": " + std::string(info.summary);
    return text;
  }();
  return help;
}

struct SLRCompressPass : slr::impl::SLRCompressBase<SLRCompressPass> {
  SLRCompressPass() { method.setDescription(methodOptionHelp()); }
  SLRCompressPass(const SLRCompressPass &other) : SLRCompressBase(other) {
    method.setDescription(methodOptionHelp());
  }
  SLRCompressPass(SLRCompressOptions options)
      : SLRCompressBase(std::move(options)) {
    method.setDescription(methodOptionHelp());
  }

  LogicalResult initializeOptions(
      StringRef text,
      function_ref<LogicalResult(const Twine &)> errorHandler) override;
  void runOnOperation() override;

private:
  /// Checks the options and fills `options`; the error message otherwise.
  std::optional<std::string> parseOptions(cmp::Options &options);
  /// layer-range as [begin, end); [0, max) when empty.
  std::optional<std::pair<size_t, size_t>> parseLayerRange() const;
  LogicalResult compressLayer(ConstantWeightLinear &layer,
                              const cmp::Options &options,
                              const CalibrationFile *calibration,
                              LayerReport &report);
  void printSummary(ArrayRef<LayerReport> reports, unsigned skipped);
  LogicalResult writeReport(ArrayRef<LayerReport> reports,
                            ArrayRef<SkippedLayer> skipped);
};

/// Bad options fail when the pipeline is built, before any input is read,
/// with one line: llvm::cl would print its own complaint to stderr and hand
/// MLIR an empty error, and the pass could only report at the module.
LogicalResult SLRCompressPass::initializeOptions(
    StringRef text, function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (std::optional<std::string> error = checkPassOptionValues(
          "slr-compress", text,
          passOptionKinds(calibration, method, sparsity, rank, compressionRatio,
                          iterations, warmStartRounds, maxWarmStartRounds,
                          maskSearchRounds, refitIterations, percdamp,
                          dampingScale, sparseStep, layers, layerRange,
                          resultsDir, fromResults, report, explainSkipped,
                          quiet, seed)))
    return errorHandler(*error);
  std::string message;
  if (failed(Pass::initializeOptions(text, [&](const Twine &error) {
        message = StringRef(error.str()).trim().str();
        return failure();
      })))
    return errorHandler(message.empty() ? "slr-compress: invalid options '" +
                                              text.str() + "'"
                                        : "slr-compress: " + message);
  cmp::Options options;
  if (std::optional<std::string> error = parseOptions(options))
    return errorHandler(*error);
  return success();
}

std::optional<std::string>
SLRCompressPass::parseOptions(cmp::Options &options) {
  auto fail = [](const Twine &message) -> std::optional<std::string> {
    return ("slr-compress: " + message).str();
  };
  const cmp::CompressionMethodInfo *methodInfo =
      cmp::findCompressionMethod(method);
  if (!methodInfo)
    return fail(cmp::unknownMethodMessage(
        method, cmp::MethodSelection::WithSparsePart));
  if (!methodInfo->hasSparsePart)
    return fail("method '" + method +
                "' has no sparse part and no slr.linear form; use it from the "
                "library");
  std::optional<cmp::SparsityPattern> pattern =
      cmp::parseSparsityPattern(sparsity);
  if (!pattern)
    return fail("cannot parse sparsity '" + sparsity +
                "' (expected N:M such as 2:4)");
  if (pattern->isUnstructured())
    return fail("unstructured sparsity has no slr.linear form; use an N:M "
                "pattern");
  if (pattern->n <= 0 || pattern->n >= pattern->m ||
      pattern->m > static_cast<int>(kMaxGroupSize))
    return fail("sparsity " + sparsity +
                " needs 0 < N < M <= " + Twine(kMaxGroupSize));
  // The packed positions of a group are one 64-bit word.
  if (!isSupportedPattern(pattern->n, pattern->m))
    return fail("sparsity " + sparsity + " needs " +
                Twine(groupPositionBits(pattern->n, pattern->m)) +
                " bits for the positions of a group, more than the " +
                Twine(kMaxGroupPositionBits) +
                " that fit; with M = " + Twine(pattern->m) +
                " at most N = " + Twine(maxKeptPerGroup(pattern->m)));
  std::optional<cmp::SparseStep> step = cmp::parseSparseStep(sparseStep);
  if (!step)
    return fail("unknown sparse-step '" + sparseStep +
                "' (expected obs or admm)");
  if (rank < 0)
    return fail("rank must be >= 0");
  if (!std::isfinite(compressionRatio))
    return fail("compression-ratio must be a finite number");
  if (iterations < 1)
    return fail("iterations must be >= 1");
  if (!(percdamp >= 0.0) || !std::isfinite(percdamp))
    return fail("percdamp must be a finite number >= 0");
  std::optional<cmp::DampingScale> scale = cmp::parseDampingScale(dampingScale);
  if (!scale)
    return fail("unknown damping-scale '" + dampingScale +
                "' (expected median or mean)");
  if (warmStartRounds < 0)
    return fail("warm-start-rounds must be >= 0");
  if (maxWarmStartRounds < 0)
    return fail("max-warm-start-rounds must be >= 0");
  if (maskSearchRounds < 0)
    return fail("mask-search-rounds must be >= 0");
  if (refitIterations < -1)
    return fail("refit-iterations must be >= 0 (or -1: the default)");
  std::string regexError;
  if (!layers.empty() && !llvm::Regex(layers).isValid(regexError))
    return fail("invalid layers regex '" + layers + "': " + regexError);
  if (!parseLayerRange())
    return fail("layer-range must be BEGIN:END with 0 <= BEGIN <= END, got '" +
                layerRange + "'");
  if (!resultsDir.empty() && !fromResults.empty())
    return fail("results-dir and from-results exclude each other: a run "
                "either compresses layers or assembles their results");
  if (methodInfo->needsCalibration && calibration.empty())
    return fail("method '" + method +
                "' needs calibration=<file> (see slr-calibrate)");
  options.method = methodInfo->method;
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
  return std::nullopt;
}

std::optional<std::pair<size_t, size_t>>
SLRCompressPass::parseLayerRange() const {
  if (layerRange.empty())
    return std::pair<size_t, size_t>(0, SIZE_MAX);
  auto [first, second] = StringRef(layerRange).split(':');
  size_t begin = 0, end = 0;
  if (first.getAsInteger(10, begin) || second.getAsInteger(10, end) ||
      begin > end)
    return std::nullopt;
  return std::pair(begin, end);
}

LogicalResult SLRCompressPass::compressLayer(ConstantWeightLinear &layer,
                                             const cmp::Options &options,
                                             const CalibrationFile *calibration,
                                             LayerReport &report) {
  Operation *op = layer.op;
  // Read now, not at collection time: an earlier layer's rewrite may have
  // replaced the op that defined them.
  const Value input = layer.getInput(), init = layer.getInit();
  const int64_t numRows = layer.numOutputFeatures;
  const int64_t numCols = layer.numInputFeatures;
  const unsigned n = options.pattern.n, m = options.pattern.m;

  std::vector<double> identity;
  const std::vector<double> *hessian = nullptr;
  if (calibration) {
    const LayerCalibration *entry = calibration->lookup(layer.name);
    if (!entry)
      return mlir::emitError(op->getLoc(),
                             "slr-compress: calibration file has no entry for "
                             "layer '")
             << layer.name << "'";
    if (entry->numFeatures != numCols)
      return mlir::emitError(op->getLoc(),
                             "slr-compress: calibration matrix for '")
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
    return mlir::emitError(op->getLoc(), "slr-compress: ") << error;
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
      return mlir::emitError(op->getLoc(), "slr-compress: weight of layer '")
             << layer.name << "' contains NaN or Inf";

  LayerAnswer answer;
  std::string fingerprint;
  if (!fromResults.empty() || !resultsDir.empty())
    fingerprint = layerFingerprint(layer.name, numRows, numCols, weights,
                                   *hessian, options);
  if (!fromResults.empty()) {
    std::string path = resultPath(fromResults, layer.name);
    if (!llvm::sys::fs::exists(path))
      return mlir::emitError(op->getLoc(),
                             "slr-compress: no result for layer '")
             << layer.name << "' in '" << fromResults << "' (expected '" << path
             << "')";
    if (llvm::Error error = readLayerResult(path, layer.name, fingerprint,
                                            numRows, numCols, n, m, answer))
      return mlir::emitError(op->getLoc(), "slr-compress: ")
             << llvm::toString(std::move(error));
  } else {
    auto start = std::chrono::steady_clock::now();
    cmp::Result result;
    cmp::Status status =
        cmp::compress(weights.data(), weights.size(), numRows, numCols,
                      hessian->data(), hessian->size(), options, result);
    if (!status)
      return mlir::emitError(op->getLoc(), "slr-compress: layer '")
             << layer.name << "': " << status.message;
    answer.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    // Pack S.
    answer.values.resize(numRows * numCols / m * n);
    answer.positions.resize(numRows * numCols / m);
    if (!packNM(result.S.data(), numRows, numCols, n, m, answer.values.data(),
                answer.positions.data()))
      return mlir::emitError(op->getLoc(), "slr-compress: sparsity ")
             << sparsity << " has no packed form";
    answer.u = std::move(result.U);
    answer.v = std::move(result.V);
    answer.rank = result.rank;
    answer.relativeObjective = result.relativeObjective;
    if (options.method == cmp::Method::HassleFree &&
        !result.objectiveHistory.empty())
      answer.pruningOnlyObjective = result.objectiveHistory.front();
    answer.deadInputs = result.deadInputs;
    answer.warmStartRounds = result.warmStartRounds;
    if (options.method == cmp::Method::HassleFree)
      answer.maskSearchRounds = result.maskSearchRounds;
    if (!resultsDir.empty())
      if (llvm::Error error =
              writeLayerResult(resultPath(resultsDir, layer.name), layer.name,
                               fingerprint, numRows, numCols, answer))
        return mlir::emitError(op->getLoc(), "slr-compress: result of layer '")
               << layer.name << "': " << llvm::toString(std::move(error));
  }
  report.seconds = answer.seconds;
  const std::vector<float> &values = answer.values;
  const std::vector<uint64_t> &positions = answer.positions;

  OpBuilder builder(op);
  Location loc = op->getLoc();
  MLIRContext *ctx = builder.getContext();
  auto inputType = cast<RankedTensorType>(input.getType());
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
  if (answer.rank > 0) {
    u = constant(makeFloatElements(
        RankedTensorType::get({numRows, answer.rank}, elementType), answer.u,
        blobPrefix + ".u"));
    v = constant(makeFloatElements(
        RankedTensorType::get({answer.rank, numCols}, elementType), answer.v,
        blobPrefix + ".v"));
  }
  auto resultType = cast<RankedTensorType>(init.getType());
  Value linear = LinearOp::create(
      builder, loc, resultType, input, valuesConst, positionsConst, u, v,
      /*bias=*/Value(), NMSparsityAttr::get(ctx, n, m));
  linear.getDefiningOp()->setAttr(kLayerNameAttr,
                                  builder.getStringAttr(layer.name));
  // Non-zero accumulators (e.g. a fused residual) are added back.
  if (!isZeroInit(init))
    linear = arith::AddFOp::create(builder, loc, linear, init);
  replaceLinearLayer(op, linear, input, init);

  // One rank option serves every layer; where it exceeds min(N, K) the
  // low-rank part is full rank instead. Said, not silent.
  bool hasLowRank = !cmp::compressionMethodInfo(options.method).pruningOnly;
  if (hasLowRank && options.compressionRatio < 0 &&
      options.rank > std::min(numRows, numCols)) {
    report.requestedRank = options.rank;
    mlir::emitWarning(loc) << "slr-compress: rank " << options.rank
                           << " exceeds min(N, K) of layer '" << layer.name
                           << "' (" << numRows << "x" << numCols
                           << "); it gets rank " << answer.rank;
  }

  report.name = layer.name;
  report.numOutputFeatures = numRows;
  report.numInputFeatures = numCols;
  report.rank = answer.rank;
  report.relativeObjective = answer.relativeObjective;
  report.pruningOnlyObjective = answer.pruningOnlyObjective;
  report.deadInputs = answer.deadInputs;
  report.warmStartRounds = answer.warmStartRounds;
  report.maskSearchRounds = answer.maskSearchRounds;
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
                                           ArrayRef<SkippedLayer> skipped) {
  // Built in memory, then written atomically: no partial report on failure.
  std::string text;
  llvm::raw_string_ostream file(text);
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
          if (r.requestedRank >= 0)
            json.attribute("rank_requested", r.requestedRank);
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
    json.attributeArray("left_dense", [&] {
      for (const SkippedLayer &layer : skipped)
        json.object([&] {
          json.attribute("name", layer.name);
          json.attribute("reason", layer.reason);
        });
    });
  });
  file << "\n";
  if (llvm::Error error = slr::writeFileAtomically(report, text))
    return mlir::emitError(getOperation().getLoc(), "slr-compress: report: ")
           << llvm::toString(std::move(error));
  return success();
}

void SLRCompressPass::runOnOperation() {
  ModuleOp module = getOperation();
  // Module-level errors go to the module's location without the module
  // itself (Operation::emitError would print the whole model as a note).
  auto moduleError = [&]() { return mlir::emitError(module.getLoc()); };
  cmp::Options options;
  if (std::optional<std::string> error = parseOptions(options)) {
    moduleError() << *error;
    return signalPassFailure();
  }
  llvm::Regex layerFilter(layers);

  std::optional<CalibrationFile> calibrationFile;
  if (!calibration.empty()) {
    llvm::Expected<CalibrationFile> loaded = CalibrationFile::read(calibration);
    if (!loaded) {
      moduleError() << "slr-compress: " << llvm::toString(loaded.takeError());
      return signalPassFailure();
    }
    calibrationFile = std::move(*loaded);
  }

  // Collect first: rewriting while walking would invalidate the walk.
  SmallVector<ConstantWeightLinear> layersToCompress;
  SmallVector<SkippedLayer> skipped;
  unsigned numMatched = 0, numSelected = 0;
  std::string firstMatchedName;
  forEachLinearCandidate(module, [&](linalg::LinalgOp op,
                                     const std::string &name,
                                     std::optional<ConstantWeightLinear> &match,
                                     const LinearMatchFailure &failure) {
    std::string reason = failure.reason;
    bool patternMismatch = false;
    if (match) {
      if (numMatched++ == 0)
        firstMatchedName = name;
      if (!layers.empty() && !layerFilter.match(name)) {
        reason = "not selected by layers='" + layers + "'";
      } else {
        ++numSelected;
        if (match->numInputFeatures % options.pattern.m != 0) {
          reason =
              "K = " + std::to_string(match->numInputFeatures) +
              " is not a multiple of M = " + std::to_string(options.pattern.m) +
              " (sparsity " + sparsity + ")";
          patternMismatch = true;
        }
      }
    }
    if (match && reason.empty()) {
      layersToCompress.push_back(*match);
      return;
    }
    skipped.push_back({name, reason});
    // The user asked for this layer; that the pattern cannot apply to it is
    // worth a warning even without explain-skipped.
    if (patternMismatch)
      mlir::emitWarning(op.getLoc())
          << "slr-compress: left '" << name << "' dense: " << reason;
    else if (explainSkipped)
      mlir::emitRemark(op.getLoc())
          << "slr-compress: left '" << name << "' dense: " << reason;
  });

  // layer-range: a job's share of the layers to compress.
  auto [rangeBegin, rangeEnd] = *parseLayerRange();
  bool rangeSelectedNone = false;
  if (!layerRange.empty()) {
    SmallVector<ConstantWeightLinear> inRange;
    for (auto [index, layer] : llvm::enumerate(layersToCompress)) {
      if (index >= rangeBegin && index < rangeEnd)
        inRange.push_back(layer);
      else
        skipped.push_back({layer.name, "outside layer-range=" + layerRange});
    }
    rangeSelectedNone = inRange.empty() && !layersToCompress.empty();
    layersToCompress = std::move(inRange);
  }
  // A job array may have more jobs than layers: a job whose range lies past
  // the last layer has nothing to write.
  if (rangeSelectedNone && !resultsDir.empty()) {
    if (!quiet)
      llvm::errs() << "slr-compress: layer-range=" << layerRange
                   << " selects none of the " << numSelected
                   << " layers; nothing to do\n";
    return;
  }
  if (rangeSelectedNone) {
    moduleError() << "slr-compress: layer-range=" << layerRange
                  << " selects none of the layers to compress";
    return signalPassFailure();
  }
  if (!resultsDir.empty())
    if (std::error_code error = llvm::sys::fs::create_directories(resultsDir)) {
      moduleError() << "slr-compress: cannot create results-dir '" << resultsDir
                    << "': " << error.message();
      return signalPassFailure();
    }

  // Compressible layers exist but the options compress none of them: almost
  // certainly not what was asked for (a pattern that divides no K, a layers
  // regex that matches nothing).
  if (layersToCompress.empty() && numMatched > 0) {
    if (numSelected == 0)
      moduleError() << "slr-compress: layers='" << layers
                    << "' selects no layer (compressible: " << numMatched
                    << ", e.g. '" << firstMatchedName << "')";
    else
      moduleError() << "slr-compress: sparsity " << sparsity
                    << " compresses no layer: K is not a multiple of M = "
                    << options.pattern.m << " in any of the " << numSelected
                    << " selected";
    return signalPassFailure();
  }
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
    printSummary(reports, skipped.size());

  if (!report.empty() && failed(writeReport(reports, skipped)))
    return signalPassFailure();
}

} // namespace
