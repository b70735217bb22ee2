#include "store/graph_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>

#include <algorithm>
#include <filesystem>

#include "common/coding.h"
#include "store/store_handles.h"
#include "store/store_writer.h"
#include "store/text_codec.h"

namespace tributary {
namespace {

const char* const kColumnFamilyNames[kCfCount] = {
    "default",  "events",  "event_digests", "nodes", "names",  "out_edges",
    "in_edges", "schemas", "runs",          "meta",  "facets",
};

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Status::Unavailable(what + ": " + s.ToString());
  }
  if (s.IsCorruption()) return Status::DataLoss(what + ": " + s.ToString());
  return Status::Internal(what + ": " + s.ToString());
}

// A batch's puts and deletes in (column family, key) order, equal keys in their order in the
// batch, so that the store ends the same. RocksDB inserts each operation into its column
// family's memtable, a skip list: in key order each insert starts from where the one before
// it ended, where ingest's batches in event order sent most inserts searching from the top.
// The values put into column family `compressed_cf` (facets' texts) are copied encoded
// (EncodeStoredText): the commit thread copies every value here anyway, and has time to spare
// where the writer thread has none.
class BatchSorter : public rocksdb::WriteBatch::Handler {
 public:
  explicit BatchSorter(uint32_t compressed_cf) : compressed_cf_(compressed_cf) {}

  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    ops_.push_back({cf, static_cast<uint32_t>(ops_.size()), Prefix(key), false, key, value});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    ops_.push_back({cf, static_cast<uint32_t>(ops_.size()), Prefix(key), true, key, {}});
    return rocksdb::Status::OK();
  }

  // Writes the sorted copy of `in` into `out`; false when `in` holds anything but puts and
  // deletes (the handler's other operations refuse it), and `out` is then not to be written.
  bool Sort(const rocksdb::WriteBatch& in, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
            rocksdb::WriteBatch* out) {
    ops_.reserve(in.Count());
    if (!in.Iterate(this).ok()) return false;
    std::vector<rocksdb::ColumnFamilyHandle*> by_id;
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (by_id.size() <= h->GetID()) by_id.resize(h->GetID() + 1);
      by_id[h->GetID()] = h;
    }
    for (const Op& op : ops_) {
      if (op.cf >= by_id.size() || by_id[op.cf] == nullptr) return false;
    }
    std::sort(ops_.begin(), ops_.end(), [](const Op& a, const Op& b) {
      if (a.cf != b.cf) return a.cf < b.cf;
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      const int c = a.key.compare(b.key);
      return c != 0 ? c < 0 : a.order < b.order;
    });
    std::string encoded;
    for (const Op& op : ops_) {
      rocksdb::Slice value = op.value;
      if (!op.del && op.cf == compressed_cf_) {
        encoded = EncodeStoredText(op.value.ToStringView());
        value = encoded;
      }
      rocksdb::Status s =
          op.del ? out->Delete(by_id[op.cf], op.key) : out->Put(by_id[op.cf], op.key, value);
      if (!s.ok()) return false;
    }
    return true;
  }

 private:
  struct Op {
    uint32_t cf;
    uint32_t order;
    // The key's first 8 bytes, big-endian, zero-padded: ordered as the keys are where they
    // differ, so most comparisons (keys start with a node id) read no key bytes.
    uint64_t prefix;
    bool del;
    rocksdb::Slice key, value;
  };
  static uint64_t Prefix(const rocksdb::Slice& key) {
    uint64_t p = 0;
    for (size_t i = 0; i < 8; ++i) {
      p = (p << 8) | (i < key.size() ? static_cast<unsigned char>(key[i]) : 0);
    }
    return p;
  }
  const uint32_t compressed_cf_;
  std::vector<Op> ops_;
};

