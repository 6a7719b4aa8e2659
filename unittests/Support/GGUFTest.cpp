//===- GGUFTest.cpp - GGUF reader/writer and dequantisation tests ---------===//

#include "slr/Support/GGUF.h"
#include "slr/Support/FloatConversion.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace slr;

namespace {

std::string sharedDataPath(llvm::StringRef relative) {
  return (llvm::Twine(SLR_SHARED_DATA_DIR) + "/" + relative).str();
}

std::unique_ptr<llvm::MemoryBuffer> makeBuffer(llvm::StringRef bytes) {
  return llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.gguf");
}

/// Parses `bytes`; on failure returns the error message, else "".
std::string parseError(llvm::StringRef bytes) {
  auto file = GGUFFile::parse(makeBuffer(bytes));
  if (file)
    return "";
  return llvm::toString(file.takeError());
}

void putLE16(std::vector<uint8_t> &bytes, uint16_t value) {
  bytes.push_back(static_cast<uint8_t>(value));
  bytes.push_back(static_cast<uint8_t>(value >> 8));
}

void patchLE64(std::string &bytes, size_t offset, uint64_t value) {
  for (int i = 0; i < 8; ++i)
    bytes[offset + i] = static_cast<char>(value >> (8 * i));
}

void patchLE32(std::string &bytes, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i)
    bytes[offset + i] = static_cast<char>(value >> (8 * i));
}

//===----------------------------------------------------------------------===//
// Half precision conversions
//===----------------------------------------------------------------------===//

TEST(FloatConversionTest, KnownHalfValues) {
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
  EXPECT_EQ(halfToFloat(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(halfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16ToFloat(0xc040), -3.0f);
}

TEST(FloatConversionTest, HalfRoundTripsExactlyAndRoundsToNearestEven) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float value = halfToFloat(static_cast<uint16_t>(bits));
    if (std::isnan(value))
      continue;
    ASSERT_EQ(floatToHalf(value), bits) << "half bits " << bits;
  }
  // 1 + 2^-11 lies halfway between 1 and the next half: ties go to even.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalf(70000.0f), 0x7c00); // overflow -> inf
  EXPECT_EQ(floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBfloat16(-3.0f), 0xc040);
}

//===----------------------------------------------------------------------===//
// Dequantisation of hand-made blocks
//===----------------------------------------------------------------------===//

TEST(DequantizeTest, Q8_0) {
  // d = 0.5, q[i] = i - 16  =>  w[i] = 0.5 * (i - 16).
  std::vector<uint8_t> block;
  putLE16(block, 0x3800); // 0.5
  for (int i = 0; i < 32; ++i)
    block.push_back(static_cast<uint8_t>(static_cast<int8_t>(i - 16)));
  float out[32];
  ASSERT_FALSE(
      llvm::errorToBool(dequantizeGGML(GGMLType::Q8_0, block, 32, out)));
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(out[i], 0.5f * (i - 16)) << i;
  EXPECT_EQ(out[0], -8.0f);
  EXPECT_EQ(out[31], 7.5f);
}

TEST(DequantizeTest, Q4_0) {
  // d = 0.25; byte i holds low nibble i (element i) and high nibble 15 - i
  // (element 16 + i); w = d * (q - 8).
  std::vector<uint8_t> block;
  putLE16(block, 0x3400); // 0.25
  for (int i = 0; i < 16; ++i)
    block.push_back(static_cast<uint8_t>(i | ((15 - i) << 4)));
  float out[32];
  ASSERT_FALSE(
      llvm::errorToBool(dequantizeGGML(GGMLType::Q4_0, block, 32, out)));
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(out[i], 0.25f * (i - 8)) << i;
    EXPECT_EQ(out[16 + i], 0.25f * ((15 - i) - 8)) << 16 + i;
  }
  EXPECT_EQ(out[0], -2.0f);  // q = 0
  EXPECT_EQ(out[16], 1.75f); // q = 15
}

