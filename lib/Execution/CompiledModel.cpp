//===- CompiledModel.cpp - JIT-compiled model IR --------------------------===//

#include "slr/Execution/CompiledModel.h"
#include "slr/Pipelines/Pipelines.h"
#include "slr/Runtime/CPURuntime.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/Nesting.h"

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/ExternalWeights.h"
#include "slr/Dialect/SLR/Transforms/LinearMatching.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>

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

/// Far deeper than any model IR; far below where the parser's stack ends.
static constexpr unsigned kMaxModelIRNesting = 1000;

llvm::Expected<OwningOpRef<ModuleOp>> slr::loadModelIR(MLIRContext &context,
                                                       llvm::StringRef path) {
  // Bytecode is read in place (mapped, no terminator needed, so any size
  // maps); MLIR's text parser relies on a null terminator.
  auto file = readInputFile(path, "model IR", kMaxModelFileBytes,
                            /*requiresNullTerminator=*/false);
  if (file && !isBytecode((*file)->getMemBufferRef()))
    file = readInputFile(path, "model IR", kMaxModelFileBytes,
                         /*requiresNullTerminator=*/true);
  if (!file)
    return file.takeError();
  auto fail = [&](const llvm::Twine &problem) {
    return llvm::createStringError("cannot parse model IR '" + path +
                                   "': " + problem);
  };
  if (!isBytecode((*file)->getMemBufferRef())) {
    // MLIR's lexer takes a NUL for the end of the input, and its parser
    // recurses per nesting level (SIGSEGV at ~10^4).
    if ((*file)->getBuffer().contains('\0'))
      return fail("neither MLIR bytecode nor text (it holds NUL bytes)");
    if (nestsDeeperThan((*file)->getBuffer(), kMaxModelIRNesting))
      return fail("brackets nest deeper than " +
                  llvm::Twine(kMaxModelIRNesting) + " levels");
  }
  // Shared with the parser: bytecode resource blobs then refer to the
  // file's bytes and keep them alive, rather than being copied to the heap.
  auto sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
  // Keep the first error only, without the source line MLIR would echo (a
  // binary file's "line" is kilobytes of bytes).
  std::string firstError;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    if (!firstError.empty() ||
        diagnostic.getSeverity() != DiagnosticSeverity::Error)
      return success();
    llvm::raw_string_ostream os(firstError);
    if (auto location = dyn_cast<FileLineColLoc>(diagnostic.getLocation()))
      os << "line " << location.getLine() << ", column " << location.getColumn()
         << ": ";
    std::string message = diagnostic.str();
    for (char &c : message)
      if (!llvm::isPrint(c))
        c = '?';
    os << llvm::StringRef(message).take_front(200);
    return success();
  });
  std::optional<ReadDeadline> deadline;
  if (isBytecode(sourceMgr->getMemoryBuffer(1)->getMemBufferRef()))
    deadline.emplace(path, ReadDeadline::forBytecode(
                               sourceMgr->getMemoryBuffer(1)->getBufferSize()));
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  deadline.reset();
  if (!module)
    return fail(firstError.empty() ? "invalid IR" : firstError);
  return module;
}

/// How `constant` is referred to in messages: its resource key (the GGUF
/// tensor name for imported weights), else the layer that uses it.
static std::string describeConstant(arith::ConstantOp constant,
                                    ElementsAttr value) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    return "weight '" + resource.getRawHandle().getKey().str() + "'";
  for (Operation *user : constant->getUsers())
    if (auto name = user->getAttrOfType<StringAttr>(kLayerNameAttr))
      return "a constant of layer '" + name.str() + "'";
  std::string location;
  llvm::raw_string_ostream os(location);
  constant.getLoc().print(os);
  return "the constant at " + location;
}

/// Whether any IEEE value of `width` bits in `bytes` is Inf or NaN (all
/// exponent bits set); `precision` counts the significand's bits.
static bool hasNonFinite(llvm::ArrayRef<char> bytes, unsigned width,
                         unsigned precision) {
  uint64_t exponentMask = ((uint64_t(1) << (width - precision)) - 1)
                          << (precision - 1);
  size_t step = width / 8;
  for (size_t offset = 0; offset + step <= bytes.size(); offset += step) {
    uint64_t bits = 0;
    std::memcpy(&bits, bytes.data() + offset, step); // little-endian host
    if ((bits & exponentMask) == exponentMask)
      return true;
  }
  return false;
}

