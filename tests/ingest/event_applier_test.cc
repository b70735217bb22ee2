#include "ingest/event_applier.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tributary {
namespace {

using testing::Ds;
using testing::RunEvent;
using testing::TestStore;

const char* kT1 = "2024-03-01T10:00:00Z";
const char* kT2 = "2024-03-02T10:00:00Z";
const char* kT3 = "2024-03-03T10:00:00Z";
const char* kT4 = "2024-03-04T10:00:00Z";
const char* kRun1 = "01890000-0000-7000-8000-000000000001";
const char* kRun2 = "01890000-0000-7000-8000-000000000002";
const char* kRun3 = "01890000-0000-7000-8000-000000000003";

Micros T(const char* s) { return *ParseTime(s); }

TEST(EventApplierTest, EventsOfOneRunAccumulate) {
  TestStore s;
  s.MustIngest(RunEvent("etl", kRun1, "START", kT1, {{.name = "a"}}, {{.name = "b"}}));
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT2, {}, {}));
  EXPECT_TRUE(s.Current(s.Dataset("a"), EdgeKind::kRead, s.Job("etl")));
  EXPECT_TRUE(s.Current(s.Job("etl"), EdgeKind::kWrite, s.Dataset("b")));
}

// Column edges accumulate over a run's events too: an edge reported once stays (here one
// whose input sorts after all that the last event reports), and one reported again with
// another transformation carries both.
TEST(EventApplierTest, ColumnEdgesOfOneRunAccumulate) {
  TestStore s;
  Ds start{.name = "b"};
  start.lineage = {{"email", {{.ns = "db", .name = "a", .field = "email"}}},
                   {"id", {{.ns = "db", .name = "a", .field = "id"}}}};
  Ds complete{.name = "b"};
  complete.lineage = {
      {"email", {{.ns = "db", .name = "a", .field = "email", .subtype = "TRANSFORMATION"}}}};
  s.MustIngest(RunEvent("etl", kRun1, "START", kT1, {{.name = "a"}}, {start}));
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT2, {{.name = "a"}}, {complete}));
  EXPECT_TRUE(s.Current(s.Field("a", "id"), EdgeKind::kDerive, s.Field("b", "id")));
  auto e = s.Edges(s.Field("a", "email"), EdgeKind::kDerive, s.Field("b", "email"));
  ASSERT_FALSE(e.empty());
  EXPECT_TRUE(e.back().current());
  std::vector<std::string> subtypes;
  for (const auto& t : e.back().transforms) subtypes.push_back(t.subtype);
  EXPECT_EQ(subtypes, (std::vector<std::string>{"IDENTITY", "TRANSFORMATION"}));
}

TEST(EventApplierTest, NewerCompletedRunRetiresWhatItNoLongerReports) {
  TestStore s;
  s.MustIngest(
      RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}, {.name = "c"}}, {{.name = "b"}}));
  s.MustIngest(RunEvent("etl", kRun2, "COMPLETE", kT2, {{.name = "a"}}, {{.name = "b"}}));
  EXPECT_TRUE(s.Current(s.Dataset("a"), EdgeKind::kRead, s.Job("etl")));
  auto c = s.Edges(s.Dataset("c"), EdgeKind::kRead, s.Job("etl"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].first_seen, T(kT1));
  EXPECT_EQ(c[0].retired, T(kT2));
}

TEST(EventApplierTest, FailedRunRecordsItsStateButErasesNoLineage) {
  TestStore s;
  s.MustIngest(
      RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}, {.name = "c"}}, {{.name = "b"}}));
  nlohmann::json err = testing::FacetBase("ErrorMessageRunFacet");
  err["message"] = "division by zero";
  err["programmingLanguage"] = "python";
  s.MustIngest(RunEvent("etl", kRun2, "FAIL", kT2, {{.name = "a"}}, {{.name = "b"}},
                        {{"errorMessage", err}}));
  EXPECT_TRUE(s.Current(s.Dataset("c"), EdgeKind::kRead, s.Job("etl")));
  auto job = s.store().GetNode(s.Job("etl"));
  auto run = s.store().GetRun((*job)->latest_run);
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->state, RunState::kFailed);
  EXPECT_EQ((*run)->error_message, "division by zero");
}

