//===- FileIO.cpp - Checked input files and atomic output files -----------===//

#include "slr/Support/FileIO.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Signals.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

using namespace slr;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;
namespace fs = llvm::sys::fs;

static StringRef describeFileType(fs::file_type type) {
  switch (type) {
  case fs::file_type::directory_file:
    return "is a directory";
  case fs::file_type::block_file:
    return "not a regular file (a block device)";
  case fs::file_type::character_file:
    return "not a regular file (a character device)";
  case fs::file_type::fifo_file:
    return "not a regular file (a FIFO)";
  case fs::file_type::socket_file:
    return "not a regular file (a socket)";
  default:
    return "not a regular file";
  }
}

/// Checks what `status` describes: a regular file within the size limit.
static std::optional<std::string>
checkRegularFile(const fs::file_status &status, uint64_t maxBytes) {
  if (status.type() != fs::file_type::regular_file)
    return describeFileType(status.type()).str();
  if (status.getSize() > maxBytes)
    return ("file of " + Twine(status.getSize()) +
            " bytes exceeds the limit of " + Twine(maxBytes) + " bytes")
        .str();
  return std::nullopt;
}

Expected<std::unique_ptr<llvm::MemoryBuffer>>
slr::readInputFile(StringRef path, StringRef what, uint64_t maxBytes,
                   bool requiresNullTerminator) {
  auto fail = [&](const Twine &reason) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot read " +
                                       (what.empty() ? "" : what + " ") + "'" +
                                       path + "': " + reason);
  };
  // Checked by path first: opening a FIFO for reading blocks until a writer
  // appears.
  fs::file_status status;
  if (std::error_code ec = fs::status(path, status))
    return fail(ec.message());
  if (std::optional<std::string> problem = checkRegularFile(status, maxBytes))
    return fail(*problem);
  Expected<fs::file_t> fd = fs::openNativeFileForRead(path);
  if (!fd)
    return fail(llvm::toString(fd.takeError()));
  llvm::scope_exit closeFd([&] { fs::closeFile(*fd); });
  // And again on the descriptor, in case the path changed in between; the
  // size read here bounds the read.
  if (std::error_code ec = fs::status(*fd, status))
    return fail(ec.message());
  if (std::optional<std::string> problem = checkRegularFile(status, maxBytes))
    return fail(*problem);
  auto buffer = llvm::MemoryBuffer::getOpenFile(*fd, path, status.getSize(),
                                                requiresNullTerminator);
  if (!buffer)
    return fail(buffer.getError().message());
  return std::move(*buffer);
}

/// Flushes `os` and returns (and clears, so its destructor does not abort)
/// the first write error it met.
static std::error_code takeStreamError(llvm::raw_fd_ostream &os) {
  os.flush();
  std::error_code ec = os.error();
  os.clear_error();
  return ec;
}

Error slr::writeFileAtomically(
    StringRef path, llvm::function_ref<Error(llvm::raw_ostream &)> write) {
  auto fail = [&](const Twine &reason) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot write '" + path + "': " + reason);
  };
  if (path == "-") {
    if (Error error = write(llvm::outs()))
      return error;
    return flushStdout();
  }

  fs::file_status status;
  if (!fs::status(path, status) &&
      status.type() != fs::file_type::regular_file &&
      status.type() != fs::file_type::file_not_found) {
    if (status.type() == fs::file_type::directory_file)
      return fail("is a directory");
    // A device or FIFO: renaming a file over it would replace the node
    // itself, so write through it.
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec, fs::OF_None);
    if (ec)
      return fail(ec.message());
    Error error = write(os);
    if (std::error_code writeError = takeStreamError(os)) {
      llvm::consumeError(std::move(error));
      return fail(writeError.message());
    }
    return error;
  }

  // Through a symbolic link, the file it names is replaced, not the link.
  llvm::SmallString<256> target(path);
  if (fs::is_symlink_file(path))
    if (std::error_code ec = fs::real_path(path, target))
      return fail(ec.message());
  // The temporary file lives next to the target so that the rename stays
  // within one file system; TempFile also removes it if we are killed.
  Expected<fs::TempFile> temp = fs::TempFile::create(target + ".tmp-%%%%%%");
  if (!temp)
    return fail(llvm::toString(temp.takeError()));
  Error error = [&]() -> Error {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    Error error = write(os);
    if (std::error_code writeError = takeStreamError(os)) {
      llvm::consumeError(std::move(error));
      return fail(writeError.message());
    }
    return error;
  }();
  if (error) {
    llvm::consumeError(temp->discard());
    return error;
  }
  if (Error keepError = temp->keep(target))
    return fail(llvm::toString(std::move(keepError)));
  return Error::success();
}

