#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace tributary {
namespace {

TEST(CodingTest, FixedKeysSortNumerically) {
  std::string a, b;
  PutFixed64BE(&a, 255);
  PutFixed64BE(&b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(DecodeFixed64BE(b.data()), 256u);
}

TEST(CodingTest, TimeKeysSortAcrossTheEpoch) {
  std::string neg, zero, pos;
  PutTimeKey(&neg, -5);
  PutTimeKey(&zero, 0);
  PutTimeKey(&pos, 5);
  EXPECT_LT(neg, zero);
  EXPECT_LT(zero, pos);
  EXPECT_EQ(DecodeTimeKey(neg.data()), -5);
}

TEST(CodingTest, VarintsRoundTrip) {
  std::string s;
  const uint64_t values[] = {0, 1, 127, 128, 300, std::numeric_limits<uint64_t>::max()};
  const int64_t signed_values[] = {0, -1, 1, std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max()};
  for (uint64_t v : values) PutVarint64(&s, v);
  for (int64_t v : signed_values) PutVarsint64(&s, v);
  PutLengthPrefixed(&s, "hello");
  Decoder d(s);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(d.GetVarint64(&got));
    EXPECT_EQ(got, v);
  }
  for (int64_t v : signed_values) {
    int64_t got;
    ASSERT_TRUE(d.GetVarsint64(&got));
    EXPECT_EQ(got, v);
  }
  std::string str;
  ASSERT_TRUE(d.GetLengthPrefixed(&str));
  EXPECT_EQ(str, "hello");
  EXPECT_TRUE(d.done());
}

TEST(CodingTest, TruncatedInputFailsCleanly) {
  std::string s;
  PutLengthPrefixed(&s, "hello world");
  Decoder d(std::string_view(s).substr(0, 4));
  std::string out;
  EXPECT_FALSE(d.GetLengthPrefixed(&out));
  uint64_t v;
  EXPECT_FALSE(Decoder("\xff\xff").GetVarint64(&v));
}

TEST(CodingTest, Sha256MatchesKnownDigest) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tributary
