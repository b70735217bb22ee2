#include "api/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "common/coding.h"
#include "common/text.h"
#include "ingest/ingest_pipeline.h"
#include "tests/test_util.h"

namespace tributary {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Encode(const std::string& s) { return PercentEncode(s); }

// Every event of ../shared/openlineage/examples, one string each.
std::vector<std::string> ExampleEvents() {
  std::vector<fs::path> files;
  for (const auto& e :
       fs::directory_iterator(std::string(TRIB_SHARED_DIR) + "/openlineage/examples")) {
    auto ext = e.path().extension();
    if (ext == ".json" || ext == ".ndjson") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> events;
  for (const auto& f : files) {
    std::string body = ReadFile(f);
    if (f.extension() == ".json") {
      events.push_back(body);
      continue;
    }
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) {
      if (line.find_first_not_of(" \r\t") != std::string::npos) events.push_back(line);
    }
  }
  return events;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start(size_t max_body = size_t{16} << 20) {
    ServiceOptions o;
    o.store.path = dir_.path();
    o.store.sync = false;
    o.max_body_bytes = max_body;
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(s).value();
    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.threads = 4;
    server_ = std::make_unique<HttpServer>(*service_, so);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  }
  void Stop() {
    client_.reset();
    server_.reset();
    service_.reset();
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& type = "application/json",
                       const httplib::Headers& headers = {}) {
    return client_->Post(path.c_str(), headers, body, type.c_str());
  }
  json Get(const std::string& path, int want_status = 200) {
    auto r = client_->Get(path.c_str());
    EXPECT_TRUE(r) << path;
    if (!r) return json();
    EXPECT_EQ(r->status, want_status) << path << ": " << r->body;
    return json::parse(r->body);
  }
  json Stats() { return Get("/api/v1/stats"); }

  testing::TempDir dir_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

TEST_F(HttpServerTest, EveryExampleEventIsAcceptedAndItsLineageIsThere) {
  std::vector<std::string> events = ExampleEvents();
  ASSERT_EQ(events.size(), 121u);
  for (size_t i = 0; i < events.size(); ++i) {
    auto r = Post("/api/v1/lineage", events[i]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201) << "event " << i << ": " << r->body;
  }
  // Spark column lineage: tbl1.agg is an aggregation of cll_source2.c.
  json up = Get("/api/v1/closure?nodeId=" + Encode("datasetField:file:/tmp/cll_test/tbl1:agg") +
                "&direction=upstream");
  std::set<std::string> ids;
  for (const auto& n : up["nodes"]) ids.insert(n["id"]);
  EXPECT_TRUE(ids.count("datasetField:file:/tmp/cll_test/cll_source2:c"));
  EXPECT_TRUE(ids.count("datasetField:file:/tmp/cll_test/cll_source1:b"));
  bool aggregation = false;
  for (const auto& e : up["edges"]) {
    if (e["from"] == "datasetField:file:/tmp/cll_test/cll_source2:c") {
      aggregation = e["transformations"][0]["subtype"] == "AGGREGATION";
      EXPECT_EQ(e["kind"], "column");
      EXPECT_TRUE(e["job"].is_string());
    }
  }
  EXPECT_TRUE(aggregation);
  // Airflow's legacy column lineage: upload.a comes from both CSVs.
  json legacy =
      Get("/api/v1/closure?kind=field&namespace=bigquery&name=mock-project.test.upload"
          "&field=a&direction=upstream");
  EXPECT_EQ(legacy["nodes"].size(), 3u);
  // Dataset level, across the BigQuery -> Spark -> file pipeline.
  json down =
      Get("/api/v1/closure?namespace=bigquery&name=bigquery-public-data.samples.shakespeare");
  bool reaches_file = false;
  for (const auto& n : down["nodes"]) {
    if (n["kind"] == "dataset" && n["namespace"] == "file") reaches_file = true;
  }
  EXPECT_TRUE(reaches_file);
  // The streams and the single files overlap on purpose: exact duplicates are stored once.
  int stored = Stats()["events"];
  EXPECT_GT(stored, 90);
  EXPECT_LE(stored, 121);
}

TEST_F(HttpServerTest, MalformedInputGetsA4xxAndChangesNothing) {
  ASSERT_EQ(Post("/api/v1/lineage", ExampleEvents()[0])->status, 201);
  json before = Stats();
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string valid = ExampleEvents()[1];
  json wrong_type = json::parse(valid);
  wrong_type["run"]["runId"] = 42;
  json missing = json::parse(valid);
  missing.erase("producer");
  json huge = json::parse(valid);
  huge["job"]["facets"]["big"] = {{"text", std::string(5 << 20, 'x')}};
  struct Case {
    const char* what;
    std::string body;
    int status;
    std::string path;
  } cases[] = {
      {"bad JSON", "{\"eventTime\": ", 400, ""},
      {"empty body", "", 400, ""},
      {"not an object", "[1, 2]", 400, ""},
      {"wrong type", wrong_type.dump(), 400, "/run/runId"},
      {"missing field", missing.dump(), 400, "/producer"},
      {"invalid UTF-8", "{\"eventTime\": \"\xff\xfe\"}", 400, ""},
      {"deep nesting", "{\"a\": " + deep + "}", 400, ""},
      {"huge string", huge.dump(), 400, "/job/facets/big/text"},
  };
  for (const auto& c : cases) {
    auto r = Post("/api/v1/lineage", c.body);
    ASSERT_TRUE(r) << c.what;
    EXPECT_EQ(r->status, c.status) << c.what << ": " << r->body;
    json body = json::parse(r->body);
    EXPECT_TRUE(body["error"].is_string()) << c.what;
    if (!c.path.empty()) {
      EXPECT_EQ(body["path"], c.path) << c.what;
    }
  }
  EXPECT_EQ(Stats(), before);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  Stop();
  Start(/*max_body=*/4096);
  json before = Stats();
  json ev = json::parse(ExampleEvents()[0]);
  ev["job"]["facets"]["pad"] = {{"text", std::string(8192, 'x')}};
  auto r = Post("/api/v1/lineage", ev.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("limit"), std::string::npos);
  EXPECT_EQ(Stats(), before);
}

TEST_F(HttpServerTest, GzipBodiesAreDecoded) {
  std::string ev = ExampleEvents()[3];
  httplib::detail::gzip_compressor gz;
  std::string packed;
  ASSERT_TRUE(gz.compress(ev.data(), ev.size(), true, [&](const char* d, size_t n) {
    packed.append(d, n);
    return true;
  }));
  auto r = Post("/api/v1/lineage", packed, "application/json", {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Stats()["events"], 1);
  auto bad = Post("/api/v1/lineage", "not gzip at all", "application/json",
                  {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Stats()["events"], 1);
}

TEST_F(HttpServerTest, BatchStoresTheValidEventsAndReportsEachRejection) {
  std::vector<std::string> ev = ExampleEvents();
  std::string array = "[" + ev[0] + "," + "{\"eventTime\": 1}" + "," + ev[1] + "]";
  auto r = Post("/api/v1/lineage/batch", array);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json body = json::parse(r->body);
  EXPECT_EQ(body["accepted"], 2);
  EXPECT_EQ(body["status"], "partial_success");
  ASSERT_EQ(body["failed_events"].size(), 1u);
  EXPECT_EQ(body["failed_events"][0]["index"], 1);
  EXPECT_FALSE(body["failed_events"][0]["retriable"]);
  EXPECT_EQ(Stats()["events"], 2);

  std::string ndjson = ev[2] + "\n\n" + "not json\n" + ev[3] + "\n";
  r = Post("/api/v1/lineage/batch", ndjson, "application/x-ndjson");
  ASSERT_TRUE(r);
  body = json::parse(r->body);
  EXPECT_EQ(body["accepted"], 2);
  EXPECT_EQ(body["failed_events"][0]["index"], 1);
  EXPECT_EQ(Stats()["events"], 4);

  r = Post("/api/v1/lineage/batch", "{\"not\": \"an array\"}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(HttpServerTest, ClosureParametersAreChecked) {
  for (const auto& e : ExampleEvents()) ASSERT_EQ(Post("/api/v1/lineage", e)->status, 201);
  std::string ok =
      "/api/v1/closure?namespace=bigquery&name=bigquery-public-data.samples.shakespeare";
  struct Case {
    std::string query;
    int status;
    std::string path;
  } cases[] = {
      {ok + "&direction=sideways", 400, "direction"},
      {ok + "&depth=-1", 400, "depth"},
      {ok + "&depth=many", 400, "depth"},
      {ok + "&level=table", 400, "level"},
      {ok + "&direct_only=maybe", 400, "direct_only"},
      {ok + "&as_of=yesterday", 400, "as_of"},
      {ok + "&edges=some", 400, "edges"},
      {"/api/v1/closure?name=x", 400, "namespace"},
      {"/api/v1/closure?namespace=x", 400, "name"},
      {"/api/v1/closure?kind=table&namespace=x&name=y", 400, "kind"},
      {"/api/v1/closure?nodeId=table:x:y", 400, "nodeId"},
      {"/api/v1/closure?namespace=nope&name=missing", 404, ""},
      {"/api/v1/closure?nodeId=dataset:nope:missing", 404, ""},
  };
  for (const auto& c : cases) {
    json body = Get(c.query, c.status);
    EXPECT_TRUE(body["error"].is_string()) << c.query;
    EXPECT_EQ(body["path"], c.path) << c.query;
  }
  json good = Get(ok + "&depth=2&direction=both&as_of=2030-01-01");
  EXPECT_EQ(good["root"]["id"], "dataset:bigquery:bigquery-public-data.samples.shakespeare");
}

TEST_F(HttpServerTest, MarquezNodeIdsWithPortsInTheNamespaceResolve) {
  testing::Ds src{.ns = "postgres://db.prod:5432", .name = "shop.public.orders", .columns = {"id"}};
  testing::Ds dst{.ns = "postgres://db.prod:5432", .name = "shop.public.orders_copy"};
  dst.lineage = {
      {"id", {{.ns = "postgres://db.prod:5432", .name = "shop.public.orders", .field = "id"}}}};
  ASSERT_EQ(
      Post("/api/v1/lineage", testing::RunEvent("copy", "01890000-0000-7000-8000-000000000009",
                                                "COMPLETE", "2024-01-01T00:00:00Z", {src}, {dst}))
          ->status,
      201);
  json r = Get("/api/v1/closure?nodeId=" +
               Encode("datasetField:postgres://db.prod:5432:shop.public.orders:id"));
  ASSERT_EQ(r["nodes"].size(), 2u);
  EXPECT_EQ(r["edges"].size(), 1u);
  // edges=false: the same nodes, no edges.
  json compact = Get("/api/v1/closure?edges=false&nodeId=" +
                     Encode("datasetField:postgres://db.prod:5432:shop.public.orders:id"));
  EXPECT_EQ(compact["nodes"], r["nodes"]);
  EXPECT_FALSE(compact.contains("edges"));
  EXPECT_EQ(compact["query"]["edges"], false);
  EXPECT_EQ(r["nodes"][1]["id"], "datasetField:postgres://db.prod:5432:shop.public.orders_copy:id");
  EXPECT_EQ(r["nodes"][1]["distance"], 1);

  // Server-Timing: the walk and the writing of its answer, in milliseconds.
  auto res = client_->Get("/api/v1/closure?nodeId=" +
                          Encode("datasetField:postgres://db.prod:5432:shop.public.orders:id"));
  ASSERT_TRUE(res);
  std::string timing = res->get_header_value("Server-Timing");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_match(timing, m, std::regex(R"(closure;dur=(\d+\.\d{4}), json;dur=(\d+\.\d{4}))")))
      << timing;
  EXPECT_LT(std::stod(m[1]), 60000.0);
}

TEST_F(HttpServerTest, DatasetAndJobEndpointsReturnTheNode) {
  for (const auto& e : ExampleEvents()) ASSERT_EQ(Post("/api/v1/lineage", e)->status, 201);
  json ds = Get("/api/v1/namespaces/file/datasets/" + Encode("/tmp/cll_test/tbl1"));
  EXPECT_EQ(ds["name"], "/tmp/cll_test/tbl1");
  EXPECT_FALSE(ds["fields"].empty());
  EXPECT_TRUE(ds["facets"].contains("schema"));
  EXPECT_FALSE(ds["schemaVersions"].empty());
  EXPECT_TRUE(ds["latestRun"].is_object());
  EXPECT_FALSE(ds["producedBy"].empty());
  json job = Get("/api/v1/namespaces/default/jobs/shakespeare_on_spark.adaptive_spark_plan");
  EXPECT_EQ(job["type"], "JOB");
  EXPECT_FALSE(job["inputs"].empty());
  EXPECT_TRUE(job["latestRun"]["state"].is_string());
  // A job whose name holds "/datasets/", URL-encoded, is still a job.
  testing::Ds odd{.ns = "a/datasets/b", .name = "x/jobs/y"};
  ASSERT_EQ(Post("/api/v1/lineage",
                 testing::RunEvent("weird/datasets/name", "01890000-0000-7000-8000-000000000077",
                                   "COMPLETE", "2024-01-01T00:00:00Z", {}, {odd}))
                ->status,
            201);
  EXPECT_EQ(Get("/api/v1/namespaces/jobs/jobs/" + Encode("weird/datasets/name"))["name"],
            "weird/datasets/name");
  EXPECT_EQ(Get("/api/v1/namespaces/" + Encode("a/datasets/b") + "/datasets/" +
                Encode("x/jobs/y"))["name"],
            "x/jobs/y");
  json missing = Get("/api/v1/namespaces/file/datasets/nothing", 404);
  EXPECT_NE(missing["error"].get<std::string>().find("nothing"), std::string::npos);
  // Facets the store does not interpret are returned as they were sent.
  EXPECT_TRUE(job["facets"].contains("gcp_lineage"));
}

TEST_F(HttpServerTest, HealthStatsAndMetrics) {
  EXPECT_EQ(Get("/healthz")["status"], "ok");
  ASSERT_EQ(Post("/api/v1/lineage", ExampleEvents()[5])->status, 201);
  ASSERT_EQ(Post("/api/v1/lineage", "{}")->status, 400);
  json stats = Stats();
  EXPECT_EQ(stats["events"], 1);
  for (const char* k : {"datasets", "jobs", "runs", "fields", "columnEdges"}) {
    EXPECT_TRUE(stats.contains(k)) << k;
  }
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("tributary_events_accepted_total 1"), std::string::npos);
  EXPECT_NE(m->body.find("tributary_events_rejected_total 1"), std::string::npos);
  EXPECT_NE(m->body.find("tributary_http_request_seconds_bucket{route=\"/api/v1/lineage\""),
            std::string::npos);
  EXPECT_NE(m->body.find("tributary_graph_nodes{kind=\"dataset\"}"), std::string::npos);
  auto none = client_->Get("/api/v1/nothing");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_EQ(json::parse(none->body)["error"], "no route for GET /api/v1/nothing");
}

TEST_F(HttpServerTest, AnswersSurviveARestart) {
  for (const auto& e : ExampleEvents()) ASSERT_EQ(Post("/api/v1/lineage", e)->status, 201);
  std::string q = "/api/v1/closure?nodeId=" + Encode("datasetField:file:/tmp/cll_test/tbl1:agg") +
                  "&direction=upstream";
  json before = Get(q);
  json stats = Stats();
  Stop();
  Start();
  EXPECT_EQ(Get(q), before);
  EXPECT_EQ(Stats(), stats);
}

// The writer's cache starts over whenever it outgrows its budget, and a failing event
// commits the events before it: with a budget of a few entries every commit starts cold.
// Either way the derived records must be the ones a warm cache writes.
TEST(WriterCacheTest, ATinyCacheBudgetDerivesTheSameStore) {
  // Every event its own commit, so that the cache starts over between events.
  std::vector<std::string> events = ExampleEvents();
  std::istringstream samples(ReadFile(std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson"));
  for (std::string line; std::getline(samples, line);) {
    if (!line.empty()) events.push_back(line);
  }
  std::vector<std::string> dumps;
  for (size_t budget : {size_t{4'000'000}, size_t{16}}) {
    testing::TempDir dir;
    ServiceOptions o;
    o.store.path = dir.path();
    o.store.sync = false;
    o.store.writer_cache_entries = budget;
    auto service = Service::Open(o);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    for (const auto& e : events) ASSERT_EQ((*service)->PostLineage(e).status, 201);
    auto dump = (*service)->store().DumpDerived();
    ASSERT_TRUE(dump.ok());
    dumps.push_back(*dump);
  }
  EXPECT_EQ(dumps[0], dumps[1]);
}

// A service that only ingests (the `ingest` command) keeps no graph, yet derives the store
// a serving one does; the next full open loads what it ingested.
TEST(IngestOnlyTest, DerivesTheSameStoreWithoutKeepingAGraph) {
  std::vector<std::string> events = ExampleEvents();
  std::string dumps[2];
  GraphCounts counts[2];
  for (bool ingest_only : {false, true}) {
    SCOPED_TRACE(ingest_only);
    testing::TempDir dir;
    ServiceOptions o;
    o.store.path = dir.path();
    o.store.sync = false;
    o.ingest_only = ingest_only;
    {
      auto service = Service::Open(o);
      ASSERT_TRUE(service.ok()) << service.status().ToString();
      for (const auto& e : events) ASSERT_EQ((*service)->PostLineage(e).status, 201);
      dumps[ingest_only] = *(*service)->store().DumpDerived();
      counts[ingest_only] = (*service)->graph().Read().counts();
    }
    if (ingest_only) {
      EXPECT_EQ(counts[1].datasets + counts[1].jobs + counts[1].edges, 0u);
      o.ingest_only = false;
      auto reopened = Service::Open(o);
      ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
      counts[1] = (*reopened)->graph().Read().counts();
    }
  }
  EXPECT_EQ(dumps[0], dumps[1]);
  EXPECT_GT(counts[0].datasets, 0u);
  EXPECT_EQ(counts[0].datasets, counts[1].datasets);
  EXPECT_EQ(counts[0].current_column_edges, counts[1].current_column_edges);
  EXPECT_EQ(counts[0].edges, counts[1].edges);
}

// With everything queued at once in small groups, each group is applied on top of a batch
// still being written (pipelined commits), and the cache starts over after most of them:
// the store must be the one that events posted one at a time derive.
TEST(PipelinedCommitTest, GroupsAppliedOnABatchInFlightDeriveTheSameStore) {
  std::vector<std::string> events = ExampleEvents();
  std::istringstream samples(ReadFile(std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson"));
  for (std::string line; std::getline(samples, line);) {
    if (!line.empty()) events.push_back(line);
  }
  std::string one_at_a_time;
  {
    testing::TempDir dir;
    ServiceOptions o;
    o.store.path = dir.path();
    o.store.sync = false;
    auto service = Service::Open(o);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    for (const auto& e : events) ASSERT_EQ((*service)->PostLineage(e).status, 201);
    one_at_a_time = *(*service)->store().DumpDerived();
  }
  // With fsyncs on, the sync thread fsyncs a batch while the next one is written, and its
  // listener must still see the batches' deltas in the order they were sealed.
  for (auto [budget, sync] : {std::pair{size_t{500}, false}, std::pair{size_t{5000}, false},
                              std::pair{size_t{5000}, true}}) {
    SCOPED_TRACE(budget);
    SCOPED_TRACE(sync);
    testing::TempDir dir;
    StoreOptions o;
    o.path = dir.path();
    o.sync = sync;
    o.writer_cache_entries = budget;
    auto store = GraphStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EventParser parser;
    std::vector<IngestItem> items;
    for (const auto& e : events) {
      std::string canonical;
      Result<ParsedEvent> ev = parser.Parse(e, &canonical);
      ASSERT_TRUE(ev.ok()) << ev.status().ToString();
      items.push_back({std::move(ev).value(), e, EventDigest(canonical)});
    }
    size_t deltas = 0;
    LineageGraph graph;  // built from the deltas alone, in the order the listener gets them
    {
      IngestPipeline pipeline(
          **store,
          [&](const GraphDelta& d) {
            ++deltas;
            graph.ApplyDelta(d);
          },
          /*max_group=*/3);
      for (const auto& r : pipeline.SubmitAll(std::move(items))) {
        EXPECT_TRUE(r.ok()) << r.status().ToString();
      }
    }
    EXPECT_GT(deltas, 1u);  // the groups' deltas reached the listener
    auto loaded = LineageGraph::Load(**store);
    ASSERT_TRUE(loaded.ok());
    GraphCounts a = graph.Read().counts(), b = (*loaded)->Read().counts();
    EXPECT_EQ(a.fields, b.fields);
    EXPECT_EQ(a.runs, b.runs);
    EXPECT_EQ(a.edges, b.edges);
    EXPECT_EQ(a.current_column_edges, b.current_column_edges);
    EXPECT_EQ(a.current_dataset_edges, b.current_dataset_edges);
    EXPECT_EQ(*(*store)->DumpDerived(), one_at_a_time);
  }
}

TEST_F(HttpServerTest, RebuildFromTheLogEqualsTheIncrementalGraph) {
  for (const auto& e : ExampleEvents()) ASSERT_EQ(Post("/api/v1/lineage", e)->status, 201);
  std::string samples = ReadFile(std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson");
  auto r = Post("/api/v1/lineage/batch", samples, "application/x-ndjson");
  ASSERT_EQ(r->status, 200);
  ASSERT_EQ(json::parse(r->body)["summary"]["failed"], 0);
  auto dump_before = service_->store().DumpDerived();
  ASSERT_TRUE(dump_before.ok());
  std::string q = "/api/v1/closure?nodeId=" + Encode("datasetField:file:/tmp/cll_test/tbl1:agg") +
                  "&direction=upstream";
  json before = Get(q);
  json stats = Stats();
  server_.reset();
  ASSERT_TRUE(service_->Rebuild().ok());
  auto dump_after = service_->store().DumpDerived();
  ASSERT_TRUE(dump_after.ok());
  EXPECT_EQ(*dump_after, *dump_before);
  ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  server_ = std::make_unique<HttpServer>(*service_, so);
  auto port = server_->Start();
  ASSERT_TRUE(port.ok());
  client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  EXPECT_EQ(Get(q), before);
  EXPECT_EQ(Stats(), stats);
}

TEST_F(HttpServerTest, IncidentEndpointsAnswerAndCheckTheirParameters) {
  std::string samples = ReadFile(std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson");
  ASSERT_EQ(Post("/api/v1/lineage/batch", samples, "application/x-ndjson")->status, 200);
  std::string email =
      Encode("datasetField:postgres://customers-db.prod:5432:crm.public.customers:email");
  std::string dashboard = Encode("datasetField:looker://acme:dashboards/customer_360:email");
  json impact = Get("/api/v1/impact?nodeId=" + email);
  EXPECT_EQ(impact["summary"]["datasets"], 8);
  EXPECT_EQ(impact["summary"]["domains"], 2);
  json paths = Get("/api/v1/paths?from=" + email + "&to=" + dashboard + "&k=1");
  ASSERT_EQ(paths["paths"].size(), 1u);
  EXPECT_TRUE(paths["paths"][0]["edges"][0]["lastRun"].is_string());
  json lineage = Get("/api/v1/runlineage/upstream?runId=699e0f71-82d2-5128-8b11-d88107cf3979");
  EXPECT_EQ(lineage["runs"][0]["run"]["status"], "COMPLETED");
  struct Case {
    std::string query;
    int status;
    std::string path;
  } cases[] = {
      {"/api/v1/impact?namespace=nope&name=nothing", 404, ""},
      {"/api/v1/impact?run_id=not-a-run", 404, ""},
      {"/api/v1/impact?nodeId=" + email + "&since=never", 400, "since"},
      {"/api/v1/impact?nodeId=" + email + "&depth=x", 400, "depth"},
      {"/api/v1/rootcause?namespace=nope&name=nothing", 404, ""},
      {"/api/v1/rootcause?nodeId=" + email + "&stale_after_hours=-3", 400, "stale_after_hours"},
      {"/api/v1/paths?to=" + dashboard, 400, "from"},
      {"/api/v1/paths?from=" + email + "&to=" + dashboard + "&k=0", 400, "k"},
      {"/api/v1/paths?from=" + email + "&to=dataset:nope:nothing", 404, ""},
      // Both ends must be given before either is looked up.
      {"/api/v1/paths?from=dataset:nope:nothing", 400, "to"},
      {"/api/v1/diff?nodeId=" + email, 400, "from"},
      {"/api/v1/diff?nodeId=" + email + "&from=2024-03-08&to=2024-03-01", 400, "from"},
      {"/api/v1/runlineage/upstream", 400, "runId"},
      {"/api/v1/runlineage/upstream?runId=unknown", 404, ""},
  };
  for (const auto& c : cases) {
    json body = Get(c.query, c.status);
    EXPECT_TRUE(body["error"].is_string()) << c.query;
    EXPECT_EQ(body["path"], c.path) << c.query;
  }
}

TEST_F(HttpServerTest, RenderDrawsTheClosureInEveryFormat) {
  std::string samples = ReadFile(std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson");
  ASSERT_EQ(Post("/api/v1/lineage/batch", samples, "application/x-ndjson")->status, 200);
  std::string node =
      "nodeId=" +
      Encode("datasetField:postgres://customers-db.prod:5432:crm.public.customers:email");
  struct Case {
    std::string format;
    std::string type;
    std::string starts;
  } cases[] = {{"svg", "image/svg+xml", "<?xml"},
               {"png", "image/png", "\x89PNG\r\n\x1a\n"},
               {"pdf", "application/pdf", "%PDF"},
               {"dot", "text/vnd.graphviz", ""}};
  for (const auto& c : cases) {
    auto r = client_->Get(("/api/v1/render?" + node + "&format=" + c.format).c_str());
    ASSERT_TRUE(r) << c.format;
    ASSERT_EQ(r->status, 200) << c.format << ": " << r->body.substr(0, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), c.type);
    EXPECT_EQ(r->body.compare(0, c.starts.size(), c.starts), 0) << c.format;
    if (c.format == "dot") {
      EXPECT_NE(r->body.find("digraph"), std::string::npos);
      EXPECT_NE(r->body.find("customer_360"), std::string::npos);
      // Clusters are the mesh's domains (the samples tag every dataset with one).
      EXPECT_NE(r->body.find(">marketing<"), std::string::npos) << r->body.substr(0, 3000);
    }
  }
  auto impact =
      client_->Get("/api/v1/render?nodeId=" +
                   Encode("dataset:postgres://customers-db.prod:5432:crm.public.customers") +
                   "&highlight=impact&format=svg");
  ASSERT_TRUE(impact);
  EXPECT_EQ(impact->status, 200);
  EXPECT_NE(impact->body.find("<svg"), std::string::npos);
  json bad = Get("/api/v1/render?" + node + "&format=gif", 400);
  EXPECT_EQ(bad["path"], "format");
  bad = Get("/api/v1/render?" + node + "&highlight=everything", 400);
  EXPECT_EQ(bad["path"], "highlight");
  Get("/api/v1/render?nodeId=dataset:nope:nothing", 404);
}

TEST_F(HttpServerTest, AuditReportsInEveryFormatNameTheirCaller) {
  std::string samples = ReadFile(std::string(TRIB_SOURCE_DIR) + "/samples/mesh.ndjson");
  ASSERT_EQ(Post("/api/v1/lineage/batch", samples, "application/x-ndjson")->status, 200);
  std::string q = "/api/v1/reports/audit?nodeId=" +
                  Encode("dataset:snowflake://acme-analytics:analytics.marts.dim_customers") +
                  "&from=2024-03-01&to=2024-03-10";
  httplib::Headers who = {{"X-Forwarded-User", "alice@audit.example"}};
  auto html = client_->Get((q + "&format=html").c_str(), who);
  ASSERT_TRUE(html);
  ASSERT_EQ(html->status, 200);
  EXPECT_NE(html->body.find("alice@audit.example"), std::string::npos);
  EXPECT_NE(html->body.find("<svg"), std::string::npos);
  auto pdf = client_->Get((q + "&format=pdf").c_str());
  ASSERT_TRUE(pdf);
  EXPECT_EQ(pdf->get_header_value("Content-Type"), "application/pdf");
  EXPECT_EQ(pdf->body.rfind("%PDF", 0), 0u);
  auto csv = client_->Get((q + "&format=csv&table=owners").c_str());
  ASSERT_TRUE(csv);
  EXPECT_NE(csv->body.find("\ndataset,domain,owner\n"), std::string::npos);
  json j = Get(q + "&format=json");
  EXPECT_EQ(j["query"]["parameters"]["from"], "2024-03-01");
  EXPECT_EQ(j["query"]["endpoint"], "/api/v1/reports/audit");
  EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);
  // The JSON digest covers the document without its two digest fields.
  json without = j;
  without.erase("sha256");
  without.erase("sha256_of");
  EXPECT_EQ(j["sha256"], Sha256Hex(without.dump()));
  EXPECT_FALSE(j["tables"]["pii"]["rows"].empty());
  json domain =
      Get("/api/v1/reports/audit?domain=billing&format=json&from=2024-03-01&to=2024-03-10");
  EXPECT_EQ(domain["subject"], "domain billing");
  EXPECT_EQ(Get(q + "&format=docx", 400)["path"], "format");
  EXPECT_EQ(Get(q + "&format=csv&table=nothing", 400)["path"], "table");
  EXPECT_EQ(Get("/api/v1/reports/audit?domain=nowhere", 404)["error"],
            "no dataset in domain 'nowhere'");
  Get("/api/v1/reports/audit?nodeId=" + Encode("job:dbt-prod:acme_analytics.dim_customers"), 400);
}

TEST_F(HttpServerTest, QueriesDuringIngestNeverSeeAHalfAppliedEvent) {
  // Event i derives two columns, x and y, of out_i from in_i.x. A reader must see both
  // edges or neither (then the root is unknown: 404).
  constexpr int kEvents = 120;
  auto event = [](int i) {
    testing::Ds in{.name = "in_" + std::to_string(i), .columns = {"x"}};
    testing::Ds out{.name = "out_" + std::to_string(i)};
    out.lineage = {{"x", {{.ns = "db", .name = in.name, .field = "x"}}},
                   {"y", {{.ns = "db", .name = in.name, .field = "x"}}}};
    char run[40];
    std::snprintf(run, sizeof run, "01890000-0000-7000-8000-%012d", i);
    return testing::RunEvent("job_" + std::to_string(i), run, "COMPLETE", "2024-01-01T00:00:00Z",
                             {in}, {out});
  };
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, answered{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      httplib::Client c("127.0.0.1", port_);
      for (int i = w; i < kEvents; i += 3) {
        auto r = c.Post("/api/v1/lineage", event(i), "application/json");
        EXPECT_TRUE(r && r->status == 201);
      }
    });
  }
  threads.emplace_back([&] {
    httplib::Client c("127.0.0.1", port_);
    for (int round = 0; !done; ++round) {
      int i = round % kEvents;
      auto r = c.Get(
          ("/api/v1/closure?kind=field&namespace=db&name=in_" + std::to_string(i) + "&field=x")
              .c_str());
      if (!r || r->status != 200) continue;
      ++answered;
      if (json::parse(r->body)["nodes"].size() != 3) ++torn;
    }
  });
  for (int w = 0; w < 3; ++w) threads[w].join();
  done = true;
  threads.back().join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(Stats()["columnEdges"], 2 * kEvents);
}

}  // namespace
}  // namespace tributary
