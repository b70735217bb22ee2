#include "analysis/closure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <tuple>

#include "common/coding.h"
#include "common/time.h"
#include "tests/test_util.h"

namespace tributary {
namespace {

using testing::Ds;
using testing::RunEvent;
using testing::TestStore;

const char* kRun1 = "01890000-0000-7000-8000-000000000001";
const char* kRun2 = "01890000-0000-7000-8000-000000000002";
const char* kRun3 = "01890000-0000-7000-8000-000000000003";
const char* kRun4 = "01890000-0000-7000-8000-000000000004";

// Distances by node id.
std::map<NodeId, int> Distances(const ClosureResult& r) {
  std::map<NodeId, int> out;
  for (const auto& n : r.nodes) {
    EXPECT_FALSE(out.count(n.id)) << "node " << n.id << " reported twice";
    out[n.id] = n.distance;
  }
  return out;
}

class ClosureTest : public ::testing::Test {
 protected:
  ClosureResult Run(ClosureQuery q) {
    auto g = LineageGraph::Load(s_.store());
    EXPECT_TRUE(g.ok());
    graph_ = std::move(g).value();
    GraphReader reader = graph_->Read();
    auto r = ComputeClosure(reader, q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ClosureResult{};
  }

  TestStore s_;
  std::unique_ptr<LineageGraph> graph_;
};

TEST_F(ClosureTest, DatasetLevelIsDirectedNotANeighbourhood) {
  // a -> j1 -> b; c -> j1 (a sibling input); b -> j2 -> d.
  s_.MustIngest(RunEvent("j1", kRun1, "COMPLETE", "2024-01-01T00:00:00Z",
                         {{.name = "a"}, {.name = "c"}}, {{.name = "b"}}));
  s_.MustIngest(
      RunEvent("j2", kRun2, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "b"}}, {{.name = "d"}}));
  auto d = Distances(Run({.root = s_.Dataset("a")}));
  EXPECT_EQ(d.size(), 5u);
  EXPECT_EQ(d[s_.Dataset("a")], 0);
  EXPECT_EQ(d[s_.Job("j1")], 1);
  EXPECT_EQ(d[s_.Dataset("b")], 2);
  EXPECT_EQ(d[s_.Dataset("d")], 4);
  EXPECT_FALSE(d.count(s_.Dataset("c")));  // a sibling input is not downstream

  auto up = Distances(Run({.root = s_.Dataset("d"), .direction = Direction::kUpstream}));
  EXPECT_EQ(up.size(), 6u);
  EXPECT_EQ(up[s_.Dataset("c")], 4);

  auto shallow = Distances(Run({.root = s_.Dataset("a"), .depth = 2}));
  EXPECT_EQ(shallow.size(), 3u);
  EXPECT_FALSE(shallow.count(s_.Dataset("d")));
}

TEST_F(ClosureTest, CyclesTerminateAndDiamondsCountOnceAtTheShortestDistance) {
  // Column lineage: a.x -> b.x -> c.x -> a.x (cycle); a.x -> c.y and b.x -> c.y (diamond).
  Ds b{.name = "b"};
  b.lineage = {{"x", {{.ns = "db", .name = "a", .field = "x"}}}};
  Ds c{.name = "c"};
  c.lineage = {
      {"x", {{.ns = "db", .name = "b", .field = "x"}}},
      {"y", {{.ns = "db", .name = "a", .field = "x"}, {.ns = "db", .name = "b", .field = "x"}}}};
  Ds a{.name = "a"};
  a.lineage = {{"x", {{.ns = "db", .name = "c", .field = "x"}}}};
  s_.MustIngest(RunEvent("j1", kRun1, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "a"}}, {b}));
  s_.MustIngest(RunEvent("j2", kRun2, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "b"}}, {c}));
  s_.MustIngest(RunEvent("j3", kRun3, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "c"}}, {a}));
  ClosureResult r = Run({.root = s_.Field("a", "x"), .level = Level::kColumn});
  auto d = Distances(r);
  EXPECT_EQ(d.size(), 4u);
  EXPECT_EQ(d[s_.Field("a", "x")], 0);
  EXPECT_EQ(d[s_.Field("b", "x")], 1);
  EXPECT_EQ(d[s_.Field("c", "y")], 1);  // reached twice, reported once at 1
  EXPECT_EQ(d[s_.Field("c", "x")], 2);
  EXPECT_EQ(r.edges.size(), 5u);  // every edge among them, the back edge c.x -> a.x too
  // Ordered by distance, then id.
  for (size_t i = 1; i < r.nodes.size(); ++i) {
    EXPECT_TRUE(std::tie(r.nodes[i - 1].distance, r.nodes[i - 1].id) <
                std::tie(r.nodes[i].distance, r.nodes[i].id));
  }

  // Without edges: the same nodes in the same order.
  ClosureResult nodes_only =
      Run({.root = s_.Field("a", "x"), .level = Level::kColumn, .collect_edges = false});
  EXPECT_TRUE(nodes_only.edges.empty());
  ASSERT_EQ(nodes_only.nodes.size(), r.nodes.size());
  for (size_t i = 0; i < r.nodes.size(); ++i) {
    EXPECT_EQ(nodes_only.nodes[i].id, r.nodes[i].id);
    EXPECT_EQ(nodes_only.nodes[i].distance, r.nodes[i].distance);
  }
}

