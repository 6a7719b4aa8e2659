//===- GPUKernelGen.cpp - slr.linear kernels for the GPU benchmark --------===//
//
// slr-gpu-kernels: generates, with the same library code as
// --convert-slr-to-gpu, the fused (2:4 sparse + low-rank) and the sparse-only
// kernels of slr.linear for each requested N x K, compiles them to a cubin
// (NVPTX + ptxas, no GPU needed) and writes the manifest slr-bench-gpu reads
// on the GPU machine:
//
//   slr-gpu-kernels --shape 4096x4096 --shape 14336x4096 --rank 64
//       --type bf16 --chip sm_90a -o build/gpu-bench
//
// With --model it also exports the layers of a compressed model (S packed, U,
// V; the rank padded with zeros to a multiple of 16) with kernels for
// their shapes, so that the GPU machine checks the kernels on real weights.
//
//===----------------------------------------------------------------------===//

#include "KernelManifest.h"

#include "slr/Conversion/SLRToGPU/GPUPipeline.h"
#include "slr/Conversion/SLRToGPU/SLRToGPU.h"
#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/LinearMatching.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Matchers.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace mlir;

static cl::OptionCategory category("slr-gpu-kernels options");
static cl::list<std::string> shapes("shape", cl::desc("N x K, e.g. 4096x4096"),
                                    cl::cat(category));
static cl::opt<std::string>
    modelPath("model",
              cl::desc("compressed model IR (slr-opt --slr-compress output): "
                       "also export the weights of its slr.linear layers"),
              cl::init(""), cl::cat(category));
static cl::opt<std::string>
    layerFilter("layers",
                cl::desc("with --model: regex over layer names (default all)"),
                cl::init(""), cl::cat(category));
static cl::opt<int64_t> lowRank("rank", cl::desc("rank of the low-rank part"),
                                cl::init(64), cl::cat(category));
static cl::opt<std::string> typeName("type", cl::desc("bf16 or f16"),
                                     cl::init("bf16"), cl::cat(category));
static cl::opt<std::string> chip("chip", cl::desc("GPU architecture"),
                                 cl::init("sm_90a"), cl::cat(category));
static cl::opt<std::string> features("features", cl::desc("PTX features"),
                                     cl::init("+ptx85"), cl::cat(category));
static cl::opt<std::string>
    binaryFormat("format",
                 cl::desc("bin: a cubin (ptxas); isa: PTX, which the driver "
                          "JIT-compiles and the PTX simulator runs"),
                 cl::init("bin"), cl::cat(category));
static cl::opt<std::string>
    testDefect("test-defect",
               cl::desc("tests only: plant a defect in the kernels (see "
                        "convert-slr-to-gpu test-defect)"),
               cl::init("none"), cl::cat(category));
static cl::opt<bool>
    decodeKernels("decode",
                  cl::desc("also build the decode kernels (decode_sm80, "
                           "M <= 16) of every shape"),
                  cl::init(false), cl::cat(category));
static cl::list<int64_t>
    decodeRows("decode-rows",
               cl::desc("with --decode: the bounds on M to build decode "
                        "kernels for (each a tile of the next power of two "
                        "rows; default 16)"),
               cl::CommaSeparated, cl::cat(category));
static cl::opt<std::string> outputDir("o", cl::desc("output directory"),
                                      cl::Required, cl::cat(category));
static cl::opt<int64_t> tileN("tile-n", cl::init(slr::SLRGPUTileConfig().tileN),
                              cl::cat(category));
static cl::opt<int64_t> tileM("tile-m", cl::init(slr::SLRGPUTileConfig().tileM),
                              cl::cat(category));
static cl::opt<int64_t> tileK("tile-k", cl::init(slr::SLRGPUTileConfig().tileK),
                              cl::cat(category));
static cl::opt<int64_t> warpsN("warps-n",
                               cl::init(slr::SLRGPUTileConfig().warpsN),
                               cl::cat(category));
static cl::opt<int64_t> warpsM("warps-m",
                               cl::init(slr::SLRGPUTileConfig().warpsM),
                               cl::cat(category));
static cl::opt<int64_t> stages("stages",
                               cl::init(slr::SLRGPUTileConfig().stages),
                               cl::cat(category));

static int fail(const Twine &message) {
  WithColor::error(errs(), "slr-gpu-kernels") << message << "\n";
  return 1;
}