template <typename Fn>
Status Scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix, Fn fn,
            const rocksdb::Snapshot* snapshot = nullptr) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  // Full scans (graph load, rebuild, dumps) would fill the block cache with blocks that are
  // read once: at 10^7 edges that is the whole cache, resident for nothing.
  ro.fill_cache = !prefix.empty();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    TRIB_RETURN_IF_ERROR(fn(it->key().ToStringView(), it->value().ToStringView()));
  }
  return FromRocks(it->status(), "scan");
}

}  // namespace

GraphStore::GraphStore(StoreOptions options, std::unique_ptr<StoreHandles> handles)
    : options_(std::move(options)), h_(std::move(handles)) {}

GraphStore::~GraphStore() {
  // An orderly close flushes the memtables when the write-ahead log has grown, so that its
  // files go with them: after an ingest of 60,000 events the store kept 282 MB of log beside
  // 130 MB of tables (1.0x the raw events instead of 0.3x), and the next start replayed all
  // of it. A small log (tests, a server that took a few events) is left to be replayed; the
  // memtables' own size would not tell, as it counts their preallocated blocks. A failed
  // flush loses nothing: the log stays, and is replayed at the next start.
  constexpr uint64_t kFlushOnCloseLogBytes = 8 << 20;
  rocksdb::DB* db = h_->db.get();
  if (db == nullptr) return;
  rocksdb::VectorLogPtr logs;
  if (!db->GetSortedWalFiles(logs).ok()) return;
  uint64_t bytes = 0;
  for (const auto& log : logs) bytes += log->SizeFileBytes();
  if (bytes >= kFlushOnCloseLogBytes) {
    rocksdb::FlushOptions fo;
    fo.allow_write_stall = true;
    db->Flush(fo, h_->cf).PermitUncheckedError();
  }
}

Result<std::unique_ptr<GraphStore>> GraphStore::Open(const StoreOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("store path is empty", "data");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return Status::Unavailable("cannot create store directory " + options.path + ": " +
                               ec.message());
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 2;
  // A write-ahead log file is kept until every column family with data in it has flushed,
  // and the quiet ones (meta, runs) flush rarely: without a cap the log grew past the
  // events themselves (5.3 GB for 3.5 GB of events), and start-up replays all of it.
  db_options.max_total_wal_size = 256 << 20;

  auto handles = std::make_unique<StoreHandles>();
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Ingest looks up names that mostly do not exist yet (new fields, runs): a Bloom filter
  // answers those without reading the table's blocks. Index and filter are partitioned, and
  // cached in small pieces with only their top level pinned: whole filter blocks of large
  // tables, cached, were evicted and re-read (megabytes a lookup) at 10^7 edges.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  rocksdb::ColumnFamilyOptions cfo;
  cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // LZ4 on every level: zstd at the bottom made the store 0.27x the raw events instead of
  // 0.37x, but start-up at 10^7 edges spent an eighth of its time decompressing it (13.7-15.4 s
  // against 11.9-14.1 s to the first answer).
  cfo.compression = rocksdb::kLZ4Compression;
  cfo.write_buffer_size = 64 << 20;
  handles->cf_options.assign(kCfCount, cfo);
  // Ingest reads the column families of digests, names, runs and nodes by point lookups,
  // most of which miss (a new event's digest, a new run's name). Their filters and indexes
  // are small (tens of megabytes at 10^7 edges, all four together), so each table holds its
  // own whole, outside the block cache: a lookup probes one filter per table instead of
  // finding a filter partition, and its index, in the cache first (4.5% faster ingest at
  // 510,000 events; docs/benchmarks.md).
  rocksdb::BlockBasedTableOptions held = table;
  held.index_type = rocksdb::BlockBasedTableOptions::kBinarySearch;
  held.partition_filters = false;
  held.cache_index_and_filter_blocks = false;
  std::shared_ptr<rocksdb::TableFactory> held_factory(rocksdb::NewBlockBasedTableFactory(held));
  for (int cf : {kCfEventDigests, kCfNames, kCfRuns, kCfNodes}) {
    handles->cf_options[cf].table_factory = held_factory;
  }
  // The same holds in the memtable, a skip list, where a miss costs a search down all its
  // levels: each new event's digest, each new run's name and record. A Bloom filter over
  // whole keys answers most of those at once.
  for (int cf : {kCfEventDigests, kCfNames, kCfRuns}) {
    handles->cf_options[cf].memtable_whole_key_filtering = true;
    handles->cf_options[cf].memtable_prefix_bloom_size_ratio = 0.02;
  }
  // Events and facets' texts come compressed one by one (store/text_codec.h): compressing
  // their blocks again at each flush and compaction would gain nothing.
  handles->cf_options[kCfEvents].compression = rocksdb::kNoCompression;
  handles->cf_options[kCfFacets].compression = rocksdb::kNoCompression;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kCfCount; ++i) {
    descriptors.emplace_back(kColumnFamilyNames[i], handles->cf_options[i]);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles->cf, &raw);
  if (!s.ok()) return FromRocks(s, "opening store at " + options.path);
  handles->db.reset(raw);

  std::unique_ptr<GraphStore> store(new GraphStore(options, std::move(handles)));
  TRIB_RETURN_IF_ERROR(store->LoadCounters());
  return store;
}

