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

} // namespace
