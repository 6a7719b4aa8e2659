//===- Safetensors.cpp - safetensors reader and writer --------------------===//

#include "slr/Support/Safetensors.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/FloatConversion.h"
#include "slr/Support/Nesting.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>
#include <limits>

using namespace slr;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;

static Error safetensorsError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "safetensors: " + message);
}

namespace {
struct DTypeInfo {
  SafetensorsDType dtype;
  const char *name;
  uint64_t size;
};
} // namespace

static constexpr DTypeInfo kDTypes[] = {
    {SafetensorsDType::Bool, "BOOL", 1},
    {SafetensorsDType::U8, "U8", 1},
    {SafetensorsDType::I8, "I8", 1},
    {SafetensorsDType::F8_E5M2, "F8_E5M2", 1},
    {SafetensorsDType::F8_E4M3, "F8_E4M3", 1},
    {SafetensorsDType::U16, "U16", 2},
    {SafetensorsDType::I16, "I16", 2},
    {SafetensorsDType::F16, "F16", 2},
    {SafetensorsDType::BF16, "BF16", 2},
    {SafetensorsDType::U32, "U32", 4},
    {SafetensorsDType::I32, "I32", 4},
    {SafetensorsDType::F32, "F32", 4},
    {SafetensorsDType::U64, "U64", 8},
    {SafetensorsDType::I64, "I64", 8},
    {SafetensorsDType::F64, "F64", 8},
};

std::optional<SafetensorsDType> slr::parseSafetensorsDType(StringRef name) {
  for (const DTypeInfo &info : kDTypes)
    if (name == info.name)
      return info.dtype;
  return std::nullopt;
}

StringRef slr::getSafetensorsDTypeName(SafetensorsDType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return info.name;
  return "unknown";
}

uint64_t slr::getSafetensorsDTypeSize(SafetensorsDType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return info.size;
  return 1;
}

int64_t SafetensorsTensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

// The reference implementation refuses headers above 100 MB; so do we, which
// also bounds the JSON parser's work on corrupt length fields.
static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

// llvm::json::parse recurses once per nesting level, so tens of thousands of
// '[' overflow the stack. A valid header nests 3 deep (root, tensor entry,
// shape); the limit leaves room for readers of other writers' metadata.
static constexpr unsigned kMaxHeaderNesting = 64;

Expected<SafetensorsFile> SafetensorsFile::open(StringRef path) {
  auto buffer = readInputFile(path, /*what=*/"");
  if (!buffer)
    return safetensorsError(llvm::toString(buffer.takeError()));
  return parse(std::move(*buffer));
}

Expected<SafetensorsFile>
SafetensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  SafetensorsFile file;
  file.buffer = std::move(buffer);
  if (Error error = file.parseHeader())
    return error;
  return file;
}

/// Reads a JSON integer that must be a non-negative int64.
static std::optional<int64_t> getNonNegative(const llvm::json::Value &value) {
  std::optional<int64_t> number = value.getAsInteger();
  if (!number || *number < 0)
    return std::nullopt;
  return number;
}

