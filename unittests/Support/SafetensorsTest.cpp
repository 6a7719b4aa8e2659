//===- SafetensorsTest.cpp - safetensors reader/writer tests --------------===//

#include "slr/Support/Safetensors.h"
#include "slr/Support/FloatConversion.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace slr;

namespace {

llvm::Expected<SafetensorsFile> parseBytes(llvm::StringRef bytes) {
  return SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.safetensors"));
}

/// Parses `bytes`; on failure returns the error message, else "".
std::string parseError(llvm::StringRef bytes) {
  auto file = parseBytes(bytes);
  if (file)
    return "";
  return llvm::toString(file.takeError());
}

/// A file with JSON header `json` followed by `dataSize` zero bytes.
std::string fileWithHeader(llvm::StringRef json, size_t dataSize) {
  std::string bytes(8, '\0');
  uint64_t length = json.size();
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>(length >> (8 * i));
  bytes += json.str();
  bytes.append(dataSize, '\0');
  return bytes;
}

SafetensorsWriter makeSampleWriter() {
  SafetensorsWriter writer;
  writer.setMetadata("tokens", "12345");
  writer.setMetadata("format", "slr-calibration");
  std::vector<double> gram = {4.0, 1.0, -2.0, 1.0, 9.0, 0.5, -2.0, 0.5, 1e-300};
  writer.addF64("blk.0.attn_q", {3, 3}, gram);
  writer.addF32("blk.0.ffn_down", {2, 2}, {1.5f, -2.0f, 0.25f, 1e30f});
  std::vector<uint8_t> half;
  for (uint16_t bits : {0x3c00, 0xc000, 0x3555}) {
    half.push_back(static_cast<uint8_t>(bits));
    half.push_back(static_cast<uint8_t>(bits >> 8));
  }
  writer.addRaw("half", SafetensorsDType::F16, {3}, half);
  std::vector<uint8_t> brain = {0x80, 0x3f, 0x40, 0xc0}; // 1.0, -3.0
  writer.addRaw("brain", SafetensorsDType::BF16, {1, 2}, brain);
  writer.addRaw("ints", SafetensorsDType::I32, {1}, {7, 0, 0, 0});
  writer.addRaw("empty", SafetensorsDType::F32, {0, 4}, {});
  return writer;
}

TEST(SafetensorsTest, RoundTripsTensorsAndMetadata) {
  std::string bytes = makeSampleWriter().serialize();
  // The data buffer starts 8-byte aligned.
  uint64_t headerLength = 0;
  for (int i = 0; i < 8; ++i)
    headerLength |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i]))
                    << (8 * i);
  EXPECT_EQ((8 + headerLength) % 8, 0u);

  auto fileOrError = parseBytes(bytes);
  ASSERT_TRUE(static_cast<bool>(fileOrError))
      << llvm::toString(fileOrError.takeError());
  const SafetensorsFile &file = *fileOrError;
  EXPECT_EQ(file.metadata("tokens"), "12345");
  EXPECT_EQ(file.metadata("format"), "slr-calibration");
  EXPECT_EQ(file.metadata("absent"), "");
  EXPECT_EQ(file.allMetadata().size(), 2u);

  ASSERT_EQ(file.tensors().size(), 6u);
  // Ordered by data offset, i.e. insertion order for our writer.
  EXPECT_EQ(file.tensors()[0].name, "blk.0.attn_q");
  EXPECT_EQ(file.tensors()[1].name, "blk.0.ffn_down");

  const SafetensorsTensor *gram = file.lookup("blk.0.attn_q");
  ASSERT_NE(gram, nullptr);
  EXPECT_EQ(gram->dtype, SafetensorsDType::F64);
  EXPECT_EQ(gram->shape, (std::vector<int64_t>{3, 3}));
  std::vector<double> values;
  ASSERT_FALSE(llvm::errorToBool(file.readAsDouble(*gram, values)));
  EXPECT_EQ(values, (std::vector<double>{4.0, 1.0, -2.0, 1.0, 9.0, 0.5, -2.0,
                                         0.5, 1e-300}));

  const SafetensorsTensor *down = file.lookup("blk.0.ffn_down");
  ASSERT_NE(down, nullptr);
  ASSERT_FALSE(llvm::errorToBool(file.readAsDouble(*down, values)));
  EXPECT_EQ(values, (std::vector<double>{1.5, -2.0, 0.25, 1e30f}));
  std::vector<float> floats;
  ASSERT_FALSE(llvm::errorToBool(file.readAsFloat(*down, floats)));
  EXPECT_EQ(floats, (std::vector<float>{1.5f, -2.0f, 0.25f, 1e30f}));

  ASSERT_FALSE(
      llvm::errorToBool(file.readAsFloat(*file.lookup("half"), floats)));
  EXPECT_EQ(floats, (std::vector<float>{1.0f, -2.0f, 0.333251953125f}));
  ASSERT_FALSE(
      llvm::errorToBool(file.readAsFloat(*file.lookup("brain"), floats)));
  EXPECT_EQ(floats, (std::vector<float>{1.0f, -3.0f}));
  ASSERT_FALSE(
      llvm::errorToBool(file.readAsFloat(*file.lookup("empty"), floats)));
  EXPECT_TRUE(floats.empty());

  const SafetensorsTensor *ints = file.lookup("ints");
  ASSERT_NE(ints, nullptr);
  EXPECT_EQ(file.rawData(*ints)[0], 7);
  llvm::Error error = file.readAsDouble(*ints, values);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "safetensors: tensor 'ints' has dtype I32, expected F64, F32, F16 "
            "or BF16");
  EXPECT_EQ(file.lookup("missing"), nullptr);
}

