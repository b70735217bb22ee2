// JSON shapes of the API's answers: nodes, edges, datasets, jobs and runs.
// Internal to api/.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "analysis/closure.h"
#include "analysis/lineage_graph.h"
#include "common/status.h"
#include "store/graph_store.h"

namespace tributary {

// The Marquez-style id of a node of the graph ("dataset:<ns>:<name>", ...).
std::string NodeIdOf(const GraphReader& graph, NodeId id);
// The shapes below are written as text directly: a large closure's answer would cost more to
// build as a JSON tree than to compute. The nlohmann forms parse that same text.
void AppendJsonString(std::string* out, std::string_view s);
// A JSON array of strings.
void AppendJsonStrings(std::string* out, const std::vector<std::string>& items);
// A JSON array of `items`, each written by `write_item(item)`.
template <typename T, typename Fn>
void AppendJsonArray(std::string* out, const std::vector<T>& items, Fn write_item) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out->push_back(',');
    write_item(items[i]);
  }
  out->push_back(']');
}
// ,"key":true or ,"key":false: a member after the first.
void AppendBoolMember(std::string* out, const char* key, bool value);
// A node, with "distance" and "direction" when given (not null).
void AppendNodeJson(std::string* out, const GraphReader& graph, NodeId id, const int* distance,
                    const char* direction);
// Writers of long answers. A node's or an edge's object repeats text of other nodes (a
// field's dataset, an edge's job) that the next one often repeats too: these keep it between
// items. Each serves one answer: it borrows the output and a GraphReader, must not outlive
// them, and is used by one thread at a time.

// Node ids as JSON strings, keeping for the next ids the text that a field's dataset
// contributes (or another node's whole id), for the last four datasets: answers list a
// dataset's fields one after another, and a job's edges one after another, from the few
// datasets it reads.
class NodeIdJsonCache {
 public:
  // Appends the id of `id` (GraphNodeId), quoted and escaped.
  void Append(std::string* out, const GraphReader& graph, NodeId id);

 private:
  struct Entry {
    NodeId key = kNoNode;  // the dataset of the fields whose ids `text` begins, or the node
    bool field = false;
    std::string text;
  };
  std::array<Entry, 4> entries_;
  size_t next_ = 0;  // the entry to replace next
};
// Writes many nodes as AppendNodeJson does, keeping the text of the last field's dataset:
// its namespace and name twice over, escaped.
class NodeJsonWriter {
 public:
  NodeJsonWriter(std::string* out, const GraphReader& graph);
  void Write(NodeId id, const int* distance, const char* direction);

 private:
  std::string* out_;
  const GraphReader& g_;
  NodeIdJsonCache id_;
  NodeId dataset_ = kNoNode;  // whose members members_ holds
  std::string members_;       // ,"kind":"field","namespace":..,"name":..,"field":
};
// Writes many edges as AppendEdgeJson does, keeping the text of their ends' datasets, their
// jobs, transformation sets and first-seen times.
class EdgeJsonWriter {
 public:
  EdgeJsonWriter(std::string* out, const GraphReader& graph);
  void Write(const GraphEdge& edge);
  // The edges of `indices` (GraphReader::edge) as a JSON array.
  void WriteArray(std::span<const uint32_t> indices);

 private:
  std::string* out_;
  const GraphReader& g_;
  NodeIdJsonCache from_, to_, job_;
  std::unordered_map<uint32_t, std::string> transforms_;  // by set: ,"transformations":[...]
  Micros first_seen_ = 0;
  std::string first_seen_text_;
};
void AppendEdgeJson(std::string* out, const GraphReader& graph, const GraphEdge& edge);
// The answer of GET /api/v1/closure: root, query, nodes (with distances), and edges when the
// query collects them.
void AppendClosureAnswer(std::string* out, const GraphReader& graph, const ClosureQuery& query,
                         const ClosureResult& result);
// {"id", "kind", "namespace", "name", "field"?, "unseen"?} of a node in the graph.
nlohmann::json NodeJson(const GraphReader& graph, NodeId id);
// {"from", "to", "kind", "job", "transformations", "firstSeen", "retired"}.
nlohmann::json EdgeJson(const GraphReader& graph, const GraphEdge& edge);
nlohmann::json TransformsJson(const std::vector<Transform>& ts);
nlohmann::json RunJson(const RunRecord& run);
// Facets as an object of parsed JSON values.
nlohmann::json FacetsJson(const std::vector<FacetRecord>& facets);

Result<nlohmann::json> DatasetDetailJson(const GraphStore& store, const LineageGraph& graph,
                                         NodeId id);
Result<nlohmann::json> JobDetailJson(const GraphStore& store, const LineageGraph& graph, NodeId id);

}  // namespace tributary
