#include "store/store_writer.h"

#include "common/coding.h"
#include "store/graph_store.h"
#include "store/store_handles.h"

namespace tributary {
namespace {

Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status::DataLoss(std::string(what) + ": " + s.ToString());
  return Status::Internal(std::string(what) + ": " + s.ToString());
}

}  // namespace

StoreWriter::StoreWriter(GraphStore& store)
    : store_(store),
      w_(std::make_unique<WriterState>()),
      next_id_(store.next_id_.load()),
      next_seq_(store.next_seq_.load()) {}

StoreWriter::~StoreWriter() = default;

void StoreWriter::Clear() {
  w_->batch.Clear();
  delta_ = GraphDelta();
  save_points_.clear();
  next_id_ = store_.next_id_.load();
  next_seq_ = store_.next_seq_.load();
}

bool StoreWriter::empty() const { return w_->batch.GetWriteBatch()->Count() == 0; }

size_t StoreWriter::pending_bytes() const { return w_->batch.GetDataSize(); }

namespace {

// Reads `key` of `cf` through the pending batch. Returns false when absent.
Result<bool> Get(GraphStore& store, StoreHandles& h, WriterState& w, int cf, const std::string& key,
                 std::string* value) {
  rocksdb::Status s =
      w.batch.GetFromBatchAndDB(h.db.get(), rocksdb::ReadOptions(), h.cf[cf], key, value);
  (void)store;
  if (s.IsNotFound()) return false;
  TRIB_RETURN_IF_ERROR(FromRocks(s, "reading"));
  return true;
}

template <typename Fn>
Status ScanPrefix(StoreHandles& h, WriterState& w, int cf, const std::string& prefix, Fn fn) {
  std::unique_ptr<rocksdb::Iterator> it(
      w.batch.NewIteratorWithBase(h.cf[cf], h.db->NewIterator(rocksdb::ReadOptions(), h.cf[cf])));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    TRIB_RETURN_IF_ERROR(fn(it->key().ToStringView(), it->value().ToStringView()));
  }
  return FromRocks(it->status(), "scanning");
}

}  // namespace

Result<std::optional<NodeId>> StoreWriter::FindName(const std::string& key) {
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(store_, *store_.h_, *w_, kCfNames, key, &v));
  if (!found) return std::optional<NodeId>();
  if (v.size() != 8) return Status::DataLoss("corrupt name entry");
  return std::optional<NodeId>(DecodeFixed64BE(v.data()));
}

Result<std::optional<NodeRecord>> StoreWriter::GetNode(NodeId id) {
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(store_, *store_.h_, *w_, kCfNodes, IdKey(id), &v));
  if (!found) return std::optional<NodeRecord>();
  NodeRecord n;
  TRIB_RETURN_IF_ERROR(DecodeNode(v, &n));
  return std::optional<NodeRecord>(std::move(n));
}

Result<std::optional<RunRecord>> StoreWriter::GetRun(NodeId id) {
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(store_, *store_.h_, *w_, kCfRuns, IdKey(id), &v));
  if (!found) return std::optional<RunRecord>();
  RunRecord r;
  TRIB_RETURN_IF_ERROR(DecodeRun(v, &r));
  return std::optional<RunRecord>(std::move(r));
}

Result<std::vector<std::pair<std::string, NodeId>>> StoreWriter::ScanNames(
    const std::string& prefix) {
  std::vector<std::pair<std::string, NodeId>> out;
  TRIB_RETURN_IF_ERROR(
      ScanPrefix(*store_.h_, *w_, kCfNames, prefix, [&](std::string_view k, std::string_view v) {
        if (v.size() != 8) return Status::DataLoss("corrupt name entry");
        out.emplace_back(std::string(k), DecodeFixed64BE(v.data()));
        return Status::Ok();
      }));
  return out;
}

Result<std::vector<EdgeRecord>> StoreWriter::Edges(NodeId node, EdgeKind kind, bool outgoing) {
  std::vector<EdgeRecord> out;
  int cf = outgoing ? kCfOutEdges : kCfInEdges;
  TRIB_RETURN_IF_ERROR(ScanPrefix(
      *store_.h_, *w_, cf, EdgePrefix(node, kind), [&](std::string_view k, std::string_view v) {
        if (k.size() != 33) return Status::DataLoss("corrupt edge key");
        EdgeRecord e;
        if (outgoing) {
          DecodeOutEdgeKey(k, &e);
          return DecodeEdgeValue(v, &e).ok() ? (out.push_back(std::move(e)), Status::Ok())
                                             : Status::DataLoss("corrupt edge value");
        }
        DecodeInEdgeKey(k, &e);
        out.push_back(std::move(e));
        return Status::Ok();
      }));
  if (!outgoing) {
    // in_edges hold no value: read each record from out_edges.
    for (auto& e : out) {
      std::string v;
      TRIB_ASSIGN_OR_RETURN(bool found,
                            Get(store_, *store_.h_, *w_, kCfOutEdges, OutEdgeKey(e), &v));
      if (!found) return Status::DataLoss("in_edges entry without out_edges record");
      TRIB_RETURN_IF_ERROR(DecodeEdgeValue(v, &e));
    }
  }
  return out;
}

