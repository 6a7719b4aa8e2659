//===- GGUF.cpp - GGUF model file reader and writer -----------------------===//

#include "slr/Support/GGUF.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/FloatConversion.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

using namespace slr;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;

static Error ggufError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "gguf: " + message);
}

//===----------------------------------------------------------------------===//
// Type traits and dequantisation
//===----------------------------------------------------------------------===//

std::optional<GGMLTypeTraits> slr::getGGMLTypeTraits(uint32_t type) {
  switch (static_cast<GGMLType>(type)) {
  case GGMLType::F32:
    return GGMLTypeTraits{1, 4, "F32", true};
  case GGMLType::F16:
    return GGMLTypeTraits{1, 2, "F16", true};
  case GGMLType::Q4_0:
    return GGMLTypeTraits{32, 18, "Q4_0", true};
  case GGMLType::Q4_1:
    return GGMLTypeTraits{32, 20, "Q4_1", true};
  case GGMLType::Q5_0:
    return GGMLTypeTraits{32, 22, "Q5_0", false};
  case GGMLType::Q5_1:
    return GGMLTypeTraits{32, 24, "Q5_1", false};
  case GGMLType::Q8_0:
    return GGMLTypeTraits{32, 34, "Q8_0", true};
  case GGMLType::Q8_1:
    return GGMLTypeTraits{32, 36, "Q8_1", false};
  case GGMLType::Q2_K:
    return GGMLTypeTraits{256, 84, "Q2_K", false};
  case GGMLType::Q3_K:
    return GGMLTypeTraits{256, 110, "Q3_K", false};
  case GGMLType::Q4_K:
    return GGMLTypeTraits{256, 144, "Q4_K", false};
  case GGMLType::Q5_K:
    return GGMLTypeTraits{256, 176, "Q5_K", false};
  case GGMLType::Q6_K:
    return GGMLTypeTraits{256, 210, "Q6_K", false};
  case GGMLType::Q8_K:
    return GGMLTypeTraits{256, 292, "Q8_K", false};
  case GGMLType::I8:
    return GGMLTypeTraits{1, 1, "I8", false};
  case GGMLType::I16:
    return GGMLTypeTraits{1, 2, "I16", false};
  case GGMLType::I32:
    return GGMLTypeTraits{1, 4, "I32", false};
  case GGMLType::I64:
    return GGMLTypeTraits{1, 8, "I64", false};
  case GGMLType::F64:
    return GGMLTypeTraits{1, 8, "F64", true};
  case GGMLType::BF16:
    return GGMLTypeTraits{1, 2, "BF16", true};
  }
  return std::nullopt;
}

StringRef slr::getGGMLTypeName(GGMLType type) {
  if (auto traits = getGGMLTypeTraits(static_cast<uint32_t>(type)))
    return traits->name;
  return "unknown";
}

static uint16_t readLE16(const uint8_t *bytes) {
  return static_cast<uint16_t>(bytes[0] | (bytes[1] << 8));
}

static uint32_t readLE32(const uint8_t *bytes) {
  return static_cast<uint32_t>(bytes[0]) |
         (static_cast<uint32_t>(bytes[1]) << 8) |
         (static_cast<uint32_t>(bytes[2]) << 16) |
         (static_cast<uint32_t>(bytes[3]) << 24);
}

static uint64_t readLE64(const uint8_t *bytes) {
  return static_cast<uint64_t>(readLE32(bytes)) |
         (static_cast<uint64_t>(readLE32(bytes + 4)) << 32);
}

