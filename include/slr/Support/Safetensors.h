//===- Safetensors.h - safetensors reader and writer ------------*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian header length, a JSON header
// mapping tensor names to {dtype, shape, data_offsets} (offsets relative to
// the byte buffer that follows the header) plus an optional "__metadata__"
// string-to-string map, then the raw little-endian tensor data.
//
// Everything in the header is validated on open (JSON syntax, known dtypes,
// shapes, offsets inside the file, sizes matching shapes, no overlaps), so
// reading a tensor afterwards cannot go out of bounds. Values convert to
// float64/float32 from F64, F32, F16 and BF16.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_SAFETENSORS_H
#define SLR_SUPPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace slr {

enum class SafetensorsDType {
  Bool,
  U8,
  I8,
  F8_E5M2,
  F8_E4M3,
  U16,
  I16,
  F16,
  BF16,
  U32,
  I32,
  F32,
  U64,
  I64,
  F64,
};

/// "F32" -> SafetensorsDType::F32; std::nullopt for unknown names.
std::optional<SafetensorsDType> parseSafetensorsDType(llvm::StringRef name);
llvm::StringRef getSafetensorsDTypeName(SafetensorsDType dtype);
/// Bytes per element.
uint64_t getSafetensorsDTypeSize(SafetensorsDType dtype);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::F32;
  /// Row-major, outermost first (an empty shape is a scalar).
  std::vector<int64_t> shape;
  /// [dataBegin, dataEnd) relative to the start of the data buffer.
  uint64_t dataBegin = 0;
  uint64_t dataEnd = 0;

  int64_t numElements() const;
};

class SafetensorsFile {
public:
  /// Maps `path` and validates its header.
  static llvm::Expected<SafetensorsFile> open(llvm::StringRef path);
  /// Validates an in-memory file (takes ownership of the buffer).
  static llvm::Expected<SafetensorsFile>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// The "__metadata__" value for `key`, or "" when absent.
  llvm::StringRef metadata(llvm::StringRef key) const;
  const std::map<std::string, std::string> &allMetadata() const {
    return metadataMap;
  }

  /// All tensors, ordered by their position in the data buffer.
  llvm::ArrayRef<SafetensorsTensor> tensors() const { return tensorList; }
  const SafetensorsTensor *lookup(llvm::StringRef name) const;

  /// The tensor's raw little-endian bytes.
  llvm::ArrayRef<uint8_t> rawData(const SafetensorsTensor &tensor) const;

  /// Converts a F64/F32/F16/BF16 tensor to double / float (other dtypes are
  /// an error). `out` is resized to numElements().
  llvm::Error readAsDouble(const SafetensorsTensor &tensor,
                           std::vector<double> &out) const;
  llvm::Error readAsFloat(const SafetensorsTensor &tensor,
                          std::vector<float> &out) const;

private:
  SafetensorsFile() = default;
  llvm::Error parseHeader();

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint64_t dataStart = 0;
  std::map<std::string, std::string> metadataMap;
  std::vector<SafetensorsTensor> tensorList;
};

/// Collects tensors and metadata and writes a safetensors file. Tensors are
/// stored in insertion order (a later tensor with the same name replaces the
/// earlier one); the data is copied when added (except by addF64Borrowed).
class SafetensorsWriter {
public:
  void setMetadata(llvm::StringRef key, llvm::StringRef value);
  void addF64(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
              llvm::ArrayRef<double> values);
  void addF32(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
              llvm::ArrayRef<float> values);
  /// Like addF64 without the copy on little-endian hosts: `values` must stay
  /// alive and unchanged until write() or serialize() (large calibration
  /// matrices would otherwise be held twice while the file is written).
  void addF64Borrowed(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                      llvm::ArrayRef<double> values);
  /// Adds already-encoded little-endian bytes of any dtype (no size check
  /// here; `serialize` output is validated by the reader like any file).
  void addRaw(llvm::StringRef name, SafetensorsDType dtype,
              llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<uint8_t> bytes);

  std::string serialize() const;
  /// Streams the file to `path` (the data is not copied again).
  llvm::Error write(llvm::StringRef path) const;

private:
  /// Header length, JSON header and padding: everything before the data.
  std::string serializeHeader() const;

  struct PendingTensor {
    std::string name;
    SafetensorsDType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
    /// The caller's little-endian bytes (addF64Borrowed), used when set.
    llvm::ArrayRef<uint8_t> borrowed;
    llvm::ArrayRef<uint8_t> data() const {
      return borrowed.data() ? borrowed : llvm::ArrayRef<uint8_t>(bytes);
    }
  };
  std::map<std::string, std::string> metadataMap;
  std::vector<PendingTensor> pending;
};

} // namespace slr

#endif // SLR_SUPPORT_SAFETENSORS_H