TEST_F(ClosureTest, WideLevelsComeOutSortedById) {
  // a.x fans out to 3,000 columns of b (one level, long enough for the radix sort), and
  // each of those to one column of c.
  constexpr int kWide = 3000;
  Ds b{.name = "b"};
  Ds c{.name = "c"};
  for (int i = kWide - 1; i >= 0; --i) {  // reported in reverse, so ids are not in order
    b.lineage.push_back({"c" + std::to_string(i), {{.ns = "db", .name = "a", .field = "x"}}});
    c.lineage.push_back(
        {"c" + std::to_string(i), {{.ns = "db", .name = "b", .field = "c" + std::to_string(i)}}});
  }
  s_.MustIngest(RunEvent("j1", kRun1, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "a"}}, {b}));
  s_.MustIngest(RunEvent("j2", kRun2, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "b"}}, {c}));
  for (bool with_edges : {true, false}) {
    ClosureResult r =
        Run({.root = s_.Field("a", "x"), .level = Level::kColumn, .collect_edges = with_edges});
    ASSERT_EQ(r.nodes.size(), 1u + 2 * kWide);
    EXPECT_EQ(r.edges.size(), with_edges ? 2u * kWide : 0u);
    for (size_t i = 1; i < r.nodes.size(); ++i) {
      ASSERT_TRUE(std::tie(r.nodes[i - 1].distance, r.nodes[i - 1].id) <
                  std::tie(r.nodes[i].distance, r.nodes[i].id))
          << i;
    }
    auto d = Distances(r);
    EXPECT_EQ(d[s_.Field("b", "c17")], 1);
    EXPECT_EQ(d[s_.Field("c", "c2999")], 2);
  }
}

TEST_F(ClosureTest, DirectOnlySkipsIndirectEdges) {
  Ds b{.name = "b"};
  b.lineage = {
      {"total",
       {{.ns = "db", .name = "a", .field = "amount", .subtype = "AGGREGATION"},
        {.ns = "db", .name = "a", .field = "status", .type = "INDIRECT", .subtype = "FILTER"}}}};
  s_.MustIngest(RunEvent("j1", kRun1, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "a"}}, {b}));
  auto all = Distances(Run({.root = s_.Field("b", "total"),
                            .direction = Direction::kUpstream,
                            .level = Level::kColumn}));
  EXPECT_EQ(all.size(), 3u);
  auto direct = Distances(Run({.root = s_.Field("b", "total"),
                               .direction = Direction::kUpstream,
                               .level = Level::kColumn,
                               .direct_only = true}));
  EXPECT_EQ(direct.size(), 2u);
  EXPECT_TRUE(direct.count(s_.Field("a", "amount")));
}

