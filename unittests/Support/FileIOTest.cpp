//===- FileIOTest.cpp - Checked input and atomic output files -------------===//

#include "slr/Support/FileIO.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>

using namespace slr;
namespace fs = llvm::sys::fs;

namespace {

/// A fresh directory, removed with its contents at the end of the test.
class TempDir {
public:
  TempDir() { EXPECT_FALSE(fs::createUniqueDirectory("slr-fileio", path)); }
  ~TempDir() { fs::remove_directories(path); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<128> result(path);
    llvm::sys::path::append(result, name);
    return std::string(result);
  }
  /// Names in the directory (a leftover temporary file shows up here).
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(names.begin(), names.end());
    return names;
  }
  llvm::SmallString<128> path;
};

std::string readError(llvm::StringRef path, uint64_t maxBytes = 1 << 20) {
  auto buffer = readInputFile(path, "test file", maxBytes);
  if (buffer)
    return "";
  return llvm::toString(buffer.takeError());
}

std::string contents(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : "<missing>";
}

TEST(ReadInputFileTest, ReadsRegularFiles) {
  TempDir dir;
  std::string path = dir.file("in.txt");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(path, "hello")));
  auto buffer = readInputFile(path, "test file", 1 << 20,
                              /*requiresNullTerminator=*/true);
  ASSERT_TRUE(static_cast<bool>(buffer)) << llvm::toString(buffer.takeError());
  EXPECT_EQ((*buffer)->getBuffer(), "hello");
  EXPECT_EQ((*buffer)->getBufferEnd()[0], '\0');
  // An empty regular file is fine here; the format parsers reject it.
  std::string empty = dir.file("empty");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(empty, "")));
  EXPECT_EQ(readError(empty), "");
}

TEST(ReadInputFileTest, RefusesWhatIsNotARegularFileOfPlausibleSize) {
  TempDir dir;
  EXPECT_EQ(readError(dir.file("missing")), "cannot read test file '" +
                                                dir.file("missing") +
                                                "': No such file or directory");
  EXPECT_EQ(readError(dir.path), "cannot read test file '" +
                                     dir.path.str().str() +
                                     "': is a directory");
  // /dev/zero reports size 0 and never ends: it was read until out of
  // memory.
  EXPECT_EQ(readError("/dev/zero"), "cannot read test file '/dev/zero': not "
                                    "a regular file (a character device)");
  // Opening a FIFO for reading blocks until a writer comes: refused first.
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(readError(fifo), "cannot read test file '" + fifo +
                                 "': not a regular file (a FIFO)");
  std::string big = dir.file("big");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(big, "0123456789")));
  EXPECT_EQ(readError(big, 9), "cannot read test file '" + big +
                                   "': file of 10 bytes exceeds the limit of "
                                   "9 bytes");
  EXPECT_EQ(readError(big, 10), "");
}

TEST(WriteFileAtomicallyTest, WritesAndReplacesWithoutLeftovers) {
  TempDir dir;
  std::string path = dir.file("out.json");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(path, "first")));
  EXPECT_EQ(contents(path), "first");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(path, "second")));
  EXPECT_EQ(contents(path), "second");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.json"});
}

TEST(WriteFileAtomicallyTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  std::string path = dir.file("out.safetensors");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(path, "old")));
  // The producer fails half-way: its error comes back unchanged.
  llvm::Error error = writeFileAtomically(path, [](llvm::raw_ostream &os) {
    os << "partial";
    return llvm::createStringError("producer failed");
  });
  EXPECT_EQ(llvm::toString(std::move(error)), "producer failed");
  EXPECT_EQ(contents(path), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.safetensors"});
}

TEST(WriteFileAtomicallyTest, AStreamErrorIsAnErrorNotAFatalExit) {
  TempDir dir;
  std::string path = dir.file("out.bin");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(path, "old")));
  // Writes past RLIMIT_FSIZE fail with EFBIG, a real write error on the
  // temporary file (as ENOSPC on a full disk). SIGXFSZ is ignored inside the
  // producer, after LLVM's signal handlers are installed.
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  llvm::Error error = writeFileAtomically(path, [&](llvm::raw_ostream &os) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved;
    limit.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &limit);
    std::string block(1 << 16, 'x');
    os << block;
    return llvm::Error::success();
  });
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  EXPECT_EQ(llvm::toString(std::move(error)),
            "cannot write '" + path + "': File too large");
  EXPECT_EQ(contents(path), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.bin"});
}

TEST(WriteFileAtomicallyTest, BadTargetsAreOneLineErrors) {
  TempDir dir;
  std::string notADirectory = dir.file("file");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(notADirectory, "x")));
  std::string below = notADirectory + "/out.json";
  EXPECT_EQ(llvm::toString(writeFileAtomically(below, "x")),
            "cannot write '" + below + "': Not a directory");
  std::string missingDir = dir.file("no/such/dir/out.json");
  EXPECT_EQ(llvm::toString(writeFileAtomically(missingDir, "x")),
            "cannot write '" + missingDir + "': No such file or directory");
  EXPECT_EQ(llvm::toString(writeFileAtomically(dir.path, "x")),
            "cannot write '" + dir.path.str().str() + "': is a directory");
  // Devices are written in place (never renamed over): /dev/full fails
  // every write with ENOSPC, /dev/null takes everything.
  EXPECT_EQ(llvm::toString(writeFileAtomically("/dev/full", "x")),
            "cannot write '/dev/full': No space left on device");
  EXPECT_FALSE(llvm::errorToBool(writeFileAtomically("/dev/null", "x")));
  struct stat info;
  ASSERT_EQ(stat("/dev/full", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
}

TEST(WriteFileAtomicallyTest, WritesThroughSymbolicLinks) {
  TempDir dir;
  std::string target = dir.file("target"), link = dir.file("link");
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(target, "old")));
  ASSERT_FALSE(fs::create_link(target, link));
  ASSERT_FALSE(llvm::errorToBool(writeFileAtomically(link, "new")));
  EXPECT_EQ(contents(target), "new");
  EXPECT_TRUE(fs::is_symlink_file(link));
}

} // namespace