TEST(DequantizeTest, Q4_1) {
  // Two blocks. Block 0: d = 2, m = -1, byte i = (lo 3, hi 12) so elements
  // 0..15 are 2*3-1 = 5 and 16..31 are 2*12-1 = 23. Block 1: d = 0.5,
  // m = 10, nibbles (i, i) => w = 0.5 * i + 10 at i and 16 + i.
  std::vector<uint8_t> blocks;
  putLE16(blocks, 0x4000); // 2.0
  putLE16(blocks, 0xbc00); // -1.0
  for (int i = 0; i < 16; ++i)
    blocks.push_back(0xc3);
  putLE16(blocks, 0x3800); // 0.5
  putLE16(blocks, 0x4900); // 10.0
  for (int i = 0; i < 16; ++i)
    blocks.push_back(static_cast<uint8_t>(i | (i << 4)));
  float out[64];
  ASSERT_FALSE(
      llvm::errorToBool(dequantizeGGML(GGMLType::Q4_1, blocks, 64, out)));
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(out[i], 5.0f);
    EXPECT_EQ(out[16 + i], 23.0f);
    EXPECT_EQ(out[32 + i], 0.5f * i + 10.0f);
    EXPECT_EQ(out[48 + i], 0.5f * i + 10.0f);
  }
}

TEST(DequantizeTest, F16AndBF16) {
  std::vector<uint8_t> half, brain;
  for (uint16_t bits : {0x3c00, 0xc000, 0x3555})
    putLE16(half, bits);
  for (uint16_t bits : {0x3f80, 0xc040, 0x4049})
    putLE16(brain, bits);
  float out[3];
  ASSERT_FALSE(llvm::errorToBool(dequantizeGGML(GGMLType::F16, half, 3, out)));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 0.333251953125f);
  ASSERT_FALSE(
      llvm::errorToBool(dequantizeGGML(GGMLType::BF16, brain, 3, out)));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
  EXPECT_EQ(out[2], 3.140625f);
}

TEST(DequantizeTest, RejectsMismatchedSizesAndUnsupportedTypes) {
  std::vector<uint8_t> bytes(34, 0);
  float out[64];
  EXPECT_TRUE(llvm::errorToBool(
      dequantizeGGML(GGMLType::Q8_0, bytes, 64, out))); // needs 68 bytes
  EXPECT_TRUE(llvm::errorToBool(
      dequantizeGGML(GGMLType::Q8_0, bytes, 31, out))); // not whole blocks
  std::vector<uint8_t> kBlock(210, 0);
  llvm::Error error = dequantizeGGML(GGMLType::Q6_K, kBlock, 256, nullptr);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "gguf: cannot dequantize tensors of type Q6_K");
}

//===----------------------------------------------------------------------===//
// Writer / reader round trip
//===----------------------------------------------------------------------===//

/// A small file exercising every metadata type and three tensor types.
GGUFWriter makeSampleWriter() {
  GGUFWriter writer;
  writer.setAlignment(64);
  writer.addString("general.architecture", "llama");
  writer.addValue("u8", GGUFValue::makeUnsigned(GGUFValueType::UInt8, 200));
  writer.addValue("i8", GGUFValue::makeSigned(GGUFValueType::Int8, -100));
  writer.addValue("u16", GGUFValue::makeUnsigned(GGUFValueType::UInt16, 65000));
  writer.addValue("i16", GGUFValue::makeSigned(GGUFValueType::Int16, -30000));
  writer.addUInt32("u32", 4000000000u);
  writer.addInt32("i32", -2000000000);
  writer.addFloat32("f32", 0.25f);
  writer.addBool("flag", true);
  writer.addUInt64("u64", 0xfedcba9876543210ull);
  writer.addValue("i64",
                  GGUFValue::makeSigned(GGUFValueType::Int64, -(1ll << 40)));
  writer.addValue("f64", GGUFValue::makeFloat(GGUFValueType::Float64, 1e-300));
  writer.addStringArray("tokens", {"<unk>", "\xe2\x96\x81the", "", "x y"});
  writer.addFloat32Array("scores", {0.0f, -1.5f, 2.0f});
  writer.addInt32Array("types", {1, 2, 3});
  std::vector<GGUFValue> inner = {
      GGUFValue::makeArray(GGUFValueType::UInt8,
                           {GGUFValue::makeUnsigned(GGUFValueType::UInt8, 7)}),
      GGUFValue::makeArray(GGUFValueType::UInt8, {})};
  writer.addValue("nested",
                  GGUFValue::makeArray(GGUFValueType::Array, std::move(inner)));
  std::vector<float> matrix(3 * 5);
  for (size_t i = 0; i < matrix.size(); ++i)
    matrix[i] = 0.5f * static_cast<float>(i) - 3.0f;
  writer.addTensorF32("blk.0.attn_q.weight", {5, 3}, matrix);
  std::vector<uint8_t> halfBytes;
  for (uint16_t bits : {0x3c00, 0xc000, 0x3800, 0x0000})
    putLE16(halfBytes, bits);
  writer.addTensor("norm.weight", {4}, GGMLType::F16, halfBytes);
  std::vector<uint8_t> q8;
  putLE16(q8, 0x4000); // d = 2
  for (int i = 0; i < 32; ++i)
    q8.push_back(static_cast<uint8_t>(i));
  writer.addTensor("q8.weight", {32, 1}, GGMLType::Q8_0, q8);
  return writer;
}

