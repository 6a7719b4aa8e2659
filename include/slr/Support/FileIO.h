//===- FileIO.h - Checked input files and atomic output files ---*- C++ -*-===//
//
// How every slr tool reads and writes files, so that bad paths and failing
// disks give one clear error instead of a hang, an out-of-memory or LLVM's
// "IO failure on output stream" at exit:
//
//  - readInputFile reads only regular files of a bounded size (a device such
//    as /dev/zero, a FIFO or a directory would otherwise be read without end
//    or block), checked on the opened descriptor.
//  - writeFileAtomically writes to a temporary file next to the target and
//    renames it over the target only once everything was written, so a
//    failed write (full disk, bad directory) leaves no partial file and the
//    previous contents intact.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_FILEIO_H
#define SLR_SUPPORT_FILEIO_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>

namespace slr {

/// Size limits: far above any real input, low enough that a wrong file is
/// refused before it is mapped or read. Model files (GGUF, safetensors,
/// model IR) are mapped; text is tokenized in memory.
constexpr uint64_t kMaxModelFileBytes = uint64_t(1) << 40; // 1 TiB
constexpr uint64_t kMaxTextFileBytes = uint64_t(1) << 32;  // 4 GiB

/// Reads (maps, when large) the regular file `path` of at most `maxBytes`
/// bytes. Errors read "cannot read <what> 'path': <reason>" (reason: the
/// system's, "is a directory", "not a regular file (a FIFO)", or the size).
/// `requiresNullTerminator` as for llvm::MemoryBuffer (MLIR's text parser
/// needs one).
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(llvm::StringRef path, llvm::StringRef what,
              uint64_t maxBytes = kMaxModelFileBytes,
              bool requiresNullTerminator = false);

/// Writes what `write` produces to `path` atomically: through a temporary
/// file in the same directory, renamed over `path` only when `write`
/// succeeded and every byte reached the file. On any failure the temporary
/// file is removed and `path` is left as it was. "-" is stdout; an existing
/// non-regular file (/dev/null, a FIFO, a device) is written in place, as
/// there is nothing to replace. Errors read "cannot write 'path': <reason>";
/// an error returned by `write` is passed through unchanged.
llvm::Error
writeFileAtomically(llvm::StringRef path,
                    llvm::function_ref<llvm::Error(llvm::raw_ostream &)> write);
/// The same for contents already in memory.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef contents);

/// Flushes stdout and turns a write error on it (e.g. `> /dev/full`) into an
/// Error, instead of the fatal error LLVM's stream reports at exit. Tools
/// call it before returning 0.
llvm::Error flushStdout();

/// Makes LLVM's fatal errors (report_fatal_error, "SmallVector unable to
/// grow", out of memory) end the tool like any other error: one line
/// "<tool>: error: <reason>", the temporary output files removed, exit
/// status 1, instead of a stack dump and SIGABRT. MLIR 22's bytecode reader
/// reaches them on corrupt files (counts taken from the file). Call once,
/// after llvm::InitLLVM.
void installToolFatalErrorHandlers(llvm::StringRef toolName);

/// Bounds the time of reading one input: MLIR 22's bytecode reader can
/// recurse for minutes on a corrupt file. While a ReadDeadline lives, a
/// watchdog ends the process once `seconds` have passed, with one line
/// "<tool>: error: reading 'path' did not finish in N s (...)", the
/// temporary output files removed and exit status 1 (the tool's name is
/// the one given to installToolFatalErrorHandlers).
class ReadDeadline {
public:
  ReadDeadline(llvm::StringRef path, double seconds);
  ~ReadDeadline();
  ReadDeadline(const ReadDeadline &) = delete;
  ReadDeadline &operator=(const ReadDeadline &) = delete;

  /// The limit for an MLIR bytecode file of `bytes` bytes: a minute plus
  /// 10 s per 100 MB, far above the reader's speed on a valid file;
  /// SLR_READ_DEADLINE_S overrides it (tests).
  static double forBytecode(uint64_t bytes);

private:
  struct Watchdog;
  std::unique_ptr<Watchdog> watchdog;
};

} // namespace slr

#endif // SLR_SUPPORT_FILEIO_H
