// The tributary binary as a user runs it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/test_util.h"

namespace tributary {
namespace {

struct Output {
  int code = -1;
  std::string text;  // stdout and stderr
};

Output RunCommand(const std::string& command) {
  std::string cmd = command + " 2>&1";
  Output out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.text.append(buf.data(), n);
  int status = pclose(p);
  out.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

Output Tributary(const std::string& args) {
  return RunCommand(std::string(TRIB_BINARY) + " " + args);
}

std::string Examples() { return std::string(TRIB_SHARED_DIR) + "/openlineage/examples"; }

TEST(CliTest, HelpAndUsageErrors) {
  Output help = Tributary("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.text.find("tributary serve"), std::string::npos);
  EXPECT_EQ(Tributary("").code, 2);
  Output unknown = Tributary("frobnicate");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.text.find("unknown command 'frobnicate'"), std::string::npos);
  Output bad_option = Tributary("ingest --colour blue x");
  EXPECT_EQ(bad_option.code, 2);
  EXPECT_NE(bad_option.text.find("unknown option --colour"), std::string::npos);
  EXPECT_EQ(Tributary("ingest").code, 2);
  EXPECT_EQ(Tributary("serve --port 99999").code, 2);
  Output bad_cache = Tributary("ingest --writer-cache lots x");
  EXPECT_EQ(bad_cache.code, 2);
  EXPECT_NE(bad_cache.text.find("--writer-cache must be a number"), std::string::npos);
}

// A writer cache that starts over after nearly every commit, so that nearly every read goes
// to the store (and through its read-ahead), derives the very same store, byte for byte.
TEST(CliTest, IngestWithATinyWriterCache) {
  testing::TempDir dir;
  const std::string inputs =
      Examples() + " " + std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson";
  auto digest = [&](const std::string& store) {
    Output d = RunCommand(std::string(TRIB_STORE_DIGEST) + " " + store);
    EXPECT_EQ(d.code, 0) << d.text;
    return d.text;
  };
  Output tiny = Tributary("ingest --data " + dir.path() + "/tiny --writer-cache 10 " + inputs);
  EXPECT_EQ(tiny.code, 0) << tiny.text;
  EXPECT_NE(tiny.text.find("accepted: 569"), std::string::npos) << tiny.text;
  // Large enough to keep the names of datasets, jobs and runs when it starts over.
  Output small = Tributary("ingest --data " + dir.path() + "/small --writer-cache 3000 " + inputs);
  EXPECT_EQ(small.code, 0) << small.text;
  Output usual = Tributary("ingest --data " + dir.path() + "/usual " + inputs);
  EXPECT_EQ(usual.code, 0) << usual.text;
  std::string a = digest(dir.path() + "/tiny");
  EXPECT_NE(a.find("out_edges"), std::string::npos) << a;
  EXPECT_EQ(a, digest(dir.path() + "/small"));
  EXPECT_EQ(a, digest(dir.path() + "/usual"));

  Output closure = Tributary("closure --data " + dir.path() +
                             "/tiny --node-id 'datasetField:file:/tmp/cll_test/tbl1:agg' "
                             "--direction upstream");
  ASSERT_EQ(closure.code, 0) << closure.text;
  EXPECT_GE(nlohmann::json::parse(closure.text)["nodes"].size(), 4u);
}

TEST(CliTest, IngestClosureAndRebuild) {
  testing::TempDir dir;
  std::string data = "--data " + dir.path() + "/store";
  Output ingest = Tributary("ingest " + data + " " + Examples());
  EXPECT_EQ(ingest.code, 0) << ingest.text;
  EXPECT_NE(ingest.text.find("accepted: 121"), std::string::npos) << ingest.text;
  EXPECT_NE(ingest.text.find("rejected: 0"), std::string::npos);

  Output closure =
      Tributary("closure " + data +
                " --node-id 'datasetField:file:/tmp/cll_test/tbl1:agg' --direction upstream");
  ASSERT_EQ(closure.code, 0) << closure.text;
  auto j = nlohmann::json::parse(closure.text);
  EXPECT_EQ(j["root"]["field"], "agg");
  EXPECT_GE(j["nodes"].size(), 4u);

  Output bad =
      Tributary("closure " + data + " --namespace file --name /tmp/cll_test/tbl1 --depth x");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.text.find("depth"), std::string::npos);
  Output missing = Tributary("closure " + data + " --namespace file --name /nope");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.text.find("no dataset '/nope'"), std::string::npos);