TEST(GGUFTest, RoundTripsMetadataAndTensors) {
  std::string bytes = makeSampleWriter().serialize();
  auto fileOrError = GGUFFile::parse(makeBuffer(bytes));
  ASSERT_TRUE(static_cast<bool>(fileOrError))
      << llvm::toString(fileOrError.takeError());
  const GGUFFile &file = **fileOrError;
  EXPECT_EQ(file.getVersion(), 3u);
  EXPECT_EQ(file.getAlignment(), 64u);
  EXPECT_EQ(file.getDataOffset() % 64, 0u);

  EXPECT_EQ(llvm::cantFail(file.getString("general.architecture")), "llama");
  EXPECT_EQ(llvm::cantFail(file.getInteger("u8")), 200);
  EXPECT_EQ(llvm::cantFail(file.getInteger("i8")), -100);
  EXPECT_EQ(llvm::cantFail(file.getInteger("u16")), 65000);
  EXPECT_EQ(llvm::cantFail(file.getInteger("i16")), -30000);
  EXPECT_EQ(llvm::cantFail(file.getInteger("u32")), 4000000000ll);
  EXPECT_EQ(llvm::cantFail(file.getInteger("i32")), -2000000000);
  EXPECT_EQ(llvm::cantFail(file.getDouble("f32")), 0.25);
  EXPECT_TRUE(llvm::cantFail(file.getBool("flag", false)));
  EXPECT_EQ(*file.findMetadata("u64")->getAsUnsigned(), 0xfedcba9876543210ull);
  EXPECT_FALSE(file.findMetadata("u64")->getAsInteger()); // > INT64_MAX
  EXPECT_EQ(llvm::cantFail(file.getInteger("i64")), -(1ll << 40));
  EXPECT_EQ(llvm::cantFail(file.getDouble("f64")), 1e-300);
  EXPECT_EQ(llvm::cantFail(file.getInteger("general.alignment")), 64);

  const GGUFValue *tokens = file.findMetadata("tokens");
  ASSERT_TRUE(tokens && tokens->isArray());
  EXPECT_EQ(tokens->getElementType(), GGUFValueType::String);
  ASSERT_EQ(tokens->getStrings().size(), 4u);
  EXPECT_EQ(tokens->getStrings()[1], "\xe2\x96\x81the");
  EXPECT_EQ(tokens->getStrings()[2], "");
  EXPECT_EQ(tokens->getStrings()[3], "x y");
  EXPECT_EQ(*file.findMetadata("scores")->getDoubleArray(),
            (std::vector<double>{0.0, -1.5, 2.0}));
  EXPECT_EQ(*file.findMetadata("types")->getIntegerArray(),
            (std::vector<int64_t>{1, 2, 3}));
  EXPECT_FALSE(tokens->getIntegerArray());
  const GGUFValue *nested = file.findMetadata("nested");
  ASSERT_TRUE(nested && nested->getArraySize() == 2);
  EXPECT_EQ(nested->getElementType(), GGUFValueType::Array);
  GGUFValue first = nested->getArrayElement(0);
  EXPECT_EQ(first.getArraySize(), 1u);
  EXPECT_EQ(first.getElementType(), GGUFValueType::UInt8);
  EXPECT_EQ(*first.getArrayElement(0).getAsInteger(), 7);
  EXPECT_EQ(nested->getArrayElement(1).getArraySize(), 0u);
  EXPECT_EQ(*file.findMetadata("scores")->getArrayElement(1).getAsDouble(),
            -1.5);
  EXPECT_EQ(*tokens->getArrayElement(1).getAsString(), "\xe2\x96\x81the");
  EXPECT_FALSE(file.findMetadata("scores")->getIntegerArray());

  // Metadata order is the file order.
  EXPECT_EQ(file.getMetadata().front().first, "general.alignment");
  EXPECT_EQ(file.getMetadata().back().first, "nested");

  ASSERT_EQ(file.getTensors().size(), 3u);
  const GGUFTensorInfo *matrix = file.findTensor("blk.0.attn_q.weight");
  ASSERT_NE(matrix, nullptr);
  EXPECT_EQ(matrix->dims, (std::vector<uint64_t>{5, 3}));
  EXPECT_EQ(matrix->columns(), 5u);
  EXPECT_EQ(matrix->rows(), 3u);
  EXPECT_EQ(matrix->offset % 64, 0u);
  auto values = file.readTensorAsFloat(*matrix);
  ASSERT_TRUE(static_cast<bool>(values));
  for (size_t i = 0; i < values->size(); ++i)
    EXPECT_EQ((*values)[i], 0.5f * static_cast<float>(i) - 3.0f);
  auto norm = llvm::cantFail(file.readTensorAsFloat("norm.weight"));
  EXPECT_EQ(norm, (std::vector<float>{1.0f, -2.0f, 0.5f, 0.0f}));
  auto q8 = llvm::cantFail(file.readTensorAsFloat("q8.weight"));
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(q8[i], 2.0f * i);
  EXPECT_EQ(file.findTensor("missing"), nullptr);
}

