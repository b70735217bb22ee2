// Blast radius, root cause, paths, diff and run lineage on small graphs built from events.
#include <gtest/gtest.h>

#include <map>

#include "analysis/blast_radius.h"
#include "analysis/domain_map.h"
#include "analysis/lineage_diff.h"
#include "analysis/lineage_paths.h"
#include "analysis/root_cause.h"
#include "analysis/run_lineage.h"
#include "tests/test_util.h"

namespace tributary {
namespace {

using testing::Ds;
using testing::RunEvent;
using testing::TestStore;

std::string RunId(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "01890000-0000-7000-8000-%012d", i);
  return buf;
}

Ds Derived(const std::string& name, const std::string& from,
           std::vector<std::pair<std::string, std::string>> cols,
           const std::string& type = "DIRECT", const std::string& subtype = "IDENTITY") {
  Ds d{.name = name};
  for (auto& [out, in] : cols) {
    d.columns.push_back(out);
    d.lineage.push_back(
        {out, {{.ns = "db", .name = from, .field = in, .type = type, .subtype = subtype}}});
  }
  return d;
}

class IncidentTest : public ::testing::Test {
 protected:
  GraphReader Reader() {
    auto g = LineageGraph::Load(s_.store());
    EXPECT_TRUE(g.ok());
    graph_ = std::move(g).value();
    return graph_->Read();
  }
  void Complete(const std::string& job, int run, const char* time, std::vector<Ds> in,
                std::vector<Ds> out, const std::string& type = "COMPLETE") {
    s_.MustIngest(RunEvent(job, RunId(run), type, time, in, out));
  }

