//===- FuzzSafetensors.cpp - libFuzzer target: safetensors, calibration ---===//
//
// Feeds the input to SafetensorsFile::parse; when it parses, reads every
// tensor, checks that SafetensorsWriter reproduces it (same tensors, bytes
// and metadata after a write and a re-read), and reads it as a calibration
// file through CalibrationFile::read (from a file: that API takes a path),
// whose write/read must round-trip too.
//
//===----------------------------------------------------------------------===//

#include "FuzzCommon.h"

#include "slr/Calibration/CalibrationFile.h"
#include "slr/Support/Safetensors.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace slr;

namespace {
/// Two scratch files, created once per process and removed at exit.
struct ScratchFiles {
  llvm::SmallString<128> input, output;
  ScratchFiles() {
    if (llvm::sys::fs::createTemporaryFile("slr-fuzz", "safetensors", input) ||
        llvm::sys::fs::createTemporaryFile("slr-fuzz", "safetensors", output)) {
      llvm::errs() << "slr-fuzz-safetensors: cannot create scratch files\n";
      std::abort();
    }
  }
  ~ScratchFiles() {
    llvm::sys::fs::remove(input);
    llvm::sys::fs::remove(output);
  }
};
} // namespace

static ScratchFiles &scratch() {
  static ScratchFiles files;
  return files;
}

static void checkWriterRoundTrip(const SafetensorsFile &file) {
  SafetensorsWriter writer;
  for (const auto &[key, value] : file.allMetadata())
    writer.setMetadata(key, value);
  for (const SafetensorsTensor &tensor : file.tensors())
    writer.addRaw(tensor.name, tensor.dtype, tensor.shape,
                  file.rawData(tensor));
  std::string bytes = writer.serialize();
  auto copy = SafetensorsFile::parse(llvm::MemoryBuffer::getMemBuffer(
      bytes, "round-trip", /*RequiresNullTerminator=*/false));
  if (!copy) {
    llvm::errs() << "re-read of the writer's output failed: "
                 << llvm::toString(copy.takeError()) << "\n";
    SLR_FUZZ_CHECK(false && "writer output does not parse");
  }
  SLR_FUZZ_CHECK(copy->allMetadata() == file.allMetadata());
  SLR_FUZZ_CHECK(copy->tensors().size() == file.tensors().size());
  for (const SafetensorsTensor &tensor : file.tensors()) {
    const SafetensorsTensor *other = copy->lookup(tensor.name);
    SLR_FUZZ_CHECK(other);
    SLR_FUZZ_CHECK(other->dtype == tensor.dtype);
    SLR_FUZZ_CHECK(other->shape == tensor.shape);
    SLR_FUZZ_CHECK(copy->rawData(*other) == file.rawData(tensor));
  }
}

static void checkCalibration(const uint8_t *data, size_t size) {
  ScratchFiles &files = scratch();
  {
    std::error_code error;
    llvm::raw_fd_ostream out(files.input, error);
    SLR_FUZZ_CHECK(!error);
    out.write(reinterpret_cast<const char *>(data), size);
    out.close();
    SLR_FUZZ_CHECK(!out.has_error());
  }
  auto calibration = CalibrationFile::read(files.input);
  if (!calibration) {
    slr::fuzz::dropError(calibration.takeError());
    return;
  }
  for (const auto &[name, layer] : calibration->layers)
    SLR_FUZZ_CHECK(layer.hessian.size() ==
                   static_cast<size_t>(layer.numFeatures * layer.numFeatures));
  // What was read must be what is written back (F32 widens exactly).
  if (llvm::Error error = calibration->write(files.output)) {
    llvm::errs() << llvm::toString(std::move(error)) << "\n";
    SLR_FUZZ_CHECK(false && "calibration write failed");
  }
  auto reread = CalibrationFile::read(files.output);
  if (!reread) {
    llvm::errs() << llvm::toString(reread.takeError()) << "\n";
    SLR_FUZZ_CHECK(false && "calibration re-read failed");
  }
  SLR_FUZZ_CHECK(reread->tokenCount == calibration->tokenCount);
  SLR_FUZZ_CHECK(reread->layers.size() == calibration->layers.size());
  for (const auto &[name, layer] : calibration->layers) {
    const LayerCalibration *other = reread->lookup(name);
    SLR_FUZZ_CHECK(other && other->numFeatures == layer.numFeatures);
    SLR_FUZZ_CHECK(other->hessian.size() == layer.hessian.size());
    SLR_FUZZ_CHECK(std::memcmp(other->hessian.data(), layer.hessian.data(),
                               layer.hessian.size() * sizeof(double)) == 0);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto file = SafetensorsFile::parse(
      slr::fuzz::borrowBuffer(data, size, "fuzz.safetensors"));
  if (!file) {
    slr::fuzz::dropError(file.takeError());
    return 0;
  }
  std::vector<double> doubles;
  std::vector<float> floats;
  for (const SafetensorsTensor &tensor : file->tensors()) {
    SLR_FUZZ_CHECK(file->rawData(tensor).size() ==
                   tensor.dataEnd - tensor.dataBegin);
    if (llvm::Error error = file->readAsDouble(tensor, doubles)) {
      slr::fuzz::dropError(std::move(error));
      continue;
    }
    SLR_FUZZ_CHECK(doubles.size() == static_cast<size_t>(tensor.numElements()));
    slr::fuzz::dropError(file->readAsFloat(tensor, floats));
  }
  checkWriterRoundTrip(*file);
  // CalibrationFile::read parses the same bytes again, so only files that
  // parse are worth writing out.
  checkCalibration(data, size);
  return 0;
}
