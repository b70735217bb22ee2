// A bounded, deterministic fuzz run over the parser and applier: thousands of mutations of
// the real example events. Every outcome must be a parsed event or InvalidArgument, and every
// event that parses must apply without error. (A coverage-guided libFuzzer target for the
// same entry point is tests/ingest/event_parser_fuzzer.cc.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tests/test_util.h"

namespace tributary {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Seeds() {
  std::vector<std::string> out;
  for (const auto& e :
       fs::directory_iterator(std::string(TRIB_SHARED_DIR) + "/openlineage/examples")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Mutate(std::string s, std::mt19937& rng) {
  static const std::string kTokens[] = {"{",    "}",    "[",       "]",   "\"",    ":",
                                        ",",    "null", "true",    "-1",  "1e999", "\"\\ud800\"",
                                        "\xff", "\xc3", "\\u0000", "\"\""};
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    size_t pos = rng() % s.size();
    switch (rng() % 5) {
      case 0:  // flip a byte
        s[pos] = static_cast<char>(rng() % 256);
        break;
      case 1:  // truncate
        s.resize(pos);
        break;
      case 2:  // insert a token
        s.insert(pos, kTokens[rng() % std::size(kTokens)]);
        break;
      case 3: {  // delete a run
        size_t n = 1 + rng() % 16;
        s.erase(pos, n);
        break;
      }
      case 4: {  // duplicate a run
        size_t n = 1 + rng() % 64;
        s.insert(pos, s.substr(pos, n));
        break;
      }
    }
  }
  return s;
}

TEST(EventParserFuzzTest, MutatedExamplesNeverCrashOrCorrupt) {
  std::mt19937 rng(20261121);
  testing::TestStore store;
  EventParser parser;
  int parsed = 0, rejected = 0;
  for (const auto& seed : Seeds()) {
    for (int i = 0; i < 150; ++i) {
      std::string input = Mutate(seed, rng);
      std::string canonical;
      Result<ParsedEvent> ev = parser.Parse(input, &canonical);
      if (!ev.ok()) {
        ASSERT_EQ(ev.status().code(), StatusCode::kInvalidArgument) << ev.status().ToString();
        ++rejected;
        continue;
      }
      ++parsed;
      auto applied = store.Ingest(input);
      ASSERT_TRUE(applied.ok()) << applied.status().ToString() << "\ninput: " << input;
    }
  }
  // The mutations must exercise both outcomes.
  EXPECT_GT(parsed, 100);
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace tributary