Error slr::dequantizeGGML(GGMLType type, llvm::ArrayRef<uint8_t> bytes,
                          uint64_t numElements, float *out) {
  std::optional<GGMLTypeTraits> traits =
      getGGMLTypeTraits(static_cast<uint32_t>(type));
  if (!traits || !traits->canDequantize)
    return ggufError("cannot dequantize tensors of type " +
                     getGGMLTypeName(type));
  if (numElements % traits->blockElements != 0)
    return ggufError(Twine(numElements) + " elements of type " + traits->name +
                     " are not a whole number of blocks");
  uint64_t numBlocks = numElements / traits->blockElements;
  if (bytes.size() / traits->blockBytes != numBlocks ||
      bytes.size() % traits->blockBytes != 0)
    return ggufError(Twine(bytes.size()) + " bytes do not hold " +
                     Twine(numElements) + " elements of type " + traits->name);
  const uint8_t *data = bytes.data();
  switch (type) {
  case GGMLType::F32:
    for (uint64_t i = 0; i < numElements; ++i)
      out[i] = bitsToFloat(readLE32(data + 4 * i));
    break;
  case GGMLType::F16:
    for (uint64_t i = 0; i < numElements; ++i)
      out[i] = halfToFloat(readLE16(data + 2 * i));
    break;
  case GGMLType::BF16:
    for (uint64_t i = 0; i < numElements; ++i)
      out[i] = bfloat16ToFloat(readLE16(data + 2 * i));
    break;
  case GGMLType::F64:
    for (uint64_t i = 0; i < numElements; ++i) {
      uint64_t bits = readLE64(data + 8 * i);
      double value;
      std::memcpy(&value, &bits, sizeof(value));
      out[i] = static_cast<float>(value);
    }
    break;
  case GGMLType::Q8_0:
    // Block: fp16 scale d, then 32 int8 quants; w = d * q.
    for (uint64_t block = 0; block < numBlocks; ++block) {
      const uint8_t *blockData = data + block * 34;
      float scale = halfToFloat(readLE16(blockData));
      for (int i = 0; i < 32; ++i)
        out[block * 32 + i] =
            scale * static_cast<float>(static_cast<int8_t>(blockData[2 + i]));
    }
    break;
  case GGMLType::Q4_0:
    // Block: fp16 scale d, 16 bytes of nibbles; w = d * (q - 8). Low nibbles
    // are elements 0..15, high nibbles elements 16..31.
    for (uint64_t block = 0; block < numBlocks; ++block) {
      const uint8_t *blockData = data + block * 18;
      float scale = halfToFloat(readLE16(blockData));
      float *blockOut = out + block * 32;
      for (int i = 0; i < 16; ++i) {
        uint8_t packed = blockData[2 + i];
        blockOut[i] = scale * static_cast<float>((packed & 0x0f) - 8);
        blockOut[i + 16] = scale * static_cast<float>((packed >> 4) - 8);
      }
    }
    break;
  case GGMLType::Q4_1:
    // Block: fp16 scale d, fp16 minimum m, 16 bytes of nibbles; w = d*q + m.
    for (uint64_t block = 0; block < numBlocks; ++block) {
      const uint8_t *blockData = data + block * 20;
      float scale = halfToFloat(readLE16(blockData));
      float minimum = halfToFloat(readLE16(blockData + 2));
      float *blockOut = out + block * 32;
      for (int i = 0; i < 16; ++i) {
        uint8_t packed = blockData[4 + i];
        blockOut[i] = scale * static_cast<float>(packed & 0x0f) + minimum;
        blockOut[i + 16] = scale * static_cast<float>(packed >> 4) + minimum;
      }
    }
    break;
  default:
    return ggufError("cannot dequantize tensors of type " +
                     getGGMLTypeName(type));
  }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// GGUFValue
//===----------------------------------------------------------------------===//

static bool isUnsignedType(GGUFValueType type) {
  return type == GGUFValueType::UInt8 || type == GGUFValueType::UInt16 ||
         type == GGUFValueType::UInt32 || type == GGUFValueType::UInt64;
}

static bool isSignedType(GGUFValueType type) {
  return type == GGUFValueType::Int8 || type == GGUFValueType::Int16 ||
         type == GGUFValueType::Int32 || type == GGUFValueType::Int64;
}

static bool isFloatType(GGUFValueType type) {
  return type == GGUFValueType::Float32 || type == GGUFValueType::Float64;
}

static uint64_t doubleToBits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

static double bitsToDouble(uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

static GGUFValue makeScalar(GGUFValueType type, uint64_t bits) {
  if (isFloatType(type))
    return GGUFValue::makeFloat(type, bitsToDouble(bits));
  if (isSignedType(type))
    return GGUFValue::makeSigned(type, static_cast<int64_t>(bits));
  if (type == GGUFValueType::Bool)
    return GGUFValue::makeBool(bits != 0);
  return GGUFValue::makeUnsigned(type, bits);
}

/// The payload encoding of a scalar (see makeNumberArray).
static uint64_t scalarBits(const GGUFValue &value) {
  if (value.isFloat())
    return doubleToBits(*value.getAsDouble());
  if (std::optional<bool> flag = value.getAsBool())
    return *flag ? 1 : 0;
  if (std::optional<uint64_t> asUnsigned = value.getAsUnsigned())
    return *asUnsigned;
  return static_cast<uint64_t>(value.getAsInteger().value_or(0));
}

GGUFValue GGUFValue::makeUnsigned(GGUFValueType type, uint64_t value) {
  GGUFValue result;
  result.type = type;
  result.bits = value;
  return result;
}

GGUFValue GGUFValue::makeSigned(GGUFValueType type, int64_t value) {
  GGUFValue result;
  result.type = type;
  result.bits = static_cast<uint64_t>(value);
  return result;
}

GGUFValue GGUFValue::makeFloat(GGUFValueType type, double value) {
  GGUFValue result;
  result.type = type;
  result.bits = doubleToBits(value);
  return result;
}

GGUFValue GGUFValue::makeBool(bool value) {
  GGUFValue result;
  result.type = GGUFValueType::Bool;
  result.bits = value ? 1 : 0;
  return result;
}

GGUFValue GGUFValue::makeString(std::string value) {
  GGUFValue result;
  result.type = GGUFValueType::String;
  result.stringValue = std::move(value);
  return result;
}

GGUFValue GGUFValue::makeArray(GGUFValueType elementType,
                               llvm::ArrayRef<GGUFValue> elements) {
  GGUFValue result;
  result.type = GGUFValueType::Array;
  result.elementType = elementType;
  for (const GGUFValue &element : elements) {
    if (elementType == GGUFValueType::String)
      result.strings.push_back(element.stringValue);
    else if (elementType == GGUFValueType::Array)
      result.arrays.push_back(element);
    else
      result.numbers.push_back(element.bits);
  }
  return result;
}

GGUFValue GGUFValue::makeStringArray(std::vector<std::string> values) {
  GGUFValue result;
  result.type = GGUFValueType::Array;
  result.elementType = GGUFValueType::String;
  result.strings = std::move(values);
  return result;
}

GGUFValue GGUFValue::makeNumberArray(GGUFValueType elementType,
                                     std::vector<uint64_t> payloads) {
  GGUFValue result;
  result.type = GGUFValueType::Array;
  result.elementType = elementType;
  result.numbers = std::move(payloads);
  return result;
}

bool GGUFValue::isInteger() const {
  return isUnsignedType(type) || isSignedType(type);
}

std::optional<int64_t> GGUFValue::getAsInteger() const {
  if (isSignedType(type))
    return static_cast<int64_t>(bits);
  if (isUnsignedType(type) || type == GGUFValueType::Bool) {
    if (bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return static_cast<int64_t>(bits);
  }
  return std::nullopt;
}

std::optional<uint64_t> GGUFValue::getAsUnsigned() const {
  if (isUnsignedType(type))
    return bits;
  if (isSignedType(type) && static_cast<int64_t>(bits) >= 0)
    return bits;
  return std::nullopt;
}

std::optional<double> GGUFValue::getAsDouble() const {
  if (isFloat())
    return bitsToDouble(bits);
  if (isSignedType(type))
    return static_cast<double>(static_cast<int64_t>(bits));
  if (isUnsignedType(type))
    return static_cast<double>(bits);
  return std::nullopt;
}

std::optional<bool> GGUFValue::getAsBool() const {
  if (type == GGUFValueType::Bool)
    return bits != 0;
  return std::nullopt;
}

std::optional<StringRef> GGUFValue::getAsString() const {
  if (type == GGUFValueType::String)
    return StringRef(stringValue);
  return std::nullopt;
}

size_t GGUFValue::getArraySize() const {
  if (!isArray())
    return 0;
  if (elementType == GGUFValueType::String)
    return strings.size();
  if (elementType == GGUFValueType::Array)
    return arrays.size();
  return numbers.size();
}

GGUFValue GGUFValue::getArrayElement(size_t index) const {
  if (index >= getArraySize())
    return GGUFValue();
  if (elementType == GGUFValueType::String)
    return makeString(strings[index]);
  if (elementType == GGUFValueType::Array)
    return arrays[index];
  return makeScalar(elementType, numbers[index]);
}

std::optional<std::vector<int64_t>> GGUFValue::getIntegerArray() const {
  if (!isArray() || elementType == GGUFValueType::String ||
      elementType == GGUFValueType::Array || isFloatType(elementType))
    return std::nullopt;
  std::vector<int64_t> result;
  result.reserve(numbers.size());
  for (uint64_t element : numbers) {
    std::optional<int64_t> value =
        makeScalar(elementType, element).getAsInteger();
    if (!value)
      return std::nullopt;
    result.push_back(*value);
  }
  return result;
}

std::optional<std::vector<double>> GGUFValue::getDoubleArray() const {
  if (!isArray() || elementType == GGUFValueType::String ||
      elementType == GGUFValueType::Array || elementType == GGUFValueType::Bool)
    return std::nullopt;
  std::vector<double> result;
  result.reserve(numbers.size());
  for (uint64_t element : numbers)
    result.push_back(*makeScalar(elementType, element).getAsDouble());
  return result;
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

namespace {
/// Bounds-checked little-endian cursor over the file. Every read reports
/// truncation as an error naming what was being read.
class ByteReader {
public:
  explicit ByteReader(StringRef data) : data(data) {}

  uint64_t position() const { return offset; }
  uint64_t remaining() const { return data.size() - offset; }

  Error need(uint64_t count, const Twine &what) {
    if (count > remaining())
      return ggufError("truncated " + what + " at offset " + Twine(offset) +
                       " (needs " + Twine(count) + " bytes, " +
                       Twine(remaining()) + " left)");
    return Error::success();
  }

  template <typename T> Expected<T> read(const Twine &what) {
    static_assert(std::is_integral<T>::value, "integers only");
    if (Error error = need(sizeof(T), what))
      return error;
    const uint8_t *bytes =
        reinterpret_cast<const uint8_t *>(data.data()) + offset;
    uint64_t value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      value |= static_cast<uint64_t>(bytes[i]) << (8 * i);
    offset += sizeof(T);
    return static_cast<T>(value);
  }

  Expected<std::string> readString(const Twine &what) {
    Expected<uint64_t> length = read<uint64_t>(what + " length");
    if (!length)
      return length.takeError();
    if (Error error = need(*length, what))
      return error;
    std::string result(data.substr(offset, *length));
    offset += *length;
    return result;
  }

private:
  StringRef data;
  uint64_t offset = 0;
};
} // namespace

/// Smallest encoded size of one value of `type`, used to bound counts read
/// from the file before allocating anything.
static uint64_t minimumEncodedSize(GGUFValueType type) {
  switch (type) {
  case GGUFValueType::UInt8:
  case GGUFValueType::Int8:
  case GGUFValueType::Bool:
    return 1;
  case GGUFValueType::UInt16:
  case GGUFValueType::Int16:
    return 2;
  case GGUFValueType::UInt32:
  case GGUFValueType::Int32:
  case GGUFValueType::Float32:
    return 4;
  case GGUFValueType::UInt64:
  case GGUFValueType::Int64:
  case GGUFValueType::Float64:
  case GGUFValueType::String:
    return 8;
  case GGUFValueType::Array:
    return 12;
  }
  return 1;
}

static bool isKnownValueType(uint32_t type) { return type <= 12; }

static constexpr int kMaxArrayNesting = 8;

static Expected<GGUFValue> readValue(ByteReader &reader, GGUFValueType type,
                                     const Twine &what, int depth) {
  switch (type) {
  case GGUFValueType::UInt8: {
    auto value = reader.read<uint8_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeUnsigned(type, *value);
  }
  case GGUFValueType::UInt16: {
    auto value = reader.read<uint16_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeUnsigned(type, *value);
  }
  case GGUFValueType::UInt32: {
    auto value = reader.read<uint32_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeUnsigned(type, *value);
  }
  case GGUFValueType::UInt64: {
    auto value = reader.read<uint64_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeUnsigned(type, *value);
  }
  case GGUFValueType::Int8: {
    auto value = reader.read<uint8_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeSigned(type, static_cast<int8_t>(*value));
  }
  case GGUFValueType::Int16: {
    auto value = reader.read<uint16_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeSigned(type, static_cast<int16_t>(*value));
  }
  case GGUFValueType::Int32: {
    auto value = reader.read<uint32_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeSigned(type, static_cast<int32_t>(*value));
  }
  case GGUFValueType::Int64: {
    auto value = reader.read<uint64_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeSigned(type, static_cast<int64_t>(*value));
  }
  case GGUFValueType::Float32: {
    auto value = reader.read<uint32_t>(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeFloat(type, bitsToFloat(*value));
  }
  case GGUFValueType::Float64: {
    auto value = reader.read<uint64_t>(what);
    if (!value)
      return value.takeError();
    double result;
    std::memcpy(&result, &*value, sizeof(result));
    return GGUFValue::makeFloat(type, result);
  }
  case GGUFValueType::Bool: {
    auto value = reader.read<uint8_t>(what);
    if (!value)
      return value.takeError();
    if (*value > 1)
      return ggufError("invalid bool " + Twine(*value) + " in " + what);
    return GGUFValue::makeBool(*value != 0);
  }
  case GGUFValueType::String: {
    auto value = reader.readString(what);
    if (!value)
      return value.takeError();
    return GGUFValue::makeString(std::move(*value));
  }
  case GGUFValueType::Array: {
    if (depth >= kMaxArrayNesting)
      return ggufError("arrays nested too deeply in " + what);
    auto rawElementType = reader.read<uint32_t>(what + " element type");
    if (!rawElementType)
      return rawElementType.takeError();
    if (!isKnownValueType(*rawElementType))
      return ggufError("unknown array element type " + Twine(*rawElementType) +
                       " in " + what);
    auto elementType = static_cast<GGUFValueType>(*rawElementType);
    auto count = reader.read<uint64_t>(what + " element count");
    if (!count)
      return count.takeError();
    if (*count > reader.remaining() / minimumEncodedSize(elementType))
      return ggufError("array of " + Twine(*count) + " elements in " + what +
                       " exceeds the file size");
    if (elementType == GGUFValueType::String) {
      std::vector<std::string> strings;
      strings.reserve(*count);
      for (uint64_t i = 0; i < *count; ++i) {
        auto element = reader.readString(what);
        if (!element)
          return element.takeError();
        strings.push_back(std::move(*element));
      }
      return GGUFValue::makeStringArray(std::move(strings));
    }
    std::vector<GGUFValue> elements;
    elements.reserve(elementType == GGUFValueType::Array ? *count : 0);
    std::vector<uint64_t> numbers;
    numbers.reserve(elementType == GGUFValueType::Array ? 0 : *count);
    for (uint64_t i = 0; i < *count; ++i) {
      auto element = readValue(reader, elementType, what, depth + 1);
      if (!element)
        return element.takeError();
      if (elementType == GGUFValueType::Array)
        elements.push_back(std::move(*element));
      else
        numbers.push_back(scalarBits(*element));
    }
    if (elementType == GGUFValueType::Array)
      return GGUFValue::makeArray(elementType, elements);
    return GGUFValue::makeNumberArray(elementType, std::move(numbers));
  }
  }
  return ggufError("unknown value type in " + what);
}

Expected<std::unique_ptr<GGUFFile>> GGUFFile::open(StringRef path) {
  auto buffer = readInputFile(path, /*what=*/"");
  if (!buffer)
    return ggufError(llvm::toString(buffer.takeError()));
  return parse(std::move(*buffer));
}

Expected<std::unique_ptr<GGUFFile>>
GGUFFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  std::unique_ptr<GGUFFile> file(new GGUFFile());
  file->buffer = std::move(buffer);
  if (Error error = file->parseHeader())
    return error;
  return file;
}

Error GGUFFile::parseHeader() {
  ByteReader reader(buffer->getBuffer());
  if (buffer->getBufferSize() < 4 || buffer->getBuffer().substr(0, 4) != "GGUF")
    return ggufError("not a GGUF file (bad magic)");
  llvm::cantFail(reader.read<uint32_t>("magic"));
  auto fileVersion = reader.read<uint32_t>("header version");
  if (!fileVersion)
    return fileVersion.takeError();
  version = *fileVersion;
  if (version != 2 && version != 3)
    return ggufError("unsupported version " + Twine(version) +
                     " (only v2 and v3, little-endian, are supported)");
  auto tensorCount = reader.read<uint64_t>("header tensor count");
  if (!tensorCount)
    return tensorCount.takeError();
  auto metadataCount = reader.read<uint64_t>("header metadata count");
  if (!metadataCount)
    return metadataCount.takeError();
  // A key-value pair takes at least 13 bytes and a tensor info 28, which
  // bounds the counts before anything is allocated for them.
  if (*metadataCount > reader.remaining() / 13)
    return ggufError("metadata count " + Twine(*metadataCount) +
                     " exceeds what the file can hold");
  if (*tensorCount > reader.remaining() / 28)
    return ggufError("tensor count " + Twine(*tensorCount) +
                     " exceeds what the file can hold");

  metadata.reserve(*metadataCount);
  for (uint64_t i = 0; i < *metadataCount; ++i) {
    auto key = reader.readString("metadata key #" + Twine(i));
    if (!key)
      return key.takeError();
    std::string what = "metadata value for key '" + *key + "'";
    auto rawType = reader.read<uint32_t>(what + " type");
    if (!rawType)
      return rawType.takeError();
    if (!isKnownValueType(*rawType))
      return ggufError("unknown metadata value type " + Twine(*rawType) +
                       " for key '" + *key + "'");
    auto value = readValue(reader, static_cast<GGUFValueType>(*rawType), what,
                           /*depth=*/0);
    if (!value)
      return value.takeError();
    if (!metadataIndex.try_emplace(*key, metadata.size()).second)
      return ggufError("duplicate metadata key '" + *key + "'");
    metadata.emplace_back(std::move(*key), std::move(*value));
  }

  if (const GGUFValue *value = findMetadata("general.alignment")) {
    std::optional<int64_t> requested = value->getAsInteger();
    if (!requested || *requested <= 0 || (*requested & (*requested - 1)) != 0 ||
        *requested > (1 << 30))
      return ggufError("general.alignment must be a power of two");
    alignment = static_cast<uint64_t>(*requested);
  }

  tensors.reserve(*tensorCount);
  for (uint64_t i = 0; i < *tensorCount; ++i) {
    GGUFTensorInfo info;
    auto name = reader.readString("tensor name #" + Twine(i));
    if (!name)
      return name.takeError();
    info.name = std::move(*name);
    std::string what = "tensor info for '" + info.name + "'";
    auto numDims = reader.read<uint32_t>(what);
    if (!numDims)
      return numDims.takeError();
    if (*numDims < 1 || *numDims > 4)
      return ggufError("tensor '" + info.name + "' has " + Twine(*numDims) +
                       " dimensions (expected 1 to 4)");
    info.numElements = 1;
    for (uint32_t d = 0; d < *numDims; ++d) {
      auto dim = reader.read<uint64_t>(what);
      if (!dim)
        return dim.takeError();
      if (*dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          __builtin_mul_overflow(info.numElements, *dim, &info.numElements) ||
          info.numElements >
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return ggufError("tensor '" + info.name +
                         "' has an element count that overflows");
      info.dims.push_back(*dim);
    }
    auto rawType = reader.read<uint32_t>(what);
    if (!rawType)
      return rawType.takeError();
    std::optional<GGMLTypeTraits> traits = getGGMLTypeTraits(*rawType);
    if (!traits)
      return ggufError("tensor '" + info.name + "' has unknown type " +
                       Twine(*rawType));
    info.type = static_cast<GGMLType>(*rawType);
    if (info.dims[0] % traits->blockElements != 0)
      return ggufError("tensor '" + info.name + "' of type " + traits->name +
                       " has a row length " + Twine(info.dims[0]) +
                       " that is not a multiple of its block size " +
                       Twine(traits->blockElements));
    if (__builtin_mul_overflow(info.numElements / traits->blockElements,
                               traits->blockBytes, &info.numBytes))
      return ggufError("tensor '" + info.name +
                       "' has a byte size that overflows");
    auto offset = reader.read<uint64_t>(what);
    if (!offset)
      return offset.takeError();
    info.offset = *offset;
    if (info.offset % alignment != 0)
      return ggufError("tensor '" + info.name + "' data offset " +
                       Twine(info.offset) + " is not aligned to " +
                       Twine(alignment));
    if (!tensorIndex.try_emplace(info.name, tensors.size()).second)
      return ggufError("duplicate tensor name '" + info.name + "'");
    tensors.push_back(std::move(info));
  }

  uint64_t headerEnd = reader.position();
  dataOffset = (headerEnd + alignment - 1) / alignment * alignment;
  uint64_t fileSize = buffer->getBufferSize();
  if (!tensors.empty() && dataOffset > fileSize)
    return ggufError("truncated padding before the tensor data (data starts "
                     "at " +
                     Twine(dataOffset) + ", file has " + Twine(fileSize) +
                     " bytes)");
  for (const GGUFTensorInfo &info : tensors) {
    uint64_t available = fileSize - dataOffset;
    if (info.offset > available || info.numBytes > available - info.offset)
      return ggufError("truncated tensor data for '" + info.name +
                       "' (needs bytes [" + Twine(dataOffset + info.offset) +
                       ", " + Twine(dataOffset + info.offset + info.numBytes) +
                       "), file has " + Twine(fileSize) + ")");
  }
  // Two tensors sharing bytes would alias each other's weights.
  std::vector<const GGUFTensorInfo *> byOffset;
  for (const GGUFTensorInfo &info : tensors)
    if (info.numBytes > 0)
      byOffset.push_back(&info);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const GGUFTensorInfo *a, const GGUFTensorInfo *b) {
              return a->offset < b->offset;
            });
  for (size_t i = 1; i < byOffset.size(); ++i)
    if (byOffset[i]->offset <
        byOffset[i - 1]->offset + byOffset[i - 1]->numBytes)
      return ggufError("data of tensors '" + byOffset[i - 1]->name + "' and '" +
                       byOffset[i]->name + "' overlap");
  return Error::success();
}

const GGUFValue *GGUFFile::findMetadata(StringRef key) const {
  auto it = metadataIndex.find(key);
  return it == metadataIndex.end() ? nullptr : &metadata[it->second].second;
}

static Error missingKey(StringRef key) {
  return ggufError("missing metadata key '" + key + "'");
}

static Error wrongType(StringRef key, StringRef expected) {
  return ggufError("metadata key '" + key + "' is not " + expected);
}

Expected<int64_t> GGUFFile::getInteger(StringRef key) const {
  const GGUFValue *value = findMetadata(key);
  if (!value)
    return missingKey(key);
  std::optional<int64_t> result = value->getAsInteger();
  if (!result || value->getType() == GGUFValueType::Bool)
    return wrongType(key, "an integer");
  return *result;
}

Expected<int64_t> GGUFFile::getInteger(StringRef key,
                                       int64_t defaultValue) const {
  if (!findMetadata(key))
    return defaultValue;
  return getInteger(key);
}

Expected<double> GGUFFile::getDouble(StringRef key) const {
  const GGUFValue *value = findMetadata(key);
  if (!value)
    return missingKey(key);
  std::optional<double> result = value->getAsDouble();
  if (!result)
    return wrongType(key, "a number");
  return *result;
}

Expected<double> GGUFFile::getDouble(StringRef key, double defaultValue) const {
  if (!findMetadata(key))
    return defaultValue;
  return getDouble(key);
}

static Error outOfRange(StringRef key, const Twine &value, const Twine &minimum,
                        const Twine &maximum) {
  return ggufError("metadata key '" + key + "' = " + value +
                   " is out of range [" + minimum + ", " + maximum + "]");
}

Expected<int64_t> GGUFFile::getIntegerInRange(StringRef key, int64_t minimum,
                                              int64_t maximum) const {
  Expected<int64_t> value = getInteger(key);
  if (value && (*value < minimum || *value > maximum))
    return outOfRange(key, Twine(*value), Twine(minimum), Twine(maximum));
  return value;
}

Expected<int64_t> GGUFFile::getIntegerInRange(StringRef key,
                                              int64_t defaultValue,
                                              int64_t minimum,
                                              int64_t maximum) const {
  if (!findMetadata(key))
    return defaultValue;
  return getIntegerInRange(key, minimum, maximum);
}

Expected<double> GGUFFile::getFiniteDouble(StringRef key, double defaultValue,
                                           double minimum,
                                           double maximum) const {
  Expected<double> value = getDouble(key, defaultValue);
  // Written so that NaN fails too.
  if (value && !(*value >= minimum && *value <= maximum)) {
    auto print = [](double number) {
      std::string text;
      llvm::raw_string_ostream(text) << llvm::format("%g", number);
      return text;
    };
    return outOfRange(key, print(*value), print(minimum), print(maximum));
  }
  return value;
}

Expected<bool> GGUFFile::getBool(StringRef key, bool defaultValue) const {
  const GGUFValue *value = findMetadata(key);
  if (!value)
    return defaultValue;
  std::optional<bool> result = value->getAsBool();
  if (!result)
    return wrongType(key, "a bool");
  return *result;
}

Expected<std::string> GGUFFile::getString(StringRef key) const {
  const GGUFValue *value = findMetadata(key);
  if (!value)
    return missingKey(key);
  std::optional<StringRef> result = value->getAsString();
  if (!result)
    return wrongType(key, "a string");
  return result->str();
}

Expected<std::string> GGUFFile::getString(StringRef key,
                                          StringRef defaultValue) const {
  if (!findMetadata(key))
    return defaultValue.str();
  return getString(key);
}

const GGUFTensorInfo *GGUFFile::findTensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensors[it->second];
}

llvm::ArrayRef<uint8_t>
GGUFFile::getTensorBytes(const GGUFTensorInfo &tensor) const {
  const auto *start =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  return llvm::ArrayRef<uint8_t>(start + dataOffset + tensor.offset,
                                 tensor.numBytes);
}

Expected<std::vector<float>>
GGUFFile::readTensorAsFloat(const GGUFTensorInfo &tensor) const {
  std::optional<GGMLTypeTraits> traits =
      getGGMLTypeTraits(static_cast<uint32_t>(tensor.type));
  if (!traits || !traits->canDequantize)
    return ggufError("cannot dequantize tensor '" + tensor.name + "' of type " +
                     getGGMLTypeName(tensor.type));
  std::vector<float> values(tensor.numElements);
  if (Error error = dequantizeGGML(tensor.type, getTensorBytes(tensor),
                                   tensor.numElements, values.data()))
    return error;
  return values;
}

Expected<std::vector<float>> GGUFFile::readTensorAsFloat(StringRef name) const {
  const GGUFTensorInfo *tensor = findTensor(name);
  if (!tensor)
    return ggufError("no tensor named '" + name + "'");
  return readTensorAsFloat(*tensor);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

void GGUFWriter::addValue(StringRef key, GGUFValue value) {
  metadata.emplace_back(key.str(), std::move(value));
}

void GGUFWriter::addString(StringRef key, StringRef value) {
  addValue(key, GGUFValue::makeString(value.str()));
}

void GGUFWriter::addUInt32(StringRef key, uint32_t value) {
  addValue(key, GGUFValue::makeUnsigned(GGUFValueType::UInt32, value));
}

void GGUFWriter::addInt32(StringRef key, int32_t value) {
  addValue(key, GGUFValue::makeSigned(GGUFValueType::Int32, value));
}

void GGUFWriter::addUInt64(StringRef key, uint64_t value) {
  addValue(key, GGUFValue::makeUnsigned(GGUFValueType::UInt64, value));
}

void GGUFWriter::addFloat32(StringRef key, float value) {
  addValue(key, GGUFValue::makeFloat(GGUFValueType::Float32, value));
}

void GGUFWriter::addBool(StringRef key, bool value) {
  addValue(key, GGUFValue::makeBool(value));
}

void GGUFWriter::addStringArray(StringRef key,
                                std::vector<std::string> values) {
  addValue(key, GGUFValue::makeStringArray(std::move(values)));
}

void GGUFWriter::addFloat32Array(StringRef key, llvm::ArrayRef<float> values) {
  std::vector<uint64_t> payloads;
  for (float value : values)
    payloads.push_back(doubleToBits(value));
  addValue(key, GGUFValue::makeNumberArray(GGUFValueType::Float32,
                                           std::move(payloads)));
}

void GGUFWriter::addInt32Array(StringRef key, llvm::ArrayRef<int32_t> values) {
  std::vector<uint64_t> payloads;
  for (int32_t value : values)
    payloads.push_back(static_cast<uint64_t>(static_cast<int64_t>(value)));
  addValue(key, GGUFValue::makeNumberArray(GGUFValueType::Int32,
                                           std::move(payloads)));
}

void GGUFWriter::addTensor(StringRef name, llvm::ArrayRef<uint64_t> dims,
                           GGMLType type, llvm::ArrayRef<uint8_t> bytes) {
  tensors.push_back({name.str(), dims.vec(), type, bytes.vec()});
}

void GGUFWriter::addTensorF32(StringRef name, llvm::ArrayRef<uint64_t> dims,
                              llvm::ArrayRef<float> values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = floatToBits(values[i]);
    for (int b = 0; b < 4; ++b)
      bytes[4 * i + b] = static_cast<uint8_t>(bits >> (8 * b));
  }
  addTensor(name, dims, GGMLType::F32, bytes);
}

namespace {
class ByteWriter {
public:
  template <typename T> void write(T value) {
    auto bits = static_cast<uint64_t>(value);
    for (size_t i = 0; i < sizeof(T); ++i)
      out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  void writeString(StringRef value) {
    write<uint64_t>(value.size());
    out.append(value.begin(), value.end());
  }
  void padTo(uint64_t alignment) {
    while (out.size() % alignment != 0)
      out.push_back(0);
  }
  std::string out;
};
} // namespace

static void writeValue(ByteWriter &writer, const GGUFValue &value) {
  switch (value.getType()) {
  case GGUFValueType::UInt8:
  case GGUFValueType::Int8:
    writer.write<uint8_t>(static_cast<uint8_t>(scalarBits(value)));
    break;
  case GGUFValueType::Bool:
    writer.write<uint8_t>(*value.getAsBool() ? 1 : 0);
    break;
  case GGUFValueType::UInt16:
  case GGUFValueType::Int16:
    writer.write<uint16_t>(static_cast<uint16_t>(scalarBits(value)));
    break;
  case GGUFValueType::UInt32:
  case GGUFValueType::Int32:
    writer.write<uint32_t>(static_cast<uint32_t>(scalarBits(value)));
    break;
  case GGUFValueType::UInt64:
  case GGUFValueType::Int64:
    writer.write<uint64_t>(scalarBits(value));
    break;
  case GGUFValueType::Float32:
    writer.write<uint32_t>(
        floatToBits(static_cast<float>(*value.getAsDouble())));
    break;
  case GGUFValueType::Float64: {
    double number = *value.getAsDouble();
    uint64_t bits;
    std::memcpy(&bits, &number, sizeof(bits));
    writer.write<uint64_t>(bits);
    break;
  }
  case GGUFValueType::String:
    writer.writeString(*value.getAsString());
    break;
  case GGUFValueType::Array:
    writer.write<uint32_t>(static_cast<uint32_t>(value.getElementType()));
    writer.write<uint64_t>(value.getArraySize());
    if (value.getElementType() == GGUFValueType::String) {
      for (const std::string &element : value.getStrings())
        writer.writeString(element);
    } else {
      for (size_t i = 0; i < value.getArraySize(); ++i)
        writeValue(writer, value.getArrayElement(i));
    }
    break;
  }
}

std::string GGUFWriter::serialize() const {
  bool hasAlignmentKey = false;
  for (const auto &entry : metadata)
    hasAlignmentKey |= entry.first == "general.alignment";
  bool writeAlignmentKey = alignment != 32 && !hasAlignmentKey;

  ByteWriter writer;
  writer.out.append("GGUF");
  writer.write<uint32_t>(version);
  writer.write<uint64_t>(tensors.size());
  writer.write<uint64_t>(metadata.size() + (writeAlignmentKey ? 1 : 0));
  if (writeAlignmentKey) {
    writer.writeString("general.alignment");
    writer.write<uint32_t>(static_cast<uint32_t>(GGUFValueType::UInt32));
    writer.write<uint32_t>(static_cast<uint32_t>(alignment));
  }
  for (const auto &[key, value] : metadata) {
    writer.writeString(key);
    writer.write<uint32_t>(static_cast<uint32_t>(value.getType()));
    writeValue(writer, value);
  }
  uint64_t offset = 0;
  for (const PendingTensor &tensor : tensors) {
    writer.writeString(tensor.name);
    writer.write<uint32_t>(static_cast<uint32_t>(tensor.dims.size()));
    for (uint64_t dim : tensor.dims)
      writer.write<uint64_t>(dim);
    writer.write<uint32_t>(static_cast<uint32_t>(tensor.type));
    writer.write<uint64_t>(offset);
    offset += (tensor.bytes.size() + alignment - 1) / alignment * alignment;
  }
  writer.padTo(alignment);
  for (const PendingTensor &tensor : tensors) {
    writer.out.append(tensor.bytes.begin(), tensor.bytes.end());
    writer.padTo(alignment);
  }
  return std::move(writer.out);
}

Error GGUFWriter::write(StringRef path) const {
  if (Error error = writeFileAtomically(path, serialize()))
    return ggufError(llvm::toString(std::move(error)));
  return Error::success();
}
