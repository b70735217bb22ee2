#include "common/time.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>

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

// Against the C library's formatting, over times from 1000 to 9999 and every fraction form.
TEST(TimeTest, FormatMatchesTheCLibrary) {
  std::mt19937_64 rng(3);
  const int64_t lo = -30610224000;  // 1000-01-01T00:00:00Z, in seconds
  const int64_t hi = 253402300799;  // 9999-12-31T23:59:59Z
  for (int i = 0; i < 20000; ++i) {
    int64_t secs = lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
    int64_t frac = i % 3 == 0 ? 0 : static_cast<int64_t>(rng() % 1000000);
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char want[64];
    size_t n = std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string expected(want, n);
    if (frac != 0) {
      char f[16];
      std::snprintf(f, sizeof f, ".%06lld", static_cast<long long>(frac));
      expected += f;
    }
    expected += 'Z';
    EXPECT_EQ(FormatTime(secs * 1000000 + frac), expected) << secs << " " << frac;
  }
}

}  // namespace
}  // namespace tributary
