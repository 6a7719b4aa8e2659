//===- InstrumentCalibration.cpp - --slr-instrument-calibration -----------===//

#include "slr/Dialect/SLR/Transforms/LinearMatching.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"
#include "slr/Dialect/SLR/Utils/RowMatrix.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Regex.h"

namespace slr {
#define GEN_PASS_DEF_SLRINSTRUMENTCALIBRATION
#include "slr/Dialect/SLR/Transforms/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

constexpr const char *kRecordActivation = "slr_rt_record_activation";

struct SLRInstrumentCalibrationPass
    : slr::impl::SLRInstrumentCalibrationBase<SLRInstrumentCalibrationPass> {
  using SLRInstrumentCalibrationBase::SLRInstrumentCalibrationBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    llvm::Regex filter(layers);
    std::string regexError;
    if (!layers.empty() && !filter.isValid(regexError)) {
      module.emitError("slr-instrument-calibration: invalid layers regex: ")
          << regexError;
      return signalPassFailure();
    }

    auto dynamic2D = RankedTensorType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic}, Float32Type::get(ctx));
    OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
    func::FuncOp hook = module.lookupSymbol<func::FuncOp>(kRecordActivation);
    if (!hook) {
      hook = func::FuncOp::create(
          moduleBuilder, module.getLoc(), kRecordActivation,
          moduleBuilder.getFunctionType({moduleBuilder.getI64Type(), dynamic2D},
                                        {}));
      hook.setPrivate();
      hook->setAttr("llvm.emit_c_interface", moduleBuilder.getUnitAttr());
    }

    SmallVector<Attribute> names;
    forEachLinearCandidate(
        module, [&](linalg::LinalgOp op, const std::string &name,
                    std::optional<ConstantWeightLinear> &match,
                    const LinearMatchFailure &) {
          if (!match || (!layers.empty() && !filter.match(name)))
            return;
          auto inputType = cast<RankedTensorType>(match->getInput().getType());
          if (!inputType.getElementType().isF32()) {
            op.emitWarning("slr-instrument-calibration: '")
                << name << "' has a non-f32 input; not recorded";
            return;
          }
          OpBuilder b(op);
          Location loc = op.getLoc();
          // [..., K] -> [rows, K] so the runtime sees one 2-D matrix.
          Value input = collapseToRowMatrix(b, loc, match->getInput());
          input = tensor::CastOp::create(b, loc, dynamic2D, input);
          Value id = arith::ConstantIntOp::create(b, loc, names.size(), 64);
          func::CallOp::create(b, loc, hook, ValueRange{id, input});
          // The name stays with the op so later passes can report it.
          op->setAttr(kLayerNameAttr, b.getStringAttr(name));
          names.push_back(b.getStringAttr(name));
        });
    module->setAttr("slr.calibration_layers", ArrayAttr::get(ctx, names));
  }
};

} // namespace
