#include "analysis/node_bits.h"

#include <gtest/gtest.h>

namespace tributary {
namespace {

TEST(NodeBitsTest, InsertSaysWhetherTheIdIsNew) {
  NodeBits bits;
  bits.Reserve(200);
  EXPECT_TRUE(bits.Insert(0));
  EXPECT_TRUE(bits.Insert(63));
  EXPECT_TRUE(bits.Insert(64));
  EXPECT_TRUE(bits.Insert(199));
  EXPECT_FALSE(bits.Insert(63));
  EXPECT_TRUE(bits.Contains(0) && bits.Contains(63) && bits.Contains(64) && bits.Contains(199));
  EXPECT_FALSE(bits.Contains(1) || bits.Contains(62) || bits.Contains(65) || bits.Contains(198));
}

// A walk that touched few words clears those; one that touched many clears them all. Either
// way the next walk starts from an empty set.
TEST(NodeBitsTest, ClearEmptiesTheSetWhateverTheWalkTouched) {
  constexpr uint32_t kNodes = 64 * 1000;
  NodeBits bits;
  bits.Reserve(kNodes);
  for (uint32_t few : {5u, 640u, 63'999u}) bits.Insert(few);
  bits.Clear();
  for (uint32_t id = 0; id < kNodes; ++id) ASSERT_FALSE(bits.Contains(id)) << id;
  for (uint32_t id = 0; id < kNodes; id += 3) bits.Insert(id);
  bits.Clear();
  for (uint32_t id = 0; id < kNodes; ++id) ASSERT_FALSE(bits.Contains(id)) << id;
  EXPECT_TRUE(bits.Insert(64'000 - 1));
  // Growing keeps what is in the set, and the new ids start out absent.
  bits.Reserve(2 * kNodes);
  EXPECT_TRUE(bits.Contains(64'000 - 1));
  EXPECT_FALSE(bits.Contains(2 * kNodes - 1));
  EXPECT_TRUE(bits.Insert(2 * kNodes - 1));
  bits.Clear();
  EXPECT_FALSE(bits.Contains(64'000 - 1) || bits.Contains(2 * kNodes - 1));
}

// A walk that touched many words lets go of its list of them: the set must be emptied first,
// or the next walk would find the old bits with no record of where they are.
TEST(NodeBitsTest, TrimEmptiesTheSetBeforeLettingGoOfItsList) {
  constexpr uint32_t kNodes = 64 * 4096;
  NodeBits bits;
  bits.Reserve(kNodes);
  for (uint32_t id = 0; id < kNodes; id += 64) bits.Insert(id);
  bits.Trim(/*keep=*/16);
  for (uint32_t id = 0; id < kNodes; id += 64) ASSERT_FALSE(bits.Contains(id)) << id;
  bits.Insert(64);
  bits.Clear();
  EXPECT_FALSE(bits.Contains(64));
}

}  // namespace
}  // namespace tributary