Status GraphStore::LoadCounters() {
  rocksdb::DB* db = h_->db.get();
  std::string v;
  rocksdb::Status s = db->Get({}, h_->cf[kCfMeta], "format_version", &v);
  if (s.IsNotFound()) {
    s = db->Put(rocksdb::WriteOptions(), h_->cf[kCfMeta], "format_version",
                std::to_string(kFormatVersion));
    return FromRocks(s, "writing format version");
  }
  TRIB_RETURN_IF_ERROR(FromRocks(s, "reading format version"));
  if (v == "1" || v == "2" || v == "3") {
    // Version 1 differs in node records, which held their facets' texts, and versions 1 and 2
    // kept each edge in both out_edges and in_edges. Both are read as they are, and written
    // in the new form when they change (docs/storage-format.md).
    v = std::to_string(kFormatVersion);
    s = db->Put(rocksdb::WriteOptions(), h_->cf[kCfMeta], "format_version", v);
    TRIB_RETURN_IF_ERROR(FromRocks(s, "writing format version"));
  }
  if (v != std::to_string(kFormatVersion)) {
    return Status::FailedPrecondition("store format version " + v + " is not supported (want " +
                                      std::to_string(kFormatVersion) + ")");
  }
  s = db->Get({}, h_->cf[kCfMeta], "rebuilding", &v);
  if (!s.IsNotFound()) {
    TRIB_RETURN_IF_ERROR(FromRocks(s, "reading rebuild marker"));
    rebuilding_ = true;
  }
  for (auto [key, counter] : {std::pair{"next_id", &next_id_}, std::pair{"next_seq", &next_seq_}}) {
    s = db->Get({}, h_->cf[kCfMeta], key, &v);
    if (s.IsNotFound()) continue;
    TRIB_RETURN_IF_ERROR(FromRocks(s, "reading counters"));
    if (v.size() != 8) return Status::DataLoss(std::string("corrupt counter ") + key);
    counter->store(DecodeFixed64BE(v.data()));
  }
  return Status::Ok();
}

std::unique_ptr<StoreWriter> GraphStore::NewWriter() {
  return std::unique_ptr<StoreWriter>(new StoreWriter(*this));
}

namespace {

Result<std::optional<NodeRecord>> ReadNodeRecord(StoreHandles& h, const rocksdb::ReadOptions& ro,
                                                 NodeId id) {
  std::string v;
  rocksdb::Status s = h.db->Get(ro, h.cf[kCfNodes], IdKey(id), &v);
  if (s.IsNotFound()) return std::optional<NodeRecord>();
  TRIB_RETURN_IF_ERROR(FromRocks(s, "reading node"));
  NodeRecord n;
  TRIB_RETURN_IF_ERROR(DecodeNode(v, &n));
  return std::optional<NodeRecord>(std::move(n));
}

}  // namespace

