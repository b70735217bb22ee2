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
// Reads are served from a cache that every Put keeps up to date (names, nodes, runs, edge
// lists, field lists, latest schemas, digests): the writer is the store's only writer, so
// the cache stays exact across commits, and pending writes are visible through it. The
// pending batch is a plain WriteBatch, not an indexed one: a read the cache cannot answer
// goes to the committed store, and the cache holds every pending write that such a read
// could miss (see CacheEdge). After a commit that leaves the cache past its budget, it
// starts over, keeping only the names of datasets, jobs and runs and the records of datasets
// and jobs; it is dropped whole on rollback, which first commits the writes made before the
// save point, and when a write fails.
//
// Commits can be pipelined: Seal takes the pending writes out as a batch that
// GraphStore::Write writes on another thread while this writer applies the next events.
// Until the writer has seen that batch land (WaitInFlight), reads merge its writes in.
//
// Thread safety: used by one thread at a time. Only one StoreWriter per store may exist.
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/edge_list_map.h"
#include "store/model.h"

namespace rocksdb {
class Iterator;
}  // namespace rocksdb

namespace tributary {

class GraphStore;
struct WriterState;  // RocksDB batch, defined in store_writer.cc

class StoreWriter {
 public:
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Reads through pending writes. Node records come without their facets' texts (has_text
  // false): ingest compares digests.
  Result<std::optional<NodeId>> FindName(const std::string& key);
  Result<std::optional<NodeRecord>> GetNode(NodeId id);
  // The writer's own record of `id` (null when there is none): valid until the next write
  // of that node or the next commit.
  Result<const NodeRecord*> PeekNode(NodeId id);
  // The writer's own record of run `id` (null when there is none): valid until the next
  // write of that run or the next commit.
  Result<const RunRecord*> PeekRun(NodeId id);
  // Edges with their values, in the one direction the store keeps `kind` (see ListKey): the
  // read and derive edges into `node`, the write edges out of `node`.
  Result<std::vector<EdgeRecord>> Edges(NodeId node, EdgeKind kind);
  // Every record of (from, kind, to) over all jobs and intervals, ordered by (job,
  // first_seen). The records are the writer's own: valid until the next write or commit.
  Result<std::span<const EdgeRecord>> EdgesBetween(NodeId from, EdgeKind kind, NodeId to);
  // The writer's own lists, valid until the next write or commit: the edges of `node` and
  // `kind` in the direction ingest reads them (see ListKey), and a dataset's field names and
  // ids, sorted by name key.
  Result<std::span<const EdgeRecord>> ListOf(NodeId node, EdgeKind kind);
  Result<std::span<const std::pair<std::string, NodeId>>> FieldsOf(NodeId dataset);
  Result<std::optional<std::vector<SchemaColumn>>> LatestSchema(NodeId dataset,
                                                                Micros* time = nullptr);
  Result<std::optional<uint64_t>> FindDigest(const std::string& digest);
  // Read ahead into the cache what is not cached yet: the records of `ids`, and the lists of
  // `kind` edges of `nodes` in the direction ingest reads them (see ListKey). Ids close
  // together, such as a dataset's fields, are read in one pass over the store instead of a
  // lookup each.
  Status PrefetchNodes(std::vector<NodeId> ids);
  Status PrefetchLists(std::vector<NodeId> nodes, EdgeKind kind);

  // Writes.
  NodeId AllocateId();
  // Appends an event to the log; returns its sequence number. `bytes` is EncodeStoredText
  // of the event's text (store/text_codec.h), or the text itself.
  uint64_t AppendEvent(std::string_view bytes);
  void PutDigest(const std::string& digest, uint64_t seq);
  void PutName(const std::string& key, NodeId id);
  // Writes the texts of the facets with text_changed (removes them for tombstones).
  void PutNode(NodeRecord node);
  void PutRun(RunRecord run);
  void PutEdge(const EdgeRecord& edge);  // in_edges, or out_edges for kWrite (see ListKey)
  void PutSchema(NodeId dataset, Micros time, const std::vector<SchemaColumn>& cols);

  // Leaves the read cache to the end of the process instead of freeing it, and starts over
  // with an empty one; only with nothing pending (after a commit, or WaitInFlight once the
  // last batch is sealed). For a process that exits once its ingest is done, where freeing
  // millions of entries one by one is time spent for nothing (0.7 s of an ingest of 60,000
  // events). The cache stays reachable, so leak checkers do not report it.
  void AbandonCache();

  // Pipelined commits. Seal moves the pending writes, their delta and the counters into a
  // batch for GraphStore::Write, whose result `written` must carry, and leaves this writer
  // empty and ready for more. At most one sealed batch may be in flight: call WaitInFlight
  // before the next Seal.
  class Sealed;
  std::shared_ptr<Sealed> Seal(std::shared_future<Status> written);
  // Waits for the batch in flight, if any, to be written. On failure nothing of it was
  // written, yet the cache and every write since were built on it: those writes and the
  // cache are dropped and the failure returned (the events applied since it was sealed
  // fail with it). Past the cache budget, with nothing pending, the cache starts over.
  Status WaitInFlight();
  // True when the cache has outgrown its budget: it starts over at the next WaitInFlight
  // that finds nothing pending, or the next Commit.
  bool over_budget() const;

  void SetSavePoint();
  // Forgets the last save point, keeping the writes made since.
  void PopSavePoint();
  // Undoes every write since the last SetSavePoint. The writes made before it are committed
  // at once (fsynced when the store syncs), still reported by the next commit's delta;
  // earlier save points are forgotten.
  Status RollbackToSavePoint();

  const GraphDelta& delta() const { return delta_; }
  // Whether Puts record what they change in delta() (the default). Off when nothing applies
  // the deltas, such as ingest without an in-memory graph: the copies cost the writer.
  void set_record_delta(bool on) { record_delta_ = on; }
  size_t pending_bytes() const;
  bool empty() const;

