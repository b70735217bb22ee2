#include "ingest/event_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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

const std::string kExamplesDir = std::string(TRIB_SHARED_DIR) + "/openlineage/examples";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Example(const std::string& name) { return ReadFile(kExamplesDir + "/" + name); }

// "/0" repeated n times: the pointer n levels down a chain of nested arrays.
std::string Zeros(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "/0";
  return s;
}

// A minimal valid RunEvent that tests modify.
json BaseRunEvent() {
  return json::parse(R"({
    "eventTime": "2024-05-01T10:00:00Z",
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "eventType": "COMPLETE",
    "run": {"runId": "0190f4a0-0000-7000-8000-000000000001"},
    "job": {"namespace": "ns", "name": "job"},
    "inputs": [],
    "outputs": []
  })");
}

// A RunEvent whose single output carries `facets`.
json WithOutputFacets(json facets) {
  json event = BaseRunEvent();
  event["outputs"] =
      json::array({{{"namespace", "db"}, {"name", "schema.table"}, {"facets", std::move(facets)}}});
  return event;
}

::testing::AssertionResult IsInvalid(const Status& status, const std::string& path,
                                     const std::string& message_part) {
  if (status.code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "expected InvalidArgument, got " << status.ToString();
  }
  if (status.path() != path) {
    return ::testing::AssertionFailure()
           << "expected path '" << path << "', got " << status.ToString();
  }
  if (status.message().find(message_part) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "expected message containing '" << message_part << "', got " << status.ToString();
  }
  return ::testing::AssertionSuccess();
}

class EventParserTest : public ::testing::Test {
 protected:
  Result<ParsedEvent> Parse(const json& event) const { return parser_.Parse(event.dump()); }
  Result<ParsedEvent> ParseText(std::string_view bytes) const { return parser_.Parse(bytes); }

  EventParser parser_;
};

const ColumnLineageField* FindField(const ColumnLineage& lineage, const std::string& name) {
  for (const ColumnLineageField& f : lineage.fields) {
    if (f.output_field == name) return &f;
  }
  return nullptr;
}

