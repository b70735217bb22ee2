#include "common/time.h"

#include <gtest/gtest.h>

namespace tributary {
namespace {

TEST(TimeTest, ParsesTheFormsProducersSend) {
  const Micros base = 1714557600000000;  // 2024-05-01T10:00:00Z
  struct Case {
    const char* text;
    Micros want;
  } cases[] = {
      {"2024-05-01T10:00:00Z", base},
      {"2024-05-01T10:00:00+00:00", base},
      {"2024-05-01T20:00:00+10:00", base},
      {"2024-05-01T05:30:00-04:30", base},
      {"2024-05-01T10:00:00", base},  // naive: UTC
      {"2024-05-01T10:00:00.5Z", base + 500000},
      {"2024-05-01T10:00:00.123456Z", base + 123456},
      {"2024-05-01T10:00:00.123456789Z", base + 123456},  // nanoseconds truncated
      {"2024-05-01 10:00:00z", base},
  };
  for (const auto& c : cases) {
    Result<Micros> t = ParseTime(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    EXPECT_EQ(*t, c.want) << c.text;
  }
}

TEST(TimeTest, RejectsMalformedTimes) {
  for (const char* bad :
       {"", "2024", "2024-05-01", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z",
        "2024-05-01T25:00:00Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00.1234567890Z",
        "2024-05-01T10:00:00+1000", "2024-05-01T10:00:00Zjunk", "yesterday"}) {
    Result<Micros> t = ParseTime(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(TimeTest, DateOnlyWhenAllowed) {
  EXPECT_FALSE(ParseTime("2024-05-01").ok());
  Result<Micros> t = ParseTime("2024-05-01", /*allow_date_only=*/true);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatTime(*t), "2024-05-01T00:00:00Z");
}

TEST(TimeTest, FormatRoundTrips) {
  for (const char* s : {"1970-01-01T00:00:00Z", "2024-02-29T23:59:59.000001Z",
                        "1969-12-31T23:59:59.5Z", "2100-01-01T00:00:00Z"}) {
    Result<Micros> t = ParseTime(s);
    ASSERT_TRUE(t.ok()) << s;
    EXPECT_EQ(FormatTime(*t).substr(0, 19), std::string(s).substr(0, 19));
    EXPECT_EQ(*ParseTime(FormatTime(*t)), *t);
  }
  EXPECT_EQ(FormatTime(kForever), "forever");
}

}  // namespace
}  // namespace tributary