TEST(GGUFTest, TypedGettersReportMissingKeysAndWrongTypes) {
  auto file = llvm::cantFail(
      GGUFFile::parse(makeBuffer(makeSampleWriter().serialize())));
  auto missing = file->getInteger("llama.block_count");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "gguf: missing metadata key 'llama.block_count'");
  EXPECT_EQ(llvm::cantFail(file->getInteger("llama.block_count", 7)), 7);
  auto wrong = file->getInteger("general.architecture");
  ASSERT_FALSE(static_cast<bool>(wrong));
  EXPECT_EQ(llvm::toString(wrong.takeError()),
            "gguf: metadata key 'general.architecture' is not an integer");
  auto notString = file->getString("u8", "x");
  EXPECT_FALSE(static_cast<bool>(notString));
  llvm::consumeError(notString.takeError());
  auto noTensor = file->readTensorAsFloat("nope");
  ASSERT_FALSE(static_cast<bool>(noTensor));
  EXPECT_EQ(llvm::toString(noTensor.takeError()),
            "gguf: no tensor named 'nope'");
}

TEST(GGUFTest, WritesAndOpensFiles) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("slr-gguf", "gguf", path));
  ASSERT_FALSE(llvm::errorToBool(makeSampleWriter().write(path)));
  auto file = GGUFFile::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->getTensors().size(), 3u);
  llvm::sys::fs::remove(path);

  auto missing = GGUFFile::open("/nonexistent/dir/model.gguf");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_TRUE(llvm::StringRef(llvm::toString(missing.takeError()))
                  .starts_with("gguf: cannot read '/nonexistent/dir/"));
}

TEST(GGUFTest, AcceptsVersion2AndRejectsOthers) {
  GGUFWriter writer = makeSampleWriter();
  writer.setVersion(2);
  EXPECT_EQ(parseError(writer.serialize()), "");
  writer.setVersion(1);
  EXPECT_EQ(parseError(writer.serialize()),
            "gguf: unsupported version 1 (only v2 and v3, little-endian, are "
            "supported)");
  EXPECT_EQ(parseError("GGML"), "gguf: not a GGUF file (bad magic)");
  EXPECT_EQ(parseError(""), "gguf: not a GGUF file (bad magic)");
}

//===----------------------------------------------------------------------===//
// Corrupt and truncated files
//===----------------------------------------------------------------------===//

TEST(GGUFTest, EveryTruncationOfASyntheticFileIsAnError) {
  std::string bytes = makeSampleWriter().serialize();
  // The last tensor ends exactly at the end of the file minus its padding.
  auto full = llvm::cantFail(GGUFFile::parse(makeBuffer(bytes)));
  const GGUFTensorInfo &last = full->getTensors().back();
  uint64_t end = full->getDataOffset() + last.offset + last.numBytes;
  for (size_t size = 0; size < end; ++size) {
    std::string message = parseError(llvm::StringRef(bytes).take_front(size));
    ASSERT_NE(message, "") << "truncated to " << size << " bytes";
    EXPECT_TRUE(llvm::StringRef(message).starts_with("gguf: ")) << message;
  }
  EXPECT_EQ(parseError(llvm::StringRef(bytes).take_front(end)), "");
  EXPECT_EQ(parseError(llvm::StringRef(bytes).take_front(end - 1)),
            "gguf: truncated tensor data for 'q8.weight' (needs bytes [" +
                std::to_string(end - last.numBytes) + ", " +
                std::to_string(end) + "), file has " + std::to_string(end - 1) +
                ")");
}

