#include "ingest/json_doc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace tributary {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

JsonDoc Parsed(std::string_view text, JsonDoc::Limits limits = {}) {
  JsonDoc doc;
  Status s = doc.Parse(text, limits);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return doc;
}

Status ParseError(std::string_view text, JsonDoc::Limits limits = {}) {
  JsonDoc doc;
  return doc.Parse(text, limits);
}

// The document as nlohmann's own would hold it, rebuilt from JsonValue's accessors alone.
json Rebuild(JsonValue v) {
  switch (v.type()) {
    case JsonValue::Type::kNull:
      return nullptr;
    case JsonValue::Type::kBoolean:
      return v.boolean();
    case JsonValue::Type::kInteger:
      return v.integer();
    case JsonValue::Type::kUnsigned:
      return v.unsigned_integer();
    case JsonValue::Type::kFloat:
      return v.floating();
    case JsonValue::Type::kString:
      return std::string(v.string());
    case JsonValue::Type::kArray: {
      json out = json::array();
      for (size_t i = 0; i < v.size(); ++i) out.push_back(Rebuild(v[i]));
      return out;
    }
    case JsonValue::Type::kObject: {
      json out = json::object();
      for (size_t i = 0; i < v.size(); ++i) {
        // Members come in key order, each key once.
        if (i > 0) {
          EXPECT_LT(v.key(i - 1), v.key(i));
        }
        out[std::string(v.key(i))] = Rebuild(v[i]);
      }
      return out;
    }
  }
  return nullptr;
}

TEST(JsonDocTest, HoldsWhatNlohmannsDocumentHoldsForEveryExample) {
  const std::string dir = std::string(TRIB_SHARED_DIR) + "/openlineage/examples";
  int events = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (ext != ".json" && ext != ".ndjson") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> texts{ss.str()};
    if (ext == ".ndjson") {
      texts.clear();
      for (std::string line; std::getline(ss, line);) {
        if (!line.empty()) texts.push_back(line);
      }
    }
    for (const std::string& text : texts) {
      EXPECT_EQ(Rebuild(Parsed(text).root()), json::parse(text)) << e.path();
      ++events;
    }
  }
  EXPECT_EQ(events, 121);
}

TEST(JsonDocTest, MembersInKeyOrderOfUnsignedBytes) {
  JsonDoc doc = Parsed(R"({"b":1,"\u00e9":2,"B":3,"a":4,"":5})");
  JsonValue root = doc.root();
  ASSERT_EQ(root.size(), 5u);
  EXPECT_EQ(root.key(0), "");
  EXPECT_EQ(root.key(1), "B");
  EXPECT_EQ(root.key(2), "a");
  EXPECT_EQ(root.key(3), "b");
  EXPECT_EQ(root.key(4), "\xc3\xa9");  // a byte over 0x7f sorts last
  EXPECT_EQ(root[3].integer(), 1);
}

TEST(JsonDocTest, RepeatedKeyKeepsTheLastValue) {
  JsonDoc doc = Parsed(R"({"k":1,"x":{"k":[1]},"k":{"deep":true},"k":"last"})");
  JsonValue root = doc.root();
  ASSERT_EQ(root.size(), 2u);
  EXPECT_EQ(root.find("k").string(), "last");
  EXPECT_EQ(root.find("x").find("k").size(), 1u);
}

TEST(JsonDocTest, FindOnAbsentKeyOrNonObjectIsNoValue) {
  JsonDoc doc = Parsed(R"({"a":[1,2],"n":null})");
  EXPECT_FALSE(doc.root().find("b"));
  EXPECT_FALSE(doc.root().find("a").find("0"));
  JsonValue n = doc.root().find("n");
  ASSERT_TRUE(n);  // null is a value
  EXPECT_TRUE(n.is_null());
}

TEST(JsonDocTest, NumbersKeepTheirKind) {
  JsonDoc doc = Parsed(R"([-3, 18446744073709551615, 2.5, 0, true])");
  JsonValue a = doc.root();
  EXPECT_EQ(a[0].type(), JsonValue::Type::kInteger);
  EXPECT_EQ(a[0].integer(), -3);
  EXPECT_EQ(a[1].type(), JsonValue::Type::kUnsigned);
  EXPECT_EQ(a[1].unsigned_integer(), 18446744073709551615ull);
  EXPECT_EQ(a[2].type(), JsonValue::Type::kFloat);
  EXPECT_EQ(a[2].floating(), 2.5);
  EXPECT_EQ(a[3].type(), JsonValue::Type::kUnsigned);
  EXPECT_STREQ(a[2].type_name(), "number");
  EXPECT_STREQ(a[4].type_name(), "boolean");
}

TEST(JsonDocTest, StringsAreUnescaped) {
  JsonDoc doc = Parsed(R"(["a\"b\\c\n\u0041\ud83d\ude00"])");
  EXPECT_EQ(doc.root()[0].string(), "a\"b\\c\nA\xf0\x9f\x98\x80");
}

TEST(JsonDocTest, ParsingAgainReplacesTheDocument) {
  JsonDoc doc = Parsed(R"({"a":"long enough to be in the heap, not inline"})");
  ASSERT_TRUE(doc.Parse(R"(["x"])", {}).ok());
  ASSERT_TRUE(doc.root().is_array());
  EXPECT_EQ(doc.root()[0].string(), "x");
}

TEST(JsonDocTest, RejectsBadJsonWithByteOffset) {
  Status s = ParseError(R"({"a": tru})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("invalid JSON at byte 9"));
  EXPECT_EQ(s.path(), "");
}

TEST(JsonDocTest, RejectsEmptyText) { EXPECT_EQ(ParseError(" \r\n\t").message(), "empty body"); }

TEST(JsonDocTest, NestingLimitNamesTheValueThatGoesTooDeep) {
  const JsonDoc::Limits limits{.max_depth = 3};
  EXPECT_TRUE(ParseError(R"({"a":[{"b":1}]})", limits).ok());
  Status s = ParseError(R"({"a":[{"b":{"c":1}}]})", limits);
  EXPECT_THAT(s.message(), HasSubstr("nesting deeper than 3 levels"));
  EXPECT_EQ(s.path(), "/a/0/b");
}

TEST(JsonDocTest, StringLimitNamesTheStringAndTheKeysContainer) {
  const JsonDoc::Limits limits{.max_string_bytes = 4};
  EXPECT_TRUE(ParseError(R"({"abcd":["wxyz"]})", limits).ok());
  Status value = ParseError(R"({"a/b":[1,"wxyz!"]})", limits);
  EXPECT_THAT(value.message(), HasSubstr("string longer than 4 bytes"));
  EXPECT_EQ(value.path(), "/a~1b/1");
  Status key = ParseError(R"({"x":[{"abcde":1}]})", limits);
  EXPECT_THAT(key.message(), HasSubstr("object key longer than 4 bytes"));
  EXPECT_EQ(key.path(), "/x/0");
}

}  // namespace
}  // namespace tributary
