//===- CompiledModel.cpp - JIT-compiled model IR --------------------------===//

#include "slr/Execution/CompiledModel.h"
#include "slr/Pipelines/Pipelines.h"
#include "slr/Runtime/CPURuntime.h"

#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/SourceMgr.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>

using namespace mlir;
using namespace slr;

void slr::registerModelIRDialects(DialectRegistry &registry) {
  // Lowering needs the bufferization/LLVM interface models of every dialect
  // on the way down, not just the dialects model IR is written in.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registry.insert<SLRDialect>();
}

llvm::Expected<OwningOpRef<ModuleOp>> slr::loadModelIR(MLIRContext &context,
                                                       llvm::StringRef path) {
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file)
    return llvm::createStringError("cannot open model IR '" + path +
                                   "': " + error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  // Collect diagnostics so a malformed file yields one clear message.
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    return llvm::createStringError("cannot parse model IR '" + path +
                                   "': " + llvm::StringRef(diagnostics).trim());
  return module;
}

using ForwardFn = void (*)(StridedMemRefType<float, 2> *,
                           StridedMemRefType<int32_t, 1> *);

CompiledModel::~CompiledModel() = default;

llvm::Expected<std::unique_ptr<CompiledModel>>
CompiledModel::compile(ModuleOp module) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward || forward.getNumArguments() != 1 ||
      forward.getNumResults() != 1)
    return llvm::createStringError(
        "model IR has no func.func @forward(tensor<?xi32>) -> tensor<?xVxf32>");
  auto resultType = dyn_cast<RankedTensorType>(forward.getResultTypes()[0]);
  auto argumentType = dyn_cast<RankedTensorType>(forward.getArgumentTypes()[0]);
  if (!resultType || resultType.getRank() != 2 ||
      resultType.isDynamicDim(1) || !resultType.getElementType().isF32() ||
      !argumentType || argumentType.getRank() != 1 ||
      !argumentType.getElementType().isInteger(32))
    return llvm::createStringError(
        "@forward must map tensor<?xi32> to tensor<?xVxf32>");

  auto model = std::unique_ptr<CompiledModel>(new CompiledModel());
  model->vocab = resultType.getDimSize(1);
  if (auto layers = module->getAttrOfType<ArrayAttr>("slr.calibration_layers"))
    for (Attribute name : layers)
      model->layerNames.push_back(cast<StringAttr>(name).str());

  forward->setAttr("llvm.emit_c_interface", UnitAttr::get(module.getContext()));
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  PassManager pm(module.getContext());
  buildCPUFastPipeline(pm);
  if (failed(pm.run(module)))
    return llvm::createStringError("lowering the model IR to LLVM failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  ExecutionEngineOptions options;
  auto transformer = makeOptimizingTransformer(3, 0, nullptr);
  options.transformer = transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(module, options);
  if (!engine)
    return engine.takeError();
  model->engine = std::move(*engine);
  model->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (auto [name, address] : runtime::runtimeSymbols())
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  auto entry = model->engine->lookup("_mlir_ciface_forward");
  if (!entry)
    return entry.takeError();
  model->entry = *entry;
  return model;
}

llvm::Error CompiledModel::forward(llvm::ArrayRef<int32_t> tokens,
                                   std::vector<float> &logits) {
  for (int32_t token : tokens)
    if (token < 0 || token >= vocab)
      return llvm::createStringError("token id " + std::to_string(token) +
                                     " is outside the vocabulary of " +
                                     std::to_string(vocab));
  StridedMemRefType<int32_t, 1> input;
  int32_t *data = const_cast<int32_t *>(tokens.data());
  input.basePtr = data;
  input.data = data;
  input.offset = 0;
  input.sizes[0] = static_cast<int64_t>(tokens.size());
  input.strides[0] = 1;
  StridedMemRefType<float, 2> output{};
  reinterpret_cast<ForwardFn>(entry)(&output, &input);
  int64_t rows = output.sizes[0], cols = output.sizes[1];
  logits.resize(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      logits[i * cols + j] =
          output.data[output.offset + i * output.strides[0] +
                      j * output.strides[1]];
  // The JIT allocates results with malloc; the caller owns them.
  std::free(output.basePtr);
  return llvm::Error::success();
}
