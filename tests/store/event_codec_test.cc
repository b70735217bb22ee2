#include "store/event_codec.h"

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

TEST(EventCodecTest, LargeEventsAreCompressedAndComeBackWhole) {
  const std::string text = LargeEvent();
  const std::string stored = EncodeStoredEvent(text);
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored[0], '\x01');
  EXPECT_LT(stored.size(), text.size() / 3);
  std::string back;
  ASSERT_TRUE(DecodeStoredEvent(stored, &back).ok());
  EXPECT_EQ(back, text);
}

TEST(EventCodecTest, ShortAndIncompressibleEventsAreKeptAsTheyAre) {
  const std::string small = R"({"eventType":"START"})";
  EXPECT_EQ(EncodeStoredEvent(small), small);
  std::mt19937 rng(7);
  std::string noise = "{";
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>(' ' + rng() % 94));
  EXPECT_EQ(EncodeStoredEvent(noise), noise);
  std::string back;
  ASSERT_TRUE(DecodeStoredEvent(noise, &back).ok());
  EXPECT_EQ(back, noise);
  ASSERT_TRUE(DecodeStoredEvent("", &back).ok());
  EXPECT_EQ(back, "");
}

TEST(EventCodecTest, DamagedValuesAreDataLoss) {
  const std::string stored = EncodeStoredEvent(LargeEvent());
  std::string back;
  // Cut short, its length claiming more than the block holds, or no length at all.
  EXPECT_EQ(DecodeStoredEvent(stored.substr(0, stored.size() / 2), &back).code(),
            StatusCode::kDataLoss);
  std::string longer = stored;
  longer[1] = static_cast<char>(longer[1] + 1);
  EXPECT_EQ(DecodeStoredEvent(longer, &back).code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeStoredEvent("\x01", &back).code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeStoredEvent("\x01\xff\xff\xff\xff\xff\xff\xff\xff\x7f", &back).code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tributary
