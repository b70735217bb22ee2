// GraphStore: the RocksDB-backed property graph, with the raw event log as its source of
// truth.
//
// Column families (docs/storage-format.md has every key and value):
//   events        ingest sequence -> the event as received (store/text_codec.h)
//   event_digests SHA-256 of the canonical event -> sequence (exact-duplicate detection)
//   nodes         node id -> NodeRecord (datasets, jobs, fields), with its facets' digests
//   facets        node id|facet name -> the facet's text
//   names         name key -> node id (datasets, jobs, fields, runs; aliases too)
//   out_edges     from|kind|to|job|first_seen -> EdgeRecord value (write edges)
//   in_edges      to|kind|from|job|first_seen -> EdgeRecord value (read and derive edges)
//   schemas       dataset|time -> schema version
//   runs          run id -> RunRecord
//   meta          "format_version", "next_id", "next_seq", "rebuilding"
//
// Writes go through a StoreWriter (one at a time), whose reads see its own pending writes,
// and are committed atomically with Commit. Everything but `events` and `meta`'s
// format_version is derived from the event log and can be rebuilt.
//
// Thread safety: reads are safe from any thread at any time. At most one StoreWriter may
// exist at a time; Commit and ResetDerived must not run concurrently with each other.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/model.h"
#include "store/store_writer.h"

namespace rocksdb {
class WriteBatch;
}

namespace tributary {

class StoreWriter;
struct StoreHandles;  // RocksDB handles, defined in graph_store.cc

struct StoreOptions {
  std::string path;  // directory of the store; created when missing
  // fsync the write-ahead log on every commit. The ingest pipeline commits the events of
  // concurrent callers together, so they share one fsync.
  bool sync = true;
  // RocksDB block cache for reads.
  size_t block_cache_bytes = size_t{256} << 20;
  // Entries the writer's read cache may hold before it starts over (about 150 bytes each,
  // more for edge lists with transformations). Ingest that outgrows it re-reads the store.
  size_t writer_cache_entries = 4'000'000;
};

struct StoreCounts {
  uint64_t events = 0;  // events in the log
};

class GraphStore {
 public:
  static constexpr int kFormatVersion = 4;

  // Opens (or creates) the store at options.path. FailedPrecondition when the directory
  // holds a store of another format version; Unavailable when it is locked by another
  // process.
  static Result<std::unique_ptr<GraphStore>> Open(const StoreOptions& options);
  ~GraphStore();
  GraphStore(const GraphStore&) = delete;
  GraphStore& operator=(const GraphStore&) = delete;

  // A new write session. The caller must ensure only one exists at a time.
  std::unique_ptr<StoreWriter> NewWriter();
  // Commits the session's writes in one WriteBatch with the WAL on (fsynced when
  // options.sync), and moves what they changed into `*delta` (when not null). Success or
  // not, the writer is empty afterwards and may be reused.
  Status Commit(StoreWriter& writer, GraphDelta* delta = nullptr);
  // Writes a batch sealed by StoreWriter::Seal, as Commit does; may run on another thread
  // than the writer's. Batches must be written in the order they were sealed. With `sync`
  // false the write-ahead log is not fsynced even when options.sync: the batch is then
  // durable only after a SyncLog that follows it.
  Status Write(StoreWriter::Sealed& batch, bool sync = true);
  // Fsyncs the write-ahead log: everything written before it is durable once it returns ok.
  // Safe to call while another thread writes.
  Status SyncLog();

  // Committed reads. A node comes with its facets' texts.
  Result<std::optional<NodeRecord>> GetNode(NodeId id) const;
  // The node's record alone, without its facets' texts (has_text false), as ForEachNode
  // gives it: names, owners, tags and facet digests in one read, where GetNode also scans
  // the facets.
  Result<std::optional<NodeRecord>> GetNodeRecord(NodeId id) const;
  Result<std::optional<RunRecord>> GetRun(NodeId id) const;
  Result<std::optional<NodeId>> FindName(const std::string& key) const;
  // All names under a key prefix, in key order: (key, id).
  Result<std::vector<std::pair<std::string, NodeId>>> ScanNames(const std::string& prefix) const;
  Result<std::vector<SchemaVersion>> SchemaVersions(NodeId dataset) const;
  // The event's text as received.
  Result<std::optional<std::string>> GetEvent(uint64_t seq) const;

  // Full scans, in key order; stop early when `fn` returns a non-OK status (returned).
  // Events are given as their texts.
  Status ForEachEvent(const std::function<Status(uint64_t seq, std::string_view bytes)>& fn) const;
  // Nodes come without their facets' texts (has_text false), which GetNode reads.
  Status ForEachNode(const std::function<Status(const NodeRecord&)>& fn) const;
  Status ForEachRun(const std::function<Status(const RunRecord&)>& fn) const;
  Status ForEachEdge(const std::function<Status(const EdgeRecord&)>& fn) const;

  uint64_t event_count() const { return next_seq_.load() - 1; }
  const StoreOptions& options() const { return options_; }

  // Drops every derived record (all but the event log and the format version), for a
  // rebuild from the log, and marks the store as rebuilding until FinishRebuild. No writer
  // may be open.
  Status ResetDerived();
  Status FinishRebuild();
  // True when a rebuild started and has not finished (it was interrupted): the derived
  // records are incomplete.
  bool rebuilding() const { return rebuilding_; }

  // A text dump of every derived record, in key order: for tests that compare two stores.
  Result<std::string> DumpDerived() const;

 private:
  friend class StoreWriter;
  GraphStore(StoreOptions options, std::unique_ptr<StoreHandles> handles);
  Status LoadCounters();
  // Writes the writer's batch with the counters; on success the counters advance and the
  // batch is emptied (the delta is kept).
  Status WriteBatchOf(StoreWriter& writer);
  // Writes `batch` with the counters, which advance on success.
  Status WriteWithCounters(rocksdb::WriteBatch* batch, uint64_t next_id, uint64_t next_seq,
                           bool sync);

  StoreOptions options_;
  std::unique_ptr<StoreHandles> h_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> next_seq_{1};
  bool rebuilding_ = false;
};

}  // namespace tributary
