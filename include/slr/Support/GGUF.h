//===- GGUF.h - GGUF model file reader and writer ---------------*- C++ -*-===//
//
// Reader for GGUF v2/v3 files (the llama.cpp model format): header, typed
// metadata, tensor infos and tensor data, with dequantisation to float32 of
// F32, F16, BF16, F64, Q8_0, Q4_0 and Q4_1. Every count, size and offset is
// checked against the file before it is used, so a corrupt or truncated file
// yields an llvm::Error, never a crash. A minimal writer builds files for
// tests and tools.
//
// Layout conventions: dims[0] (ggml's ne0) is the fastest-varying dimension.
// A linear layer's weight has dims = {K, N} and is row-major [N, K].
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_GGUF_H
#define SLR_SUPPORT_GGUF_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace slr {

/// Metadata value types, numbered as in the GGUF specification.
enum class GGUFValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// Tensor element types (ggml_type numbering). Only the types whose block
/// layout the reader knows are listed; any other id is rejected on open.
enum class GGMLType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

/// Block geometry of a tensor element type: `blockElements` values are stored
/// in `blockBytes` bytes.
struct GGMLTypeTraits {
  uint64_t blockElements;
  uint64_t blockBytes;
  const char *name;
  /// Whether dequantizeGGML supports the type.
  bool canDequantize;
};
/// Traits of a known type id, std::nullopt for ids the reader does not know.
std::optional<GGMLTypeTraits> getGGMLTypeTraits(uint32_t type);
llvm::StringRef getGGMLTypeName(GGMLType type);

/// Dequantises `numElements` values (a multiple of the type's block size) of
/// `type` stored in `bytes` (exactly the matching byte count) into `out`.
llvm::Error dequantizeGGML(GGMLType type, llvm::ArrayRef<uint8_t> bytes,
                           uint64_t numElements, float *out);

/// A metadata value: a scalar, or an array (possibly of arrays). Arrays are
/// stored compactly (8 bytes per number, strings as std::string), so the
/// memory a file can make the reader allocate stays proportional to its size.
class GGUFValue {
public:
  GGUFValue() = default;
  static GGUFValue makeUnsigned(GGUFValueType type, uint64_t value);
  static GGUFValue makeSigned(GGUFValueType type, int64_t value);
  static GGUFValue makeFloat(GGUFValueType type, double value);
  static GGUFValue makeBool(bool value);
  static GGUFValue makeString(std::string value);
  /// An array of `elementType`; every element must be of that type.
  static GGUFValue makeArray(GGUFValueType elementType,
                             llvm::ArrayRef<GGUFValue> elements);
  static GGUFValue makeStringArray(std::vector<std::string> values);
  /// A numeric or bool array from element payloads, encoded as for scalars:
  /// the value (unsigned, bool), two's complement (signed), double bits
  /// (floats).
  static GGUFValue makeNumberArray(GGUFValueType elementType,
                                   std::vector<uint64_t> payloads);

  GGUFValueType getType() const { return type; }
  bool isArray() const { return type == GGUFValueType::Array; }
  bool isInteger() const;
  bool isFloat() const {
    return type == GGUFValueType::Float32 || type == GGUFValueType::Float64;
  }

  /// Integers of any width (and bool); nullopt for other types or when an
  /// unsigned value does not fit int64_t.
  std::optional<int64_t> getAsInteger() const;
  /// Non-negative integers of any width as uint64_t.
  std::optional<uint64_t> getAsUnsigned() const;
  /// Floats, and integers converted to double.
  std::optional<double> getAsDouble() const;
  std::optional<bool> getAsBool() const;
  std::optional<llvm::StringRef> getAsString() const;

  /// Arrays: the element type and count, and element `index` as a value of
  /// its own (any element type).
  GGUFValueType getElementType() const { return elementType; }
  size_t getArraySize() const;
  GGUFValue getArrayElement(size_t index) const;
  /// Arrays of strings: the strings (token lists have ~10^5 entries).
  llvm::ArrayRef<std::string> getStrings() const { return strings; }

  /// Numeric (and bool) arrays as int64 / double; nullopt if the array is
  /// not numeric or an element does not convert exactly (floats to int64,
  /// unsigned values above INT64_MAX).
  std::optional<std::vector<int64_t>> getIntegerArray() const;
  std::optional<std::vector<double>> getDoubleArray() const;

private:
  GGUFValueType type = GGUFValueType::UInt8;
  GGUFValueType elementType = GGUFValueType::UInt8;
  /// Scalar payload: the value for unsigned types and bool, two's
  /// complement for signed types, the bits of a double for floats.
  uint64_t bits = 0;
  std::string stringValue;
  /// Arrays: payloads of numeric elements (encoded as `bits`), strings, or
  /// nested arrays, by element type.
  std::vector<uint64_t> numbers;
  std::vector<std::string> strings;
  std::vector<GGUFValue> arrays;
};

struct GGUFTensorInfo {
  std::string name;
  /// dims[0] is ggml's ne0 (innermost). 1 to 4 entries.
  std::vector<uint64_t> dims;
  GGMLType type = GGMLType::F32;
  /// Offset of the data relative to the start of the data section.
  uint64_t offset = 0;
  uint64_t numElements = 0;
  uint64_t numBytes = 0;

  /// For a 2-D tensor: rows = dims[1] (N), columns = dims[0] (K).
  uint64_t rows() const { return dims.size() > 1 ? dims[1] : 1; }
  uint64_t columns() const { return dims.empty() ? 1 : dims[0]; }
};

