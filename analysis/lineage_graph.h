// LineageGraph: the current lineage graph in memory, for queries.
//
// Built from the store at open and then kept up to date with the GraphDelta of every
// commit. Node ids are the store's dense ids, used directly as vertex indices. Edges live
// in a Boost compressed-sparse-row graph (bidirectional, so both directions are cheap),
// plus a small append-only overflow for edges added since the last rebuild of the CSR; the
// CSR is rebuilt once the overflow grows past a fraction of it, so appends are amortised
// O(1). Every edge keeps its validity interval; current lineage and `as_of` are predicates
// over the one graph.
//
// Thread safety: all public methods are safe to call concurrently. Readers hold a
// GraphReader (a shared lock) for the duration of a query; ApplyDelta takes the lock
// exclusively, so a query never sees a half-applied event.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/node_bits.h"
#include "common/status.h"
#include "store/graph_store.h"
#include "store/model.h"

namespace tributary {

// A node as queries see it. Names are interned: GraphReader::ns(), name() and field() give
// the text. Ids are held in 32 bits, as in the CSR. A node takes 40 bytes: with millions of
// fields, memory per node is most of the graph's footprint after the edges.
struct GraphNode {
  NodeKind kind = NodeKind::kDataset;
  bool present = false;  // false for ids not (yet) used by a dataset, job or field
  uint32_t flags = 0;
  uint32_t dataset = kNoNode;  // field: its dataset
  uint32_t ns_text = 0;        // dataset, job
  uint32_t name_text = 0;      // dataset, job
  uint32_t field_text = 0;     // field: path
  // Jobs: the latest run, and the completed run (and its time) the lineage comes from.
  uint32_t latest_run = kNoNode;
  uint32_t lineage_run = kNoNode;
  Micros lineage_time = 0;
};
static_assert(sizeof(GraphNode) == 40);

// A run as queries see it.
struct GraphRun {
  NodeId id = kNoNode;
  NodeId job = kNoNode;
  std::string run_id;
  RunState state = RunState::kNew;
  Micros started_at = 0;
  Micros ended_at = 0;
  std::string error_message;
  std::vector<NodeId> inputs;   // sorted
  std::vector<NodeId> outputs;  // sorted
};

// An edge as queries see it. `transforms` indexes LineageGraph::transforms(). Node ids are
// dense and held in 32 bits here (the graph's CSR indexes vertices with 32 bits anyway):
// memory per edge is what decides how large a graph one machine can hold.
struct GraphEdge {
  uint32_t from = kNoNode;
  uint32_t to = kNoNode;
  uint32_t job = kNoNode;
  uint32_t last_run = kNoNode;
  Micros first_seen = 0;
  Micros retired = kForever;
  uint32_t transforms = 0;
  EdgeKind kind = EdgeKind::kRead;

  bool ValidAt(Micros t) const { return first_seen <= t && t < retired; }
  bool current() const { return retired == kForever; }
};
static_assert(sizeof(GraphEdge) == 40);

struct GraphCounts {
  uint64_t datasets = 0;
  uint64_t jobs = 0;
  uint64_t fields = 0;
  uint64_t runs = 0;
  uint64_t edges = 0;  // all edge records, history included
  uint64_t current_column_edges = 0;
  uint64_t current_dataset_edges = 0;  // read + write
};

// The column edges a walk follows: the current ones, or with `as_of` those valid at that
// moment; with `direct_only`, only those among them with a DIRECT transformation.
struct ColumnEdgeFilter {
  std::optional<Micros> as_of;
  bool direct_only = false;
};

class LineageGraph;

// Read access to the graph under a shared lock. Cheap to create; hold it only for the
// duration of one query.
class GraphReader {
 public:
  explicit GraphReader(const LineageGraph& g);