Result<std::vector<EdgeRecord>> StoreWriter::EdgesBetween(NodeId from, EdgeKind kind, NodeId to) {
  std::vector<EdgeRecord> out;
  TRIB_RETURN_IF_ERROR(ScanPrefix(*store_.h_, *w_, kCfOutEdges, EdgePrefix(from, kind, to),
                                  [&](std::string_view k, std::string_view v) {
                                    if (k.size() != 33) return Status::DataLoss("corrupt edge key");
                                    EdgeRecord e;
                                    DecodeOutEdgeKey(k, &e);
                                    TRIB_RETURN_IF_ERROR(DecodeEdgeValue(v, &e));
                                    out.push_back(std::move(e));
                                    return Status::Ok();
                                  }));
  return out;
}

Result<std::optional<std::vector<SchemaColumn>>> StoreWriter::LatestSchema(NodeId dataset,
                                                                           Micros* time) {
  std::unique_ptr<rocksdb::Iterator> it(w_->batch.NewIteratorWithBase(
      store_.h_->cf[kCfSchemas],
      store_.h_->db->NewIterator(rocksdb::ReadOptions(), store_.h_->cf[kCfSchemas])));
  // The newest version is the last key under the dataset's prefix.
  std::string upper = IdKey(dataset + 1);
  it->SeekForPrev(upper);
  if (it->Valid() && it->key().ToStringView() == upper) it->Prev();
  TRIB_RETURN_IF_ERROR(FromRocks(it->status(), "reading schema"));
  if (!it->Valid() || !it->key().starts_with(IdKey(dataset))) {
    return std::optional<std::vector<SchemaColumn>>();
  }
  if (time) *time = DecodeTimeKey(it->key().data() + 8);
  std::vector<SchemaColumn> cols;
  TRIB_RETURN_IF_ERROR(DecodeSchema(it->value().ToStringView(), &cols));
  return std::optional<std::vector<SchemaColumn>>(std::move(cols));
}

Result<std::optional<uint64_t>> StoreWriter::FindDigest(const std::string& digest) {
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(store_, *store_.h_, *w_, kCfEventDigests, digest, &v));
  if (!found) return std::optional<uint64_t>();
  if (v.size() != 8) return Status::DataLoss("corrupt digest entry");
  return std::optional<uint64_t>(DecodeFixed64BE(v.data()));
}

NodeId StoreWriter::AllocateId() { return next_id_++; }

uint64_t StoreWriter::AppendEvent(std::string_view bytes) {
  uint64_t seq = next_seq_++;
  w_->batch.Put(store_.h_->cf[kCfEvents], IdKey(seq), rocksdb::Slice(bytes.data(), bytes.size()));
  return seq;
}

void StoreWriter::PutDigest(const std::string& digest, uint64_t seq) {
  w_->batch.Put(store_.h_->cf[kCfEventDigests], digest, IdKey(seq));
}

void StoreWriter::PutName(const std::string& key, NodeId id) {
  w_->batch.Put(store_.h_->cf[kCfNames], key, IdKey(id));
}

void StoreWriter::PutNode(const NodeRecord& node) {
  w_->batch.Put(store_.h_->cf[kCfNodes], IdKey(node.id), EncodeNode(node));
  delta_.nodes.push_back(node);
}

void StoreWriter::PutRun(const RunRecord& run) {
  w_->batch.Put(store_.h_->cf[kCfRuns], IdKey(run.id), EncodeRun(run));
  delta_.runs.push_back(run);
}

void StoreWriter::PutEdge(const EdgeRecord& edge) {
  w_->batch.Put(store_.h_->cf[kCfOutEdges], OutEdgeKey(edge), EncodeEdgeValue(edge));
  w_->batch.Put(store_.h_->cf[kCfInEdges], InEdgeKey(edge), rocksdb::Slice());
  delta_.edges.push_back(edge);
}

void StoreWriter::PutSchema(NodeId dataset, Micros time, const std::vector<SchemaColumn>& cols) {
  w_->batch.Put(store_.h_->cf[kCfSchemas], SchemaKey(dataset, time), EncodeSchema(cols));
}

void StoreWriter::SetSavePoint() {
  w_->batch.SetSavePoint();
  save_points_.push_back(
      {next_id_, next_seq_, delta_.nodes.size(), delta_.edges.size(), delta_.runs.size()});
}

void StoreWriter::PopSavePoint() {
  if (save_points_.empty()) return;
  save_points_.pop_back();
  (void)w_->batch.PopSavePoint();
}

Status StoreWriter::RollbackToSavePoint() {
  if (save_points_.empty()) return Status::Internal("no save point");
  SavePoint sp = save_points_.back();
  save_points_.pop_back();
  TRIB_RETURN_IF_ERROR(FromRocks(w_->batch.RollbackToSavePoint(), "rolling back"));
  next_id_ = sp.next_id;
  next_seq_ = sp.next_seq;
  delta_.nodes.resize(sp.nodes);
  delta_.edges.resize(sp.edges);
  delta_.runs.resize(sp.runs);
  return Status::Ok();
}

}  // namespace tributary