TEST_F(ClosureTest, AsOfAnswersFromTheGraphAsItStood) {
  s_.MustIngest(
      RunEvent("j1", kRun1, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "a"}}, {{.name = "b"}}));
  s_.MustIngest(
      RunEvent("j1", kRun2, "COMPLETE", "2024-01-03T00:00:00Z", {{.name = "a"}}, {{.name = "c"}}));
  auto now = Distances(Run({.root = s_.Dataset("a")}));
  EXPECT_TRUE(now.count(s_.Dataset("c")));
  EXPECT_FALSE(now.count(s_.Dataset("b")));
  auto then =
      Distances(Run({.root = s_.Dataset("a"), .as_of = *ParseTime("2024-01-02T00:00:00Z")}));
  EXPECT_TRUE(then.count(s_.Dataset("b")));
  EXPECT_FALSE(then.count(s_.Dataset("c")));
  auto before =
      Distances(Run({.root = s_.Dataset("a"), .as_of = *ParseTime("2023-01-01T00:00:00Z")}));
  EXPECT_EQ(before.size(), 1u);  // only the root: nothing existed yet
}

TEST_F(ClosureTest, BothDirectionsAndJobRootsAtColumnLevel) {
  Ds b{.name = "b"};
  b.lineage = {{"x", {{.ns = "db", .name = "a", .field = "x"}}}};
  Ds c{.name = "c"};
  c.lineage = {{"x", {{.ns = "db", .name = "b", .field = "x"}}}};
  s_.MustIngest(RunEvent("j1", kRun1, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "a"}}, {b}));
  s_.MustIngest(RunEvent("j2", kRun2, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "b"}}, {c}));
  auto both = Distances(
      Run({.root = s_.Field("b", "x"), .direction = Direction::kBoth, .level = Level::kColumn}));
  EXPECT_EQ(both.size(), 3u);
  auto job = Distances(Run({.root = s_.Job("j2"), .level = Level::kColumn}));
  EXPECT_EQ(job[s_.Job("j2")], 0);
  EXPECT_EQ(job[s_.Field("c", "x")], 1);
  EXPECT_FALSE(job.count(s_.Field("a", "x")));
  auto job_up = Distances(
      Run({.root = s_.Job("j2"), .direction = Direction::kUpstream, .level = Level::kColumn}));
  EXPECT_EQ(job_up[s_.Field("b", "x")], 1);
  EXPECT_EQ(job_up[s_.Field("a", "x")], 2);
}

TEST_F(ClosureTest, NodeWithNoLineageIsItsOwnClosure) {
  s_.MustIngest(
      RunEvent("j1", kRun4, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "lonely"}}, {}));
  ClosureResult r = Run({.root = s_.Dataset("lonely"), .level = Level::kColumn});
  EXPECT_EQ(r.nodes.size(), 1u);
  EXPECT_TRUE(r.edges.empty());
}

TEST(LineageGraphTest, IncrementalUpdatesEqualAFreshLoad) {
  TestStore s;
  auto g = LineageGraph::Load(s.store());
  ASSERT_TRUE(g.ok());
  std::unique_ptr<LineageGraph> live = std::move(g).value();
  // Enough edges to force several rebuilds of the compressed graph.
  for (int i = 0; i < 300; ++i) {
    Ds out{.name = "t" + std::to_string(i + 1)};
    for (int c = 0; c < 20; ++c) {
      out.lineage.push_back(
          {"c" + std::to_string(c),
           {{.ns = "db", .name = "t" + std::to_string(i), .field = "c" + std::to_string(c)}}});
    }
    std::string run = "01890000-0000-7000-8000-" + std::to_string(100000000000 + i);
    GraphDelta delta;
    auto r = s.Ingest(RunEvent("j" + std::to_string(i), run, "COMPLETE", "2024-01-01T00:00:00Z",
                               {{.name = "t" + std::to_string(i)}}, {out}),
                      &delta);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    live->ApplyDelta(delta);
  }
  auto fresh = LineageGraph::Load(s.store());
  ASSERT_TRUE(fresh.ok());
  ClosureQuery q{.root = s.Field("t0", "c3"), .level = Level::kColumn};
  auto a = ComputeClosure(live->Read(), q);
  auto b = ComputeClosure((*fresh)->Read(), q);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->nodes.size(), 301u);
  EXPECT_EQ(Distances(*a), Distances(*b));
  EXPECT_EQ(live->Read().counts().current_column_edges, 6000u);
}