TEST(GGUFTest, CorruptCountsAndFieldsAreErrors) {
  GGUFWriter writer;
  writer.addString("k", "v");
  writer.addTensorF32("t", {2, 2}, {1, 2, 3, 4});
  const std::string good = writer.serialize();
  ASSERT_EQ(parseError(good), "");
  // Layout: magic 0, version 4, tensor count 8, metadata count 16, key
  // length 24, "k" 32, type 33, string length 37, "v" 45, tensor name
  // length 46, "t" 54, n_dims 55, dims 59 and 67, type 75, offset 79.
  struct Case {
    const char *what;
    size_t offset;
    uint64_t value;
    int width;
    const char *expected;
  } cases[] = {
      {"huge tensor count", 8, 1ull << 40, 8,
       "gguf: tensor count 1099511627776 exceeds what the file can hold"},
      {"huge metadata count", 16, 1ull << 62, 8,
       "gguf: metadata count 4611686018427387904 exceeds what the file can "
       "hold"},
      {"key length past the end", 24, 1ull << 60, 8, nullptr},
      {"unknown value type", 33, 77, 4,
       "gguf: unknown metadata value type 77 for key 'k'"},
      {"string length past the end", 37, 1000, 8, nullptr},
      {"five dimensions", 55, 5, 4,
       "gguf: tensor 't' has 5 dimensions (expected 1 to 4)"},
      {"zero dimensions", 55, 0, 4,
       "gguf: tensor 't' has 0 dimensions (expected 1 to 4)"},
      {"element count overflow", 59, 1ull << 62, 8,
       "gguf: tensor 't' has an element count that overflows"},
      {"unknown tensor type", 75, 99, 4,
       "gguf: tensor 't' has unknown type 99"},
      {"misaligned offset", 79, 4, 8,
       "gguf: tensor 't' data offset 4 is not aligned to 32"},
      {"offset past the end", 79, 1ull << 20, 8, nullptr},
      {"offset that overflows", 79, ~0ull - 31, 8, nullptr},
  };
  for (const Case &c : cases) {
    std::string bytes = good;
    if (c.width == 8)
      patchLE64(bytes, c.offset, c.value);
    else
      patchLE32(bytes, c.offset, static_cast<uint32_t>(c.value));
    std::string message = parseError(bytes);
    EXPECT_NE(message, "") << c.what;
    if (c.expected) {
      EXPECT_EQ(message, c.expected) << c.what;
    }
  }

  // A quantised tensor whose row is not a whole number of blocks.
  GGUFWriter badRow;
  badRow.addTensor("q", {16, 2}, GGMLType::Q4_0, std::vector<uint8_t>(18, 0));
  EXPECT_EQ(parseError(badRow.serialize()),
            "gguf: tensor 'q' of type Q4_0 has a row length 16 that is not a "
            "multiple of its block size 32");

  GGUFWriter duplicate;
  duplicate.addString("k", "a");
  duplicate.addString("k", "b");
  EXPECT_EQ(parseError(duplicate.serialize()),
            "gguf: duplicate metadata key 'k'");

  GGUFWriter badAlignment;
  badAlignment.addUInt32("general.alignment", 24);
  EXPECT_EQ(parseError(badAlignment.serialize()),
            "gguf: general.alignment must be a power of two");

  GGUFWriter hugeArray;
  hugeArray.addInt32Array("a", {1, 2});
  std::string bytes = hugeArray.serialize();
  // Array count sits after key (8 + 1), value type (4) and element type (4).
  patchLE64(bytes, 24 + 9 + 4 + 4, 1ull << 61);
  EXPECT_EQ(parseError(bytes),
            "gguf: array of 2305843009213693952 elements in metadata value "
            "for key 'a' exceeds the file size");
}