namespace {
/// One slr.linear of a compressed model, as float32 host data.
struct ExportedLayer {
  slr::bench::LayerWeights entry;
  std::vector<float> values, u, v;
  std::vector<uint8_t> positions;
};

/// Reads the constant operands of a 2:4 slr.linear without bias; the rank is
/// padded with
/// zero columns of U and rows of V to a multiple of 16 (the GPU kernels'
/// requirement; the product is unchanged).
std::optional<std::string> exportLayer(slr::LinearOp op, ExportedLayer &out) {
  auto constant = [](mlir::Value value) -> ElementsAttr {
    mlir::Attribute attr;
    if (value && matchPattern(value, m_Constant(&attr)))
      return dyn_cast<ElementsAttr>(attr);
    return {};
  };
  if (op.getPattern().getN() != 2 || op.getPattern().getM() != 4)
    return std::string("not 2:4");
  ElementsAttr values = constant(op.getValues()),
               positions = constant(op.getPositions());
  if (!values || !positions)
    return std::string("S is not a constant");
  int64_t n = op.getOutputFeatures(), k = op.getInputFeatures(),
          rank = op.getLowRank();
  std::string error;
  if (!slr::readFloatElements(values, out.values, error))
    return error;
  std::optional<std::vector<uint8_t>> nibbles =
      slr::readPositionNibbles(positions);
  if (!nibbles)
    return std::string("positions are not a readable integer constant");
  out.positions = std::move(*nibbles);
  int64_t padded = (rank + 15) / 16 * 16;
  out.u.assign(n * padded, 0.0f);
  out.v.assign(padded * k, 0.0f);
  if (rank > 0) {
    ElementsAttr u = constant(op.getLowRankU()), v = constant(op.getLowRankV());
    std::vector<float> uValues, vValues;
    if (!u || !v || !slr::readFloatElements(u, uValues, error) ||
        !slr::readFloatElements(v, vValues, error))
      return error.empty() ? std::string("U or V is not a constant") : error;
    for (int64_t row = 0; row < n; ++row)
      std::copy_n(uValues.begin() + row * rank, rank,
                  out.u.begin() + row * padded);
    std::copy(vValues.begin(), vValues.end(), out.v.begin());
  }
  if (op.getBias())
    return std::string("has a bias (the benchmark's kernels have none)");
  out.entry.n = n;
  out.entry.k = k;
  out.entry.rank = padded;
  return std::nullopt;
}

template <typename T>
void writeArray(raw_ostream &os, const std::vector<T> &data) {
  os.write(reinterpret_cast<const char *>(data.data()),
           data.size() * sizeof(T));
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "slr-gpu-kernels: slr.linear kernels to a cubin "
                              "+ manifest for slr-bench-gpu\n");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<slr::SLRDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  registerAllPasses();

