//===- NestingTest.cpp - Bracket nesting pre-scan -------------------------===//

#include "slr/Support/Nesting.h"

#include "gtest/gtest.h"

#include <string>

using namespace slr;

namespace {

TEST(NestingTest, CountsEveryBracketKind) {
  EXPECT_FALSE(nestsDeeperThan("", 0));
  EXPECT_FALSE(nestsDeeperThan("([{<>}])", 4));
  EXPECT_TRUE(nestsDeeperThan("([{<>}])", 3));
  // Depth, not count: siblings do not add up.
  EXPECT_FALSE(nestsDeeperThan("()()()[][]{}", 1));
  // Unbalanced input: 100,000 '(' in a row is deep, whatever follows.
  EXPECT_TRUE(nestsDeeperThan(std::string(100000, '('), 1000));
  EXPECT_TRUE(nestsDeeperThan(std::string(1001, '[') + "]", 1000));
}

TEST(NestingTest, SkipsStringsCommentsAndArrows) {
  std::string deep(2000, '[');
  EXPECT_FALSE(nestsDeeperThan("\"" + deep + "\"", 10));
  EXPECT_FALSE(nestsDeeperThan("\"\\\"" + deep + "\"", 10)); // escaped quote
  EXPECT_TRUE(nestsDeeperThan("\"\\\\\"" + deep, 10));       // escaped '\'
  EXPECT_FALSE(nestsDeeperThan("// " + deep + "\nfunc.func", 10));
  EXPECT_TRUE(nestsDeeperThan("// comment\n" + deep, 10));
  // "->" closes nothing: ((( -> ))) stays 3 deep.
  EXPECT_TRUE(nestsDeeperThan("(((x) -> (y)", 2));
  EXPECT_FALSE(nestsDeeperThan(
      "func.func @f(%a: tensor<?x8xf32>) -> tensor<?x8xf32> {}", 2));
}

// double(INT64_MAX) rounds up to 2^63, so llvm::json::Value::getAsInteger
// converted a double of 2^63 to int64_t (undefined behaviour, found by
// slr-fuzz-safetensors). Such numbers are stored as unsigned: out of int64
// range, the same number.
TEST(NestingTest, UntrustedJSONNumbersOfTwoToThe63AreNotIntegers) {
  llvm::Expected<llvm::json::Value> value = parseUntrustedJSON(
      "[9223372036854775808.0, 9.223372036854775807e18, 9223372036854775808,"
      " 9223372036854775807, -9223372036854775808.0, 4.0, 1e300, {\"a\": "
      "[9.2233720368547758e18]}]");
  ASSERT_TRUE(static_cast<bool>(value)) << llvm::toString(value.takeError());
  const llvm::json::Array &numbers = *value->getAsArray();
  for (size_t i : {0, 1, 2}) {
    EXPECT_FALSE(numbers[i].getAsInteger()) << i;
    EXPECT_EQ(numbers[i].getAsUINT64(), uint64_t(1) << 63) << i;
    EXPECT_EQ(numbers[i].getAsNumber(), 0x1p63) << i;
  }
  EXPECT_EQ(numbers[3].getAsInteger(), INT64_MAX);
  EXPECT_EQ(numbers[4].getAsInteger(), INT64_MIN);
  EXPECT_EQ(numbers[5].getAsInteger(), 4);
  EXPECT_FALSE(numbers[6].getAsInteger());
  const llvm::json::Array &nested = *numbers[7].getAsObject()->getArray("a");
  EXPECT_FALSE(nested[0].getAsInteger());

  llvm::Expected<llvm::json::Value> deep =
      parseUntrustedJSON(std::string(65, '[') + std::string(65, ']'));
  EXPECT_EQ(llvm::toString(deep.takeError()),
            "nests arrays or objects deeper than 64 levels");
}

} // namespace
