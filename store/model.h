// The records of the property graph, as the store keeps them.
//
// Every node (dataset, job, run, dataset field) has a dense integer id, allocated once and
// never reused. Edges carry their validity interval: the event time they were first
// reported and the time they were retired (kForever while current). An edge that
// disappears and later comes back is a new edge record with a new first_seen, so the
// intervals of one (from, kind, to, job) never overlap.
//
// The enum values below are part of the persistent format (docs/storage-format.md):
// never renumber them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/status.h"
#include "common/time.h"
#include "store/transform_set.h"

namespace tributary {

using NodeId = uint64_t;
inline constexpr NodeId kNoNode = 0;  // ids start at 1

enum class NodeKind : uint8_t { kDataset = 1, kJob = 2, kRun = 3, kField = 4 };

// Edges point in the direction data flows.
enum class EdgeKind : uint8_t {
  kRead = 1,    // dataset -> job that reads it
  kWrite = 2,   // job -> dataset it writes
  kDerive = 3,  // input field -> output field (column lineage); `job` says who derives it
};

enum class RunState : uint8_t {
  kNew = 0,  // no event with a state yet (only OTHER events)
  kRunning = 1,
  kCompleted = 2,
  kFailed = 3,
  kAborted = 4,
};

const char* NodeKindName(NodeKind kind);  // "dataset", "job", "run", "field"

// The node id the API speaks, in Marquez's form: "dataset:<ns>:<name>", "job:<ns>:<name>",
// "datasetField:<ns>:<name>:<field>" (a run: "run:<runId>", passed as `name`).
std::string MarquezNodeId(NodeKind kind, const std::string& ns, const std::string& name,
                          const std::string& field = {});
// The same id piece by piece, for writers that treat the names apart from the separators
// (a JSON writer escapes the names): calls `piece(text, is_name)` for each part in order.
template <typename Fn>
void ForEachMarquezNodeIdPart(NodeKind kind, std::string_view ns, std::string_view name,
                              std::string_view field, Fn piece) {
  switch (kind) {
    case NodeKind::kDataset:
      piece("dataset:", false);
      break;
    case NodeKind::kJob:
      piece("job:", false);
      break;
    case NodeKind::kField:
      piece("datasetField:", false);
      break;
    case NodeKind::kRun:
      piece("run:", false);
      break;
  }
  if (kind != NodeKind::kRun) {
    piece(ns, true);
    piece(":", false);
  }
  piece(name, true);
  if (kind == NodeKind::kField) {
    piece(":", false);
    piece(field, true);
  }
}
const char* EdgeKindName(EdgeKind kind);   // "read", "write", "column"
const char* RunStateName(RunState state);  // "NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED"

// Node flags.
inline constexpr uint32_t kFlagUnseen = 1;   // only referenced (e.g. by column lineage)
inline constexpr uint32_t kFlagDropped = 2;  // lifecycleStateChange DROP

// A tag from a tags facet; `field` set for a column-level tag (e.g. PII on one column).
struct TagRecord {
  std::string key;
  std::string value;
  std::string field;
  bool operator==(const TagRecord&) const = default;
};

struct FacetRecord {
  std::string name;
  std::string json;  // compact JSON; empty: deleted (a tombstone), or not loaded (has_text)
  Micros time = 0;   // event time of the event that set it
  // A node record keeps its facets' digests; their texts live apart, in the `facets` column
  // family, and are written only when they change (runs keep theirs inline).
  ShortDigest digest{};      // ShortDigestOf(json) of a live facet
  bool has_text = true;      // false: read from a node record, without the text
  bool text_changed = true;  // the text (or a tombstone's removal) is not yet in `facets`

  bool deleted() const { return has_text && json.empty(); }
};

// Dataset, job or field.
struct NodeRecord {
  NodeId id = kNoNode;
  NodeKind kind = NodeKind::kDataset;
  std::string ns;            // dataset, job: namespace. field: empty (see `dataset`)
  std::string name;          // dataset, job: name. field: empty
  std::string field;         // field: dotted path
  NodeId dataset = kNoNode;  // field: its dataset
  uint32_t flags = 0;
  Micros first_seen = 0;             // event time
  Micros updated = 0;                // event time of the last change
  Micros dropped_at = 0;             // with kFlagDropped
  std::string field_type;            // field: type from the latest schema that lists it
  std::vector<FacetRecord> facets;   // sorted by name; empty json: deleted (tombstone)
  std::vector<std::string> aliases;  // dataset: "ns\nname" of symlinks and former names
  // Derived from the ownership and tags facets, for queries that group by owner and domain.
  std::vector<std::string> owners;  // owner names ("team:orders", "user:alice")
  std::vector<TagRecord> tags;
  NodeId parent_job = kNoNode;   // job: from the parent run facet
  NodeId latest_run = kNoNode;   // job: latest run by event time
  NodeId lineage_run = kNoNode;  // job: the completed run its lineage comes from
  Micros lineage_time = 0;       // job: event time of that completion (0: none).
                                 // dataset: time of its latest static (DatasetEvent) lineage