  TestStore s_;
  std::unique_ptr<LineageGraph> graph_;
};

const char* kT1 = "2024-01-01T00:00:00Z";

TEST_F(IncidentTest, CoverageGapsAreWholeDatasetsAndSaidSo) {
  // a -(column lineage)-> b -(no column lineage)-> c -(column lineage)-> d
  Complete("j1", 1, kT1, {{.name = "a", .columns = {"x", "y"}}}, {Derived("b", "a", {{"x", "x"}})});
  Complete("j2", 2, kT1, {{.name = "b"}}, {{.name = "c", .columns = {"p", "q"}}});
  Complete("j3", 3, kT1, {{.name = "c"}}, {Derived("d", "c", {{"p2", "p"}})});
  GraphReader g = Reader();
  auto r = ComputeBlastRadius(g, {.roots = {s_.Field("a", "x")}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::map<NodeId, const ImpactedDataset*> by;
  for (const auto& d : r->datasets) by[d.dataset] = &d;
  ASSERT_EQ(by.size(), 4u);
  EXPECT_TRUE(by[s_.Dataset("b")]->exact);
  EXPECT_EQ(by[s_.Dataset("b")]->distance, 1);
  const ImpactedDataset* c = by[s_.Dataset("c")];
  EXPECT_FALSE(c->exact);
  EXPECT_TRUE(c->whole);
  EXPECT_EQ(c->distance, 2);
  EXPECT_EQ(c->columns.size(), 2u);  // every column of c, none known precisely
  EXPECT_FALSE(by[s_.Dataset("d")]->exact);
  EXPECT_EQ(by[s_.Dataset("d")]->distance, 3);
  ASSERT_EQ(r->gaps.size(), 1u);
  EXPECT_EQ(r->gaps[0].job, s_.Job("j2"));
  EXPECT_EQ(r->gaps[0].from, s_.Dataset("b"));
  EXPECT_EQ(r->gaps[0].to, s_.Dataset("c"));
  // The path to d crosses the gap.
  const auto& path = by[s_.Dataset("d")]->path;
  ASSERT_GE(path.size(), 3u);
  bool crosses = false;
  for (const auto& step : path) crosses |= step.gap;
  EXPECT_TRUE(crosses);
  EXPECT_EQ(path.back().node, s_.Field("d", "p2"));
  EXPECT_EQ(path.back().job, s_.Job("j3"));
}

TEST_F(IncidentTest, PathThroughAGapStartsAtTheRoot) {
  Complete("j1", 1, kT1, {{.name = "a", .columns = {"x"}}}, {Derived("b", "a", {{"x", "x"}})});
  Complete("j2", 2, kT1, {{.name = "b"}}, {{.name = "c", .columns = {"p"}}});
  GraphReader g = Reader();
  auto r = ComputeBlastRadius(g, {.roots = {s_.Field("a", "x")}});
  ASSERT_TRUE(r.ok());
  const ImpactedDataset& c = r->datasets.back();
  ASSERT_EQ(c.dataset, s_.Dataset("c"));
  ASSERT_GE(c.path.size(), 3u);
  EXPECT_EQ(c.path.front().node, s_.Field("a", "x"));
  // Behind the gap nothing is known about how values flow: not "indirect only".
  EXPECT_FALSE(c.indirect_only);
  for (const auto& col : c.columns) EXPECT_FALSE(col.indirect_only);
}

// The three walks (every hop, exact hops, DIRECT ones) in each combination the shortcuts
// between them meet: a gap and an INDIRECT edge together; only DIRECT edges, no gap.
TEST_F(IncidentTest, ExactAndIndirectFlagsWithAndWithoutGaps) {
  // a.x -(INDIRECT)-> b.f; a.x -(DIRECT)-> b.x; b -(no column lineage)-> c; c.p -> d.p.
  Ds b{.name = "b"};
  b.lineage = {
      {"f", {{.ns = "db", .name = "a", .field = "x", .type = "INDIRECT", .subtype = "FILTER"}}},
      {"x", {{.ns = "db", .name = "a", .field = "x"}}}};
  Complete("j1", 1, kT1, {{.name = "a", .columns = {"x"}}}, {b});
  Complete("j2", 2, kT1, {{.name = "b"}}, {{.name = "c", .columns = {"p"}}});
  Complete("j3", 3, kT1, {{.name = "c"}}, {Derived("d", "c", {{"p", "p"}})});
  Ds e{.name = "e"};
  e.lineage = {{"k", {{.ns = "db", .name = "b", .field = "f"}}}};
  Complete("j4", 4, kT1, {{.name = "b"}}, {e});
  GraphReader g = Reader();
  auto r = ComputeBlastRadius(g, {.roots = {s_.Field("a", "x")}});
  ASSERT_TRUE(r.ok());
  std::map<NodeId, const ImpactedDataset*> by;
  for (const auto& d : r->datasets) by[d.dataset] = &d;
  ASSERT_EQ(by.size(), 5u);
  EXPECT_EQ(r->gaps.size(), 1u);
  EXPECT_TRUE(by[s_.Dataset("b")]->exact);
  EXPECT_FALSE(by[s_.Dataset("b")]->indirect_only);
  EXPECT_TRUE(by[s_.Dataset("e")]->exact);
  EXPECT_TRUE(by[s_.Dataset("e")]->indirect_only);  // only through the filter
  EXPECT_FALSE(by[s_.Dataset("c")]->exact);         // behind the gap
  EXPECT_FALSE(by[s_.Dataset("d")]->exact);
  EXPECT_FALSE(by[s_.Dataset("d")]->indirect_only);

  // DIRECT edges only: a walk with direct_only reports the same datasets, none of them
  // indirect only; and e, reached only through the filter, is not reached.
  auto direct = ComputeBlastRadius(g, {.roots = {s_.Field("a", "x")}, .direct_only = true});
  ASSERT_TRUE(direct.ok());
  std::map<NodeId, const ImpactedDataset*> dby;
  for (const auto& d : direct->datasets) dby[d.dataset] = &d;
  EXPECT_EQ(dby.count(s_.Dataset("e")), 0u);
  for (const auto& [id, d] : dby) EXPECT_FALSE(d->indirect_only) << id;

  // From c.p, no gap and only DIRECT edges: d is exact and not indirect only.
  auto clean = ComputeBlastRadius(g, {.roots = {s_.Field("c", "p")}});
  ASSERT_TRUE(clean.ok());
  ASSERT_EQ(clean->datasets.size(), 2u);  // c and d
  EXPECT_TRUE(clean->gaps.empty());
  for (const auto& d : clean->datasets) {
    EXPECT_TRUE(d.exact);
    EXPECT_FALSE(d.indirect_only);
    for (const auto& col : d.columns) EXPECT_TRUE(col.exact && !col.indirect_only);
  }
}

TEST_F(IncidentTest, DepthZeroOnAJobRootReportsNothingBeyondIt) {
  Complete("j1", 1, kT1, {{.name = "a", .columns = {"x"}}}, {Derived("b", "a", {{"x", "x"}})});
  GraphReader g = Reader();
  auto r = ComputeBlastRadius(g, {.roots = {s_.Job("j1")}, .depth = 0});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->datasets.empty());
  // A broken run's outputs are one hop away, like a job's.
  auto run = ComputeBlastRadius(g, {.written_by = {{s_.Job("j1"), s_.Dataset("b")}}});
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->datasets.size(), 1u);
  EXPECT_EQ(run->datasets[0].distance, 1);
}

TEST_F(IncidentTest, ColumnLineageExcludesUnaffectedColumnsAndDatasets) {
  // b.x comes from a.x, b.y from a.y; c comes only from b.y.
  Complete("j1", 1, kT1, {{.name = "a", .columns = {"x", "y"}}},
           {Derived("b", "a", {{"x", "x"}, {"y", "y"}})});
  Complete("j2", 2, kT1, {{.name = "b"}}, {Derived("c", "b", {{"z", "y"}})});
  GraphReader g = Reader();
  auto r = ComputeBlastRadius(g, {.roots = {s_.Field("a", "x")}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->datasets.size(), 2u);  // a and b: c is not reached from a.x
  EXPECT_TRUE(r->gaps.empty());
  EXPECT_EQ(r->datasets[1].columns.size(), 1u);
}

TEST_F(IncidentTest, IndirectOnlyDiamondsCyclesAndDepth) {
  // b.f is only filtered by a.x (INDIRECT); b.x copies a.x; c.x from b.x and from a.x
  // (a diamond); a.x also derives from c.x (a cycle).
  Ds b{.name = "b"};
  b.lineage = {
      {"f", {{.ns = "db", .name = "a", .field = "x", .type = "INDIRECT", .subtype = "FILTER"}}},
      {"x", {{.ns = "db", .name = "a", .field = "x"}}}};
  Complete("j1", 1, kT1, {{.name = "a"}}, {b});
  Ds c{.name = "c"};
  c.lineage = {
      {"x", {{.ns = "db", .name = "b", .field = "x"}, {.ns = "db", .name = "a", .field = "x"}}}};
  Complete("j2", 2, kT1, {{.name = "b"}}, {c});
  Complete("j3", 3, kT1, {{.name = "c"}}, {Derived("a", "c", {{"x", "x"}})});
  Ds only_filtered{.name = "e"};
  only_filtered.lineage = {{"k", {{.ns = "db", .name = "b", .field = "f"}}}};
  Complete("j4", 4, kT1, {{.name = "b"}}, {only_filtered});
  GraphReader g = Reader();
  auto r = ComputeBlastRadius(g, {.roots = {s_.Field("a", "x")}});
  ASSERT_TRUE(r.ok());
  std::map<NodeId, const ImpactedDataset*> by;
  for (const auto& d : r->datasets) by[d.dataset] = &d;
  EXPECT_EQ(by.size(), 4u);
  EXPECT_EQ(by[s_.Dataset("c")]->distance, 1);  // the diamond's short side
  EXPECT_FALSE(by[s_.Dataset("b")]->indirect_only);
  EXPECT_TRUE(by[s_.Dataset("e")]->indirect_only);  // reached only through the filter
  for (const auto& col : by[s_.Dataset("b")]->columns) {
    EXPECT_EQ(col.indirect_only, col.field == s_.Field("b", "f"));
  }
  auto shallow = ComputeBlastRadius(g, {.roots = {s_.Field("a", "x")}, .depth = 1});
  ASSERT_TRUE(shallow.ok());
  EXPECT_EQ(shallow->datasets.size(), 3u);  // a, b, c
}

TEST_F(IncidentTest, JobRootsAsOfAndBadRoots) {
  Complete("j1", 1, "2024-01-02T00:00:00Z", {{.name = "a", .columns = {"x"}}},
           {Derived("b", "a", {{"x", "x"}})});
  GraphReader g = Reader();
  auto job = ComputeBlastRadius(g, {.roots = {s_.Job("j1")}});
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(job->datasets.size(), 1u);
  EXPECT_EQ(job->datasets[0].dataset, s_.Dataset("b"));
  EXPECT_EQ(job->datasets[0].distance, 1);
  auto before = ComputeBlastRadius(
      g, {.roots = {s_.Field("a", "x")}, .as_of = *ParseTime("2023-12-31T00:00:00Z")});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->datasets.size(), 1u);  // only the root: nothing downstream existed yet
  // A dataset nothing reads: the answer is the dataset itself.
  auto alone = ComputeBlastRadius(g, {.roots = {s_.Dataset("b")}});
  ASSERT_TRUE(alone.ok());
  ASSERT_EQ(alone->datasets.size(), 1u);
  EXPECT_TRUE(alone->datasets[0].whole);
  EXPECT_TRUE(alone->jobs.empty());
  auto run_root = ComputeBlastRadius(g, {.roots = {g.node(s_.Job("j1")).latest_run}});
  ASSERT_FALSE(run_root.ok());
  EXPECT_EQ(run_root.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IncidentTest, RootCauseFindsTheFailedUpstreamJob) {
  Complete("load", 1, "2024-01-01T00:00:00Z", {{.name = "src"}}, {{.name = "a"}});
  Complete("build", 2, "2024-01-01T01:00:00Z", {{.name = "a"}}, {{.name = "b"}});
  s_.MustIngest(RunEvent("load", RunId(3), "START", "2024-01-02T00:00:00Z", {{.name = "src"}}, {}));
  nlohmann::json err = testing::FacetBase("ErrorMessageRunFacet");
  err["message"] = "disk full";
  err["programmingLanguage"] = "python";
  s_.MustIngest(
      RunEvent("load", RunId(3), "FAIL", "2024-01-02T00:10:00Z", {}, {}, {{"errorMessage", err}}));
  GraphReader g = Reader();
  RootCauseQuery q{.root = s_.Dataset("b"), .now = *ParseTime("2024-01-02T01:00:00Z")};
  auto r = FindRootCauses(g, q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs_checked, 2u);
  ASSERT_EQ(r->suspects.size(), 1u);
  EXPECT_EQ(r->suspects[0].job, s_.Job("load"));
  EXPECT_TRUE(r->suspects[0].failed);
  EXPECT_EQ(r->suspects[0].distance, 2);
  EXPECT_EQ(r->suspects[0].error_message, "disk full");
  // As of before the failure, nothing was wrong.
  q.as_of = *ParseTime("2024-01-01T12:00:00Z");
  r = FindRootCauses(g, q);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->suspects.empty());
  // Two days on with no success, both jobs are stale.
  q.as_of.reset();
  q.now = *ParseTime("2024-01-04T00:00:00Z");
  r = FindRootCauses(g, q);
  ASSERT_EQ(r->suspects.size(), 2u);
  EXPECT_EQ(r->suspects[0].job, s_.Job("build"));  // nearest first
  EXPECT_TRUE(r->suspects[0].stale);
}

TEST_F(IncidentTest, KShortestPathsAndWhetherMoreExist) {
  // a.x reaches d.x through b (2 edges), c (2 edges) and b then c (3 edges).
  Complete("jb", 1, kT1, {{.name = "a"}}, {Derived("b", "a", {{"x", "x"}})});
  Ds c{.name = "c"};
  c.lineage = {
      {"x", {{.ns = "db", .name = "a", .field = "x"}, {.ns = "db", .name = "b", .field = "x"}}}};
  Complete("jc", 2, kT1, {{.name = "a"}, {.name = "b"}}, {c});
  Ds d{.name = "d"};
  d.lineage = {
      {"x", {{.ns = "db", .name = "b", .field = "x"}, {.ns = "db", .name = "c", .field = "x"}}}};
  Complete("jd", 3, kT1, {{.name = "b"}, {.name = "c"}}, {d});
  GraphReader g = Reader();
  PathQuery q{.from = s_.Field("a", "x"), .to = s_.Field("d", "x"), .k = 2};
  auto r = FindPaths(g, q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->paths.size(), 2u);
  EXPECT_TRUE(r->more);
  EXPECT_EQ(r->paths[0].size(), 2u);
  EXPECT_EQ(r->paths[1].size(), 2u);
  q.k = 10;
  r = FindPaths(g, q);
  ASSERT_EQ(r->paths.size(), 3u);
  EXPECT_FALSE(r->more);
  EXPECT_EQ(r->paths[2].size(), 3u);
  auto none = FindPaths(g, {.from = s_.Field("d", "x"), .to = s_.Field("a", "x")});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->paths.empty());
  auto mixed = FindPaths(g, {.from = s_.Field("a", "x"), .to = s_.Dataset("d")});
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IncidentTest, DiffShowsAddedAndRetiredEdges) {
  Complete("j", 1, "2024-01-01T00:00:00Z", {{.name = "a"}}, {Derived("b", "a", {{"x", "old"}})});
  Complete("j", 2, "2024-01-03T00:00:00Z", {{.name = "a"}}, {Derived("b", "a", {{"x", "new"}})});
  GraphReader g = Reader();
  ClosureQuery base{
      .root = s_.Field("b", "x"), .direction = Direction::kUpstream, .level = Level::kColumn};
  auto d =
      ComputeDiff(g, base, *ParseTime("2024-01-02T00:00:00Z"), *ParseTime("2024-01-04T00:00:00Z"));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->added.size(), 1u);
  ASSERT_EQ(d->retired.size(), 1u);
  EXPECT_EQ(g.edge(d->added[0]).from, s_.Field("a", "new"));
  EXPECT_EQ(g.edge(d->retired[0]).from, s_.Field("a", "old"));
  auto empty =
      ComputeDiff(g, base, *ParseTime("2024-01-04T00:00:00Z"), *ParseTime("2024-01-05T00:00:00Z"));
  EXPECT_TRUE(empty->added.empty() && empty->retired.empty());
  EXPECT_FALSE(ComputeDiff(g, base, 10, 5).ok());
}