Result<std::optional<NodeRecord>> GraphStore::GetNodeRecord(NodeId id) const {
  return ReadNodeRecord(*h_, rocksdb::ReadOptions(), id);
}

Result<std::optional<NodeRecord>> GraphStore::GetNode(NodeId id) const {
  // The node and its facets' texts are read as of one moment.
  rocksdb::ManagedSnapshot snapshot(h_->db.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> record, ReadNodeRecord(*h_, ro, id));
  if (!record) return record;
  NodeRecord& n = *record;
  if (std::any_of(n.facets.begin(), n.facets.end(), [](const auto& f) { return !f.has_text; })) {
    TRIB_RETURN_IF_ERROR(Scan(
        h_->db.get(), h_->cf[kCfFacets], IdKey(id),
        [&](std::string_view k, std::string_view text) {
          std::string_view name = k.substr(8);
          auto it =
              std::lower_bound(n.facets.begin(), n.facets.end(), name,
                               [](const FacetRecord& f, std::string_view x) { return f.name < x; });
          if (it != n.facets.end() && it->name == name && !it->has_text) {
            TRIB_RETURN_IF_ERROR(DecodeStoredText(text, &it->json));
            it->has_text = true;
          }
          return Status::Ok();
        },
        ro.snapshot));
    for (const auto& f : n.facets) {
      if (!f.has_text) {
        return Status::DataLoss("node " + std::to_string(id) + " has no text for its facet " +
                                f.name);
      }
    }
  }
  return record;
}

Result<std::optional<RunRecord>> GraphStore::GetRun(NodeId id) const {
  std::string v;
  rocksdb::Status s = h_->db->Get({}, h_->cf[kCfRuns], IdKey(id), &v);
  if (s.IsNotFound()) return std::optional<RunRecord>();
  TRIB_RETURN_IF_ERROR(FromRocks(s, "reading run"));
  RunRecord r;
  TRIB_RETURN_IF_ERROR(DecodeRun(v, &r));
  return std::optional<RunRecord>(std::move(r));
}

Result<std::optional<NodeId>> GraphStore::FindName(const std::string& key) const {
  std::string v;
  rocksdb::Status s = h_->db->Get({}, h_->cf[kCfNames], key, &v);
  if (s.IsNotFound()) return std::optional<NodeId>();
  TRIB_RETURN_IF_ERROR(FromRocks(s, "reading name"));
  if (v.size() != 8) return Status::DataLoss("corrupt name entry");
  return std::optional<NodeId>(DecodeFixed64BE(v.data()));
}

Result<std::vector<std::pair<std::string, NodeId>>> GraphStore::ScanNames(
    const std::string& prefix) const {
  std::vector<std::pair<std::string, NodeId>> out;
  TRIB_RETURN_IF_ERROR(
      Scan(h_->db.get(), h_->cf[kCfNames], prefix, [&](std::string_view k, std::string_view v) {
        if (v.size() != 8) return Status::DataLoss("corrupt name entry");
        out.emplace_back(std::string(k), DecodeFixed64BE(v.data()));
        return Status::Ok();
      }));
  return out;
}

Result<std::vector<SchemaVersion>> GraphStore::SchemaVersions(NodeId dataset) const {
  std::vector<SchemaVersion> out;
  TRIB_RETURN_IF_ERROR(Scan(h_->db.get(), h_->cf[kCfSchemas], IdKey(dataset),
                            [&](std::string_view k, std::string_view v) {
                              SchemaVersion sv;
                              sv.dataset = dataset;
                              sv.time = DecodeTimeKey(k.data() + 8);
                              TRIB_RETURN_IF_ERROR(DecodeSchema(v, &sv.columns));
                              out.push_back(std::move(sv));
                              return Status::Ok();
                            }));
  return out;
}