  bool unseen() const { return flags & kFlagUnseen; }
};

struct EdgeRecord {
  NodeId from = kNoNode;
  EdgeKind kind = EdgeKind::kRead;
  NodeId to = kNoNode;
  NodeId job = kNoNode;  // kDerive: the deriving job (kNoNode for static lineage);
                         // kRead/kWrite: the job itself
  Micros first_seen = 0;
  Micros retired = kForever;
  NodeId last_run = kNoNode;  // the run that last reported it
  TransformSet transforms;    // kDerive only

  bool current() const { return retired == kForever; }
  bool ValidAt(Micros t) const { return first_seen <= t && t < retired; }
};

// A reported column edge, as a run accumulates them.
struct RunColumnEdge {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  TransformSet transforms;
};

struct RunRecord {
  NodeId id = kNoNode;
  std::string run_id;  // the producer's runId
  NodeId job = kNoNode;
  RunState state = RunState::kNew;
  Micros state_time = 0;  // event time of the event that set `state`
  Micros started_at = 0;  // time of the run's earliest event
  Micros ended_at = 0;    // terminal event time; 0 while running
  Micros last_event = 0;  // latest event time seen
  NodeId parent_run = kNoNode;
  std::string error_message;
  std::vector<FacetRecord> facets;  // run facets, sorted by name; empty json: deleted
  std::vector<NodeId> inputs;       // accumulated over the run's events, sorted
  std::vector<NodeId> outputs;
  std::vector<RunColumnEdge> column_edges;  // sorted by (from, to)
  // Datasets for which the run reported a columnLineage facet, sorted.
  std::vector<NodeId> lineage_datasets;
};

struct SchemaColumn {
  std::string path;
  std::string type;
  std::string description;
  bool operator==(const SchemaColumn&) const = default;
};

struct SchemaVersion {
  NodeId dataset = kNoNode;
  Micros time = 0;  // event time it was first reported
  std::vector<SchemaColumn> columns;
};

// What a committed write changed, for the in-memory graph to follow.
struct GraphDelta {
  std::vector<NodeRecord> nodes;  // created or changed datasets, jobs, fields
  std::vector<EdgeRecord> edges;  // created edges, and edges whose retirement changed
  std::vector<RunRecord> runs;    // created or changed runs
  bool empty() const { return nodes.empty() && edges.empty() && runs.empty(); }
};

// Encodings (docs/storage-format.md).
std::string EncodeNode(const NodeRecord& n);
Status DecodeNode(std::string_view in, NodeRecord* n);
std::string EncodeRun(const RunRecord& r);
Status DecodeRun(std::string_view in, RunRecord* r);
std::string EncodeEdgeValue(const EdgeRecord& e);
Status DecodeEdgeValue(std::string_view in, EdgeRecord* e);
// The set of transformations `encoded` holds (transform_set.h: PutTransform), found by its
// encoding in a cache of the thread's recent sets, and decoded only when not there.
Result<TransformSet> TransformsOfEncoding(std::string_view encoded);
std::string EncodeSchema(const std::vector<SchemaColumn>& cols);
Status DecodeSchema(std::string_view in, std::vector<SchemaColumn>* cols);

// Keys.
std::string DatasetNameKey(std::string_view ns, std::string_view name);
std::string JobNameKey(std::string_view ns, std::string_view name);
std::string FieldNameKey(NodeId dataset, std::string_view path);
std::string FieldPrefix(NodeId dataset);
std::string RunNameKey(std::string_view run_id, std::string_view job_ns, std::string_view job_name);
std::string RunIdPrefix(std::string_view run_id);
// out_edges key: from | kind | to | job | first_seen. in_edges key: to | kind | from | job |
// first_seen. Both 33 bytes.
std::string OutEdgeKey(const EdgeRecord& e);
std::string InEdgeKey(const EdgeRecord& e);
void DecodeOutEdgeKey(std::string_view key, EdgeRecord* e);
void DecodeInEdgeKey(std::string_view key, EdgeRecord* e);
std::string EdgePrefix(NodeId node, EdgeKind kind);
std::string EdgePrefix(NodeId node, EdgeKind kind, NodeId other);
std::string IdKey(NodeId id);
// facets key: node id | facet name.
std::string FacetKey(NodeId node, std::string_view facet);
std::string SchemaKey(NodeId dataset, Micros time);

}  // namespace tributary