// counts() as a count over every node and edge record would give it.
GraphCounts CountedOneByOne(const GraphReader& g) {
  GraphCounts c;
  for (NodeId id = 0; id < g.node_capacity(); ++id) {
    const GraphNode& n = g.node(id);
    if (!n.present) continue;
    c.datasets += n.kind == NodeKind::kDataset;
    c.jobs += n.kind == NodeKind::kJob;
    c.fields += n.kind == NodeKind::kField;
  }
  c.edges = g.counts().edges;
  for (uint32_t i = 0; i < c.edges; ++i) {
    const GraphEdge& e = g.edge(i);
    if (!e.current()) continue;
    (e.kind == EdgeKind::kDerive ? c.current_column_edges : c.current_dataset_edges) += 1;
  }
  c.runs = g.counts().runs;
  return c;
}

void ExpectSameCounts(const GraphCounts& a, const GraphCounts& b) {
  EXPECT_EQ(a.datasets, b.datasets);
  EXPECT_EQ(a.jobs, b.jobs);
  EXPECT_EQ(a.fields, b.fields);
  EXPECT_EQ(a.runs, b.runs);
  EXPECT_EQ(a.edges, b.edges);
  EXPECT_EQ(a.current_column_edges, b.current_column_edges);
  EXPECT_EQ(a.current_dataset_edges, b.current_dataset_edges);
}

// The counts are kept as edges come, retire and come back, and equal a count of the records,
// in the graph kept up to date and in one loaded afresh.
TEST(LineageGraphTest, CountsFollowEdgesThatRetireAndReturn) {
  TestStore s;
  auto g = LineageGraph::Load(s.store());
  ASSERT_TRUE(g.ok());
  std::unique_ptr<LineageGraph> live = std::move(g).value();
  const std::vector<std::string> run_ids = {"01890000-0000-7000-8000-000000000001",
                                            "01890000-0000-7000-8000-000000000002",
                                            "01890000-0000-7000-8000-000000000003"};
  auto run = [&](int i, std::vector<std::string> columns, std::vector<std::string> reads) {
    Ds out{.name = "out"};
    for (const auto& c : columns)
      out.lineage.push_back({c, {{.ns = "db", .name = "src", .field = c}}});
    std::vector<Ds> inputs;
    for (const auto& r : reads) inputs.push_back({.name = r});
    GraphDelta delta;
    auto r = s.Ingest(RunEvent("j", run_ids[i], "COMPLETE",
                               "2024-01-0" + std::to_string(i + 1) + "T00:00:00Z", inputs, {out}),
                      &delta);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    live->ApplyDelta(delta);
  };
  run(0, {"a", "b"}, {"src", "side"});
  GraphCounts c = live->Read().counts();
  EXPECT_EQ(c.current_column_edges, 2u);
  EXPECT_EQ(c.current_dataset_edges, 3u);  // src -> j, side -> j, j -> out
  EXPECT_EQ(c.datasets, 3u);
  EXPECT_EQ(c.jobs, 1u);
  EXPECT_EQ(c.fields, 4u);  // src.a, src.b, out.a, out.b
  ExpectSameCounts(c, CountedOneByOne(live->Read()));

  run(1, {"a"}, {"src"});  // b's edge and the read of `side` retire
  c = live->Read().counts();
  EXPECT_EQ(c.current_column_edges, 1u);
  EXPECT_EQ(c.current_dataset_edges, 2u);
  EXPECT_EQ(c.fields, 4u);
  ExpectSameCounts(c, CountedOneByOne(live->Read()));

  run(2, {"a", "b"}, {"src", "side"});  // and come back
  c = live->Read().counts();
  EXPECT_EQ(c.current_column_edges, 2u);
  EXPECT_EQ(c.current_dataset_edges, 3u);
  EXPECT_EQ(c.runs, 3u);
  ExpectSameCounts(c, CountedOneByOne(live->Read()));

  auto fresh = LineageGraph::Load(s.store());
  ASSERT_TRUE(fresh.ok());
  ExpectSameCounts((*fresh)->Read().counts(), c);
  ExpectSameCounts((*fresh)->Read().counts(), CountedOneByOne((*fresh)->Read()));
}

