#include "api/json_output.h"

#include <gtest/gtest.h>

namespace tributary {
namespace {

TEST(JsonOutputTest, StringsRoundTripThroughTheDirectWriter) {
  for (std::string s :
       {std::string("plain"), std::string("quote \" and backslash \\"),
        std::string("tab\tnewline\ncontrol\x01"), std::string("emoji 🦀 ünïcode 数据"),
        std::string("\\N\\l"), std::string(), std::string("\"starts and ends\""),
        std::string("\x01\x02\"\\"), std::string("a\"b\\c\nd")}) {
    std::string out;
    AppendJsonString(&out, s);
    auto parsed = nlohmann::json::parse(out);
    EXPECT_EQ(parsed.get<std::string>(), s) << out;
  }
}

}  // namespace
}  // namespace tributary