TEST(GGUFTest, OverlappingTensorDataIsAnError) {
  GGUFWriter writer;
  writer.addTensorF32("a", {8}, std::vector<float>(8, 1.0f));
  writer.addTensorF32("b", {8}, std::vector<float>(8, 2.0f));
  writer.addTensor("empty1", {0}, GGMLType::F32, {});
  writer.addTensor("empty2", {0}, GGMLType::F32, {});
  std::string good = writer.serialize();
  ASSERT_EQ(parseError(good), ""); // empty tensors may share an offset
  // b's offset (after its name, n_dims, one dim and type) moved onto a's
  // data; then, with 8-byte alignment, into its second half.
  size_t name = good.find(std::string("\x01\0\0\0\0\0\0\0b", 9));
  ASSERT_NE(name, std::string::npos);
  std::string shared = good;
  patchLE64(shared, name + 9 + 4 + 8 + 4, 0);
  EXPECT_EQ(parseError(shared), "gguf: data of tensors 'a' and 'b' overlap");
  GGUFWriter unaligned;
  unaligned.setAlignment(8);
  unaligned.addTensorF32("a", {8}, std::vector<float>(8, 1.0f));
  unaligned.addTensorF32("b", {8}, std::vector<float>(8, 2.0f));
  std::string bytes = unaligned.serialize();
  name = bytes.find(std::string("\x01\0\0\0\0\0\0\0b", 9));
  patchLE64(bytes, name + 9 + 4 + 8 + 4, 16); // a is [0, 32)
  EXPECT_EQ(parseError(bytes), "gguf: data of tensors 'a' and 'b' overlap");
}

TEST(GGUFTest, RangeCheckedGettersNameTheKey) {
  GGUFWriter writer;
  writer.addInt32("zero", 0);
  writer.addUInt64("huge", 1ull << 62);
  writer.addFloat32("inf", std::numeric_limits<float>::infinity());
  writer.addFloat32("nan", std::numeric_limits<float>::quiet_NaN());
  writer.addFloat32("eps", 1e-5f);
  auto file = llvm::cantFail(GGUFFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(writer.serialize(), "t.gguf")));
  auto message = [](auto value) {
    return value ? std::string() : llvm::toString(value.takeError());
  };
  EXPECT_EQ(message(file->getIntegerInRange("zero", 1, 10)),
            "gguf: metadata key 'zero' = 0 is out of range [1, 10]");
  EXPECT_EQ(message(file->getIntegerInRange("huge", 7, 1, 10)),
            "gguf: metadata key 'huge' = 4611686018427387904 is out of range "
            "[1, 10]");
  EXPECT_EQ(*file->getIntegerInRange("missing", 7, 1, 10), 7);
  EXPECT_EQ(message(file->getIntegerInRange("missing", 1, 10)),
            "gguf: missing metadata key 'missing'");
  EXPECT_EQ(message(file->getFiniteDouble("inf", 1, 0, 1e30)),
            "gguf: metadata key 'inf' = inf is out of range [0, 1e+30]");
  EXPECT_EQ(message(file->getFiniteDouble("nan", 1, 0, 1e30)),
            "gguf: metadata key 'nan' = nan is out of range [0, 1e+30]");
  EXPECT_NEAR(*file->getFiniteDouble("eps", 1, 0, 1), 1e-5, 1e-12);
  EXPECT_EQ(*file->getFiniteDouble("missing", 0.5, 0, 1), 0.5);
}

TEST(GGUFTest, RandomByteCorruptionNeverCrashes) {
  const std::string good = makeSampleWriter().serialize();
  std::mt19937 random(1234);
  int parsed = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = good;
    int flips = 1 + trial % 4;
    for (int f = 0; f < flips; ++f) {
      // Mostly the header, where the structure is.
      size_t offset = random() % (trial % 2 ? bytes.size() : 400);
      bytes[offset] = static_cast<char>(random());
    }
    auto file = GGUFFile::parse(makeBuffer(bytes));
    if (!file) {
      llvm::consumeError(file.takeError());
      continue;
    }
    ++parsed;
    for (const GGUFTensorInfo &tensor : (*file)->getTensors()) {
      auto values = (*file)->readTensorAsFloat(tensor);
      if (!values)
        llvm::consumeError(values.takeError());
    }
  }
  EXPECT_GT(parsed, 0); // data-region flips still parse
}

//===----------------------------------------------------------------------===//
// The real stories260K file
//===----------------------------------------------------------------------===//