  size_t node_capacity() const;  // one past the largest node id
  const GraphNode& node(NodeId id) const;
  // A node's interned names ("" where it has none).
  const std::string& ns(const GraphNode& n) const { return text(n.ns_text); }
  const std::string& name(const GraphNode& n) const { return text(n.name_text); }
  const std::string& field(const GraphNode& n) const { return text(n.field_text); }
  const std::string& text(uint32_t id) const;
  const GraphEdge& edge(uint32_t index) const;
  const std::vector<Transform>& transforms(uint32_t index) const;
  // Appends to `out` the index of each edge out of (outgoing) or into `id`.
  void AppendEdges(NodeId id, bool outgoing, std::vector<uint32_t>* out) const;
  // The same edges as (edge index, node at the other end).
  void AppendAdjacent(NodeId id, bool outgoing,
                      std::vector<std::pair<uint32_t, uint32_t>>* out) const;
  // Whether transformation set `transforms` (GraphEdge::transforms) holds a DIRECT one.
  bool has_direct(uint32_t transforms) const;
  // One level of a breadth-first walk over the column edges `filter` keeps: appends to
  // `next` each node one such edge away from `frontier` (along the edges when `outgoing`,
  // against them otherwise) that is not in `seen`, and inserts it; appends to `crossed`,
  // unless null, the index of every edge followed, in the order followed. `seen` holds
  // node_capacity() ids.
  void ExpandColumns(std::span<const uint32_t> frontier, bool outgoing,
                     const ColumnEdgeFilter& filter, NodeBits* seen, std::vector<uint32_t>* crossed,
                     std::vector<uint32_t>* next) const;
  // Fields of a dataset, in id order.
  const std::vector<NodeId>& fields(NodeId dataset) const;
  // The dataset or job named `name` in namespace `ns`, and the field of `dataset` at `path`;
  // nullopt where the graph has none.
  std::optional<NodeId> FindDataset(std::string_view ns, std::string_view name) const;
  std::optional<NodeId> FindJob(std::string_view ns, std::string_view name) const;
  std::optional<NodeId> FindField(NodeId dataset, std::string_view path) const;
  // A dataset's or job's owners and the value of its own "domain" tag ("" when none), from
  // its ownership and tags facets as last ingested (DomainMap decides domains from them).
  std::vector<std::string> owners(NodeId id) const;
  const std::string& domain_tag(NodeId id) const;
  GraphCounts counts() const;

  // Runs. Null when unknown.
  const GraphRun* run(NodeId id) const;
  // Runs of a job, and runs that read or wrote a dataset, in the order they were first seen.
  const std::vector<NodeId>& runs_of_job(NodeId job) const;
  const std::vector<NodeId>& runs_reading(NodeId dataset) const;
  const std::vector<NodeId>& runs_writing(NodeId dataset) const;
  // The run that last reported edge `e` (as of `as_of`, when set): its job's lineage run
  // when the edge is not newer than the job's lineage (and that lineage is not after
  // `as_of`), else the run recorded on the edge.
  NodeId LastReportingRun(const GraphEdge& e, std::optional<Micros> as_of = {}) const;

 private:
  const LineageGraph& g_;
  std::shared_lock<std::shared_mutex> lock_;
};

// The Marquez-style id of a node of the graph (store/model.h MarquezNodeId); a field's
// namespace and name are its dataset's.
std::string GraphNodeId(const GraphReader& graph, NodeId id);

class LineageGraph {
 public:
  // Loads every node and edge from `store`.
  static Result<std::unique_ptr<LineageGraph>> Load(const GraphStore& store);
  LineageGraph();
  ~LineageGraph();

  // Applies what one commit changed.
  void ApplyDelta(const GraphDelta& delta);

  GraphReader Read() const { return GraphReader(*this); }

 private:
  friend class GraphReader;
  struct Impl;
  void ApplyNodeLocked(const NodeRecord& n);
  void ApplyEdgeLocked(const EdgeRecord& e);
  void ApplyRunLocked(const RunRecord& r);

  mutable std::shared_mutex mu_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary
