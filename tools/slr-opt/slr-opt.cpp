//===- slr-opt.cpp - mlir-opt with the slr dialect and passes -------------===//

#include "slr/Compression/MethodRegistry.h"
#include "slr/Conversion/Passes.h"
#include "slr/Conversion/SLRToGPU/GPUPipeline.h"
#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"
#include "slr/Pipelines/Pipelines.h"
#include "slr/Support/Blas.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/Nesting.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

static llvm::cl::opt<bool> listCompressionMethods(
    "list-compression-methods",
    llvm::cl::desc("print the methods --slr-compress accepts, one name per "
                   "line, and exit"),
    llvm::cl::init(false));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "slr-opt") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  llvm::InitLLVM init(argc, argv);
  slr::installToolFatalErrorHandlers("slr-opt");
  mlir::registerAllPasses();
  slr::registerSLRConversionPasses();
  slr::registerSLRTransformsPasses();
  slr::registerSLRPipelines();
  slr::registerSLRGPUPipeline();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR inside the pass.
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<slr::SLRDialect>();

  // mlir-opt's driver, except for the files: MlirOptMain's own -o writes in
  // place and dies with "IO failure on output stream" when the disk is full,
  // and its input may be a device that never ends.
  auto [inputPath, outputPath] = mlir::registerAndParseCLIOptions(
      argc, argv, "slr optimizer driver\n", registry);
  if (listCompressionMethods) {
    // For scripts: they ask the registry instead of keeping their own list.
    namespace cmp = slr::compression;
    for (const cmp::CompressionMethodInfo &info : cmp::compressionMethods())
      if (cmp::isSelected(info, cmp::MethodSelection::WithSparsePart))
        llvm::outs() << info.name << "\n";
    if (llvm::Error error = slr::flushStdout())
      return fail(llvm::toString(std::move(error)));
    return 0;
  }
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(mlir::MlirOptMain(
        llvm::outs(), llvm::MemoryBuffer::getMemBuffer(""), registry, config));

  std::unique_ptr<llvm::MemoryBuffer> input;
  if (inputPath == "-") {
    auto buffer = llvm::MemoryBuffer::getSTDIN();
    if (!buffer)
      return fail("cannot read stdin: " + buffer.getError().message());
    input = std::move(*buffer);
  } else {
    // MLIR's text parser relies on the null terminator.
    auto buffer =
        slr::readInputFile(inputPath, "input", slr::kMaxModelFileBytes,
                           /*requiresNullTerminator=*/true);
    if (!buffer)
      return fail(llvm::toString(buffer.takeError()));
    input = std::move(*buffer);
  }

  if (!mlir::isBytecode(input->getMemBufferRef())) {
    // MLIR's lexer takes a NUL for the end of the input (a binary file would
    // pass as an empty module, or fill stderr with its echoed "line"), and
    // its parser recurses per nesting level (SIGSEGV at ~10^4).
    constexpr unsigned kMaxNesting = 1000;
    if (input->getBuffer().contains('\0'))
      return fail("cannot parse input '" + inputPath +
                  "': neither MLIR bytecode nor text (it holds NUL bytes)");
    if (slr::nestsDeeperThan(input->getBuffer(), kMaxNesting))
      return fail("cannot parse input '" + inputPath +
                  "': brackets nest deeper than " + llvm::Twine(kMaxNesting) +
                  " levels");
  }

  if (mlir::isBytecode(input->getMemBufferRef())) {
    // MLIR's bytecode reader can recurse for minutes on a corrupt file: read
    // it once under a deadline (errors are left for MlirOptMain to report).
    mlir::MLIRContext scratch(registry, mlir::MLIRContext::Threading::DISABLED);
    scratch.allowUnregisteredDialects(config.shouldAllowUnregisteredDialects());
    mlir::ScopedDiagnosticHandler quiet(
        &scratch, [](mlir::Diagnostic &) { return mlir::success(); });
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(input->getMemBufferRef(),
                                         /*RequiresNullTerminator=*/false),
        llvm::SMLoc());
    slr::ReadDeadline deadline(
        inputPath, slr::ReadDeadline::forBytecode(input->getBufferSize()));
    (void)mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr,
                                                mlir::ParserConfig(&scratch));
  }

  // A failing pipeline has reported its diagnostics; it only must not leave
  // an output file behind.
  bool pipelineFailed = false;
  llvm::Error written = slr::writeFileAtomically(
      outputPath, [&](llvm::raw_ostream &os) -> llvm::Error {
        if (succeeded(
                mlir::MlirOptMain(os, std::move(input), registry, config)))
          return llvm::Error::success();
        pipelineFailed = true;
        return llvm::createStringError("the pipeline failed");
      });
  if (written) {
    if (pipelineFailed) {
      llvm::consumeError(std::move(written));
      return 1;
    }
    return fail(llvm::toString(std::move(written)));
  }
  return 0;
}