Result<std::optional<std::string>> GraphStore::GetEvent(uint64_t seq) const {
  std::string v;
  rocksdb::Status s = h_->db->Get({}, h_->cf[kCfEvents], IdKey(seq), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  TRIB_RETURN_IF_ERROR(FromRocks(s, "reading event"));
  std::string text;
  TRIB_RETURN_IF_ERROR(DecodeStoredText(v, &text));
  return std::optional<std::string>(std::move(text));
}

Status GraphStore::ForEachEvent(const std::function<Status(uint64_t, std::string_view)>& fn) const {
  std::string text;
  return Scan(h_->db.get(), h_->cf[kCfEvents], "", [&](std::string_view k, std::string_view v) {
    if (k.size() != 8) return Status::DataLoss("corrupt event key");
    TRIB_RETURN_IF_ERROR(DecodeStoredText(v, &text));
    return fn(DecodeFixed64BE(k.data()), text);
  });
}

Status GraphStore::ForEachNode(const std::function<Status(const NodeRecord&)>& fn) const {
  return Scan(h_->db.get(), h_->cf[kCfNodes], "", [&](std::string_view, std::string_view v) {
    NodeRecord n;
    TRIB_RETURN_IF_ERROR(DecodeNode(v, &n));
    return fn(n);
  });
}

Status GraphStore::ForEachRun(const std::function<Status(const RunRecord&)>& fn) const {
  return Scan(h_->db.get(), h_->cf[kCfRuns], "", [&](std::string_view, std::string_view v) {
    RunRecord r;
    TRIB_RETURN_IF_ERROR(DecodeRun(v, &r));
    return fn(r);
  });
}

Status GraphStore::ForEachEdge(const std::function<Status(const EdgeRecord&)>& fn) const {
  // Each edge is read where the store keeps it (StoreWriter::PutEdge): read and derive edges
  // in in_edges, write edges in out_edges. Stores of format 2 and before kept every edge in
  // both; the other copy is skipped.
  TRIB_RETURN_IF_ERROR(
      Scan(h_->db.get(), h_->cf[kCfInEdges], "", [&](std::string_view k, std::string_view v) {
        if (k.size() != 33) return Status::DataLoss("corrupt edge key");
        EdgeRecord e;
        DecodeInEdgeKey(k, &e);
        if (e.kind == EdgeKind::kWrite) return Status::Ok();
        TRIB_RETURN_IF_ERROR(v.empty() ? ReadOutEdgeValue(*h_, &e) : DecodeEdgeValue(v, &e));
        return fn(e);
      }));
  return Scan(h_->db.get(), h_->cf[kCfOutEdges], "", [&](std::string_view k, std::string_view v) {
    if (k.size() != 33) return Status::DataLoss("corrupt edge key");
    EdgeRecord e;
    DecodeOutEdgeKey(k, &e);
    if (e.kind != EdgeKind::kWrite) return Status::Ok();
    TRIB_RETURN_IF_ERROR(DecodeEdgeValue(v, &e));
    return fn(e);
  });
}

Status GraphStore::ResetDerived() {
  rocksdb::DB* db = h_->db.get();
  rocksdb::WriteOptions sync_write;
  sync_write.sync = true;
  // Marked before anything is dropped, so an interrupted rebuild is noticed at the next open.
  TRIB_RETURN_IF_ERROR(
      FromRocks(db->Put(sync_write, h_->cf[kCfMeta], "rebuilding", "1"), "marking rebuild"));
  rebuilding_ = true;
  for (int cf = kCfEventDigests; cf < kCfCount; ++cf) {
    if (cf == kCfMeta) continue;
    rocksdb::ColumnFamilyHandle* old = h_->cf[cf];
    TRIB_RETURN_IF_ERROR(FromRocks(db->DropColumnFamily(old), "dropping column family"));
    TRIB_RETURN_IF_ERROR(FromRocks(db->DestroyColumnFamilyHandle(old), "dropping column family"));
    h_->cf[cf] = nullptr;
    TRIB_RETURN_IF_ERROR(
        FromRocks(db->CreateColumnFamily(h_->cf_options[cf], kColumnFamilyNames[cf], &h_->cf[cf]),
                  "creating column family"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  TRIB_RETURN_IF_ERROR(FromRocks(db->Delete(wo, h_->cf[kCfMeta], "next_id"), "resetting ids"));
  next_id_ = 1;
  return Status::Ok();
}

Status GraphStore::FinishRebuild() {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  TRIB_RETURN_IF_ERROR(
      FromRocks(h_->db->Delete(wo, h_->cf[kCfMeta], "rebuilding"), "clearing rebuild marker"));
  rebuilding_ = false;
  return Status::Ok();
}

Result<std::string> GraphStore::DumpDerived() const {
  std::string out;
  for (int cf = kCfEventDigests; cf < kCfCount; ++cf) {
    out += std::string("[") + kColumnFamilyNames[cf] + "]\n";
    TRIB_RETURN_IF_ERROR(
        Scan(h_->db.get(), h_->cf[cf], "", [&](std::string_view k, std::string_view v) {
          out += Sha256Hex(k).substr(0, 16) + " " + Sha256Hex(v).substr(0, 16) + "\n";
          return Status::Ok();
        }));
  }
  return out;
}

Status GraphStore::WriteWithCounters(rocksdb::WriteBatch* batch, uint64_t next_id,
                                     uint64_t next_seq, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync && options_.sync;
  std::string v;
  PutFixed64BE(&v, next_id);
  batch->Put(h_->cf[kCfMeta], "next_id", v);
  v.clear();
  PutFixed64BE(&v, next_seq);
  batch->Put(h_->cf[kCfMeta], "next_seq", v);
  rocksdb::WriteBatch sorted(batch->GetDataSize());
  // Should the sort fail, the batch is written as it is, its facets' texts uncompressed: they
  // read back the same.
  rocksdb::WriteBatch* write =
      BatchSorter(h_->cf[kCfFacets]->GetID()).Sort(*batch, h_->cf, &sorted) ? &sorted : batch;
  TRIB_RETURN_IF_ERROR(FromRocks(h_->db->Write(wo, write), "committing"));
  next_id_ = next_id;
  next_seq_ = next_seq;
  return Status::Ok();
}

Status GraphStore::WriteBatchOf(StoreWriter& writer) {
  TRIB_RETURN_IF_ERROR(writer.broken_);
  TRIB_RETURN_IF_ERROR(
      WriteWithCounters(&writer.w_->batch, writer.next_id_, writer.next_seq_, /*sync=*/true));
  writer.Written();
  return Status::Ok();
}

Status GraphStore::Write(StoreWriter::Sealed& batch, bool sync) {
  TRIB_RETURN_IF_ERROR(batch.broken_);
  if (batch.w_->batch.Count() == 0) return Status::Ok();
  return WriteWithCounters(&batch.w_->batch, batch.next_id_, batch.next_seq_, sync);
}

Status GraphStore::SyncLog() {
  if (!options_.sync) return Status::Ok();
  return FromRocks(h_->db->SyncWAL(), "syncing the write-ahead log");
}

Status GraphStore::Commit(StoreWriter& writer, GraphDelta* delta) {
  if (Status s = writer.WaitInFlight(); !s.ok()) {
    writer.Clear();
    return s;
  }
  if (!writer.empty()) {
    Status s = WriteBatchOf(writer);
    if (!s.ok()) {
      // Nothing of the batch is visible; the writer's pending state is dropped with it, and
      // so is its cache, which holds those writes.
      writer.DropCache();
      writer.Clear();
      return s;
    }
  }
  // A rollback may have written the batch already: its delta is still to be handed over.
  if (delta) *delta = std::move(writer.delta_);
  writer.Clear();
  return Status::Ok();
}

}  // namespace tributary