llvm::Error slr::checkModelWeights(ModuleOp module) {
  llvm::Error failure = llvm::Error::success();
  // The NaN/Inf scan of IEEE blobs reads every weight (0.54 GB for SmolLM2,
  // a third of compile time alone): it runs over the blobs in parallel
  // after the walk, and the first bad one in IR order is reported.
  struct PendingScan {
    arith::ConstantOp constant;
    ElementsAttr value;
    llvm::ArrayRef<char> data;
    unsigned width, precision;
  };
  std::vector<PendingScan> scans;
  module.walk([&](arith::ConstantOp constant) {
    auto value = dyn_cast<ElementsAttr>(constant.getValue());
    auto type = value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
    if (!type || !isa<FloatType>(type.getElementType()))
      return WalkResult::advance();
    auto floatType = cast<FloatType>(type.getElementType());
    auto fail = [&](const llvm::Twine &problem) {
      failure = llvm::createStringError(
          "model IR: " + describeConstant(constant, value) + " " + problem);
      return WalkResult::interrupt();
    };
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
      // The parser does not hold a blob to its type: a short one would be
      // read out of bounds (and an empty one crashed the LLVM translation).
      uint64_t numElements = 1;
      for (int64_t dim : type.getShape())
        if (__builtin_mul_overflow(numElements, static_cast<uint64_t>(dim),
                                   &numElements))
          return fail("has a shape whose element count overflows");
      AsmResourceBlob *blob = resource.getRawHandle().getBlob();
      uint64_t width = floatType.getWidth(), expectedBytes;
      if (width % 8 != 0 ||
          __builtin_mul_overflow(numElements, width / 8, &expectedBytes))
        return fail("has an unsupported element type");
      if (!blob || blob->getData().size() != expectedBytes)
        return fail("has " + llvm::Twine(blob ? blob->getData().size() : 0) +
                    " bytes of data, its type needs " +
                    llvm::Twine(expectedBytes));
      const llvm::fltSemantics &semantics = floatType.getFloatSemantics();
      bool ieee = floatType.isF16() || floatType.isBF16() ||
                  floatType.isF32() || floatType.isF64();
      if (ieee)
        scans.push_back({constant, value, blob->getData(),
                         static_cast<unsigned>(width),
                         llvm::APFloat::semanticsPrecision(semantics)});
      if (!ieee)
        for (size_t i = 0; i < numElements; ++i) {
          uint64_t bits = 0;
          std::memcpy(&bits, blob->getData().data() + i * (width / 8),
                      width / 8);
          if (!llvm::APFloat(semantics, llvm::APInt(width, bits)).isFinite())
            return fail("contains NaN or Inf");
        }
      return WalkResult::advance();
    }
    if (auto dense = dyn_cast<DenseFPElementsAttr>(value))
      for (const llvm::APFloat &element : dense.getValues<llvm::APFloat>())
        if (!element.isFinite())
          return fail("contains NaN or Inf");
    return WalkResult::advance();
  });
  if (failure)
    return failure;
  // Chunks of 16 MiB, so that one embedding does not hold one thread.
  constexpr size_t kChunkBytes = 16u << 20;
  std::vector<std::pair<size_t, size_t>> chunks; // (scan, byte offset)
  for (size_t i = 0; i < scans.size(); ++i)
    for (size_t offset = 0; offset < scans[i].data.size();
         offset += kChunkBytes)
      chunks.push_back({i, offset});
  std::vector<char> nonFinite(chunks.size(), 0);
  llvm::parallelFor(0, chunks.size(), [&](size_t c) {
    auto [i, offset] = chunks[c];
    // kChunkBytes is a multiple of every element size (2, 4, 8 bytes).
    llvm::ArrayRef<char> part = scans[i].data.slice(
        offset, std::min(kChunkBytes, scans[i].data.size() - offset));
    nonFinite[c] = hasNonFinite(part, scans[i].width, scans[i].precision);
  });
  // Chunks are in IR order: the first bad one names the first bad weight.
  for (size_t c = 0; c < chunks.size(); ++c)
    if (nonFinite[c]) {
      const PendingScan &scan = scans[chunks[c].first];
      return llvm::createStringError(
          "model IR: " + describeConstant(scan.constant, scan.value) +
          " contains NaN or Inf");
    }
  return failure;
}

/// VmHWM of /proc/self/status (Linux), for SLR_JIT_TIMING.
static std::string peakResidentSetSize() {
  auto status = llvm::MemoryBuffer::getFileAsStream("/proc/self/status");
  if (!status)
    return "?";
  for (llvm::StringRef line : llvm::split((*status)->getBuffer(), '\n'))
    if (line.consume_front("VmHWM:"))
      return line.trim().str();
  return "?";
}

using ForwardFn = void (*)(StridedMemRefType<float, 2> *,
                           StridedMemRefType<int32_t, 1> *);

CompiledModel::~CompiledModel() = default;