class GGUFFile {
public:
  /// Maps `path` and parses its header; all tensor extents are validated.
  static llvm::Expected<std::unique_ptr<GGUFFile>> open(llvm::StringRef path);
  /// Parses an in-memory file (takes ownership of the buffer).
  static llvm::Expected<std::unique_ptr<GGUFFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  uint32_t getVersion() const { return version; }
  uint64_t getAlignment() const { return alignment; }
  /// Absolute file offset of the tensor data section.
  uint64_t getDataOffset() const { return dataOffset; }
  uint64_t getFileSize() const { return buffer->getBufferSize(); }

  /// Metadata in file order.
  llvm::ArrayRef<std::pair<std::string, GGUFValue>> getMetadata() const {
    return metadata;
  }
  const GGUFValue *findMetadata(llvm::StringRef key) const;

  /// Typed lookups. Missing keys yield an error ("gguf: missing metadata key
  /// 'x'") unless a default is given; a present key of the wrong type is
  /// always an error.
  llvm::Expected<int64_t> getInteger(llvm::StringRef key) const;
  llvm::Expected<int64_t> getInteger(llvm::StringRef key,
                                     int64_t defaultValue) const;
  llvm::Expected<double> getDouble(llvm::StringRef key) const;
  llvm::Expected<double> getDouble(llvm::StringRef key,
                                   double defaultValue) const;
  llvm::Expected<bool> getBool(llvm::StringRef key, bool defaultValue) const;
  /// Range-checked lookups for hyper-parameters: an integer in [minimum,
  /// maximum], a finite number in [minimum, maximum]; otherwise "gguf:
  /// metadata key 'x' = v is out of range [minimum, maximum]".
  llvm::Expected<int64_t> getIntegerInRange(llvm::StringRef key,
                                            int64_t minimum,
                                            int64_t maximum) const;
  llvm::Expected<int64_t> getIntegerInRange(llvm::StringRef key,
                                            int64_t defaultValue,
                                            int64_t minimum,
                                            int64_t maximum) const;
  llvm::Expected<double> getFiniteDouble(llvm::StringRef key,
                                         double defaultValue, double minimum,
                                         double maximum) const;
  llvm::Expected<std::string> getString(llvm::StringRef key) const;
  llvm::Expected<std::string> getString(llvm::StringRef key,
                                        llvm::StringRef defaultValue) const;

  llvm::ArrayRef<GGUFTensorInfo> getTensors() const { return tensors; }
  const GGUFTensorInfo *findTensor(llvm::StringRef name) const;

  /// The raw bytes of a tensor (bounds were checked on open).
  llvm::ArrayRef<uint8_t> getTensorBytes(const GGUFTensorInfo &tensor) const;

  /// Dequantised copy of a tensor, row-major with dims[0] fastest.
  llvm::Expected<std::vector<float>>
  readTensorAsFloat(const GGUFTensorInfo &tensor) const;
  llvm::Expected<std::vector<float>>
  readTensorAsFloat(llvm::StringRef name) const;

private:
  GGUFFile() = default;
  llvm::Error parseHeader();

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t dataOffset = 0;
  std::vector<std::pair<std::string, GGUFValue>> metadata;
  llvm::StringMap<size_t> metadataIndex;
  std::vector<GGUFTensorInfo> tensors;
  llvm::StringMap<size_t> tensorIndex;
};

/// Builds a GGUF file in memory. Tensors are laid out in insertion order,
/// each aligned to the alignment (general.alignment is written when it is
/// not the default 32).
class GGUFWriter {
public:
  void setVersion(uint32_t newVersion) { version = newVersion; }
  void setAlignment(uint64_t newAlignment) { alignment = newAlignment; }

  void addValue(llvm::StringRef key, GGUFValue value);
  void addString(llvm::StringRef key, llvm::StringRef value);
  void addUInt32(llvm::StringRef key, uint32_t value);
  void addInt32(llvm::StringRef key, int32_t value);
  void addUInt64(llvm::StringRef key, uint64_t value);
  void addFloat32(llvm::StringRef key, float value);
  void addBool(llvm::StringRef key, bool value);
  void addStringArray(llvm::StringRef key, std::vector<std::string> values);
  void addFloat32Array(llvm::StringRef key, llvm::ArrayRef<float> values);
  void addInt32Array(llvm::StringRef key, llvm::ArrayRef<int32_t> values);

  /// Adds a tensor from its raw (already encoded) bytes; `dims[0]` is ne0.
  void addTensor(llvm::StringRef name, llvm::ArrayRef<uint64_t> dims,
                 GGMLType type, llvm::ArrayRef<uint8_t> bytes);
  void addTensorF32(llvm::StringRef name, llvm::ArrayRef<uint64_t> dims,
                    llvm::ArrayRef<float> values);

  /// The complete file contents.
  std::string serialize() const;
  llvm::Error write(llvm::StringRef path) const;

private:
  struct PendingTensor {
    std::string name;
    std::vector<uint64_t> dims;
    GGMLType type;
    std::vector<uint8_t> bytes;
  };
  uint32_t version = 3;
  uint64_t alignment = 32;
  std::vector<std::pair<std::string, GGUFValue>> metadata;
  std::vector<PendingTensor> tensors;
};

} // namespace slr

#endif // SLR_SUPPORT_GGUF_H
