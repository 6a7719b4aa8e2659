//===- TextTask.cpp - What the text-driven tools load ---------------------===//

#include "slr/Execution/TextTask.h"
#include "slr/Execution/CompiledModel.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Tokenizer.h"

#include "llvm/Support/FileSystem.h"

using namespace slr;

TextTask::TextTask() = default;
TextTask::TextTask(TextTask &&) = default;
TextTask::~TextTask() = default;

llvm::Expected<TextTask> slr::loadTextTask(mlir::MLIRContext &context,
                                           llvm::StringRef modelPath,
                                           llvm::StringRef tokenizerPath,
                                           llvm::StringRef textPath) {
  TextTask task;
  if (llvm::sys::fs::is_directory(tokenizerPath)) {
    auto tokenizer = Tokenizer::fromHuggingFaceFolder(tokenizerPath);
    if (!tokenizer)
      return tokenizer.takeError();
    task.tokenizer = std::move(*tokenizer);
  } else {
    auto gguf = GGUFFile::open(tokenizerPath);
    if (!gguf)
      return gguf.takeError();
    task.gguf = std::move(*gguf);
    auto tokenizer = Tokenizer::fromGGUF(*task.gguf);
    if (!tokenizer)
      return tokenizer.takeError();
    task.tokenizer = std::move(*tokenizer);
  }
  auto text = readInputFile(textPath, "text file", kMaxTextFileBytes);
  if (!text)
    return text.takeError();
  task.text = std::move(*text);
  auto module = loadModelIR(context, modelPath);
  if (!module)
    return module.takeError();
  task.module = std::move(*module);
  return task;
}
