// Golden answers on the sample mesh: each file under tests/golden/<endpoint>/ holds the
// parameters of one query and the exact answer expected. A new case is a new file.
// TRIB_UPDATE_GOLDEN=1 rewrites the answers (review the diff before committing it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/service.h"
#include "tests/test_util.h"

namespace tributary {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

class GoldenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    ServiceOptions o;
    o.store.path = dir_->path();
    o.store.sync = false;
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = s->release();
    auto summary =
        service_->IngestFiles({std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson"}, nullptr);
    ASSERT_TRUE(summary.ok());
    ASSERT_TRUE(summary->rejected.empty()) << summary->rejected[0].error;
    ASSERT_EQ(summary->accepted, 448u);
  }
  static void TearDownTestSuite() {
    delete service_;
    delete dir_;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline Service* service_ = nullptr;
};

// Runs every case under tests/golden/<endpoint>/ through the service method `method`.
void CheckGolden(Service& service, const std::string& endpoint,
                 ApiResponse (Service::*method)(const Params&), int min_cases) {
  fs::path root = fs::path(TRIB_SOURCE_DIR) / "tests/golden" / endpoint;
  bool update = std::getenv("TRIB_UPDATE_GOLDEN") != nullptr;
  int cases = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(root)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    if (file.extension() != ".json") continue;
    ++cases;
    json golden = ReadJson(file);
    Params params;
    for (const auto& [k, v] : golden["params"].items()) params[k] = v.get<std::string>();
    ApiResponse r = (service.*method)(params);
    ASSERT_EQ(r.status, golden.value("status", 200)) << file << ": " << r.body;
    json got = json::parse(r.body);
    if (update) {
      golden["response"] = got;
      std::ofstream(file) << golden.dump(2) << "\n";
      continue;
    }
    EXPECT_EQ(got, golden["response"]) << file.filename() << " differs; got:\n" << got.dump(2);
  }
  EXPECT_GE(cases, min_cases) << endpoint;
}

TEST_F(GoldenTest, ClosureAnswersMatch) { CheckGolden(*service_, "closure", &Service::Closure, 8); }
TEST_F(GoldenTest, ImpactAnswersMatch) { CheckGolden(*service_, "impact", &Service::Impact, 4); }
TEST_F(GoldenTest, RootCauseAnswersMatch) {
  CheckGolden(*service_, "rootcause", &Service::RootCause, 2);
}
TEST_F(GoldenTest, PathsAnswersMatch) { CheckGolden(*service_, "paths", &Service::Paths, 2); }
TEST_F(GoldenTest, DiffAnswersMatch) { CheckGolden(*service_, "diff", &Service::Diff, 2); }
TEST_F(GoldenTest, RunLineageAnswersMatch) {
  CheckGolden(*service_, "runlineage", &Service::RunLineageUpstream, 1);
}

}  // namespace
}  // namespace tributary
