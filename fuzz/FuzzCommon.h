//===- FuzzCommon.h - Helpers shared by the libFuzzer targets ---*- C++ -*-===//

#ifndef SLR_FUZZ_FUZZCOMMON_H
#define SLR_FUZZ_FUZZCOMMON_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <memory>

/// A broken invariant (as opposed to an error the reader reports): print
/// what broke and abort, which libFuzzer records as a crash.
#define SLR_FUZZ_CHECK(condition)                                              \
  do {                                                                         \
    if (!(condition)) {                                                        \
      llvm::errs() << __FILE__ << ":" << __LINE__                              \
                   << ": fuzz check failed: " #condition "\n";                 \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

namespace slr::fuzz {

/// The fuzzer's bytes as a MemoryBuffer without a copy. libFuzzer allocates
/// exactly `size` bytes, so a read past the end is an ASan report; the
/// readers must not rely on a terminating NUL (files are mapped without one).
inline std::unique_ptr<llvm::MemoryBuffer>
borrowBuffer(const uint8_t *data, size_t size, llvm::StringRef name) {
  return llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), name,
      /*RequiresNullTerminator=*/false);
}

/// SLR_FUZZ_VERBOSE=1 in the environment prints what the targets drop
/// (diagnostics, reader errors), for looking at one reproducer.
inline bool verbose() {
  static const bool enabled = std::getenv("SLR_FUZZ_VERBOSE") != nullptr;
  return enabled;
}

inline void dropError(llvm::Error error) {
  if (!error)
    return;
  if (verbose())
    llvm::errs() << "error: " << llvm::toString(std::move(error)) << "\n";
  else
    llvm::consumeError(std::move(error));
}

/// Drops every diagnostic: errors are the expected outcome of most inputs,
/// and printing them would cost most of the time.
class SilenceDiagnostics : public mlir::ScopedDiagnosticHandler {
public:
  explicit SilenceDiagnostics(mlir::MLIRContext &context)
      : mlir::ScopedDiagnosticHandler(&context, [](mlir::Diagnostic &diag) {
          if (verbose())
            llvm::errs() << "diagnostic: " << diag << "\n";
          return mlir::success();
        }) {}
};

} // namespace slr::fuzz

#endif // SLR_FUZZ_FUZZCOMMON_H
