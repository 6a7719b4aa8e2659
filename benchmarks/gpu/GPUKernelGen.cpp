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
//===----------------------------------------------------------------------===//

#include "KernelManifest.h"

#include "slr/Conversion/SLRToGPU/GPUPipeline.h"
#include "slr/Conversion/SLRToGPU/SLRToGPU.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace mlir;

static cl::OptionCategory category("slr-gpu-kernels options");
static cl::list<std::string> shapes("shape", cl::desc("N x K, e.g. 4096x4096"),
                                    cl::OneOrMore, cl::cat(category));
static cl::opt<int64_t> lowRank("rank", cl::desc("rank of the low-rank part"),
                                cl::init(64), cl::cat(category));
static cl::opt<std::string> typeName("type", cl::desc("bf16 or f16"),
                                     cl::init("bf16"), cl::cat(category));
static cl::opt<std::string> chip("chip", cl::desc("GPU architecture"),
                                 cl::init("sm_90a"), cl::cat(category));
static cl::opt<std::string> features("features", cl::desc("PTX features"),
                                     cl::init("+ptx85"), cl::cat(category));
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

  slr::bench::KernelManifest manifest;
  manifest.chip = chip;
  manifest.binary = "kernels.cubin";
  for (const std::string &shape : shapes) {
    int64_t n = 0, k = 0;
    StringRef text(shape);
    auto [nText, kText] = text.split('x');
    if (nText.getAsInteger(10, n) || kText.getAsInteger(10, k) || n <= 0 ||
        k <= 0)
      return fail("--shape must be NxK, got '" + shape + "'");
    // The fused kernels and the sparse-only main kernel (rank 0).
    for (int64_t variantRank : {static_cast<int64_t>(lowRank), int64_t{0}}) {
      slr::SLRLinearKernelSpec spec;
      spec.n = n;
      spec.k = k;
      spec.rank = variantRank;
      spec.elementType = elementType;
      spec.tiles = {tileN, tileM, tileK, warpsN, warpsM, stages};
      if (std::optional<std::string> error =
              slr::checkSLRLinearKernelSpec(spec))
        return fail(shape + ", rank " + Twine(variantRank) + ": " + *error);
      slr::SLRLinearKernels kernels =
          slr::buildSLRLinearKernels(builder, kernelModule, spec);
      slr::bench::KernelVariant v;
      v.n = n;
      v.k = k;
      v.rank = variantRank;
      v.type = typeName;
      v.mainKernel = kernels.main.getName().str();
      v.lowRankKernel =
          kernels.lowRank ? kernels.lowRank.getName().str() : std::string();
      v.threads = kernels.threads;
      v.mainSharedBytes = kernels.mainSharedBytes;
      v.tileN = tileN;
      v.tileM = tileM;
      v.lowRankTileN = kernels.lowRankTileN;
      v.lowRankTileM = kernels.lowRankTileM;
      v.lowRankThreads = kernels.lowRankThreads;
      v.lowRankSharedBytes = kernels.lowRankSharedBytes;
      v.kBlocks = kernels.kBlocks;
      manifest.variants.push_back(v);
    }
  }

  PassManager pm(&context);
  std::string pipeline =
      slr::getSLRKernelTargetPipelineText(chip, features, 3) + "," +
      slr::getSLRKernelLoweringPipelineText() +
      ",gpu-module-to-binary{format=bin}";
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
  errs() << "slr-gpu-kernels: " << manifest.variants.size() << " kernel sets, "
         << object.getObject().getValue().size() << " bytes of " << chip
         << " code -> " << outputDir << "\n";
  return 0;
}