Error slr::writeFileAtomically(StringRef path, StringRef contents) {
  return writeFileAtomically(path, [&](llvm::raw_ostream &os) {
    os << contents;
    return Error::success();
  });
}

Error slr::flushStdout() {
  llvm::raw_fd_ostream &os = llvm::outs();
  if (std::error_code ec = takeStreamError(os))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot write to stdout: " + ec.message());
  return Error::success();
}

/// The tool's name for the fatal-error line (set once, read in the handler).
static std::string &fatalErrorToolName() {
  static std::string name;
  return name;
}

/// Writes "<tool>: error: <prefix><reason>" (first line of reason,
/// printable) and ends the process like a tool's error.
[[noreturn]] static void exitWithError(const std::string &prefix,
                                       const char *reason) {
  // Only what is safe after an arbitrary failure: no streams, one write.
  std::string line = fatalErrorToolName() + ": error: " + prefix;
  for (const char *c = reason; *c && *c != '\n' && line.size() < 1000; ++c)
    line += llvm::isPrint(*c) ? *c : '?';
  line += '\n';
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
  // Removes the temporary files of writeFileAtomically (fs::TempFile).
  llvm::sys::RunInterruptHandlers();
  std::_Exit(1);
}

void slr::installToolFatalErrorHandlers(StringRef toolName) {
  fatalErrorToolName() = toolName.str();
  llvm::install_fatal_error_handler([](void *, const char *reason, bool) {
    exitWithError("LLVM fatal error: ", reason);
  });
  llvm::install_bad_alloc_error_handler([](void *, const char *reason, bool) {
    exitWithError("LLVM fatal error: ", reason);
  });
}

struct ReadDeadline::Watchdog {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  std::thread thread;
};

ReadDeadline::ReadDeadline(StringRef path, double seconds)
    : watchdog(std::make_unique<Watchdog>()) {
  // Only tools end the process; a library user's program is left alone.
  if (fatalErrorToolName().empty())
    return;
  std::string message = ("reading '" + path + "' did not finish in " +
                         Twine(static_cast<int64_t>(seconds)) +
                         " s (a corrupt MLIR bytecode file?)")
                            .str();
  Watchdog &w = *watchdog;
  w.thread = std::thread([&w, seconds, message] {
    std::unique_lock<std::mutex> lock(w.mutex);
    if (!w.done.wait_for(lock, std::chrono::duration<double>(seconds),
                         [&w] { return w.finished; }))
      exitWithError("", message.c_str());
  });
}

ReadDeadline::~ReadDeadline() {
  {
    std::lock_guard<std::mutex> lock(watchdog->mutex);
    watchdog->finished = true;
  }
  watchdog->done.notify_one();
  if (watchdog->thread.joinable())
    watchdog->thread.join();
}

double ReadDeadline::forBytecode(uint64_t bytes) {
  if (const char *fixed = std::getenv("SLR_READ_DEADLINE_S")) {
    double seconds = 0;
    if (!StringRef(fixed).getAsDouble(seconds) && seconds > 0)
      return seconds;
  }
  return 60.0 + 10.0 * static_cast<double>(bytes) / 1e8;
}