// The graph finds a dataset, job or field by every name the store's name index holds for
// it (namespaces with ports, former names, symlinks), both kept up to date and loaded
// afresh, and nothing by names the store does not hold.
TEST(LineageGraphTest, NamesResolveAsInTheStore) {
  TestStore s;
  auto g = LineageGraph::Load(s.store());
  ASSERT_TRUE(g.ok());
  std::unique_ptr<LineageGraph> live = std::move(g).value();
  auto ingest = [&](const std::string& event) {
    GraphDelta delta;
    auto r = s.Ingest(event, &delta);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    live->ApplyDelta(delta);
  };
  const std::string pg = "postgres://db.prod:5432";
  Ds orders{.ns = pg, .name = "shop.public.orders", .columns = {"id", "a:b"}};
  Ds copy{.ns = pg, .name = "shop.public.orders:copy"};
  copy.lineage = {{"id", {{.ns = pg, .name = "shop.public.orders", .field = "id"}}}};
  ingest(RunEvent("copy", "01890000-0000-7000-8000-000000000001", "COMPLETE",
                  "2024-01-01T00:00:00Z", {orders}, {copy}));
  Ds renamed{.ns = pg, .name = "shop.public.orders_v2"};
  nlohmann::json lc = testing::FacetBase("LifecycleStateChangeDatasetFacet");
  lc["lifecycleStateChange"] = "RENAME";
  lc["previousIdentifier"] = {{"namespace", pg}, {"name", "shop.public.orders"}};
  renamed.extra_facets["lifecycleStateChange"] = lc;
  Ds linked{.ns = "hdfs://nn:8020", .name = "/warehouse/t1"};
  nlohmann::json sl = testing::FacetBase("SymlinksDatasetFacet");
  sl["identifiers"] = {
      {{"namespace", "hive://meta:9083"}, {"name", "default.t1"}, {"type", "TABLE"}}};
  linked.extra_facets["symlinks"] = sl;
  ingest(RunEvent("rename", "01890000-0000-7000-8000-000000000002", "COMPLETE",
                  "2024-01-02T00:00:00Z", {}, {renamed, linked}));

  auto fresh = LineageGraph::Load(s.store());
  ASSERT_TRUE(fresh.ok());
  for (const LineageGraph* graph : {live.get(), fresh->get()}) {
    GraphReader r = graph->Read();
    size_t names = 0;
    for (char kind : {'d', 'j'}) {
      auto keys = s.store().ScanNames(std::string(1, kind));
      ASSERT_TRUE(keys.ok());
      for (const auto& [key, id] : *keys) {
        Decoder d(std::string_view(key).substr(1));
        std::string_view ns;
        ASSERT_TRUE(d.GetLengthPrefixed(&ns));
        const std::string_view name = d.rest();
        EXPECT_EQ(kind == 'd' ? r.FindDataset(ns, name) : r.FindJob(ns, name), id)
            << ns << " " << name;
        ++names;
      }
    }
    // orders_v2 and its former name, the copy, /warehouse/t1 and its symlink; two jobs.
    EXPECT_EQ(names, 7u);
    Status fields = s.store().ForEachNode([&](const NodeRecord& n) {
      if (n.kind == NodeKind::kField) EXPECT_EQ(r.FindField(n.dataset, n.field), n.id) << n.field;
      return Status::Ok();
    });
    EXPECT_TRUE(fields.ok());
    const NodeId orders_id = s.Dataset("shop.public.orders_v2", pg);
    EXPECT_EQ(r.FindDataset(pg, "shop.public.orders"), orders_id);
    EXPECT_EQ(r.FindDataset("hive://meta:9083", "default.t1"),
              s.Dataset("/warehouse/t1", "hdfs://nn:8020"));
    EXPECT_EQ(r.FindField(orders_id, "a:b"), s.Field("shop.public.orders_v2", "a:b", pg));
    EXPECT_FALSE(r.FindDataset(pg, "shop.public.nope"));
    EXPECT_FALSE(r.FindDataset("postgres://db.prod", "5432:shop.public.orders_v2"));
    EXPECT_FALSE(r.FindJob(pg, "shop.public.orders_v2"));  // a dataset's name, not a job's
    EXPECT_FALSE(r.FindField(orders_id, "nope"));
    EXPECT_FALSE(r.FindField(orders_id, "shop.public.orders_v2"));  // a text, not a field
  }
}

