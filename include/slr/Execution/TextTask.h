//===- TextTask.h - What the text-driven tools load --------------*- C++
//-*-===//
//
// slr-eval and slr-calibrate both run model IR on the tokens of a text file:
// they load the IR, the tokenizer from a GGUF file and the text.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_EXECUTION_TEXTTASK_H
#define SLR_EXECUTION_TEXTTASK_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

namespace slr {

class GGUFFile;
class Tokenizer;

struct TextTask {
  std::unique_ptr<GGUFFile> gguf;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<llvm::MemoryBuffer> text;
  mlir::OwningOpRef<mlir::ModuleOp> module;

  TextTask();
  TextTask(TextTask &&);
  ~TextTask();
};

/// Loads the tokenizer of `tokenizerPath` (a GGUF file, or a Hugging Face
/// folder with tokenizer.json; `gguf` stays null then), the text and the
/// model IR, with one clear message for whatever is missing or malformed.
llvm::Expected<TextTask> loadTextTask(mlir::MLIRContext &context,
                                      llvm::StringRef modelPath,
                                      llvm::StringRef tokenizerPath,
                                      llvm::StringRef textPath);

} // namespace slr

#endif // SLR_EXECUTION_TEXTTASK_H