TEST(EventApplierTest, LateOlderRunNeverOverridesNewerLineage) {
  TestStore s;
  s.MustIngest(RunEvent("etl", kRun2, "COMPLETE", kT2, {{.name = "a"}}, {{.name = "b"}}));
  // Run 1 completed earlier, reading c too; its event arrives late.
  s.MustIngest(
      RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}, {.name = "c"}}, {{.name = "b"}}));
  auto c = s.Edges(s.Dataset("c"), EdgeKind::kRead, s.Job("etl"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].current());
  EXPECT_EQ(c[0].first_seen, T(kT1));
  EXPECT_EQ(c[0].retired, T(kT2));  // history: it held until the newer completion
  EXPECT_TRUE(s.Current(s.Dataset("a"), EdgeKind::kRead, s.Job("etl")));
}

TEST(EventApplierTest, LateStartDoesNotReopenACompletedRun) {
  TestStore s;
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT2, {}, {}));
  s.MustIngest(RunEvent("etl", kRun1, "START", kT1, {}, {}));
  auto job = s.store().GetNode(s.Job("etl"));
  auto run = s.store().GetRun((*job)->latest_run);
  EXPECT_EQ((*run)->state, RunState::kCompleted);
  EXPECT_EQ((*run)->started_at, T(kT1));
  EXPECT_EQ((*run)->ended_at, T(kT2));
}

TEST(EventApplierTest, ExactDuplicateIsAcknowledgedAndStoredOnce) {
  TestStore s;
  std::string ev = RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}}, {{.name = "b"}});
  auto first = s.Ingest(ev);
  auto second = s.Ingest(ev);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(second->seq, first->seq);
  EXPECT_EQ(s.store().event_count(), 1u);
  // Key order and whitespace do not make an event different.
  auto j = nlohmann::json::parse(ev);
  auto third = s.Ingest(j.dump(2));
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->duplicate);
}

TEST(EventApplierTest, ColumnLineageKeepsUnseenInputsAndRetiresChangedEdges) {
  TestStore s;
  Ds out{.name = "b", .columns = {"id", "total"}};
  out.lineage = {{"id", {{.ns = "db", .name = "a", .field = "id"}}},
                 {"total",
                  {{.ns = "db", .name = "a", .field = "amount", .subtype = "AGGREGATION"},
                   {.ns = "other",
                    .name = "never_seen",
                    .field = "x",
                    .type = "INDIRECT",
                    .subtype = "FILTER"}}}};
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}}, {out}));
  NodeId unseen_ds = s.Dataset("never_seen", "other");
  ASSERT_NE(unseen_ds, kNoNode);
  EXPECT_TRUE((*s.store().GetNode(unseen_ds))->unseen());
  NodeId x = s.Field("never_seen", "x", "other");
  EXPECT_TRUE((*s.store().GetNode(x))->unseen());
  EXPECT_TRUE(s.Current(x, EdgeKind::kDerive, s.Field("b", "total")));
  // A column edge implies its dataset is read.
  EXPECT_TRUE(s.Current(unseen_ds, EdgeKind::kRead, s.Job("etl")));
  auto e = s.Edges(s.Field("a", "amount"), EdgeKind::kDerive, s.Field("b", "total"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].transforms[0].subtype, "AGGREGATION");
  EXPECT_EQ(e[0].job, s.Job("etl"));

  // The next run no longer filters on never_seen.x.
  Ds out2{.name = "b", .columns = {"id", "total"}};
  out2.lineage = {
      {"id", {{.ns = "db", .name = "a", .field = "id"}}},
      {"total", {{.ns = "db", .name = "a", .field = "amount", .subtype = "AGGREGATION"}}}};
  s.MustIngest(RunEvent("etl", kRun2, "COMPLETE", kT2, {{.name = "a"}}, {out2}));
  EXPECT_FALSE(s.Current(x, EdgeKind::kDerive, s.Field("b", "total")));
  EXPECT_TRUE(s.Current(s.Field("a", "amount"), EdgeKind::kDerive, s.Field("b", "total")));
}

TEST(EventApplierTest, ChangedTransformationOpensANewInterval) {
  TestStore s;
  Ds v1{.name = "b"};
  v1.lineage = {{"email", {{.ns = "db", .name = "a", .field = "email"}}}};
  Ds v2{.name = "b"};
  v2.lineage = {{"email",
                 {{.ns = "db",
                   .name = "a",
                   .field = "email",
                   .subtype = "TRANSFORMATION",
                   .masking = true}}}};
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}}, {v1}));
  s.MustIngest(RunEvent("etl", kRun2, "COMPLETE", kT2, {{.name = "a"}}, {v2}));
  auto e = s.Edges(s.Field("a", "email"), EdgeKind::kDerive, s.Field("b", "email"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].retired, T(kT2));
  EXPECT_FALSE(e[0].transforms[0].masking);
  EXPECT_TRUE(e[1].current());
  EXPECT_TRUE(e[1].transforms[0].masking);
}

TEST(EventApplierTest, DatasetWideLineageReachesEveryOutputColumn) {
  TestStore s;
  nlohmann::json cl = testing::FacetBase("ColumnLineageDatasetFacet");
  cl["fields"] = {
      {"id", {{"inputFields", {{{"namespace", "db"}, {"name", "a"}, {"field", "id"}}}}}}};
  cl["dataset"] = {{{"namespace", "db"},
                    {"name", "a"},
                    {"field", "region"},
                    {"transformations", {{{"type", "INDIRECT"}, {"subtype", "FILTER"}}}}}};
  Ds out{.name = "b", .columns = {"id", "name", "total"}};
  out.extra_facets["columnLineage"] = cl;
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}}, {out}));
  NodeId region = s.Field("a", "region");
  for (const char* col : {"id", "name", "total"}) {
    EXPECT_TRUE(s.Current(region, EdgeKind::kDerive, s.Field("b", col))) << col;
  }
  EXPECT_TRUE(s.Current(s.Field("a", "id"), EdgeKind::kDerive, s.Field("b", "id")));
}

TEST(EventApplierTest, RenamedDatasetKeepsItsLineage) {
  TestStore s;
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}}, {{.name = "old_b"}}));
  Ds renamed{.name = "new_b"};
  nlohmann::json lc = testing::FacetBase("LifecycleStateChangeDatasetFacet");
  lc["lifecycleStateChange"] = "RENAME";
  lc["previousIdentifier"] = {{"namespace", "db"}, {"name", "old_b"}};
  renamed.extra_facets["lifecycleStateChange"] = lc;
  s.MustIngest(RunEvent("rename", kRun2, "COMPLETE", kT2, {}, {renamed}));
  NodeId id = s.Dataset("new_b");
  EXPECT_EQ(id, s.Dataset("old_b"));
  auto node = s.store().GetNode(id);
  EXPECT_EQ((*node)->name, "new_b");
  EXPECT_EQ((*node)->aliases, std::vector<std::string>{"db\nold_b"});
  EXPECT_TRUE(s.Current(s.Job("etl"), EdgeKind::kWrite, id));
}

TEST(EventApplierTest, SymlinksResolveToOneDataset) {
  TestStore s;
  Ds path{.ns = "hdfs://nn:8020", .name = "/warehouse/t1"};
  nlohmann::json sl = testing::FacetBase("SymlinksDatasetFacet");
  sl["identifiers"] = {
      {{"namespace", "hive://meta:9083"}, {"name", "default.t1"}, {"type", "TABLE"}}};
  path.extra_facets["symlinks"] = sl;
  s.MustIngest(RunEvent("spark", kRun1, "COMPLETE", kT1, {}, {path}));
  s.MustIngest(RunEvent("hive", kRun2, "COMPLETE", kT2,
                        {{.ns = "hive://meta:9083", .name = "default.t1"}}, {{.name = "x"}}));
  NodeId id = s.Dataset("/warehouse/t1", "hdfs://nn:8020");
  EXPECT_EQ(s.Dataset("default.t1", "hive://meta:9083"), id);
  EXPECT_TRUE(s.Current(id, EdgeKind::kRead, s.Job("hive")));
}