TEST(SafetensorsTest, LaterTensorWithTheSameNameReplacesTheEarlier) {
  SafetensorsWriter writer;
  writer.addF32("a", {1}, {1.0f});
  writer.addF32("a", {2}, {2.0f, 3.0f});
  auto file = llvm::cantFail(parseBytes(writer.serialize()));
  ASSERT_EQ(file.tensors().size(), 1u);
  std::vector<float> values;
  ASSERT_FALSE(llvm::errorToBool(file.readAsFloat(file.tensors()[0], values)));
  EXPECT_EQ(values, (std::vector<float>{2.0f, 3.0f}));
}

// slr-calibrate writes its H matrices without copying them (1 GB on
// SmolLM2): the file is the one addF64 gives, and a later tensor of the same
// name still replaces a borrowed one.
TEST(SafetensorsTest, BorrowedTensorsWriteTheSameBytesAsCopiedOnes) {
  std::vector<double> h = {1.5, -2.0, 0.0, 1e-300, 4.0, -0.0};
  SafetensorsWriter copied, borrowed;
  copied.addF64("blk.0.attn_q", {2, 3}, h);
  copied.addF32("tail", {1}, {7.0f});
  borrowed.addF64Borrowed("blk.0.attn_q", {2, 3}, h);
  borrowed.addF32("tail", {1}, {7.0f});
  EXPECT_EQ(borrowed.serialize(), copied.serialize());

  borrowed.addF64Borrowed("tail", {1}, llvm::ArrayRef<double>(h).take_front());
  borrowed.addF64("blk.0.attn_q", {1}, {9.0});
  auto file = llvm::cantFail(parseBytes(borrowed.serialize()));
  ASSERT_EQ(file.tensors().size(), 2u);
  std::vector<double> values;
  ASSERT_FALSE(llvm::errorToBool(
      file.readAsDouble(*file.lookup("blk.0.attn_q"), values)));
  EXPECT_EQ(values, (std::vector<double>{9.0}));
  ASSERT_FALSE(
      llvm::errorToBool(file.readAsDouble(*file.lookup("tail"), values)));
  EXPECT_EQ(values, (std::vector<double>{1.5}));
}

TEST(SafetensorsTest, WritesAndOpensFiles) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("slr-st", "safetensors", path));
  SafetensorsWriter writer = makeSampleWriter();
  ASSERT_FALSE(llvm::errorToBool(writer.write(path)));
  auto buffer = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(static_cast<bool>(buffer));
  // write() streams exactly what serialize() builds.
  EXPECT_EQ((*buffer)->getBuffer(), writer.serialize());
  auto file = SafetensorsFile::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  EXPECT_EQ(file->tensors().size(), 6u);
  llvm::sys::fs::remove(path);

  auto missing = SafetensorsFile::open("/nonexistent/calib.safetensors");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_TRUE(llvm::StringRef(llvm::toString(missing.takeError()))
                  .starts_with("safetensors: cannot read '/nonexistent/"));
}

TEST(SafetensorsTest, EveryTruncationIsAnError) {
  std::string bytes = makeSampleWriter().serialize();
  for (size_t size = 0; size < bytes.size(); ++size) {
    std::string message = parseError(llvm::StringRef(bytes).take_front(size));
    ASSERT_NE(message, "") << "truncated to " << size;
    ASSERT_TRUE(llvm::StringRef(message).starts_with("safetensors: "))
        << message;
  }
}