TEST_F(IncidentTest, UpstreamRunsFollowTheProducingRuns) {
  Complete("load", 1, "2024-01-01T00:00:00Z", {{.name = "src"}}, {{.name = "a"}});
  Complete("build", 2, "2024-01-01T01:00:00Z", {{.name = "a"}}, {{.name = "b"}});
  Complete("load", 3, "2024-01-02T00:00:00Z", {{.name = "src"}}, {{.name = "a"}});  // later
  GraphReader g = Reader();
  NodeId build_run = g.node(s_.Job("build")).latest_run;
  auto up = UpstreamRuns(g, build_run, 20);
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->size(), 2u);
  ASSERT_EQ((*up)[0].inputs.size(), 1u);
  const GraphRun* producer = g.run((*up)[0].inputs[0].produced_by);
  ASSERT_NE(producer, nullptr);
  EXPECT_EQ(producer->run_id, RunId(1));  // the run before, not the later one
  EXPECT_EQ((*up)[1].depth, 1);
}

}  // namespace
}  // namespace tributary

namespace tributary {
namespace {

TEST(DomainMapTest, TagsThenOwnersThenTheLongestPrefix) {
  auto m = DomainMap::Parse("# comment\n\npostgres:// = ops\npostgres://orders-db = orders\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  NodeRecord n;
  n.ns = "postgres://orders-db.prod:5432";
  EXPECT_EQ(m->DomainOf(n), "orders");
  n.ns = "postgres://other:5432";
  EXPECT_EQ(m->DomainOf(n), "ops");
  n.owners = {"team:x", "domain:finance"};
  EXPECT_EQ(m->DomainOf(n), "finance");
  n.tags = {{"domain", "sales", ""}};
  EXPECT_EQ(m->DomainOf(n), "sales");
  NodeRecord none;
  none.ns = "kafka://x";
  EXPECT_EQ(m->DomainOf(none), DomainMap::kUnassigned);
  auto bad = DomainMap::Parse("ok = fine\nno equals sign here\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().path(), "line 2");
}

// Blast radius groups datasets by owner and domain from the graph, not the store: the graph
// keeps each node's owners and domain tag as its deltas and a reload give them.
TEST(DomainMapTest, TheGraphKeepsOwnersAndDomainTags) {
  testing::TestStore s;
  auto facets = [](std::vector<std::string> owners, std::string domain) {
    nlohmann::json f = nlohmann::json::object();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& o : owners) list.push_back({{"name", o}, {"type", "MAINTAINER"}});
    f["ownership"] = {{"_producer", "p"}, {"_schemaURL", "s"}, {"owners", list}};
    nlohmann::json tags = nlohmann::json::array();
    if (!domain.empty()) tags.push_back({{"key", "domain"}, {"value", domain}, {"source", "x"}});
    tags.push_back({{"key", "pii"}, {"value", "true"}, {"field", "email"}, {"source", "x"}});
    f["tags"] = {{"_producer", "p"}, {"_schemaURL", "s"}, {"tags", tags}};
    return f;
  };
  auto event = [&](int run, nlohmann::json extra) {
    testing::Ds out{.name = "orders", .extra_facets = std::move(extra)};
    return testing::RunEvent("j", "01890000-0000-7000-8000-00000000000" + std::to_string(run),
                             "COMPLETE", "2024-01-0" + std::to_string(run) + "T00:00:00Z", {},
                             {out});
  };
  auto graph = std::move(LineageGraph::Load(s.store())).value();
  auto apply = [&](const std::string& json) {
    GraphDelta delta;
    auto r = s.Ingest(json, &delta);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    graph->ApplyDelta(delta);
  };
  const DomainMap none;
  auto domain_of = [&](const LineageGraph& g, NodeId id) { return none.DomainOf(g.Read(), id); };
  apply(event(1, facets({"team:orders", "user:ann"}, "sales")));
  NodeId ds = s.Dataset("orders");
  ASSERT_NE(ds, kNoNode);
  EXPECT_EQ(graph->Read().owners(ds), (std::vector<std::string>{"team:orders", "user:ann"}));
  EXPECT_EQ(graph->Read().domain_tag(ds), "sales");
  EXPECT_EQ(domain_of(*graph, ds), "sales");
  // The same as the store's record says, once reloaded.
  auto record = s.store().GetNodeRecord(ds);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ(graph->Read().owners(ds), (*record)->owners);
  EXPECT_EQ(domain_of(*graph, ds), none.DomainOf(**record));
  // Changed: a domain owner and no domain tag (a field's tag is not the dataset's).
  apply(event(2, facets({"domain:finance"}, "")));
  EXPECT_EQ(graph->Read().domain_tag(ds), "");
  EXPECT_EQ(domain_of(*graph, ds), "finance");
  auto reloaded = std::move(LineageGraph::Load(s.store())).value();
  EXPECT_EQ(reloaded->Read().owners(ds), std::vector<std::string>{"domain:finance"});
  EXPECT_EQ(domain_of(*reloaded, ds), "finance");
  // Neither: none kept.
  apply(event(3, facets({}, "")));
  EXPECT_TRUE(graph->Read().owners(ds).empty());
  EXPECT_EQ(domain_of(*graph, ds), DomainMap::kUnassigned);
}

}  // namespace
}  // namespace tributary
