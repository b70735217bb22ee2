// StoreWriter: one write session on a GraphStore.
//
// Reads see the session's own pending writes on top of the committed store, so the
// ingest of several events can be batched into one commit (group commit) while each event
// still reads the state its predecessors left. Save points let one event's writes be
// undone without losing the others'.
//
// Every Put also records what changed in delta(), which the in-memory graph applies after
// the commit.
//
// Reads are cached across commits (names, nodes, runs, edge lists, field lists, latest
// schemas): the writer is the store's only writer, so every change passes through it and the
// cache stays exact. Ingest reads the same few records over and over (a job's edges, a
// dataset's fields), and a cached read skips RocksDB's batch index and memtables. The cache
// is dropped on rollback and when it outgrows its budget.
//
// Thread safety: used by one thread at a time. Only one StoreWriter per store may exist.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/model.h"

namespace tributary {

class GraphStore;
struct WriterState;  // RocksDB batch, defined in store_writer.cc

class StoreWriter {
 public:
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Reads through pending writes.
  Result<std::optional<NodeId>> FindName(const std::string& key);
  Result<std::optional<NodeRecord>> GetNode(NodeId id);
  Result<std::optional<RunRecord>> GetRun(NodeId id);
  Result<std::vector<std::pair<std::string, NodeId>>> ScanNames(const std::string& prefix);
  // Edges with their values. `outgoing`: edges from `node`; else edges into `node`.
  Result<std::vector<EdgeRecord>> Edges(NodeId node, EdgeKind kind, bool outgoing);
  // Every record of (from, kind, to) over all jobs and intervals.
  Result<std::vector<EdgeRecord>> EdgesBetween(NodeId from, EdgeKind kind, NodeId to);
  Result<std::optional<std::vector<SchemaColumn>>> LatestSchema(NodeId dataset,
                                                                Micros* time = nullptr);
  Result<std::optional<uint64_t>> FindDigest(const std::string& digest);

  // Writes.
  NodeId AllocateId();
  // Appends an event to the log; returns its sequence number.
  uint64_t AppendEvent(std::string_view bytes);
  void PutDigest(const std::string& digest, uint64_t seq);
  void PutName(const std::string& key, NodeId id);
  void PutNode(const NodeRecord& node);
  void PutRun(const RunRecord& run);
  void PutEdge(const EdgeRecord& edge);  // both out_edges and in_edges
  void PutSchema(NodeId dataset, Micros time, const std::vector<SchemaColumn>& cols);

  void SetSavePoint();
  // Forgets the last save point, keeping the writes made since.
  void PopSavePoint();
  // Undoes every write since the last SetSavePoint.
  Status RollbackToSavePoint();

  const GraphDelta& delta() const { return delta_; }
  size_t pending_bytes() const;
  bool empty() const;

 private:
  friend class GraphStore;
  explicit StoreWriter(GraphStore& store);
  void Clear();  // after commit

  struct SavePoint {
    uint64_t next_id, next_seq;
    size_t nodes, edges, runs;
  };
  struct CachedSchema {
    std::optional<std::vector<SchemaColumn>> columns;
    Micros time = 0;
  };

  void DropCache();
  // Records `e` in any cached edge list that should hold it, in key order.
  void CacheEdge(const EdgeRecord& e);

  GraphStore& store_;
  std::unique_ptr<WriterState> w_;
  uint64_t next_id_;
  uint64_t next_seq_;
  GraphDelta delta_;
  std::vector<SavePoint> save_points_;

  // The read cache (see the class comment). Edge lists are keyed by their RocksDB prefix.
  std::unordered_map<std::string, std::optional<NodeId>> names_;
  std::unordered_map<NodeId, std::optional<NodeRecord>> nodes_;
  std::unordered_map<NodeId, std::optional<RunRecord>> runs_;
  std::unordered_map<std::string, std::vector<EdgeRecord>> out_lists_;  // from|kind[|to]
  std::unordered_map<std::string, std::vector<EdgeRecord>> in_lists_;   // to|kind
  std::unordered_map<NodeId, std::vector<std::pair<std::string, NodeId>>> field_lists_;
  std::unordered_map<NodeId, CachedSchema> schemas_;
  size_t cached_ = 0;  // entries, for the budget
  // Nodes with ids from here on were created since the cache was last dropped: every edge
  // they have went through PutEdge, so their edge lists are complete without a scan.
  NodeId fresh_from_ = 0;
  bool Fresh(NodeId id) const { return id >= fresh_from_; }
};

}  // namespace tributary