const Facet* FindFacet(const std::vector<Facet>& facets, const std::string& name) {
  for (const Facet& f : facets) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The canonical text and every facet's text are what nlohmann's dump() writes.
void ExpectDumpedAsNlohmannDoes(const std::string& text, const std::string& canonical,
                                const ParsedEvent& ev) {
  const json doc = json::parse(text);
  EXPECT_EQ(canonical, doc.dump());
  auto check = [](const std::vector<Facet>& facets, const json* map) {
    ASSERT_EQ(facets.size(), map == nullptr ? 0 : map->size());
    for (const Facet& f : facets) EXPECT_EQ(f.json, map->at(f.name).dump()) << f.name;
  };
  auto facets_of = [](const json& owner, const char* key) -> const json* {
    auto it = owner.find(key);
    return it == owner.end() || it->is_null() ? nullptr : &*it;
  };
  if (doc.contains("run")) check(ev.run_facets, facets_of(doc["run"], "facets"));
  if (doc.contains("job")) check(ev.job_facets, facets_of(doc["job"], "facets"));
  for (const char* list : {"inputs", "outputs"}) {
    if (!doc.contains(list)) continue;
    const std::vector<DatasetRef>& refs = list[0] == 'i' ? ev.inputs : ev.outputs;
    ASSERT_EQ(refs.size(), doc[list].size());
    for (size_t i = 0; i < refs.size(); ++i) {
      check(refs[i].facets, facets_of(doc[list][i], "facets"));
      const json* io = facets_of(doc[list][i], list[0] == 'i' ? "inputFacets" : "outputFacets");
      EXPECT_EQ(refs[i].io_facets_json, io == nullptr ? "" : io->dump());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Real events.

TEST_F(EventParserTest, AllExamplesParse) {
  int count = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kExamplesDir)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const std::string ext = path.extension().string();
    if (ext != ".json" && ext != ".ndjson") continue;
    std::vector<std::string> events;
    if (ext == ".json") {
      events.push_back(ReadFile(path.string()));
    } else {
      auto split = parser_.SplitBatch(ReadFile(path.string()), /*ndjson=*/true);
      ASSERT_TRUE(split.ok()) << path << ": " << split.status().ToString();
      events = std::move(*split);
    }
    for (size_t i = 0; i < events.size(); ++i) {
      std::string canonical;
      auto parsed = parser_.Parse(events[i], &canonical);
      EXPECT_TRUE(parsed.ok()) << path.filename() << " event " << i << ": "
                               << parsed.status().ToString();
      EXPECT_FALSE(canonical.empty());
      if (parsed.ok()) ExpectDumpedAsNlohmannDoes(events[i], canonical, *parsed);
      ++count;
    }
  }
  EXPECT_EQ(count, 121);
}

// Escapes, control characters, non-ASCII text and every kind of number, in keys, values and
// facets, are written as json::dump() writes them.
TEST_F(EventParserTest, CanonicalTextOfUnusualValues) {
  json ev = json::parse(Example("spark-cll-08-ctas-complete-columnlineage.json"));
  json odd = {
      {"_producer", "p"},
      {"_schemaURL", "s"},
      {"quote\"back\\slash", "tab\there\nnew line \x01 \x7f"},
      {"unicode", "caf\u00e9 \u65e5\u672c \U0001F600"},
      {"numbers",
       {0, -1, 18446744073709551615ULL, -9223372036854775807LL, 1.5, -2.5e-300, 1e300, 0.1}},
      {"nested", {{"facets", {{"inner", {{"x", nullptr}, {"y", true}}}}}}},
      {"empty", {{"o", json::object()}, {"a", json::array()}, {"s", ""}}}};
  ev["run"]["facets"]["odd"] = odd;
  ev["outputs"][0]["facets"]["odd\u00e9"] = odd;
  ev["outputs"][0]["outputFacets"] = {{"odd", odd}};
  ev["job"]["facets"] = json::object();
  ev["x-odd"] = odd;  // outside the facets too
  ev["inputs"][0]["name"] = "odd \"name\"\t\x01\\ caf\u00e9";
  const std::string text = ev.dump();
  std::string canonical;
  auto parsed = parser_.Parse(text, &canonical);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ExpectDumpedAsNlohmannDoes(text, canonical, *parsed);
}

TEST_F(EventParserTest, RunEventFields) {
  auto r = ParseText(Example("spark-cll-08-ctas-complete-columnlineage.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, EventKind::kRun);
  EXPECT_EQ(r->event_type, EventType::kComplete);
  EXPECT_EQ(r->event_time_text, "2024-08-06T13:26:54.34Z");
  EXPECT_EQ(r->run_id, "019127df-0850-72bc-b214-b255290588a6");
  EXPECT_EQ(r->job_ns, "testColumnLevelLineage");
  ASSERT_EQ(r->inputs.size(), 2u);
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].ns, "file");
  EXPECT_EQ(r->outputs[0].name, "/tmp/cll_test/tbl1");
  EXPECT_EQ(r->outputs[0].io_facets_json, "{}");
  ASSERT_NE(FindFacet(r->job_facets, "jobType"), nullptr);
  ASSERT_NE(FindFacet(r->run_facets, "spark.logicalPlan"), nullptr);
  ASSERT_TRUE(r->outputs[0].lifecycle.has_value());
  EXPECT_EQ(r->outputs[0].lifecycle->state, "CREATE");
  EXPECT_FALSE(r->outputs[0].lifecycle->previous.has_value());
}

// ---------------------------------------------------------------------------------------------
// Kind detection.

TEST_F(EventParserTest, RunEventByKeys) {
  auto r = Parse(BaseRunEvent());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, EventKind::kRun);
}

TEST_F(EventParserTest, DatasetEventByKeys) {
  auto r = ParseText(Example("marquez-dataset-event.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, EventKind::kDataset);
  ASSERT_TRUE(r->dataset.has_value());
  EXPECT_EQ(r->dataset->ns, "my-dataset-namespace");
  EXPECT_EQ(r->dataset->name, "my-dataset-name");
  ASSERT_TRUE(r->dataset->schema.has_value());
  ASSERT_EQ(r->dataset->schema->size(), 1u);
  EXPECT_EQ((*r->dataset->schema)[0].path, "col_a");
  EXPECT_TRUE(r->run_id.empty());
  EXPECT_TRUE(r->job_name.empty());
}

TEST_F(EventParserTest, JobEventByKeys) {
  auto r = ParseText(Example("marquez-job-event.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, EventKind::kJob);
  EXPECT_EQ(r->job_ns, "my-scheduler-namespace");
  EXPECT_EQ(r->job_name, "myjob");
  EXPECT_TRUE(r->run_id.empty());
  EXPECT_EQ(r->inputs.size(), 1u);
  EXPECT_EQ(r->outputs.size(), 1u);
}

TEST_F(EventParserTest, WrongSchemaUrlIsIgnored) {
  json event = BaseRunEvent();
  event["schemaURL"] =
      "https://openlineage.io/spec/2-8-9/OpenLineage.json#/definitions/DatasetEvent";
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, EventKind::kRun);
}

TEST_F(EventParserTest, RunAndJobWinOverDataset) {
  json event = BaseRunEvent();
  event["dataset"] = {{"namespace", "db"}, {"name", "t"}};
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, EventKind::kRun);
  EXPECT_FALSE(r->dataset.has_value());
}

TEST_F(EventParserTest, RejectsEventOfNoKnownKind) {
  json event = BaseRunEvent();
  event.erase("job");  // run without job, and no dataset
  auto r = Parse(event);
  EXPECT_TRUE(IsInvalid(r.status(), "", "not a RunEvent"));
}

// ---------------------------------------------------------------------------------------------
// eventTime.

struct TimeCase {
  const char* text;
  Micros expected;
};

class EventTimeTest : public EventParserTest, public ::testing::WithParamInterface<TimeCase> {};

TEST_P(EventTimeTest, Accepted) {
  json event = BaseRunEvent();
  event["eventTime"] = GetParam().text;
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->event_time, GetParam().expected);
  EXPECT_EQ(r->event_time_text, GetParam().text);
}

constexpr Micros kMay1 = 1714557600000000;  // 2024-05-01T10:00:00Z

INSTANTIATE_TEST_SUITE_P(
    Forms, EventTimeTest,
    ::testing::Values(TimeCase{"2024-05-01T10:00:00Z", kMay1},
                      TimeCase{"2024-05-01T20:00:00+10:00", kMay1},
                      TimeCase{"2024-05-01T10:00:00+00:00", kMay1},
                      TimeCase{"2024-05-01T10:00:00", kMay1},  // naive: read as UTC
                      TimeCase{"2024-05-01T10:00:00.123456", kMay1 + 123456},
                      TimeCase{"2024-05-01T10:00:00.5Z", kMay1 + 500000},
                      TimeCase{"2024-05-01T10:00:00.123456789Z", kMay1 + 123456}));

TEST_F(EventParserTest, RejectsGarbageEventTime) {
  json event = BaseRunEvent();
  event["eventTime"] = "yesterday";
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/eventTime", "invalid date-time"));
}

TEST_F(EventParserTest, RejectsNonStringEventTime) {
  json event = BaseRunEvent();
  event["eventTime"] = 1714557600;
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/eventTime", "expected string"));
}

// ---------------------------------------------------------------------------------------------
// eventType.

TEST_F(EventParserTest, EventTypeIsOptional) {
  json event = BaseRunEvent();
  event.erase("eventType");
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->event_type, EventType::kNone);
}

TEST_F(EventParserTest, RejectsUnknownEventType) {
  json event = BaseRunEvent();
  event["eventType"] = "DONE";
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/eventType", "unknown eventType 'DONE'"));
}

// ---------------------------------------------------------------------------------------------
// columnLineage.

TEST_F(EventParserTest, ColumnLineageCurrentForm) {
  auto r = ParseText(Example("spark-cll-08-ctas-complete-columnlineage.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->outputs.size(), 1u);
  ASSERT_TRUE(r->outputs[0].column_lineage.has_value());
  const ColumnLineage& cll = *r->outputs[0].column_lineage;
  EXPECT_EQ(cll.fields.size(), 3u);
  EXPECT_TRUE(cll.dataset_wide.empty());

  const ColumnLineageField* ident = FindField(cll, "ident");
  ASSERT_NE(ident, nullptr);
  ASSERT_EQ(ident->inputs.size(), 3u);
  const InputFieldRef& a = ident->inputs[0];
  EXPECT_EQ(a.ns, "file");
  EXPECT_EQ(a.name, "/tmp/cll_test/cll_source1");
  EXPECT_EQ(a.field, "a");
  const std::vector<Transformation> expected = {
      {"DIRECT", "IDENTITY", "", false},
      {"INDIRECT", "GROUP_BY", "", false},
      {"INDIRECT", "JOIN", "", false},
      {"INDIRECT", "FILTER", "", false},
  };
  EXPECT_EQ(a.transformations, expected);

  const ColumnLineageField* agg = FindField(cll, "agg");
  ASSERT_NE(agg, nullptr);
  ASSERT_EQ(agg->inputs.size(), 4u);
  EXPECT_EQ(agg->inputs[2].name, "/tmp/cll_test/cll_source2");
  EXPECT_EQ(agg->inputs[2].field, "c");
  EXPECT_EQ(agg->inputs[2].transformations,
            (std::vector<Transformation>{{"DIRECT", "AGGREGATION", "", false}}));
}

TEST_F(EventParserTest, ColumnLineageLegacyForm) {
  auto r = ParseText(Example("airflow-gcs-to-bq-complete-legacy-columnlineage.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].ns, "bigquery");
  ASSERT_TRUE(r->outputs[0].column_lineage.has_value());
  const ColumnLineage& cll = *r->outputs[0].column_lineage;
  ASSERT_EQ(cll.fields.size(), 4u);
  const ColumnLineageField* a = FindField(cll, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->inputs.size(), 2u);
  // Each input sends "transformations": [], so the field-level IDENTITY applies to both.
  for (const InputFieldRef& in : a->inputs) {
    EXPECT_EQ(in.ns, "gs://mock-bucket");
    EXPECT_EQ(in.field, "a");
    EXPECT_EQ(in.transformations,
              (std::vector<Transformation>{{"DIRECT", "IDENTITY", "identical", false}}));
  }
  EXPECT_EQ(a->inputs[0].name, "copied.csv");
  EXPECT_EQ(a->inputs[1].name, "test.csv");
}

TEST_F(EventParserTest, ColumnLineageLegacyMapping) {
  json cll = json::parse(R"({
    "_producer": "p", "_schemaURL": "s",
    "fields": {
      "masked": {"inputFields": [{"namespace": "db", "name": "t", "field": "ssn"}],
                 "transformationType": "MASKED", "transformationDescription": "sha1"},
      "copied": {"inputFields": [{"namespace": "db", "name": "t", "field": "x"}],
                 "transformationType": "COPY"},
      "own": {"inputFields": [{"namespace": "db", "name": "t", "field": "y",
                               "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}]},
                              {"namespace": "db", "name": "t", "field": "z"}],
              "transformationType": "IDENTITY"},
      "plain": {"inputFields": [{"namespace": "db", "name": "t", "field": "w"}]}
    }
  })");
  auto r = Parse(WithOutputFacets({{"columnLineage", cll}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ColumnLineage& lineage = *r->outputs[0].column_lineage;

  const ColumnLineageField* masked = FindField(lineage, "masked");
  ASSERT_NE(masked, nullptr);
  EXPECT_EQ(masked->inputs[0].transformations,
            (std::vector<Transformation>{{"DIRECT", "", "sha1", true}}));

  const ColumnLineageField* copied = FindField(lineage, "copied");
  ASSERT_NE(copied, nullptr);
  EXPECT_EQ(copied->inputs[0].transformations, (std::vector<Transformation>{{"", "", "", false}}));

  // An input with transformations of its own keeps them; its sibling gets the legacy one.
  const ColumnLineageField* own = FindField(lineage, "own");
  ASSERT_NE(own, nullptr);
  ASSERT_EQ(own->inputs.size(), 2u);
  EXPECT_EQ(own->inputs[0].transformations,
            (std::vector<Transformation>{{"INDIRECT", "FILTER", "", false}}));
  EXPECT_EQ(own->inputs[1].transformations,
            (std::vector<Transformation>{{"DIRECT", "IDENTITY", "", false}}));

  const ColumnLineageField* plain = FindField(lineage, "plain");
  ASSERT_NE(plain, nullptr);
  EXPECT_TRUE(plain->inputs[0].transformations.empty());
}

TEST_F(EventParserTest, ColumnLineageDatasetWide) {
  json cll = json::parse(R"({
    "_producer": "p", "_schemaURL": "s",
    "fields": {"total": {"inputFields": [{"namespace": "db", "name": "orders", "field": "amount",
        "transformations": [{"type": "DIRECT", "subtype": "AGGREGATION", "masking": false}]}]}},
    "dataset": [
      {"namespace": "db", "name": "orders", "field": "status",
       "transformations": [{"type": "INDIRECT", "subtype": "FILTER", "description": "status = 'paid'"}]},
      {"namespace": "db", "name": "customers", "field": "id",
       "transformations": [{"type": "INDIRECT", "subtype": "JOIN", "masking": true}]}
    ]
  })");
  auto r = Parse(WithOutputFacets({{"columnLineage", cll}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ColumnLineage& lineage = *r->outputs[0].column_lineage;
  ASSERT_EQ(lineage.fields.size(), 1u);
  ASSERT_EQ(lineage.dataset_wide.size(), 2u);
  EXPECT_EQ(lineage.dataset_wide[0].name, "orders");
  EXPECT_EQ(lineage.dataset_wide[0].field, "status");
  EXPECT_EQ(lineage.dataset_wide[0].transformations,
            (std::vector<Transformation>{{"INDIRECT", "FILTER", "status = 'paid'", false}}));
  EXPECT_EQ(lineage.dataset_wide[1].name, "customers");
  EXPECT_EQ(lineage.dataset_wide[1].transformations,
            (std::vector<Transformation>{{"INDIRECT", "JOIN", "", true}}));
}

TEST_F(EventParserTest, ColumnLineageBadInputFieldNamesPointer) {
  json cll = json::parse(R"({
    "fields": {"a": {"inputFields": [{"namespace": "db", "name": "t", "field": "x"},
                                     {"namespace": "db", "name": "t", "field": 7}]}}
  })");
  EXPECT_TRUE(IsInvalid(Parse(WithOutputFacets({{"columnLineage", cll}})).status(),
                        "/outputs/0/facets/columnLineage/fields/a/inputFields/1/field",
                        "expected string"));
}

TEST_F(EventParserTest, ColumnLineageRequiresFields) {
  json cll = {{"_producer", "p"}, {"_schemaURL", "s"}};
  EXPECT_TRUE(IsInvalid(Parse(WithOutputFacets({{"columnLineage", cll}})).status(),
                        "/outputs/0/facets/columnLineage/fields", "missing required field"));
}

TEST_F(EventParserTest, ColumnLineageTransformationRequiresType) {
  json cll = json::parse(R"({
    "fields": {"a": {"inputFields": [{"namespace": "db", "name": "t", "field": "x",
                                      "transformations": [{"subtype": "IDENTITY"}]}]}}
  })");
  EXPECT_TRUE(
      IsInvalid(Parse(WithOutputFacets({{"columnLineage", cll}})).status(),
                "/outputs/0/facets/columnLineage/fields/a/inputFields/0/transformations/0/type",
                "missing required field"));
}

// ---------------------------------------------------------------------------------------------
// Other interpreted facets.

TEST_F(EventParserTest, NestedSchemaIsFlattened) {
  json schema = json::parse(R"({
    "_producer": "p", "_schemaURL": "s",
    "fields": [
      {"name": "id", "type": "int64", "ordinal_position": 1},
      {"name": "address", "type": "struct", "description": "where",
       "fields": [
         {"name": "city", "type": "string"},
         {"name": "geo", "type": "struct",
          "fields": [{"name": "lat", "type": "double", "description": "latitude"}]}
       ]},
      {"name": "phones", "type": "array", "fields": [{"name": "_element", "type": "string"}]}
    ]
  })");
  auto r = Parse(WithOutputFacets({{"schema", schema}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->outputs[0].schema.has_value());
  const std::vector<SchemaField>& fields = *r->outputs[0].schema;
  std::vector<std::string> paths;
  for (const SchemaField& f : fields) paths.push_back(f.path);
  EXPECT_THAT(paths, ::testing::ElementsAre("id", "address", "address.city", "address.geo",
                                            "address.geo.lat", "phones", "phones._element"));
  EXPECT_EQ(fields[1].type, "struct");
  EXPECT_EQ(fields[1].description, "where");
  EXPECT_EQ(fields[4].type, "double");
  EXPECT_EQ(fields[4].description, "latitude");
  EXPECT_EQ(fields[0].description, "");
}

TEST_F(EventParserTest, SchemaFieldRequiresName) {
  json schema =
      json::parse(R"({"fields": [{"name": "a"}, {"name": "b", "fields": [{"type": "x"}]}]})");
  EXPECT_TRUE(IsInvalid(Parse(WithOutputFacets({{"schema", schema}})).status(),
                        "/outputs/0/facets/schema/fields/1/fields/0/name",
                        "missing required field"));
}

TEST_F(EventParserTest, NoSchemaFacetLeavesSchemaUnset) {
  auto r = Parse(WithOutputFacets(json::object()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->outputs[0].schema.has_value());
  EXPECT_FALSE(r->outputs[0].column_lineage.has_value());
}

TEST_F(EventParserTest, Symlinks) {
  auto r = ParseText(Example("spark-cll-08-ctas-complete-columnlineage.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->outputs[0].symlinks.size(), 1u);
  const DatasetIdentifier& link = r->outputs[0].symlinks[0];
  EXPECT_EQ(link.ns, "file:/tmp/cll_test");
  EXPECT_EQ(link.name, "default.tbl1");
  EXPECT_EQ(link.type, "TABLE");
}

TEST_F(EventParserTest, SymlinkRequiresType) {
  json symlinks = json::parse(R"({"identifiers": [{"namespace": "hive", "name": "db.t"}]})");
  EXPECT_TRUE(IsInvalid(Parse(WithOutputFacets({{"symlinks", symlinks}})).status(),
                        "/outputs/0/facets/symlinks/identifiers/0/type", "missing required field"));
}

TEST_F(EventParserTest, LifecycleRenameWithPreviousIdentifier) {
  json facet = json::parse(R"({
    "_producer": "p", "_schemaURL": "s",
    "lifecycleStateChange": "RENAME",
    "previousIdentifier": {"namespace": "file", "name": "/tmp/alter_test/alter_table_test"}
  })");
  auto r = Parse(WithOutputFacets({{"lifecycleStateChange", facet}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->outputs[0].lifecycle.has_value());
  const LifecycleChange& change = *r->outputs[0].lifecycle;
  EXPECT_EQ(change.state, "RENAME");
  ASSERT_TRUE(change.previous.has_value());
  EXPECT_EQ(change.previous->ns, "file");
  EXPECT_EQ(change.previous->name, "/tmp/alter_test/alter_table_test");
  EXPECT_EQ(change.previous->type, "");
}

TEST_F(EventParserTest, LifecyclePreviousIdentifierRequiresName) {
  json facet = json::parse(R"({"lifecycleStateChange": "RENAME",
                               "previousIdentifier": {"namespace": "file"}})");
  EXPECT_TRUE(IsInvalid(Parse(WithOutputFacets({{"lifecycleStateChange", facet}})).status(),
                        "/outputs/0/facets/lifecycleStateChange/previousIdentifier/name",
                        "missing required field"));
}

TEST_F(EventParserTest, ParentFacet) {
  json event = BaseRunEvent();
  event["run"]["facets"]["parent"] = json::parse(R"({
    "_producer": "p", "_schemaURL": "s",
    "run": {"runId": "f99310b4-3c3c-1a1a-2b2b-c1b95c24ff11"},
    "job": {"namespace": "airflow", "name": "my_dag.my_task"},
    "root": {"run": {"runId": "a0000000-3c3c-1a1a-2b2b-c1b95c24ff11"},
             "job": {"namespace": "airflow", "name": "my_dag"}}
  })");
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->parent.has_value());
  EXPECT_EQ(r->parent->run_id, "f99310b4-3c3c-1a1a-2b2b-c1b95c24ff11");
  EXPECT_EQ(r->parent->job_ns, "airflow");
  EXPECT_EQ(r->parent->job_name, "my_dag.my_task");
  EXPECT_EQ(r->parent->root_run_id, "a0000000-3c3c-1a1a-2b2b-c1b95c24ff11");
  EXPECT_EQ(r->parent->root_job_ns, "airflow");
  EXPECT_EQ(r->parent->root_job_name, "my_dag");
}

TEST_F(EventParserTest, ParentFacetWithoutRoot) {
  auto r = ParseText(Example("spark-cll-08-ctas-complete-columnlineage.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->parent.has_value());
  EXPECT_EQ(r->parent->run_id, "019127de-fd25-7707-bfa4-3ec02693a531");
  EXPECT_EQ(r->parent->job_ns, "testColumnLevelLineage");
  EXPECT_EQ(r->parent->job_name, "open_lineage_integration_create_table");
  EXPECT_FALSE(r->parent->root_run_id.has_value());
  EXPECT_FALSE(r->parent->root_job_name.has_value());
}

TEST_F(EventParserTest, ParentFacetRequiresRunId) {
  json event = BaseRunEvent();
  event["run"]["facets"]["parent"] =
      json::parse(R"({"run": {}, "job": {"namespace": "airflow", "name": "dag"}})");
  EXPECT_TRUE(
      IsInvalid(Parse(event).status(), "/run/facets/parent/run/runId", "missing required field"));
}

TEST_F(EventParserTest, ErrorMessageFacet) {
  json event = BaseRunEvent();
  event["eventType"] = "FAIL";
  event["run"]["facets"]["errorMessage"] = {{"_producer", "p"},
                                            {"_schemaURL", "s"},
                                            {"message", "Table or view not found: t"},
                                            {"programmingLanguage", "JAVA"}};
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->event_type, EventType::kFail);
  EXPECT_EQ(r->error_message, "Table or view not found: t");
}

TEST_F(EventParserTest, NoErrorMessageByDefault) {
  auto r = Parse(BaseRunEvent());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->error_message.has_value());
  EXPECT_FALSE(r->parent.has_value());
}

// ---------------------------------------------------------------------------------------------
// Facets kept as sent, and _deleted.

TEST_F(EventParserTest, FacetsAreKeptAsCompactJson) {
  json event = WithOutputFacets({{"custom_thing", {{"b", 1}, {"a", {1, 2}}}}});
  event["outputs"][0]["outputFacets"] = {{"outputStatistics", {{"rowCount", 10}}}};
  event["job"]["facets"]["sql"] = {{"query", "select 1"}};  // no _producer: accepted
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Facet* custom = FindFacet(r->outputs[0].facets, "custom_thing");
  ASSERT_NE(custom, nullptr);
  EXPECT_EQ(custom->json, R"({"a":[1,2],"b":1})");
  EXPECT_FALSE(custom->deleted);
  EXPECT_EQ(r->outputs[0].io_facets_json, R"({"outputStatistics":{"rowCount":10}})");
  const Facet* sql = FindFacet(r->job_facets, "sql");
  ASSERT_NE(sql, nullptr);
  EXPECT_EQ(sql->json, R"({"query":"select 1"})");
}

TEST_F(EventParserTest, DeletedFacetIsKeptButNotInterpreted) {
  json schema = {{"_deleted", true}};
  auto r = Parse(WithOutputFacets({{"schema", schema}, {"symlinks", {{"_deleted", true}}}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Facet* facet = FindFacet(r->outputs[0].facets, "schema");
  ASSERT_NE(facet, nullptr);
  EXPECT_TRUE(facet->deleted);
  EXPECT_FALSE(r->outputs[0].schema.has_value());
  EXPECT_TRUE(r->outputs[0].symlinks.empty());
}

TEST_F(EventParserTest, DeletedNullCountsAsFalse) {
  json schema = json::parse(R"({"_deleted": null, "fields": [{"name": "a"}]})");
  auto r = Parse(WithOutputFacets({{"schema", schema}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(FindFacet(r->outputs[0].facets, "schema")->deleted);
  ASSERT_TRUE(r->outputs[0].schema.has_value());
  EXPECT_EQ(r->outputs[0].schema->size(), 1u);
}

TEST_F(EventParserTest, DeletedFalseIsInterpreted) {
  json event = BaseRunEvent();
  event["job"]["facets"]["ownership"] = {{"_deleted", false}, {"owners", json::array()}};
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->job_facets.size(), 1u);
  EXPECT_FALSE(r->job_facets[0].deleted);
}

TEST_F(EventParserTest, RejectsNonBooleanDeleted) {
  auto r = Parse(WithOutputFacets({{"schema", {{"_deleted", "yes"}}}}));
  EXPECT_TRUE(IsInvalid(r.status(), "/outputs/0/facets/schema/_deleted", "expected boolean"));
}

TEST_F(EventParserTest, RejectsFacetThatIsNotAnObject) {
  json event = BaseRunEvent();
  event["run"]["facets"]["nominalTime"] = "2024-05-01";
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/run/facets/nominalTime", "expected object"));
}

TEST_F(EventParserTest, RejectsFacetsMapThatIsNotAnObject) {
  json event = BaseRunEvent();
  event["inputs"] = json::array({{{"namespace", "db"}, {"name", "t"}, {"inputFacets", {1, 2}}}});
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/inputs/0/inputFacets", "expected object"));
}

// ---------------------------------------------------------------------------------------------
// Canonical form.

TEST_F(EventParserTest, CanonicalFormIgnoresKeyOrderAndWhitespace) {
  const std::string a = R"({"eventTime":"2024-05-01T10:00:00Z","producer":"p","schemaURL":"s",)"
                        R"("run":{"runId":"r1"},"job":{"namespace":"ns","name":"j"}})";
  const std::string b =
      "{ \"job\": {\"name\": \"j\", \"namespace\": \"ns\"},\n  \"run\": {\"runId\": \"r1\"},\n"
      "  \"schemaURL\": \"s\", \"producer\": \"p\", \"eventTime\": \"2024-05-01T10:00:00Z\" }";
  std::string ca, cb;
  ASSERT_TRUE(parser_.Parse(a, &ca).ok());
  ASSERT_TRUE(parser_.Parse(b, &cb).ok());
  EXPECT_EQ(ca, cb);
  EXPECT_EQ(ca, R"({"eventTime":"2024-05-01T10:00:00Z","job":{"name":"j","namespace":"ns"},)"
                R"("producer":"p","run":{"runId":"r1"},"schemaURL":"s"})");
}

// ---------------------------------------------------------------------------------------------
// Bad input: one test per class, each with its exact path.

TEST_F(EventParserTest, RejectsBadJsonWithByteOffset) {
  auto r = ParseText(R"({"eventTime": x})");
  EXPECT_TRUE(IsInvalid(r.status(), "", "invalid JSON at byte 14"));
}

TEST_F(EventParserTest, RejectsTruncatedJson) {
  auto r = ParseText(R"({"eventTime": "2024)");
  EXPECT_TRUE(IsInvalid(r.status(), "", "invalid JSON at byte"));
}

TEST_F(EventParserTest, RejectsTrailingGarbage) {
  auto r = ParseText(BaseRunEvent().dump() + " {}");
  EXPECT_TRUE(IsInvalid(r.status(), "", "invalid JSON at byte"));
}

TEST_F(EventParserTest, RejectsEmptyBody) {
  EXPECT_TRUE(IsInvalid(ParseText("").status(), "", "empty body"));
  EXPECT_TRUE(IsInvalid(ParseText(" \r\n\t").status(), "", "empty body"));
}

TEST_F(EventParserTest, RejectsTopLevelArray) {
  EXPECT_TRUE(IsInvalid(ParseText("[" + BaseRunEvent().dump() + "]").status(), "",
                        "expected a JSON object, got array"));
}

TEST_F(EventParserTest, RejectsTopLevelNumber) {
  EXPECT_TRUE(IsInvalid(ParseText("42").status(), "", "expected a JSON object, got number"));
}

TEST_F(EventParserTest, RejectsWrongTypeOfRunId) {
  json event = BaseRunEvent();
  event["run"]["runId"] = 42;
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/run/runId", "expected string, got number"));
}

TEST_F(EventParserTest, RejectsEmptyRunId) {
  json event = BaseRunEvent();
  event["run"]["runId"] = "";
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/run/runId", "non-empty"));
}

TEST_F(EventParserTest, AcceptsNonUuidRunId) {
  json event = BaseRunEvent();
  event["run"]["runId"] = "fake_run_id";
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->run_id, "fake_run_id");
}

TEST_F(EventParserTest, RejectsRunThatIsNotAnObject) {
  json event = BaseRunEvent();
  event["run"] = "r1";
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/run", "expected object, got string"));
}

TEST_F(EventParserTest, RejectsMissingProducer) {
  json event = BaseRunEvent();
  event.erase("producer");
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/producer", "missing required field"));
}

TEST_F(EventParserTest, RejectsMissingSchemaUrl) {
  json event = BaseRunEvent();
  event.erase("schemaURL");
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/schemaURL", "missing required field"));
}

TEST_F(EventParserTest, RejectsEmptyJobName) {
  json event = BaseRunEvent();
  event["job"]["name"] = "";
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/job/name", "non-empty"));
}

TEST_F(EventParserTest, RejectsDatasetNameOfWrongType) {
  json event = BaseRunEvent();
  event["inputs"] = json::array({{{"namespace", "db"}, {"name", "a"}},
                                 {{"namespace", "db"}, {"name", "b"}},
                                 {{"namespace", "db"}, {"name", nullptr}}});
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/inputs/2/name", "expected string, got null"));
}

TEST_F(EventParserTest, RejectsInputsThatIsNotAnArray) {
  json event = BaseRunEvent();
  event["inputs"] = {{"namespace", "db"}, {"name", "a"}};
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/inputs", "expected array, got object"));
}

TEST_F(EventParserTest, PointerEscapesSlashAndTilde) {
  json cll = json::parse(R"({"fields": {"a/b~c": {"inputFields": 1}}})");
  EXPECT_TRUE(IsInvalid(Parse(WithOutputFacets({{"columnLineage", cll}})).status(),
                        "/outputs/0/facets/columnLineage/fields/a~1b~0c/inputFields",
                        "expected array"));
}

TEST_F(EventParserTest, RejectsStringOverLimit) {
  json event = BaseRunEvent();
  event["run"]["facets"]["big"] = {{"blob", std::string((4 << 20) + 1, 'x')}};
  EXPECT_TRUE(IsInvalid(Parse(event).status(), "/run/facets/big/blob", "string longer than"));
}

TEST_F(EventParserTest, RejectsKeyOverLimit) {
  EventParser parser(ParserOptions{.max_depth = 64, .max_string_bytes = 100});
  json event = BaseRunEvent();
  event["run"]["facets"][std::string(101, 'k')] = json::object();
  EXPECT_TRUE(
      IsInvalid(parser.Parse(event.dump()).status(), "/run/facets", "object key longer than"));
}

TEST_F(EventParserTest, StringAtLimitIsAccepted) {
  EventParser parser(ParserOptions{.max_depth = 64, .max_string_bytes = 100});
  json event = BaseRunEvent();
  event["run"]["facets"]["big"] = {{"blob", std::string(100, 'x')}};
  auto r = parser.Parse(event.dump());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

// 100000 nested arrays inside a facet: rejected at the first level past the limit, without
// recursing through the rest.
TEST_F(EventParserTest, RejectsDeepNestingWithoutCrashing) {
  const int kLevels = 100000;
  const std::string body =
      R"({"eventTime":"2024-05-01T10:00:00Z","producer":"p","schemaURL":"s",)"
      R"("job":{"namespace":"ns","name":"j"},"run":{"runId":"r","facets":{"deep":{"v":)" +
      std::string(kLevels, '[') + std::string(kLevels, ']') + "}}}}";
  // Containers: root, run, facets, deep (depth 4), then the arrays; the 61st array is the
  // 65th level, one past the default limit of 64.
  std::string path = "/run/facets/deep/v";
  for (int i = 0; i < 60; ++i) path += "/0";
  EXPECT_TRUE(IsInvalid(ParseText(body).status(), path, "nesting deeper than 64"));
}

TEST_F(EventParserTest, NestingAtLimitIsAccepted) {
  json event = BaseRunEvent();
  json v = json::array();
  for (int i = 0; i < 59; ++i) v = json::array({v});  // 60 arrays: levels 5..64
  event["run"]["facets"]["deep"] = {{"v", v}};
  auto r = Parse(event);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  event["run"]["facets"]["deep"]["v"] = json::array({v});
  EXPECT_TRUE(
      IsInvalid(Parse(event).status(), "/run/facets/deep/v" + Zeros(60), "nesting deeper than 64"));
}

struct Utf8Case {
  const char* name;
  std::string bytes;  // placed inside the job namespace string
};

class InvalidUtf8Test : public EventParserTest, public ::testing::WithParamInterface<Utf8Case> {};

TEST_P(InvalidUtf8Test, Rejected) {
  const std::string marker = R"("namespace":"ns")";
  std::string body = BaseRunEvent().dump();
  const size_t at = body.find(marker);
  ASSERT_NE(at, std::string::npos);
  body.replace(at, marker.size(), R"("namespace":"n)" + GetParam().bytes + R"(s")");
  auto r = ParseText(body);
  EXPECT_TRUE(IsInvalid(r.status(), "", "invalid JSON at byte"));
  // The message must itself be valid text for a JSON error response.
  const Status status = r.status();
  for (unsigned char c : status.message()) EXPECT_LT(c, 0x80) << status.message();
}

INSTANTIATE_TEST_SUITE_P(
    Bytes, InvalidUtf8Test,
    ::testing::Values(Utf8Case{"StrayByte", "\xff"}, Utf8Case{"Continuation", "\x80"},
                      Utf8Case{"Overlong", "\xc0\xaf"}, Utf8Case{"Truncated", "\xe2\x82"},
                      Utf8Case{"Surrogate", "\xed\xa0\x80"},
                      Utf8Case{"LoneSurrogateEscape", "\\ud800"}),
    [](const ::testing::TestParamInfo<Utf8Case>& info) { return info.param.name; });

TEST_F(EventParserTest, InvalidUtf8ReportsByteOffset) {
  const std::string body = "{\"producer\":\"a\xff\"}";
  EXPECT_TRUE(IsInvalid(ParseText(body).status(), "", "invalid JSON at byte 14"));
}

TEST_F(EventParserTest, AcceptsValidUnicode) {
  json event = BaseRunEvent();
  event["outputs"] = json::array({{{"namespace", "file"}, {"name", "/tmp/données/🚀.csv"}}});
  auto r = Parse(event);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs[0].name, "/tmp/données/🚀.csv");
}

// ---------------------------------------------------------------------------------------------
// SplitBatch.

TEST_F(EventParserTest, SplitBatchArray) {
  const std::string e1 = BaseRunEvent().dump();
  json second = BaseRunEvent();
  second["run"]["runId"] = "r2";
  const std::string body = "[\n  " + e1 + ",\n  " + second.dump(2) + "\n]";
  auto split = parser_.SplitBatch(body, /*ndjson=*/false);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ((*split)[0], e1);
  EXPECT_EQ((*split)[1], second.dump());
  auto r = parser_.Parse((*split)[1]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->run_id, "r2");
}

TEST_F(EventParserTest, SplitBatchEmptyArray) {
  auto split = parser_.SplitBatch("[]", /*ndjson=*/false);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_TRUE(split->empty());
}

TEST_F(EventParserTest, SplitBatchNdjsonSkipsBlankLinesAndStripsCr) {
  const std::string body = "{\"a\": 1}\r\n\r\n   \n{\"b\":2}\nnot json\n";
  auto split = parser_.SplitBatch(body, /*ndjson=*/true);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_THAT(*split, ::testing::ElementsAre("{\"a\": 1}", "{\"b\":2}", "not json"));
  // The invalid line is reported by Parse, on its own.
  EXPECT_TRUE(IsInvalid(parser_.Parse((*split)[2]).status(), "", "invalid JSON at byte"));
}

TEST_F(EventParserTest, SplitBatchNdjsonWithoutTrailingNewline) {
  auto split = parser_.SplitBatch("{\"a\":1}\n{\"b\":2}", /*ndjson=*/true);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_THAT(*split, ::testing::ElementsAre("{\"a\":1}", "{\"b\":2}"));
}

TEST_F(EventParserTest, SplitBatchRejectsNonArray) {
  auto split = parser_.SplitBatch(BaseRunEvent().dump(), /*ndjson=*/false);
  EXPECT_TRUE(IsInvalid(split.status(), "", "expected a JSON array, got object"));
}

TEST_F(EventParserTest, SplitBatchRejectsBadJson) {
  auto split = parser_.SplitBatch("[{}, {]", /*ndjson=*/false);
  EXPECT_TRUE(IsInvalid(split.status(), "", "invalid JSON at byte 6"));
}

TEST_F(EventParserTest, SplitBatchRejectsDeepNesting) {
  const std::string body = std::string(100000, '[') + std::string(100000, ']');
  auto split = parser_.SplitBatch(body, /*ndjson=*/false);
  // The batch array adds one allowed level.
  EXPECT_TRUE(IsInvalid(split.status(), Zeros(65), "nesting deeper than 65"));
}

}  // namespace
}  // namespace tributary