// A plain search over the edge records: the current column edges out of (or into) each
// reached field, up to `depth`. Distances by node id; `edges` gets every edge crossed.
std::map<NodeId, int> SearchEdgeRecords(const GraphReader& g, NodeId root, bool upstream, int depth,
                                        std::vector<uint32_t>* edges,
                                        std::optional<Micros> as_of = std::nullopt,
                                        bool direct_only = false) {
  std::map<NodeId, int> dist{{root, 0}};
  std::deque<NodeId> queue{root};
  while (!queue.empty()) {
    NodeId v = queue.front();
    queue.pop_front();
    if (depth >= 0 && dist[v] >= depth) continue;
    std::vector<uint32_t> out;
    g.AppendEdges(v, /*outgoing=*/!upstream, &out);
    for (uint32_t ei : out) {
      const GraphEdge& e = g.edge(ei);
      if (e.kind != EdgeKind::kDerive || !(as_of ? e.ValidAt(*as_of) : e.current())) continue;
      if (direct_only &&
          std::none_of(g.transforms(e.transforms).begin(), g.transforms(e.transforms).end(),
                       [](const Transform& t) { return t.type == "DIRECT"; })) {
        continue;
      }
      edges->push_back(ei);
      NodeId w = upstream ? e.from : e.to;
      if (dist.emplace(w, dist[v] + 1).second) queue.push_back(w);
    }
  }
  return dist;
}