class StoriesGGUFTest : public ::testing::Test {
protected:
  void SetUp() override {
    path = sharedDataPath("models/stories260K.gguf");
    if (!llvm::sys::fs::exists(path))
      GTEST_SKIP() << "missing " << path;
    auto buffer = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(static_cast<bool>(buffer));
    bytes = (*buffer)->getBuffer().str();
  }
  std::string path;
  std::string bytes;
};

TEST_F(StoriesGGUFTest, ReadsHeaderMetadataAndTensors) {
  auto fileOrError = GGUFFile::open(path);
  ASSERT_TRUE(static_cast<bool>(fileOrError))
      << llvm::toString(fileOrError.takeError());
  const GGUFFile &file = **fileOrError;
  EXPECT_EQ(file.getVersion(), 3u);
  EXPECT_EQ(file.getFileSize(), 1054304u);
  EXPECT_EQ(file.getAlignment(), 32u);
  EXPECT_EQ(file.getMetadata().size(), 21u);
  EXPECT_EQ(file.getTensors().size(), 47u);
  EXPECT_EQ(llvm::cantFail(file.getInteger("llama.block_count")), 5);
  EXPECT_EQ(llvm::cantFail(file.getInteger("llama.embedding_length")), 64);
  EXPECT_EQ(llvm::cantFail(file.getString("tokenizer.ggml.model")), "llama");
  EXPECT_EQ(file.findMetadata("tokenizer.ggml.tokens")->getStrings().size(),
            512u);
  const GGUFTensorInfo *embedding = file.findTensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  EXPECT_EQ(embedding->dims, (std::vector<uint64_t>{64, 512}));
  EXPECT_EQ(embedding->type, GGMLType::F32);
  const GGUFTensorInfo *key = file.findTensor("blk.0.attn_k.weight");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->columns(), 64u); // K = dim
  EXPECT_EQ(key->rows(), 32u);    // N = 4 KV heads x 8
  // Tensor data starts at the aligned end of the header.
  EXPECT_EQ(file.getDataOffset(), 14176u);
  const GGUFTensorInfo &last = file.getTensors().back();
  EXPECT_EQ(file.getDataOffset() + last.offset + last.numBytes,
            file.getFileSize());
  auto norm = llvm::cantFail(file.readTensorAsFloat("output_norm.weight"));
  for (float value : norm)
    EXPECT_TRUE(std::isfinite(value));
}

TEST_F(StoriesGGUFTest, TruncationsAtManyOffsetsAreErrors) {
  // Every offset through the header (14,151 bytes), then a stride through
  // the tensor data; every prefix of the file must be rejected.
  std::vector<size_t> sizes;
  for (size_t size = 0; size < 14200; ++size)
    sizes.push_back(size);
  for (size_t size = 14200; size < bytes.size(); size += 4099)
    sizes.push_back(size);
  sizes.push_back(bytes.size() - 1);
  for (size_t size : sizes) {
    std::string message = parseError(llvm::StringRef(bytes).take_front(size));
    ASSERT_NE(message, "") << "truncated to " << size;
    ASSERT_TRUE(llvm::StringRef(message).starts_with("gguf: ")) << message;
  }
  // A prefix that holds the header but not all data names the first tensor
  // that does not fit.
  EXPECT_EQ(parseError(llvm::StringRef(bytes).take_front(14176 + 131328 + 100)),
            "gguf: truncated tensor data for 'blk.0.attn_q.weight' (needs "
            "bytes [145504, 161888), file has 145604)");
}

TEST_F(StoriesGGUFTest, CorruptHeaderCountsAreErrors) {
  std::string tooManyTensors = bytes;
  patchLE64(tooManyTensors, 8, 48); // one more tensor info than present
  EXPECT_NE(parseError(tooManyTensors), "");
  std::string tooManyKeys = bytes;
  patchLE64(tooManyKeys, 16, 22);
  EXPECT_NE(parseError(tooManyKeys), "");
  std::string hugeCounts = bytes;
  patchLE64(hugeCounts, 8, ~0ull);
  patchLE64(hugeCounts, 16, ~0ull);
  EXPECT_NE(parseError(hugeCounts), "");
  std::string fewerTensors = bytes;
  patchLE64(fewerTensors, 8, 46); // still a consistent prefix: accepted
  EXPECT_EQ(parseError(fewerTensors), "");
}

} // namespace