Error SafetensorsFile::parseHeader() {
  StringRef contents = buffer->getBuffer();
  if (contents.size() < 8)
    return safetensorsError("file of " + Twine(contents.size()) +
                            " bytes is too short for the header length");
  uint64_t headerLength = llvm::support::endian::read64le(contents.data());
  if (headerLength > contents.size() - 8)
    return safetensorsError("header length " + Twine(headerLength) +
                            " exceeds the file size " + Twine(contents.size()));
  if (headerLength > kMaxHeaderBytes)
    return safetensorsError("header length " + Twine(headerLength) +
                            " exceeds the 100 MB limit");
  dataStart = 8 + headerLength;
  uint64_t dataSize = contents.size() - dataStart;

  StringRef headerText = contents.substr(8, headerLength);
  if (nestsDeeperThan(headerText, kMaxHeaderNesting))
    return safetensorsError("the JSON header nests arrays or objects deeper "
                            "than " +
                            Twine(kMaxHeaderNesting) + " levels");
  Expected<llvm::json::Value> header =
      parseUntrustedJSON(headerText, kMaxHeaderNesting);
  if (!header)
    return safetensorsError("invalid JSON header: " +
                            llvm::toString(header.takeError()));
  const llvm::json::Object *root = header->getAsObject();
  if (!root)
    return safetensorsError("the JSON header is not an object");

  for (const auto &entry : *root) {
    StringRef name = entry.first;
    if (name == "__metadata__") {
      const llvm::json::Object *map = entry.second.getAsObject();
      if (!map)
        return safetensorsError("__metadata__ is not an object");
      for (const auto &item : *map) {
        std::optional<StringRef> value = item.second.getAsString();
        if (!value)
          return safetensorsError("__metadata__ value for '" +
                                  StringRef(item.first) + "' is not a string");
        metadataMap[item.first.str()] = value->str();
      }
      continue;
    }
    const llvm::json::Object *object = entry.second.getAsObject();
    if (!object)
      return safetensorsError("entry for tensor '" + name +
                              "' is not an object");
    SafetensorsTensor tensor;
    tensor.name = name.str();

    std::optional<StringRef> dtypeName = object->getString("dtype");
    if (!dtypeName)
      return safetensorsError("tensor '" + name + "' has no string 'dtype'");
    std::optional<SafetensorsDType> dtype = parseSafetensorsDType(*dtypeName);
    if (!dtype)
      return safetensorsError("tensor '" + name + "' has unknown dtype '" +
                              *dtypeName + "'");
    tensor.dtype = *dtype;

    const llvm::json::Array *shape = object->getArray("shape");
    if (!shape)
      return safetensorsError("tensor '" + name + "' has no array 'shape'");
    uint64_t numElements = 1;
    for (const llvm::json::Value &dimValue : *shape) {
      std::optional<int64_t> dim = getNonNegative(dimValue);
      if (!dim)
        return safetensorsError("tensor '" + name +
                                "' has an invalid dimension in 'shape'");
      if (__builtin_mul_overflow(numElements, static_cast<uint64_t>(*dim),
                                 &numElements) ||
          numElements >
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return safetensorsError("tensor '" + name +
                                "' has an element count that overflows");
      tensor.shape.push_back(*dim);
    }

    const llvm::json::Array *offsets = object->getArray("data_offsets");
    if (!offsets || offsets->size() != 2)
      return safetensorsError("tensor '" + name +
                              "' needs 'data_offsets' = [begin, end]");
    std::optional<int64_t> begin = getNonNegative((*offsets)[0]);
    std::optional<int64_t> end = getNonNegative((*offsets)[1]);
    if (!begin || !end || *begin > *end)
      return safetensorsError("tensor '" + name +
                              "' has invalid 'data_offsets'");
    tensor.dataBegin = static_cast<uint64_t>(*begin);
    tensor.dataEnd = static_cast<uint64_t>(*end);
    if (tensor.dataEnd > dataSize)
      return safetensorsError("truncated data for tensor '" + name +
                              "' (needs bytes up to " + Twine(tensor.dataEnd) +
                              " of the data buffer, which has " +
                              Twine(dataSize) + ")");
    uint64_t expectedBytes;
    if (__builtin_mul_overflow(numElements,
                               getSafetensorsDTypeSize(tensor.dtype),
                               &expectedBytes) ||
        expectedBytes != tensor.dataEnd - tensor.dataBegin)
      return safetensorsError("tensor '" + name + "' has " +
                              Twine(tensor.dataEnd - tensor.dataBegin) +
                              " bytes of data but its dtype and shape need " +
                              Twine(numElements) + " elements of " +
                              Twine(getSafetensorsDTypeSize(tensor.dtype)));
    tensorList.push_back(std::move(tensor));
  }

  // Order by position (the JSON object has no order) and reject overlaps.
  std::sort(tensorList.begin(), tensorList.end(),
            [](const SafetensorsTensor &a, const SafetensorsTensor &b) {
              return a.dataBegin != b.dataBegin ? a.dataBegin < b.dataBegin
                                                : a.name < b.name;
            });
  for (size_t i = 1; i < tensorList.size(); ++i)
    if (tensorList[i].dataBegin < tensorList[i - 1].dataEnd)
      return safetensorsError("data of tensors '" + tensorList[i - 1].name +
                              "' and '" + tensorList[i].name + "' overlap");
  return Error::success();
}

StringRef SafetensorsFile::metadata(StringRef key) const {
  auto it = metadataMap.find(key.str());
  return it == metadataMap.end() ? StringRef() : StringRef(it->second);
}

const SafetensorsTensor *SafetensorsFile::lookup(StringRef name) const {
  for (const SafetensorsTensor &tensor : tensorList)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

llvm::ArrayRef<uint8_t>
SafetensorsFile::rawData(const SafetensorsTensor &tensor) const {
  const auto *start =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart()) + dataStart;
  return llvm::ArrayRef<uint8_t>(start + tensor.dataBegin,
                                 tensor.dataEnd - tensor.dataBegin);
}

/// Converts every element to T (double or float).
template <typename T>
static Error convertTensor(const SafetensorsTensor &tensor,
                           llvm::ArrayRef<uint8_t> bytes, std::vector<T> &out) {
  namespace endian = llvm::support::endian;
  uint64_t count = static_cast<uint64_t>(tensor.numElements());
  out.resize(count);
  const uint8_t *data = bytes.data();
  switch (tensor.dtype) {
  case SafetensorsDType::F64:
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t bits = endian::read64le(data + 8 * i);
      double value;
      std::memcpy(&value, &bits, sizeof(value));
      out[i] = static_cast<T>(value);
    }
    return Error::success();
  case SafetensorsDType::F32:
    for (uint64_t i = 0; i < count; ++i)
      out[i] = static_cast<T>(bitsToFloat(endian::read32le(data + 4 * i)));
    return Error::success();
  case SafetensorsDType::F16:
    for (uint64_t i = 0; i < count; ++i)
      out[i] = static_cast<T>(halfToFloat(endian::read16le(data + 2 * i)));
    return Error::success();
  case SafetensorsDType::BF16:
    for (uint64_t i = 0; i < count; ++i)
      out[i] = static_cast<T>(bfloat16ToFloat(endian::read16le(data + 2 * i)));
    return Error::success();
  default:
    out.clear();
    return safetensorsError("tensor '" + tensor.name + "' has dtype " +
                            getSafetensorsDTypeName(tensor.dtype) +
                            ", expected F64, F32, F16 or BF16");
  }
}

