#include "store/text_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace tributary {
namespace {

// An event the size of the generator's, with the repetition of real ones.
std::string LargeEvent() {
  std::string text = R"({"eventType":"COMPLETE","inputs":[)";
  for (int i = 0; i < 60; ++i) {
    if (i) text += ',';
    text += R"({"namespace":"postgres://domain1.mesh:5432","name":"warehouse.public.d)" +
            std::to_string(i) + R"("})";
  }
  return text + "]}";
}

TEST(TextCodecTest, LargeTextsAreCompressedAndComeBackWhole) {
  const std::string text = LargeEvent();
  const std::string stored = EncodeStoredText(text);
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored[0], '\x01');
  EXPECT_LT(stored.size(), text.size() / 3);
  std::string back;
  ASSERT_TRUE(DecodeStoredText(stored, &back).ok());
  EXPECT_EQ(back, text);
}

TEST(TextCodecTest, ShortAndIncompressibleTextsAreKeptAsTheyAre) {
  const std::string small = R"({"eventType":"START"})";
  EXPECT_EQ(EncodeStoredText(small), small);
  std::mt19937 rng(7);
  std::string noise = "{";
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>(' ' + rng() % 94));
  EXPECT_EQ(EncodeStoredText(noise), noise);
  std::string back;
  ASSERT_TRUE(DecodeStoredText(noise, &back).ok());
  EXPECT_EQ(back, noise);
  ASSERT_TRUE(DecodeStoredText("", &back).ok());
  EXPECT_EQ(back, "");
}

TEST(TextCodecTest, DamagedValuesAreDataLoss) {
  const std::string stored = EncodeStoredText(LargeEvent());
  std::string back;
  // Cut short, its length claiming more than the block holds, or no length at all.
  EXPECT_EQ(DecodeStoredText(stored.substr(0, stored.size() / 2), &back).code(),
            StatusCode::kDataLoss);
  std::string longer = stored;
  longer[1] = static_cast<char>(longer[1] + 1);
  EXPECT_EQ(DecodeStoredText(longer, &back).code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeStoredText("\x01", &back).code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeStoredText("\x01\xff\xff\xff\xff\xff\xff\xff\xff\x7f", &back).code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tributary