TEST(SafetensorsTest, CorruptHeadersAreErrors) {
  struct Case {
    const char *json;
    size_t dataSize;
    const char *expected;
  } cases[] = {
      {"{", 0, nullptr}, // invalid JSON (message from the JSON parser)
      {"[1, 2]", 0, "safetensors: the JSON header is not an object"},
      {R"({"t": 3})", 0, "safetensors: entry for tensor 't' is not an object"},
      {R"({"t": {"shape": [1], "data_offsets": [0, 4]}})", 4,
       "safetensors: tensor 't' has no string 'dtype'"},
      {R"({"t": {"dtype": "F7", "shape": [1], "data_offsets": [0, 4]}})", 4,
       "safetensors: tensor 't' has unknown dtype 'F7'"},
      {R"({"t": {"dtype": "F32", "data_offsets": [0, 4]}})", 4,
       "safetensors: tensor 't' has no array 'shape'"},
      {R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4,
       "safetensors: tensor 't' has an invalid dimension in 'shape'"},
      {R"({"t": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4,
       "safetensors: tensor 't' has an invalid dimension in 'shape'"},
      {R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296]
               , "data_offsets": [0, 4]}})",
       4, "safetensors: tensor 't' has an element count that overflows"},
      {R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4,
       "safetensors: tensor 't' needs 'data_offsets' = [begin, end]"},
      {R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", 4,
       "safetensors: tensor 't' has invalid 'data_offsets'"},
      // A double of 2^63 (found by slr-fuzz-safetensors): LLVM's getAsInteger
      // converted it to int64_t, undefined behaviour.
      {R"({"t": {"dtype": "F32", "shape": [1],
               "data_offsets": [0, 9223372036854775808.0]}})",
       4, "safetensors: tensor 't' has invalid 'data_offsets'"},
      {R"({"t": {"dtype": "F32", "shape": [9.223372036854775807e18],
               "data_offsets": [0, 4]}})",
       4, "safetensors: tensor 't' has an invalid dimension in 'shape'"},
      {R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}})", 4,
       "safetensors: truncated data for tensor 't' (needs bytes up to 8 of "
       "the data buffer, which has 4)"},
      {R"({"t": {"dtype": "F64", "shape": [1], "data_offsets": [0, 4]}})", 4,
       "safetensors: tensor 't' has 4 bytes of data but its dtype and shape "
       "need 1 elements of 8"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
       8, "safetensors: data of tensors 'a' and 'b' overlap"},
      {R"({"__metadata__": {"tokens": 5}})", 0,
       "safetensors: __metadata__ value for 'tokens' is not a string"},
      {R"({"__metadata__": [1]})", 0,
       "safetensors: __metadata__ is not an object"},
  };
  for (const Case &c : cases) {
    std::string message = parseError(fileWithHeader(c.json, c.dataSize));
    EXPECT_NE(message, "") << c.json;
    if (c.expected) {
      EXPECT_EQ(message, c.expected) << c.json;
    }
  }
  EXPECT_EQ(parseError(fileWithHeader("{}", 0)), ""); // no tensors is fine

  EXPECT_EQ(parseError("abc"),
            "safetensors: file of 3 bytes is too short for the header length");
  std::string lengthTooLarge = fileWithHeader("{}", 0);
  lengthTooLarge[0] = 100;
  EXPECT_EQ(parseError(lengthTooLarge),
            "safetensors: header length 100 exceeds the file size 10");
}

// llvm::json::parse recurses per nesting level: 100,000 '[' overflowed the
// stack (SIGSEGV while reading a calibration file). A pre-scan refuses deep
// nesting before the parser runs.
TEST(SafetensorsTest, DeeplyNestedHeadersAreErrorsNotCrashes) {
  const std::string tooDeep =
      "safetensors: the JSON header nests arrays or objects deeper than 64 "
      "levels";
  for (size_t depth : {65u, 100000u}) {
    std::string arrays = std::string(depth, '[') + std::string(depth, ']');
    EXPECT_EQ(
        parseError(fileWithHeader(R"({"__metadata__": )" + arrays + "}", 0)),
        tooDeep)
        << depth;
    std::string objects;
    for (size_t i = 0; i < depth; ++i)
      objects += R"({"a":)";
    objects += "1" + std::string(depth, '}');
    EXPECT_EQ(parseError(fileWithHeader(objects, 0)), tooDeep) << depth;
  }
  // Unbalanced: a crash before, an error now (never parsed).
  EXPECT_EQ(parseError(fileWithHeader(std::string(100000, '['), 0)), tooDeep);
  // 64 levels are parsed (and then rejected for what they hold).
  std::string deepest = R"({"__metadata__": )" + std::string(63, '[') +
                        std::string(63, ']') + "}";
  EXPECT_EQ(parseError(fileWithHeader(deepest, 0)),
            "safetensors: __metadata__ is not an object");
  // Brackets inside strings, escaped quotes included, do not count.
  std::string quoted =
      R"({"__metadata__": {"note": "\")" + std::string(1000, '[') + R"("}})";
  EXPECT_EQ(parseError(fileWithHeader(quoted, 0)), "");
}

} // namespace