Error SafetensorsFile::readAsDouble(const SafetensorsTensor &tensor,
                                    std::vector<double> &out) const {
  return convertTensor(tensor, rawData(tensor), out);
}

Error SafetensorsFile::readAsFloat(const SafetensorsTensor &tensor,
                                   std::vector<float> &out) const {
  return convertTensor(tensor, rawData(tensor), out);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

void SafetensorsWriter::setMetadata(StringRef key, StringRef value) {
  metadataMap[key.str()] = value.str();
}

void SafetensorsWriter::addRaw(StringRef name, SafetensorsDType dtype,
                               llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<uint8_t> bytes) {
  PendingTensor tensor{name.str(), dtype, shape.vec(), bytes.vec(), {}};
  for (PendingTensor &existing : pending) {
    if (existing.name == tensor.name) {
      existing = std::move(tensor);
      return;
    }
  }
  pending.push_back(std::move(tensor));
}

void SafetensorsWriter::addF64(StringRef name, llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<double> values) {
  std::vector<uint8_t> bytes(values.size() * 8);
  for (size_t i = 0; i < values.size(); ++i) {
    uint64_t bits;
    std::memcpy(&bits, &values[i], sizeof(bits));
    llvm::support::endian::write64le(bytes.data() + 8 * i, bits);
  }
  addRaw(name, SafetensorsDType::F64, shape, bytes);
}

void SafetensorsWriter::addF64Borrowed(StringRef name,
                                       llvm::ArrayRef<int64_t> shape,
                                       llvm::ArrayRef<double> values) {
  if (!llvm::sys::IsLittleEndianHost)
    return addF64(name, shape, values);
  addRaw(name, SafetensorsDType::F64, shape, {});
  auto tensor = llvm::find_if(
      pending, [&](const PendingTensor &t) { return t.name == name; });
  tensor->borrowed = llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(values.data()), values.size() * 8);
}

void SafetensorsWriter::addF32(StringRef name, llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<float> values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i)
    llvm::support::endian::write32le(bytes.data() + 4 * i,
                                     floatToBits(values[i]));
  addRaw(name, SafetensorsDType::F32, shape, bytes);
}

/// The 8-byte length plus the JSON header, padded with spaces so the data
/// buffer starts 8-byte aligned (as the reference writer does).
static std::string
buildHeader(const std::map<std::string, std::string> &metadataMap,
            llvm::ArrayRef<std::pair<std::string, llvm::json::Value>> entries) {
  llvm::json::Object root;
  if (!metadataMap.empty()) {
    llvm::json::Object map;
    for (const auto &[key, value] : metadataMap)
      map[key] = value;
    root["__metadata__"] = std::move(map);
  }
  for (const auto &[name, value] : entries)
    root[name] = value;
  std::string json;
  llvm::raw_string_ostream stream(json);
  stream << llvm::json::Value(std::move(root));
  stream.flush();
  while ((8 + json.size()) % 8 != 0)
    json.push_back(' ');
  std::string header(8, '\0');
  llvm::support::endian::write64le(header.data(), json.size());
  return header + json;
}

std::string SafetensorsWriter::serializeHeader() const {
  std::vector<std::pair<std::string, llvm::json::Value>> entries;
  uint64_t offset = 0;
  for (const PendingTensor &tensor : pending) {
    llvm::json::Array shape;
    for (int64_t dim : tensor.shape)
      shape.push_back(dim);
    uint64_t end = offset + tensor.data().size();
    entries.emplace_back(
        tensor.name,
        llvm::json::Object{
            {"dtype", getSafetensorsDTypeName(tensor.dtype)},
            {"shape", std::move(shape)},
            {"data_offsets", llvm::json::Array{static_cast<int64_t>(offset),
                                               static_cast<int64_t>(end)}}});
    offset = end;
  }
  return buildHeader(metadataMap, entries);
}

std::string SafetensorsWriter::serialize() const {
  std::string result = serializeHeader();
  for (const PendingTensor &tensor : pending)
    result.append(tensor.data().begin(), tensor.data().end());
  return result;
}

Error SafetensorsWriter::write(StringRef path) const {
  Error error = writeFileAtomically(path, [&](llvm::raw_ostream &stream) {
    stream << serializeHeader();
    for (const PendingTensor &tensor : pending)
      stream.write(reinterpret_cast<const char *>(tensor.data().data()),
                   tensor.data().size());
    return Error::success();
  });
  if (error)
    return safetensorsError(llvm::toString(std::move(error)));
  return Error::success();
}
