// Helpers shared by the tests: temporary stores and OpenLineage event builders.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/event_applier.h"
#include "ingest/event_parser.h"
#include "store/graph_store.h"
#include "store/store_writer.h"

namespace tributary::testing {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("trib_" + std::to_string(::getpid()) + "_" + (info ? info->name() : "x") + "_" +
             std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// A dataset in an event: inputs and outputs.
struct Ds {
  std::string ns = "db";
  std::string name;
  std::vector<std::string> columns;  // schema facet when not empty
  // Column lineage: output column -> inputs (ns, name, field, type, subtype).
  struct In {
    std::string ns, name, field, type = "DIRECT", subtype = "IDENTITY";
    bool masking = false;
  };
  std::vector<std::pair<std::string, std::vector<In>>> lineage;
  nlohmann::json extra_facets = nlohmann::json::object();
};

inline nlohmann::json FacetBase(const std::string& name) {
  return {{"_producer", "https://example.com/test"},
          {"_schemaURL", "https://openlineage.io/spec/facets/1-0-0/" + name + ".json"}};
}

inline nlohmann::json DatasetJson(const Ds& d) {
  nlohmann::json facets = d.extra_facets;
  if (!d.columns.empty()) {
    nlohmann::json schema = FacetBase("SchemaDatasetFacet");
    schema["fields"] = nlohmann::json::array();
    for (const auto& c : d.columns) schema["fields"].push_back({{"name", c}, {"type", "string"}});
    facets["schema"] = schema;
  }
  if (!d.lineage.empty()) {
    nlohmann::json cl = FacetBase("ColumnLineageDatasetFacet");
    cl["fields"] = nlohmann::json::object();
    for (const auto& [out, ins] : d.lineage) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& in : ins) {
        arr.push_back({{"namespace", in.ns},
                       {"name", in.name},
                       {"field", in.field},
                       {"transformations",
                        {{{"type", in.type}, {"subtype", in.subtype}, {"masking", in.masking}}}}});
      }
      cl["fields"][out] = {{"inputFields", arr}};
    }
    facets["columnLineage"] = cl;
  }
  nlohmann::json j = {{"namespace", d.ns}, {"name", d.name}};
  if (!facets.empty()) j["facets"] = facets;
  return j;
}

inline std::string RunEvent(const std::string& job, const std::string& run_id,
                            const std::string& type, const std::string& time,
                            const std::vector<Ds>& inputs, const std::vector<Ds>& outputs,
                            nlohmann::json run_facets = nlohmann::json::object()) {
  nlohmann::json ev = {
      {"eventTime", time},
      {"producer", "https://example.com/test"},
      {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"},
      {"run", {{"runId", run_id}, {"facets", run_facets}}},
      {"job", {{"namespace", "jobs"}, {"name", job}}},
      {"inputs", nlohmann::json::array()},
      {"outputs", nlohmann::json::array()}};
  if (!type.empty()) ev["eventType"] = type;
  for (const auto& d : inputs) ev["inputs"].push_back(DatasetJson(d));
  for (const auto& d : outputs) ev["outputs"].push_back(DatasetJson(d));
  return ev.dump();
}

// A store with the parser and applier in front, committing each event on its own.
class TestStore {
 public:
  TestStore() {
    StoreOptions o;
    o.path = dir_.path();
    o.sync = false;
    auto s = GraphStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    writer_ = store_->NewWriter();
  }

  Result<ApplyOutcome> Ingest(const std::string& json, GraphDelta* delta = nullptr) {
    std::string canonical;
    TRIB_ASSIGN_OR_RETURN(ParsedEvent ev, parser_.Parse(json, &canonical));
    writer_->SetSavePoint();
    Result<ApplyOutcome> r = applier_.Apply(ev, json, EventDigest(canonical), *writer_);
    if (!r.ok()) {
      (void)writer_->RollbackToSavePoint();
      return r;
    }
    writer_->PopSavePoint();
    TRIB_RETURN_IF_ERROR(store_->Commit(*writer_, delta));
    return r;
  }

  void MustIngest(const std::string& json) {
    auto r = Ingest(json);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  NodeId Dataset(const std::string& name, const std::string& ns = "db") {
    auto id = store_->FindName(DatasetNameKey(ns, name));
    return id.ok() && id->has_value() ? **id : kNoNode;
  }
  NodeId Job(const std::string& name) {
    auto id = store_->FindName(JobNameKey("jobs", name));
    return id.ok() && id->has_value() ? **id : kNoNode;
  }
  NodeId Field(const std::string& dataset, const std::string& field, const std::string& ns = "db") {
    NodeId ds = Dataset(dataset, ns);
    if (ds == kNoNode) return kNoNode;
    auto id = store_->FindName(FieldNameKey(ds, field));
    return id.ok() && id->has_value() ? **id : kNoNode;
  }

  // Every edge record of (from, kind, to), all jobs and intervals.
  std::vector<EdgeRecord> Edges(NodeId from, EdgeKind kind, NodeId to) {
    auto r = writer_->EdgesBetween(from, kind, to);
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::vector<EdgeRecord>(r->begin(), r->end()) : std::vector<EdgeRecord>{};
  }
  bool Current(NodeId from, EdgeKind kind, NodeId to) {
    for (const auto& e : Edges(from, kind, to)) {
      if (e.current()) return true;
    }
    return false;
  }

  GraphStore& store() { return *store_; }
  const std::string& path() const { return path_ = dir_.path(); }

 private:
  TempDir dir_;
  mutable std::string path_;
  std::unique_ptr<GraphStore> store_;
  std::unique_ptr<StoreWriter> writer_;
  EventParser parser_;
  EventApplier applier_;
};

}  // namespace tributary::testing