 private:
  friend class GraphStore;
  explicit StoreWriter(GraphStore& store);
  void Clear();  // after commit
  // After the batch was written: empties it, keeping the delta.
  void Written();

  struct SavePoint {
    uint64_t next_id, next_seq;
    size_t nodes, edges, runs;
  };
  struct CachedSchema {
    std::optional<std::vector<SchemaColumn>> columns;
    Micros time = 0;
  };
  // The edges of one node and kind, in one direction. Each edge is stored and cached in one
  // list only: kRead and kDerive edges in the list of edges into their target (in_edges,
  // key order: from, job, first_seen), kWrite edges in the list out of their source
  // (out_edges, key order: to, job, first_seen). Those are the lists ingest reads.
  using ListKey = EdgeListMap::Key;
  struct ListKeyHash {
    size_t operator()(const ListKey& k) const {
      uint64_t h = (k.node * 4 + static_cast<uint64_t>(k.kind)) * 0x9e3779b97f4a7c15ULL;
      return static_cast<size_t>(h ^ (h >> 32));
    }
  };
  using EdgeLists = std::unordered_map<ListKey, std::vector<EdgeRecord>, ListKeyHash>;
  static bool CachedIncoming(EdgeKind kind) { return kind != EdgeKind::kWrite; }

  // Empties the cache: after a failure, or a rollback, it may hold writes that never land.
  void DropCache();
  // Empties the cache past its budget, with nothing pending: it keeps what is exact, small
  // and read by nearly every event (the names and records of datasets, jobs and runs).
  void TrimCache();
  // Records `e` in its list when cached, else in the pending overlay, which a later load of
  // the list from the store merges in.
  void CacheEdge(const EdgeRecord& e);
  using FieldList = std::vector<std::pair<std::string, NodeId>>;
  // The cached field list of `dataset`, loaded from the store on a miss.
  Result<FieldList*> Fields(NodeId dataset);
  // The writer's iterator over column family `cf`, made on first use: making one for each
  // read costs as much as a lookup. It reads the store as it was when made, so when writes
  // of the writer's own land (a commit, the batch in flight seen written), ForgetScanners
  // discards them all; so does Seal, which ends a group.
  rocksdb::Iterator* Scanner(int cf);
  void ForgetScanners();
  // The cached list of `node` and `kind` (see ListKey), loaded from the store on a miss.
  Result<std::vector<EdgeRecord>*> List(NodeId node, EdgeKind kind);
  // Caches `out`, read from the store, as the list of `key`, with the edges written since
  // the last commit, which the store may not have yet.
  std::vector<EdgeRecord>* CacheList(const ListKey& key, std::vector<EdgeRecord> out);

  GraphStore& store_;
  std::unique_ptr<WriterState> w_;
  bool record_delta_ = true;
  uint64_t next_id_;
  uint64_t next_seq_;
  GraphDelta delta_;
  std::vector<SavePoint> save_points_;

  // The read cache (see the class comment).
  std::unordered_map<std::string, std::optional<NodeId>> names_;
  // Records of fields, and ids found absent.
  std::unordered_map<NodeId, std::optional<NodeRecord>> nodes_;
  // Records of datasets and jobs: few next to fields, and read by nearly every event, they
  // stay when the cache starts over, like their names. An id is in one of the two maps.
  std::unordered_map<NodeId, NodeRecord> kept_nodes_;
  static bool Kept(const NodeRecord& n) { return n.kind != NodeKind::kField; }
  // Caches `n`, read from the store as the record of `id`, in the map its kind goes to.
  const NodeRecord* CacheNode(NodeId id, std::optional<NodeRecord> n);
  std::unordered_map<NodeId, std::optional<RunRecord>> runs_;
  EdgeListMap lists_;
  // Pending edges of lists not cached, by list; emptied by each commit.
  EdgeLists pending_;
  // Each dataset's field names and ids, sorted by name key: complete, as PutName adds to
  // them. Field names are looked up here, not in names_.
  std::unordered_map<NodeId, FieldList> field_lists_;
  std::unordered_map<NodeId, CachedSchema> schemas_;
  std::unordered_map<std::string, uint64_t> pending_digests_;  // emptied by each commit
  size_t cached_ = 0;                                          // entries, for the budget
  // A read that a write needed failed: the cache may be incomplete, so the batch must not be
  // committed. Cleared with the batch.
  Status broken_;
  // Nodes with ids from here on were created since the cache was last dropped: every edge
  // they have went through PutEdge, so their edge lists are complete without a scan.
  NodeId fresh_from_ = 0;
  bool Fresh(NodeId id) const { return id >= fresh_from_; }
  // The sealed batch being written, and its result; null when none.
  std::shared_ptr<const Sealed> inflight_;
  std::shared_future<Status> inflight_written_;
  std::vector<std::unique_ptr<rocksdb::Iterator>> scanners_;  // by column family
};

// A batch taken out of a StoreWriter by Seal. The writer reads its edges and digests until
// it lands, while GraphStore::Write writes it on another thread.
class StoreWriter::Sealed {
 public:
  ~Sealed();
  // What the batch changes, for the in-memory graph once it is written.
  const GraphDelta& delta() const { return delta_; }

 private:
  friend class StoreWriter;
  friend class GraphStore;
  Sealed();

  std::unique_ptr<WriterState> w_;
  uint64_t next_id_ = 0;
  uint64_t next_seq_ = 0;
  Status broken_;
  GraphDelta delta_;
  EdgeLists pending_;  // edges of lists the writer had not cached
  std::unordered_map<std::string, uint64_t> digests_;
};

}  // namespace tributary