llvm::Expected<std::unique_ptr<CompiledModel>>
CompiledModel::compile(ModuleOp module, bool unpackSparse) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward || forward.getNumArguments() != 1 ||
      forward.getNumResults() != 1)
    return llvm::createStringError(
        "model IR has no func.func @forward(tensor<?xi32>) -> tensor<?xVxf32>");
  auto resultType = dyn_cast<RankedTensorType>(forward.getResultTypes()[0]);
  auto argumentType = dyn_cast<RankedTensorType>(forward.getArgumentTypes()[0]);
  if (!resultType || resultType.getRank() != 2 || resultType.isDynamicDim(1) ||
      !resultType.getElementType().isF32() || !argumentType ||
      argumentType.getRank() != 1 ||
      !argumentType.getElementType().isInteger(32))
    return llvm::createStringError(
        "@forward must map tensor<?xi32> to tensor<?xVxf32>");

  // SLR_JIT_TIMING=1: where compile time goes (phases, MLIR passes).
  bool timing =
      llvm::sys::Process::GetEnv("SLR_JIT_TIMING").value_or("") == "1";
  auto phaseStart = std::chrono::steady_clock::now();
  std::clock_t cpuStart = std::clock();
  auto phase = [&](const char *name) {
    auto now = std::chrono::steady_clock::now();
    if (timing)
      llvm::errs() << llvm::format(
          "slr-jit: %-28s %7.3f s, %7.3f s CPU, peak RSS %s\n", name,
          std::chrono::duration<double>(now - phaseStart).count(),
          double(std::clock() - cpuStart) / CLOCKS_PER_SEC,
          peakResidentSetSize().c_str());
    cpuStart = std::clock();
    phaseStart = now;
  };
  // NaN or Inf weights would give NaN perplexity and NaN calibration
  // statistics with no hint where they came from.
  if (llvm::Error error = checkModelWeights(module))
    return error;
  phase("check weights");

  auto model = std::unique_ptr<CompiledModel>(new CompiledModel());
  model->vocab = resultType.getDimSize(1);
  if (auto layers = module->getAttrOfType<ArrayAttr>("slr.calibration_layers"))
    for (Attribute name : layers)
      model->layerNames.push_back(cast<StringAttr>(name).str());

  forward->setAttr("llvm.emit_c_interface", UnitAttr::get(module.getContext()));
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  PassManager pm(module.getContext());
  buildCPUFastPipeline(pm, unpackSparse, /*externalizeWeights=*/true);
  if (timing)
    pm.enableTiming();
  if (failed(pm.run(module)))
    return llvm::createStringError("lowering the model IR to LLVM failed");
  phase("lower to the LLVM dialect");
  auto weights = getExternalWeights(module);
  if (!weights)
    return weights.takeError();
  // The code may assume its element alignment of each weight; bytes that do
  // not have it (none that slr writes) are bound through an aligned copy.
  std::vector<std::pair<std::string, const void *>> bindings;
  for (const ExternalWeight &weight : *weights) {
    const char *data = weight.bytes.data();
    if (reinterpret_cast<uintptr_t>(data) % weight.alignment != 0) {
      auto &copy = model->alignedCopies.emplace_back(
          (weight.bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
      std::memcpy(copy.data(), data, weight.bytes.size());
      data = reinterpret_cast<const char *>(copy.data());
    }
    bindings.emplace_back(weight.symbol.str(), data);
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  ExecutionEngineOptions options;
  auto transformer = makeOptimizingTransformer(3, 0, nullptr);
  options.transformer = transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // MLIR turns perf's listener on by default: every run would leave a
  // jitdump under /tmp/.debug/jit and die with "IO failure on output stream"
  // when that disk is full. SLR_JIT_PERF=1 turns it back on for profiling.
  options.enablePerfNotificationListener =
      llvm::sys::Process::GetEnv("SLR_JIT_PERF").value_or("") == "1";
  auto engine = ExecutionEngine::create(module, options);
  if (!engine)
    return engine.takeError();
  phase("translate and optimise");
  model->engine = std::move(*engine);
  model->engine->registerSymbols(
      [&bindings](llvm::orc::MangleAndInterner interner) {
        llvm::orc::SymbolMap symbols;
        for (auto [name, address] : runtime::runtimeSymbols())
          symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                     llvm::JITSymbolFlags::Exported};
        for (const auto &[name, address] : bindings)
          symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                     llvm::JITSymbolFlags::Exported};
        return symbols;
      });
  auto entry = model->engine->lookup("_mlir_ciface_forward");
  if (!entry)
    return entry.takeError();
  phase("generate code and link");
  model->entry = *entry;
  return model;
}

void Logits::FreeDeleter::operator()(void *pointer) const {
  std::free(pointer);
}

llvm::Expected<Logits> CompiledModel::forward(llvm::ArrayRef<int32_t> tokens) {
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
  Logits logits;
  // The JIT allocates results with malloc; the caller owns them.
  logits.buffer.reset(output.basePtr);
  int64_t rows = output.sizes[0], cols = output.sizes[1];
  logits.numRows = rows;
  logits.numCols = cols;
  const float *first = output.data + output.offset;
  if (output.strides[1] == 1 && (rows <= 1 || output.strides[0] == cols)) {
    logits.view = llvm::ArrayRef<float>(first, rows * cols);
    return logits;
  }
  logits.strided.resize(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      logits.strided[i * cols + j] =
          first[i * output.strides[0] + j * output.strides[1]];
  logits.view = logits.strided;
  logits.buffer.reset();
  return logits;
}