  mlir::Type elementType;
  if (typeName == "bf16")
    elementType = BFloat16Type::get(&context);
  else if (typeName == "f16")
    elementType = Float16Type::get(&context);
  else
    return fail("--type must be bf16 or f16, got '" + typeName + "'");

  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  (*module)->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                     builder.getUnitAttr());
  builder.setInsertionPointToEnd(module->getBody());
  auto kernelModule = gpu::GPUModuleOp::create(builder, loc, "slr_gpu_kernels");

  std::optional<slr::PlantedDefect> defect =
      slr::parsePlantedDefect(testDefect);
  if (!defect)
    return fail("unknown --test-defect '" + testDefect + "'");
  // Any M: the benchmark launches one kernel set for every batch size.
  std::string noVariant;
  FailureOr<slr::GPUKernelVariant> variant =
      slr::chooseKernelVariant(chip, slr::SLRLinearRowRange(), noVariant);
  if (failed(variant))
    return fail(noVariant);
  auto makeSpec = [&](int64_t n, int64_t k, int64_t r,
                      slr::GPUKernelVariant family, int64_t maxRows = 16) {
    slr::SLRLinearKernelSpec spec;
    spec.variant = family;
    spec.maxRows = maxRows;
    spec.n = n;
    spec.k = k;
    spec.rank = r;
    spec.elementType = elementType;
    spec.tiles = {tileN, tileM, tileK, warpsN, warpsM, stages};
    spec.defect = *defect;
    return spec;
  };

  slr::bench::KernelManifest manifest;
  manifest.chip = chip;
  if (binaryFormat != "bin" && binaryFormat != "isa")
    return fail("--format must be bin or isa, got '" + binaryFormat + "'");
  manifest.binary = binaryFormat == "isa" ? "kernels.ptx" : "kernels.cubin";
  // (N, K, rank) to build kernels for, in order, without repeats.
  SmallVector<std::tuple<int64_t, int64_t, int64_t>> requests;
  auto request = [&](int64_t n, int64_t k, int64_t r) {
    if (!llvm::is_contained(requests, std::make_tuple(n, k, r)))
      requests.push_back({n, k, r});
  };
  for (const std::string &shape : shapes) {
    int64_t n = 0, k = 0;
    StringRef text(shape);
    auto [nText, kText] = text.split('x');
    if (nText.getAsInteger(10, n) || kText.getAsInteger(10, k) || n <= 0 ||
        k <= 0)
      return fail("--shape must be NxK, got '" + shape + "'");
    request(n, k, lowRank);
  }

  std::vector<ExportedLayer> exported;
  OwningOpRef<Operation *> model;
  if (!modelPath.empty()) {
    ParserConfig config(&context);
    model = parseSourceFile(modelPath, config);
    if (!model)
      return fail("cannot parse " + modelPath);
    Regex filter(layerFilter);
    model->walk([&](slr::LinearOp op) {
      auto name = op->getAttrOfType<StringAttr>(slr::kLayerNameAttr);
      if (!name || (!layerFilter.empty() && !filter.match(name.getValue())))
        return;
      ExportedLayer layer;
      layer.entry.layer = name.getValue().str();
      layer.entry.file = layer.entry.layer + ".bin";
      std::optional<std::string> reason = exportLayer(op, layer);
      if (!reason)
        reason = slr::checkSLRLinearKernelSpec(
            makeSpec(layer.entry.n, layer.entry.k, layer.entry.rank,
                     slr::GPUKernelVariant::MmaSpSm80));
      if (reason) {
        errs() << "slr-gpu-kernels: skipped " << layer.entry.layer << ": "
               << *reason << "\n";
        return;
      }
      exported.push_back(std::move(layer));
    });
    if (exported.empty())
      return fail("no slr.linear layer of " + modelPath +
                  (layerFilter.empty() ? "" : " matching --layers") +
                  " could be exported");
    for (const ExportedLayer &layer : exported)
      request(layer.entry.n, layer.entry.k, layer.entry.rank);
  }
  if (requests.empty())
    return fail("nothing to build: give --shape or --model");

  for (auto [n, k, requestedRank] : requests) {
    std::string shape = (Twine(n) + "x" + Twine(k)).str();
    // The fused kernels and the sparse-only main kernel (rank 0), of the
    // variant for any M and, with --decode, of the decode variant.
    // On sm_90a the wgmma sets are built too, for the shapes that family
    // tiles, next to the mma_sp_sm80 ones (slr-bench-gpu compares them).
    slr::GPUKernelVariant anyM = *variant;
    if (anyM == slr::GPUKernelVariant::WgmmaSpSm90a)
      anyM = slr::GPUKernelVariant::MmaSpSm80;
    SmallVector<std::tuple<slr::GPUKernelVariant, int64_t, int64_t>> sets = {
        {anyM, requestedRank, 0}, {anyM, 0, 0}};
    if (*variant == slr::GPUKernelVariant::WgmmaSpSm90a)
      for (int64_t r : {requestedRank, int64_t(0)})
        if (!slr::checkSLRLinearKernelSpec(makeSpec(n, k, r, *variant)))
          sets.push_back({*variant, r, 0}); // only shapes it tiles
    if (decodeKernels) {
      SmallVector<int64_t> bounds(decodeRows.begin(), decodeRows.end());
      if (bounds.empty())
        bounds.push_back(16);
      for (int64_t rows : bounds) {
        if (rows < 1 || rows > 16)
          return fail("--decode-rows must be between 1 and 16, got " +
                      Twine(rows));
        sets.push_back(
            {slr::GPUKernelVariant::DecodeSm80, requestedRank, rows});
        sets.push_back({slr::GPUKernelVariant::DecodeSm80, 0, rows});
      }
    }
    for (auto [family, variantRank, maxRows] : sets) {
      slr::SLRLinearKernelSpec spec =
          makeSpec(n, k, variantRank, family, maxRows);
      if (std::optional<std::string> error =
              slr::checkSLRLinearKernelSpec(spec))
        return fail(shape + ", rank " + Twine(variantRank) + ": " + *error);
      std::string familyName = slr::stringifyGPUKernelVariant(family).str();
      slr::SLRLinearKernels kernels =
          slr::buildSLRLinearKernels(builder, kernelModule, spec);
      if (llvm::any_of(manifest.variants, [&](const auto &v) {
            return v.n == n && v.k == k && v.rank == variantRank &&
                   v.family == familyName && v.tileM == kernels.tileM;
          }))
        continue;
      // The manifest says what the launch recipe of the compiler says.
      slr::GPULaunchAttr recipe = slr::getSLRLinearLaunchAttr(
          kernelModule, spec, kernels, /*reorder=*/{}, /*resident=*/false);
      slr::bench::KernelVariant v;
      v.family = familyName;
      v.n = recipe.getN();
      v.k = recipe.getK();
      v.rank = recipe.getRank();
      v.type = typeName;
      v.mainKernel = recipe.getMain().getLeafReference().str();
      v.lowRankKernel = recipe.getLowrank()
                            ? recipe.getLowrank().getLeafReference().str()
                            : std::string();
      v.threads = recipe.getThreads();
      v.mainSharedBytes = recipe.getSharedBytes();
      v.tileN = recipe.getTileN();
      v.tileM = recipe.getTileM();
      v.lowRankTileN = recipe.getLowrankTileN();
      v.lowRankTileM = recipe.getLowrankTileM();
      v.lowRankThreads = recipe.getLowrankThreads();
      v.lowRankSharedBytes = recipe.getLowrankSharedBytes();
      v.kBlocks = recipe.getKBlocks();
      manifest.variants.push_back(v);
    }
  }

  PassManager pm(&context);
  std::string pipeline =
      slr::getSLRKernelTargetPipelineText(chip, features, 3) + "," +
      slr::getSLRKernelLoweringPipelineText() +
      ",gpu-module-to-binary{format=" + binaryFormat + "}";
  if (failed(parsePassPipeline(pipeline, pm)))
    return fail("malformed kernel pipeline: " + pipeline);
  if (failed(pm.run(*module)))
    return fail("compiling the kernels failed (is ptxas from the CUDA "
                "toolkit on PATH?)");

  gpu::BinaryOp binary;
  module->walk([&](gpu::BinaryOp op) { binary = op; });
  if (!binary || binary.getObjects().size() != 1)
    return fail("no kernel binary was produced");
  auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);

  if (std::error_code ec = sys::fs::create_directories(outputDir))
    return fail("cannot create " + outputDir + ": " + ec.message());
  SmallString<256> binaryPath(outputDir);
  sys::path::append(binaryPath, manifest.binary);
  std::error_code ec;
  raw_fd_ostream binaryOut(binaryPath, ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot write " + binaryPath + ": " + ec.message());
  binaryOut << object.getObject().getValue();

  SmallString<256> manifestPath(outputDir);
  sys::path::append(manifestPath, "kernels.manifest");
  raw_fd_ostream manifestOut(manifestPath, ec, sys::fs::OF_Text);
  if (ec)
    return fail("cannot write " + manifestPath + ": " + ec.message());
  manifestOut << "slr-gpu-kernels 1 chip=" << manifest.chip
              << " binary=" << manifest.binary << "\n";
  for (const slr::bench::KernelVariant &v : manifest.variants)
    manifestOut << slr::bench::formatVariant(v) << "\n";
  for (const ExportedLayer &layer : exported) {
    SmallString<256> weightsPath(outputDir);
    sys::path::append(weightsPath, layer.entry.file);
    raw_fd_ostream weightsOut(weightsPath, ec, sys::fs::OF_None);
    if (ec)
      return fail("cannot write " + weightsPath + ": " + ec.message());
    writeArray(weightsOut, layer.values);
    writeArray(weightsOut, layer.positions);
    writeArray(weightsOut, layer.u);
    writeArray(weightsOut, layer.v);
    manifestOut << slr::bench::formatWeights(layer.entry) << "\n";
  }
  errs() << "slr-gpu-kernels: " << manifest.variants.size() << " kernel sets, "
         << exported.size() << " exported layers, "
         << object.getObject().getValue().size() << " bytes of " << chip
         << " code -> " << outputDir << "\n";
  return 0;
}