// The column walk reads the graph's arrays directly: current lineage by a bit per edge, a
// moment in the past by the edges' records. Against a plain search: on edges in the
// compressed graph and in its overflow, edges retired by a later run of their job, DIRECT
// and INDIRECT transformations, and cycles; every field as root both ways, now and at
// moments before, between and after the runs, with and without direct_only.
TEST(LineageGraphTest, ColumnWalkEqualsASearchOverEdgeRecords) {
  TestStore s;
  std::mt19937 rng(11);
  constexpr int kDatasets = 30;
  constexpr int kColumns = 5;
  auto event = [&](int target, int run) {
    Ds out{.name = "t" + std::to_string(target)};
    for (int c = 0; c < kColumns; ++c) {
      std::vector<Ds::In> ins;
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
        // Mostly from earlier datasets; one input in ten from anywhere, which makes cycles.
        int from = rng() % 10 == 0 ? static_cast<int>(rng() % kDatasets)
                                   : static_cast<int>(rng() % std::max(1, target));
        const bool direct = rng() % 3 != 0;
        ins.push_back({.ns = "db",
                       .name = "t" + std::to_string(from),
                       .field = "c" + std::to_string(rng() % kColumns),
                       .type = direct ? "DIRECT" : "INDIRECT",
                       .subtype = direct ? "IDENTITY" : "FILTER"});
      }
      out.lineage.push_back({"c" + std::to_string(c), ins});
    }
    std::string run_id = "01890000-0000-7000-8000-" + std::to_string(100000000000 + run);
    std::string time = "2024-01-0" + std::to_string(1 + run / 100) + "T00:00:00Z";
    return RunEvent("j" + std::to_string(target), run_id, "COMPLETE", time, {}, {out});
  };
  // The first half loaded from the store (the compressed graph), the rest applied as deltas
  // (its overflow); then a second run of ten jobs with other lineage retires edges of both.
  for (int i = 0; i < kDatasets / 2; ++i) s.MustIngest(event(i, i));
  auto loaded = LineageGraph::Load(s.store());
  ASSERT_TRUE(loaded.ok());
  std::unique_ptr<LineageGraph> graph = std::move(loaded).value();
  auto apply = [&](const std::string& json) {
    GraphDelta delta;
    auto r = s.Ingest(json, &delta);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    graph->ApplyDelta(delta);
  };
  for (int i = kDatasets / 2; i < kDatasets; ++i) apply(event(i, i));
  for (int i = 0; i < kDatasets; i += 3) apply(event(i, 100 + i));

  GraphReader g = graph->Read();
  uint64_t retired = 0;
  for (uint32_t i = 0; i < g.counts().edges; ++i) {
    if (g.edge(i).kind == EdgeKind::kDerive && !g.edge(i).current()) ++retired;
  }
  EXPECT_GT(retired, 0u);
  // Before any run; the first runs' moment exactly; between the two days; after both.
  const std::vector<std::optional<Micros>> moments = {
      std::nullopt, *ParseTime("2023-12-31T00:00:00Z"), *ParseTime("2024-01-01T00:00:00Z"),
      *ParseTime("2024-01-01T12:00:00Z"), *ParseTime("2024-01-03T00:00:00Z")};
  size_t nonempty_direct = 0;
  for (int t = 0; t < kDatasets; ++t) {
    for (int c = 0; c < kColumns; ++c) {
      NodeId root = s.Field("t" + std::to_string(t), "c" + std::to_string(c));
      ASSERT_NE(root, kNoNode);
      for (bool upstream : {false, true}) {
        for (int depth : {-1, 2}) {
          for (const std::optional<Micros>& as_of : moments) {
            for (bool direct_only : {false, true}) {
              std::vector<uint32_t> want_edges;
              auto want =
                  SearchEdgeRecords(g, root, upstream, depth, &want_edges, as_of, direct_only);
              std::sort(want_edges.begin(), want_edges.end());
              auto got = ComputeClosure(
                  g, {.root = root,
                      .direction = upstream ? Direction::kUpstream : Direction::kDownstream,
                      .depth = depth,
                      .level = Level::kColumn,
                      .direct_only = direct_only,
                      .as_of = as_of});
              ASSERT_TRUE(got.ok());
              SCOPED_TRACE("t" + std::to_string(t) + ".c" + std::to_string(c) +
                           (upstream ? " upstream" : " downstream") + " depth " +
                           std::to_string(depth) + " as of " +
                           (as_of ? FormatTime(*as_of) : "now") +
                           (direct_only ? " direct only" : ""));
              EXPECT_EQ(Distances(*got), want);
              EXPECT_EQ(got->edges, want_edges);
              if (direct_only && want.size() > 1) ++nonempty_direct;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(nonempty_direct, 100u);  // the DIRECT-only walks reach past their roots
}

// A graph loaded from a store with nodes but no edges has a CSR of vertices without rows of
// edges; lineage that arrives afterwards lives in its overflow until the next rebuild.
TEST(LineageGraphTest, ColumnWalkOverACsrWithoutEdges) {
  TestStore s;
  s.MustIngest(
      RunEvent("j0", kRun1, "COMPLETE", "2024-01-01T00:00:00Z", {{.name = "a"}}, {{.name = "b"}}));
  auto loaded = LineageGraph::Load(s.store());
  ASSERT_TRUE(loaded.ok());
  std::unique_ptr<LineageGraph> graph = std::move(loaded).value();
  Ds c{.name = "c"};
  c.lineage = {
      {"x", {{.ns = "db", .name = "a", .field = "x"}}},
      {"y", {{.ns = "db", .name = "a", .field = "x"}, {.ns = "db", .name = "b", .field = "y"}}}};
  GraphDelta delta;
  ASSERT_TRUE(s.Ingest(RunEvent("j1", kRun2, "COMPLETE", "2024-01-02T00:00:00Z",
                                {{.name = "a"}, {.name = "b"}}, {c}),
                       &delta)
                  .ok());
  graph->ApplyDelta(delta);
  GraphReader g = graph->Read();
  for (NodeId root : {s.Field("a", "x"), s.Field("b", "y"), s.Field("c", "y")}) {
    ASSERT_NE(root, kNoNode);
    for (bool upstream : {false, true}) {
      std::vector<uint32_t> want_edges;
      auto want = SearchEdgeRecords(g, root, upstream, -1, &want_edges);
      std::sort(want_edges.begin(), want_edges.end());
      auto got =
          ComputeClosure(g, {.root = root,
                             .direction = upstream ? Direction::kUpstream : Direction::kDownstream,
                             .level = Level::kColumn});
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(Distances(*got), want);
      EXPECT_EQ(got->edges, want_edges);
    }
  }
  EXPECT_EQ(
      Distances(*ComputeClosure(g, {.root = s.Field("a", "x"), .level = Level::kColumn})).size(),
      3u);  // a.x, c.x, c.y
}

}  // namespace
}  // namespace tributary