TEST(EventApplierTest, FacetsAreReplacedAndDeleted) {
  TestStore s;
  auto with_doc = [](const std::string& text, bool deleted) {
    Ds d{.name = "a"};
    nlohmann::json doc = testing::FacetBase("DocumentationDatasetFacet");
    doc["description"] = text;
    if (deleted) doc["_deleted"] = true;
    d.extra_facets["documentation"] = doc;
    d.extra_facets["custom_thing"] = {{"anything", {1, 2, 3}}};
    return d;
  };
  s.MustIngest(RunEvent("etl", kRun1, "START", kT1, {with_doc("first", false)}, {}));
  s.MustIngest(RunEvent("etl", kRun1, "RUNNING", kT2, {with_doc("second", false)}, {}));
  auto n = s.store().GetNode(s.Dataset("a"));
  ASSERT_EQ((*n)->facets.size(), 2u);
  EXPECT_EQ((*n)->facets[0].name, "custom_thing");
  EXPECT_NE((*n)->facets[1].json.find("second"), std::string::npos);
  // An older event does not override a newer facet.
  s.MustIngest(RunEvent("etl", kRun2, "START", kT1, {with_doc("stale", false)}, {}));
  n = s.store().GetNode(s.Dataset("a"));
  EXPECT_NE((*n)->facets[1].json.find("second"), std::string::npos);
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT3, {with_doc("", true)}, {}));
  n = s.store().GetNode(s.Dataset("a"));
  ASSERT_EQ((*n)->facets.size(), 2u);
  EXPECT_EQ((*n)->facets[1].name, "documentation");
  EXPECT_TRUE((*n)->facets[1].json.empty());  // a tombstone
  // An event older than the deletion does not bring the facet back.
  s.MustIngest(RunEvent("etl", kRun2, "COMPLETE", kT2, {with_doc("resurrected", false)}, {}));
  n = s.store().GetNode(s.Dataset("a"));
  EXPECT_TRUE((*n)->facets[1].json.empty());
}

// Owners and tags follow their facets, also when other facets change around them (the
// writer compares facets by digest and reads only the texts that changed).
TEST(EventApplierTest, OwnersAndTagsFollowTheirFacets) {
  TestStore s;
  auto with = [](const std::string& owner, const std::string& doc, bool drop_owners) {
    Ds d{.name = "a"};
    nlohmann::json own = testing::FacetBase("OwnershipDatasetFacet");
    own["owners"] = {{{"name", owner}, {"type", "MAINTAINER"}}};
    if (drop_owners) own["_deleted"] = true;
    nlohmann::json tags = testing::FacetBase("TagsDatasetFacet");
    tags["tags"] = {{{"key", "pii"}, {"value", "email"}, {"field", "email"}}};
    nlohmann::json documentation = testing::FacetBase("DocumentationDatasetFacet");
    documentation["description"] = doc;
    d.extra_facets = {{"ownership", own}, {"tags", tags}, {"documentation", documentation}};
    return d;
  };
  auto owners = [&] {
    auto n = s.store().GetNode(s.Dataset("a"));
    EXPECT_TRUE(n.ok() && n->has_value());
    EXPECT_EQ((*n)->tags.size(), 1u);
    return (*n)->owners;
  };
  s.MustIngest(RunEvent("etl", kRun1, "START", kT1, {with("team:a", "one", false)}, {}));
  EXPECT_EQ(owners(), std::vector<std::string>{"team:a"});
  s.MustIngest(RunEvent("etl", kRun1, "RUNNING", kT2, {with("team:a", "two", false)}, {}));
  EXPECT_EQ(owners(), std::vector<std::string>{"team:a"});
  s.MustIngest(RunEvent("etl", kRun1, "RUNNING", kT3, {with("team:b", "two", false)}, {}));
  EXPECT_EQ(owners(), std::vector<std::string>{"team:b"});
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT4, {with("team:b", "three", true)}, {}));
  EXPECT_TRUE(owners().empty());
}

