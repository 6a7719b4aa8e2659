//===- FuzzMLIR.cpp - libFuzzer target: slr IR, text or bytecode ----------===//
//
// Parses the input (MLIR text, or bytecode when it starts with the bytecode
// magic) with the slr dialect and the dialects of slr's IR registered, which
// runs every verifier. For a module that parses it checks:
//  - the printed form (custom and generic) parses again, and bytecode
//    written from it reads back, to the same text;
//  - when it holds slr ops: canonicalize (slr's folders and patterns),
//    --convert-slr-to-linalg and, for f16/bf16 slr.linear, --convert-slr-to-gpu
//    either fail with a diagnostic or produce IR that verifies.
// libMLIR.so itself is not instrumented: coverage and ASan see slr's code.
//
//===----------------------------------------------------------------------===//

#include "FuzzCommon.h"

#include "slr/Conversion/Passes.h"
#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  registerCanonicalizerPass();
  slr::registerSLRConversionPasses();
  return 0;
}

static void registerDialects(DialectRegistry &registry) {
  registry.insert<slr::SLRDialect, arith::ArithDialect, func::FuncDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  tensor::TensorDialect>();
}

static OwningOpRef<ModuleOp> parse(llvm::StringRef bytes, MLIRContext &context,
                                   llvm::StringRef name) {
  llvm::SourceMgr sourceMgr;
  // The text lexer relies on a terminating NUL; the copy provides it.
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, name), llvm::SMLoc());
  ParserConfig config(&context);
  return parseSourceFile<ModuleOp>(sourceMgr, config);
}

static std::string print(Operation *op, bool generic) {
  std::string text;
  llvm::raw_string_ostream os(text);
  OpPrintingFlags flags;
  if (generic)
    flags.printGenericOpForm();
  op->print(os, flags);
  return text;
}

/// Printing and re-parsing must work for anything that verified. Each
/// re-parse gets a context of its own: dialect resources (dense_resource
/// blobs) are named per context, and a second parse in the same one renames
/// them.
static void checkRoundTrip(ModuleOp module, DialectRegistry &registry) {
  std::string custom = print(module, /*generic=*/false);
  auto reparse = [&](llvm::StringRef bytes, llvm::StringRef what) {
    MLIRContext context(registry, MLIRContext::Threading::DISABLED);
    slr::fuzz::SilenceDiagnostics silence(context);
    OwningOpRef<ModuleOp> reparsed = parse(bytes, context, what);
    if (!reparsed) {
      llvm::errs() << what << " does not parse again:\n" << custom << "\n";
      SLR_FUZZ_CHECK(false && "print/parse round trip");
    }
    std::string again = print(*reparsed, false);
    if (again != custom) {
      llvm::errs() << what << " re-parsed differs:\n"
                   << custom << "\n---\n"
                   << again << "\n";
      SLR_FUZZ_CHECK(false && "print/parse round trip is not the identity");
    }
  };
  reparse(custom, "printed IR");
  reparse(print(module, /*generic=*/true), "generic printed IR");
  std::string bytecode;
  llvm::raw_string_ostream os(bytecode);
  SLR_FUZZ_CHECK(succeeded(writeBytecodeToFile(module, os)));
  reparse(bytecode, "bytecode");
}

/// Runs `pipeline` on a copy of `module`: it may fail (with a diagnostic),
/// but what it produces must verify.
static void checkPipeline(ModuleOp module, MLIRContext &context,
                          llvm::StringRef pipeline) {
  OwningOpRef<ModuleOp> copy = module.clone();
  PassManager pm(&context);
  // Verified below, so that a pass failing is told apart from a pass
  // producing invalid IR.
  pm.enableVerifier(false);
  SLR_FUZZ_CHECK(succeeded(parsePassPipeline(pipeline, pm)));
  if (failed(pm.run(*copy)))
    return;
  if (failed(verify(*copy))) {
    llvm::errs() << pipeline << " produced IR that does not verify\n";
    SLR_FUZZ_CHECK(false && "pipeline output verifies");
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input: attributes and types are uniqued in it and
  // would otherwise accumulate across millions of inputs.
  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  slr::fuzz::SilenceDiagnostics silence(context);

  OwningOpRef<ModuleOp> module =
      parse(llvm::StringRef(reinterpret_cast<const char *>(data), size),
            context, "fuzz.mlir");
  if (!module)
    return 0;
  checkRoundTrip(*module, registry);

  bool hasSLR = false, hasHalfLinear = false;
  module->walk([&](Operation *op) {
    if (op->getDialect() && isa<slr::SLRDialect>(op->getDialect()))
      hasSLR = true;
    if (auto linear = dyn_cast<slr::LinearOp>(op))
      if (auto type = dyn_cast<ShapedType>(linear->getOperand(0).getType()))
        hasHalfLinear |=
            type.getElementType().isF16() || type.getElementType().isBF16();
  });
  if (!hasSLR)
    return 0;
  checkPipeline(*module, context, "builtin.module(canonicalize)");
  checkPipeline(*module, context, "builtin.module(convert-slr-to-linalg)");
  if (hasHalfLinear)
    checkPipeline(*module, context, "builtin.module(convert-slr-to-gpu)");
  return 0;
}