  Output rebuild = Tributary("rebuild " + data);
  EXPECT_EQ(rebuild.code, 0) << rebuild.text;
  Output again =
      Tributary("closure " + data +
                " --node-id 'datasetField:file:/tmp/cll_test/tbl1:agg' --direction upstream");
  EXPECT_EQ(again.text, closure.text);
}

TEST(CliTest, IncidentCommandsPrintTablesOrJson) {
  testing::TempDir dir;
  std::string data = "--data " + dir.path() + "/store";
  ASSERT_EQ(Tributary("ingest " + data + " " + std::string(TRIB_SOURCE_DIR) + "/samples").code, 0);
  std::string email = "'datasetField:postgres://customers-db.prod:5432:crm.public.customers:email'";
  Output impact = Tributary("impact " + data + " --node-id " + email + " --since 2024-03-09");
  ASSERT_EQ(impact.code, 0) << impact.text;
  EXPECT_NE(impact.text.find("Impact: 8 datasets"), std::string::npos) << impact.text;
  EXPECT_NE(impact.text.find("Notify: team:customer-data"), std::string::npos);
  EXPECT_NE(impact.text.find("Runs since 2024-03-09T00:00:00Z"), std::string::npos);
  Output json_out = Tributary("impact " + data + " --node-id " + email + " --json");
  ASSERT_EQ(json_out.code, 0);
  EXPECT_EQ(nlohmann::json::parse(json_out.text)["summary"]["datasets"], 8);
  Output rootcause = Tributary("rootcause " + data +
                               " --namespace looker://acme --name dashboards/finance_revenue"
                               " --as-of 2024-03-04T04:00:00Z --stale-after-hours 48");
  ASSERT_EQ(rootcause.code, 0) << rootcause.text;
  EXPECT_NE(rootcause.text.find("latest run FAILED"), std::string::npos) << rootcause.text;
  EXPECT_NE(rootcause.text.find("error: org.apache.spark.SparkException"), std::string::npos);
  Output paths = Tributary("paths " + data + " --from " + email +
                           " --to 'datasetField:looker://acme:dashboards/customer_360:email'");
  ASSERT_EQ(paths.code, 0) << paths.text;
  EXPECT_NE(paths.text.find("1 path(s)"), std::string::npos) << paths.text;
  Output diff = Tributary("diff " + data +
                          " --kind field --namespace snowflake://acme-analytics"
                          " --name analytics.staging.stg_orders --field amount"
                          " --direction upstream --from 2024-03-05 --to 2024-03-07");
  ASSERT_EQ(diff.code, 0) << diff.text;
  EXPECT_NE(diff.text.find("2 added, 1 retired"), std::string::npos) << diff.text;
  EXPECT_EQ(Tributary("paths " + data + " --from " + email).code, 2);

  std::string png = dir.path() + "/lineage.png";
  Output render = Tributary("render " + data + " --node-id " + email + " -o " + png);
  ASSERT_EQ(render.code, 0) << render.text;
  EXPECT_NE(render.text.find("png"), std::string::npos);
  std::ifstream in(png, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  EXPECT_EQ(Tributary("render " + data + " --node-id " + email).code, 2);  // no -o

  std::string pdf = dir.path() + "/audit.pdf";
  Output report = Tributary("report " + data + " --domain customers --from 2024-03-01 -o " + pdf);
  ASSERT_EQ(report.code, 0) << report.text;
  std::ifstream pdf_in(pdf, std::ios::binary);
  std::string head(5, '\0');
  pdf_in.read(head.data(), 5);
  EXPECT_EQ(head, "%PDF-");
}

TEST(CliTest, IngestReportsEachRejectionWithItsLine) {
  testing::TempDir dir;
  std::string file = dir.path() + "/events.ndjson";
  std::ofstream(file) << testing::RunEvent("j", "01890000-0000-7000-8000-000000000001", "COMPLETE",
                                           "2024-01-01T00:00:00Z", {}, {})
                      << "\n\n{\"eventTime\": \"2024-01-01T00:00:00Z\"}\n";
  Output out = Tributary("ingest --data " + dir.path() + "/store " + file);
  EXPECT_EQ(out.code, 3);
  EXPECT_NE(out.text.find("accepted: 1"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("events.ndjson:3:"), std::string::npos) << out.text;
  Output none = Tributary("ingest --data " + dir.path() + "/store " + dir.path() + "/absent.json");
  EXPECT_EQ(none.code, 1);
  // After "--" every argument is a path, even one that looks like an option.
  Output dashed = Tributary("ingest --data " + dir.path() + "/store -- --absent.json");
  EXPECT_EQ(dashed.code, 1);
  EXPECT_NE(dashed.text.find("no such file or directory: --absent.json"), std::string::npos);
}

// Ingest reads a file in chunks that grow from 64 events to 1,024 (64, 128, 256, ...): events
// on either side of each boundary keep their place, and each rejection its line or index.
TEST(CliTest, IngestKeepsEveryEventsPlaceAcrossChunks) {
  testing::TempDir dir;
  const std::set<int> bad = {1, 64, 65, 192, 193, 448, 449, 960, 961, 1500};
  auto event = [](int i) {
    char run[40];
    std::snprintf(run, sizeof run, "01890000-0000-7000-8000-%012d", i);
    return testing::RunEvent("job" + std::to_string(i % 7), run, "COMPLETE", "2024-01-01T00:00:00Z",
                             {}, {});
  };
  std::string ndjson = dir.path() + "/events.ndjson";
  std::string array = dir.path() + "/events.json";
  {
    std::ofstream lines(ndjson);
    std::ofstream items(array);
    items << "[";
    for (int i = 1; i <= 1500; ++i) {
      const std::string text = bad.count(i) ? "{\"eventTime\": \"x\"}" : event(i);
      lines << text << "\n";
      items << (i > 1 ? ",\n" : "") << text;
    }
    items << "]";
  }
  for (const std::string& file : {ndjson, array}) {
    Output out = Tributary("ingest --data " + dir.path() + "/store " + file);
    EXPECT_EQ(out.code, 3);
    // The second file holds the same events: the good ones are stored once.
    const bool first = file == ndjson;
    EXPECT_NE(out.text.find(first ? "accepted: 1490\n" : "accepted: 1490 (1490 exact"),
              std::string::npos)
        << out.text;
    EXPECT_NE(out.text.find("rejected: 10\n"), std::string::npos) << out.text;
    for (int i : bad) {
      // Lines count from 1, array indices from 0.
      std::string where = first ? ndjson + ":" + std::to_string(i) + ": "
                                : array + "[" + std::to_string(i - 1) + "]: ";
      EXPECT_NE(out.text.find(where), std::string::npos) << where << "\n" << out.text;
    }
    const std::string past = first ? ndjson + ":1501:" : array + "[1500]";
    EXPECT_EQ(out.text.find(past), std::string::npos);
  }
}

TEST(CliTest, ServeLoadsTheSamplesAndStopsOnSigterm) {
  testing::TempDir dir;
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    close(out_pipe[0]);
    std::string data = dir.path() + "/store";
    std::string samples = std::string(TRIB_SOURCE_DIR) + "/samples";
    execl(TRIB_BINARY, TRIB_BINARY, "serve", "--data", data.c_str(), "--host", "127.0.0.1",
          "--port", "0", "--load-samples-if-empty", samples.c_str(), nullptr);
    _exit(127);
  }
  close(out_pipe[1]);
  FILE* out = fdopen(out_pipe[0], "r");
  std::string log;
  int port = 0;
  char line[512];
  while (port == 0 && fgets(line, sizeof line, out)) {
    log += line;
    std::string l(line);
    size_t at = l.find("http://127.0.0.1:");
    if (at != std::string::npos) port = std::stoi(l.substr(at + 17));
  }
  ASSERT_NE(port, 0) << log;
  EXPECT_NE(log.find("loaded the sample mesh"), std::string::npos) << log;
  httplib::Client client("127.0.0.1", port);
  auto stats = client.Get("/api/v1/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(nlohmann::json::parse(stats->body)["events"], 448);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  fclose(out);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tributary
