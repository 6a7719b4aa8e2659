//===- SLRDialect.cpp - slr dialect ---------------------------------------===//

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Sparsity/NMLayout.h"

#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace slr;

#include "slr/Dialect/SLR/IR/SLRDialect.cpp.inc"
#include "slr/Dialect/SLR/IR/SLREnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "slr/Dialect/SLR/IR/SLRAttrs.cpp.inc"

void SLRDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "slr/Dialect/SLR/IR/SLRAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "slr/Dialect/SLR/IR/SLROps.cpp.inc"
      >();
}

Operation *SLRDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

LogicalResult
NMSparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError, unsigned n,
                       unsigned m) {
  if (n == 0 || n >= m)
    return emitError() << "N:M sparsity requires 0 < n < m, got " << n << ":"
                       << m;
  if (m > kMaxGroupSize)
    return emitError() << "N:M sparsity supports m <= " << kMaxGroupSize
                       << ", got m = " << m;
  // One group's positions are one 64-bit word in every consumer (folders,
  // runtime, compression); wider patterns would overflow it.
  if (!isSupportedPattern(n, m))
    return emitError() << "N:M sparsity " << n << ":" << m << " needs " << n
                       << " x " << bitsPerPosition(m) << " = "
                       << groupPositionBits(n, m)
                       << " position bits per group, more than the "
                       << kMaxGroupPositionBits << " that fit; with m = " << m
                       << " at most n = " << maxKeptPerGroup(m) << " fits";
  return success();
}

unsigned NMSparsityAttr::getPositionBits() const {
  return bitsPerPosition(getM());
}

FailureOr<bool> slr::parseBoolParameter(AsmParser &parser) {
  if (succeeded(parser.parseOptionalKeyword("true")))
    return true;
  if (succeeded(parser.parseOptionalKeyword("false")))
    return false;
  return parser.emitError(parser.getCurrentLocation(),
                          "expected 'true' or 'false'");
}

LogicalResult GPULaunchAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, GPUKernelVariant variant,
    int64_t n, int64_t k, int64_t rank, bool hasBias, bool resident,
    SymbolRefAttr main, int64_t tileN, int64_t tileM, int64_t threads,
    int64_t sharedBytes, SymbolRefAttr lowRank, int64_t lowRankTileN,
    int64_t lowRankTileM, int64_t lowRankThreads, int64_t lowRankSharedBytes,
    int64_t kBlocks, SymbolRefAttr reorder) {
  // The metadata words come in tiles of 16 rows x 32 columns of S.
  if (n <= 0 || n % 16 || k <= 0 || k % 32)
    return emitError() << "gpu_launch: n = " << n << " and k = " << k
                       << " must be positive multiples of 16 and 32";
  if (rank < 0 || rank % 16)
    return emitError() << "gpu_launch: rank = " << rank
                       << " must be a non-negative multiple of 16";
  if (tileN <= 0 || tileM <= 0 || n % tileN)
    return emitError() << "gpu_launch: tile_n = " << tileN
                       << " and tile_m = " << tileM
                       << " must be positive, tile_n dividing n = " << n;
  if (threads <= 0 || threads % 32 || sharedBytes < 0)
    return emitError() << "gpu_launch: threads = " << threads
                       << " must be a positive multiple of 32 and "
                          "shared_bytes = "
                       << sharedBytes << " non-negative";
  if (variant == GPUKernelVariant::DecodeSm80) {
    if (lowRank || lowRankTileN || lowRankTileM || lowRankThreads ||
        lowRankSharedBytes)
      return emitError() << "gpu_launch: decode_sm80 fuses the low-rank term; "
                            "lowrank and lowrank_* must be absent";
    if (kBlocks <= 0 || k % kBlocks || (k / kBlocks) % 64)
      return emitError() << "gpu_launch: decode_sm80 needs k_blocks (the K "
                            "slices) dividing k = "
                         << k
                         << " into multiples of 64 (got k_blocks = " << kBlocks
                         << ")";
    return success();
  }
  // The sm_90a kernel's fixed CTA tile and warpgroups, and the TMA boxes
  // of its K and rank blocks.
  if (variant == GPUKernelVariant::WgmmaSpSm90a &&
      (tileN != 128 || tileM != 128 || threads != 384 || n % 128 || k % 64 ||
       rank % 64))
    return emitError() << "gpu_launch: wgmma_sp_sm90a needs tile_n = tile_m "
                          "= 128, threads = 384 and n, k, rank multiples of "
                          "128, 64, 64 (got tile_n = "
                       << tileN << ", tile_m = " << tileM
                       << ", threads = " << threads << ", n = " << n
                       << ", k = " << k << ", rank = " << rank << ")";
  if (static_cast<bool>(lowRank) != (rank > 0))
    return emitError() << "gpu_launch: the low-rank kernel `lowrank` must be "
                          "given exactly when rank > 0 (rank = "
                       << rank << ")";
  if (rank > 0 &&
      (lowRankTileN <= 0 || rank % lowRankTileN || lowRankTileM <= 0 ||
       lowRankThreads <= 0 || lowRankThreads % 32 || kBlocks <= 0 ||
       lowRankSharedBytes < 0))
    return emitError()
           << "gpu_launch: the low-rank launch needs lowrank_tile_n dividing "
              "rank = "
           << rank
           << ", positive lowrank_tile_m and k_blocks, lowrank_threads a "
              "positive multiple of 32 and non-negative lowrank_shared_bytes";
  if (rank == 0 && (lowRankTileN || lowRankTileM || lowRankThreads ||
                    lowRankSharedBytes || kBlocks))
    return emitError() << "gpu_launch: lowrank_* and k_blocks must be absent "
                          "without a low-rank part";
  return success();
}

LogicalResult SLRDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attribute) {
  // Other slr.* attributes (slr.name, slr.calibration_layers) are free-form.
  if (attribute.getName() != getGPULauncherAttrName())
    return success();
  auto recipe = dyn_cast<GPULaunchAttr>(attribute.getValue());
  if (!recipe)
    return op->emitOpError()
           << "'" << getGPULauncherAttrName() << "' must be a #slr.gpu_launch";
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function ||
      function.getNumArguments() != recipe.getNumLauncherOperands())
    return op->emitOpError()
           << "'" << getGPULauncherAttrName() << "' needs a function of "
           << recipe.getNumLauncherOperands()
           << " operands (x, values, metadata, [U, V], [bias], y)";
  return success();
}