TEST(EventApplierTest, LateDropDoesNotUndoANewerCreate) {
  TestStore s;
  auto lifecycle = [](const std::string& state) {
    Ds d{.name = "t"};
    nlohmann::json lc = testing::FacetBase("LifecycleStateChangeDatasetFacet");
    lc["lifecycleStateChange"] = state;
    d.extra_facets["lifecycleStateChange"] = lc;
    return d;
  };
  s.MustIngest(RunEvent("ddl", kRun1, "COMPLETE", kT1, {}, {lifecycle("DROP")}));
  s.MustIngest(RunEvent("ddl", kRun3, "COMPLETE", kT3, {}, {lifecycle("CREATE")}));
  s.MustIngest(RunEvent("ddl", kRun2, "COMPLETE", kT2, {}, {lifecycle("DROP")}));
  auto n = s.store().GetNode(s.Dataset("t"));
  EXPECT_FALSE((*n)->flags & kFlagDropped);
}

TEST(EventApplierTest, LateStaticLineageBecomesHistory) {
  TestStore s;
  auto dataset_event = [](const char* time, const char* source_field) {
    nlohmann::json cl = testing::FacetBase("ColumnLineageDatasetFacet");
    cl["fields"] = {
        {"x",
         {{"inputFields", {{{"namespace", "db"}, {"name", "src"}, {"field", source_field}}}}}}};
    nlohmann::json ev = {
        {"eventTime", time},
        {"producer", "https://example.com/catalog"},
        {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"},
        {"dataset", {{"namespace", "db"}, {"name", "view"}, {"facets", {{"columnLineage", cl}}}}}};
    return ev.dump();
  };
  s.MustIngest(dataset_event(kT2, "new"));
  s.MustIngest(dataset_event(kT1, "old"));
  EXPECT_TRUE(s.Current(s.Field("src", "new"), EdgeKind::kDerive, s.Field("view", "x")));
  EXPECT_FALSE(s.Current(s.Field("src", "old"), EdgeKind::kDerive, s.Field("view", "x")));
  auto old = s.Edges(s.Field("src", "old"), EdgeKind::kDerive, s.Field("view", "x"));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].retired, T(kT2));
}

TEST(EventApplierTest, SchemaVersionsAreKeptOnlyOnChange) {
  TestStore s;
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT1, {}, {{.name = "b", .columns = {"id"}}}));
  s.MustIngest(RunEvent("etl", kRun2, "COMPLETE", kT2, {}, {{.name = "b", .columns = {"id"}}}));
  s.MustIngest(
      RunEvent("etl", kRun3, "COMPLETE", kT3, {}, {{.name = "b", .columns = {"id", "email"}}}));
  auto versions = s.store().SchemaVersions(s.Dataset("b"));
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].time, T(kT1));
  EXPECT_EQ((*versions)[1].time, T(kT3));
  EXPECT_EQ((*versions)[1].columns.size(), 2u);
}

TEST(EventApplierTest, RunWithoutDatasetsRetiresNothing) {
  TestStore s;
  s.MustIngest(RunEvent("etl", kRun1, "COMPLETE", kT1, {{.name = "a"}}, {{.name = "b"}}));
  s.MustIngest(RunEvent("etl", kRun2, "COMPLETE", kT2, {}, {}));
  EXPECT_TRUE(s.Current(s.Dataset("a"), EdgeKind::kRead, s.Job("etl")));
}

TEST(EventApplierTest, ParentFacetLinksJobAndRun) {
  TestStore s;
  nlohmann::json parent = testing::FacetBase("ParentRunFacet");
  parent["run"] = {{"runId", kRun1}};
  parent["job"] = {{"namespace", "jobs"}, {"name", "dag"}};
  s.MustIngest(RunEvent("dag.task", kRun2, "START", kT1, {}, {}, {{"parent", parent}}));
  auto job = s.store().GetNode(s.Job("dag.task"));
  EXPECT_EQ((*job)->parent_job, s.Job("dag"));
  auto run = s.store().GetRun((*job)->latest_run);
  EXPECT_NE((*run)->parent_run, kNoNode);
}

}  // namespace
}  // namespace tributary
