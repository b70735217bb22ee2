#include "store/store_writer.h"

#include <algorithm>
#include <tuple>

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
      next_seq_(store.next_seq_.load()),
      fresh_from_(next_id_) {}

StoreWriter::~StoreWriter() = default;

void StoreWriter::Clear() {
  w_->batch.Clear();
  // Entries are small but many: past the budget, start over rather than track recency.
  constexpr size_t kCacheBudget = 1'000'000;
  if (cached_ > kCacheBudget) DropCache();
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
  if (auto it = names_.find(key); it != names_.end()) return it->second;
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(store_, *store_.h_, *w_, kCfNames, key, &v));
  std::optional<NodeId> id;
  if (found) {
    if (v.size() != 8) return Status::DataLoss("corrupt name entry");
    id = DecodeFixed64BE(v.data());
  }
  names_.emplace(key, id);
  ++cached_;
  return id;
}

Result<std::optional<NodeRecord>> StoreWriter::GetNode(NodeId id) {
  if (auto it = nodes_.find(id); it != nodes_.end()) return it->second;
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(store_, *store_.h_, *w_, kCfNodes, IdKey(id), &v));
  std::optional<NodeRecord> n;
  if (found) {
    n.emplace();
    TRIB_RETURN_IF_ERROR(DecodeNode(v, &*n));
  }
  nodes_.emplace(id, n);
  ++cached_;
  return n;
}

Result<std::optional<RunRecord>> StoreWriter::GetRun(NodeId id) {
  if (auto it = runs_.find(id); it != runs_.end()) return it->second;
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(store_, *store_.h_, *w_, kCfRuns, IdKey(id), &v));
  std::optional<RunRecord> r;
  if (found) {
    r.emplace();
    TRIB_RETURN_IF_ERROR(DecodeRun(v, &*r));
  }
  runs_.emplace(id, r);
  ++cached_;
  return r;
}

Result<std::vector<std::pair<std::string, NodeId>>> StoreWriter::ScanNames(
    const std::string& prefix) {
  // A dataset's field list is cached; other prefixes are scanned each time.
  const bool field_list = prefix.size() == 9 && prefix[0] == FieldPrefix(0)[0];
  NodeId dataset = field_list ? DecodeFixed64BE(prefix.data() + 1) : kNoNode;
  if (field_list) {
    if (auto it = field_lists_.find(dataset); it != field_lists_.end()) return it->second;
    if (Fresh(dataset)) return std::vector<std::pair<std::string, NodeId>>();
  }
  std::vector<std::pair<std::string, NodeId>> out;
  TRIB_RETURN_IF_ERROR(
      ScanPrefix(*store_.h_, *w_, kCfNames, prefix, [&](std::string_view k, std::string_view v) {
        if (v.size() != 8) return Status::DataLoss("corrupt name entry");
        out.emplace_back(std::string(k), DecodeFixed64BE(v.data()));
        return Status::Ok();
      }));
  if (field_list) {
    field_lists_.emplace(dataset, out);
    cached_ += 1 + out.size();
  }
  return out;
}

Result<std::vector<EdgeRecord>> StoreWriter::Edges(NodeId node, EdgeKind kind, bool outgoing) {
  auto& lists = outgoing ? out_lists_ : in_lists_;
  std::string prefix = EdgePrefix(node, kind);
  if (auto it = lists.find(prefix); it != lists.end()) return it->second;
  if (Fresh(node)) return std::vector<EdgeRecord>();
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
  lists.emplace(prefix, out);
  cached_ += 1 + out.size();
  return out;
}

Result<std::vector<EdgeRecord>> StoreWriter::EdgesBetween(NodeId from, EdgeKind kind, NodeId to) {
  std::string prefix = EdgePrefix(from, kind, to);
  if (auto it = out_lists_.find(prefix); it != out_lists_.end()) return it->second;
  if (Fresh(from) || Fresh(to)) return std::vector<EdgeRecord>();
  std::vector<EdgeRecord> out;
  TRIB_RETURN_IF_ERROR(
      ScanPrefix(*store_.h_, *w_, kCfOutEdges, prefix, [&](std::string_view k, std::string_view v) {
        if (k.size() != 33) return Status::DataLoss("corrupt edge key");
        EdgeRecord e;
        DecodeOutEdgeKey(k, &e);
        TRIB_RETURN_IF_ERROR(DecodeEdgeValue(v, &e));
        out.push_back(std::move(e));
        return Status::Ok();
      }));
  out_lists_.emplace(prefix, out);
  cached_ += 1 + out.size();
  return out;
}

Result<std::optional<std::vector<SchemaColumn>>> StoreWriter::LatestSchema(NodeId dataset,
                                                                           Micros* time) {
  if (auto it = schemas_.find(dataset); it != schemas_.end()) {
    if (time) *time = it->second.time;
    return it->second.columns;
  }
  if (Fresh(dataset)) {
    if (time) *time = 0;
    return std::optional<std::vector<SchemaColumn>>();
  }
  std::unique_ptr<rocksdb::Iterator> it(w_->batch.NewIteratorWithBase(
      store_.h_->cf[kCfSchemas],
      store_.h_->db->NewIterator(rocksdb::ReadOptions(), store_.h_->cf[kCfSchemas])));
  // The newest version is the last key under the dataset's prefix.
  std::string upper = IdKey(dataset + 1);
  it->SeekForPrev(upper);
  if (it->Valid() && it->key().ToStringView() == upper) it->Prev();
  TRIB_RETURN_IF_ERROR(FromRocks(it->status(), "reading schema"));
  CachedSchema& cached = schemas_[dataset];
  ++cached_;
  if (it->Valid() && it->key().starts_with(IdKey(dataset))) {
    cached.time = DecodeTimeKey(it->key().data() + 8);
    cached.columns.emplace();
    TRIB_RETURN_IF_ERROR(DecodeSchema(it->value().ToStringView(), &*cached.columns));
  }
  if (time) *time = cached.time;
  return cached.columns;
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
  names_[key] = id;
  ++cached_;
  if (key.size() >= 9 && key[0] == FieldPrefix(0)[0]) {
    NodeId dataset = DecodeFixed64BE(key.data() + 1);
    auto it = field_lists_.find(dataset);
    if (it == field_lists_.end() && Fresh(dataset)) it = field_lists_.emplace(dataset, 0).first;
    if (it != field_lists_.end()) {
      auto& list = it->second;
      auto pos =
          std::lower_bound(list.begin(), list.end(), key,
                           [](const auto& entry, const std::string& k) { return entry.first < k; });
      if (pos != list.end() && pos->first == key) {
        pos->second = id;
      } else {
        list.insert(pos, {key, id});
      }
    }
  }
}

void StoreWriter::PutNode(const NodeRecord& node) {
  w_->batch.Put(store_.h_->cf[kCfNodes], IdKey(node.id), EncodeNode(node));
  delta_.nodes.push_back(node);
  nodes_[node.id] = node;
  ++cached_;
}

void StoreWriter::PutRun(const RunRecord& run) {
  w_->batch.Put(store_.h_->cf[kCfRuns], IdKey(run.id), EncodeRun(run));
  delta_.runs.push_back(run);
  runs_[run.id] = run;
  ++cached_;
}

void StoreWriter::PutEdge(const EdgeRecord& edge) {
  w_->batch.Put(store_.h_->cf[kCfOutEdges], OutEdgeKey(edge), EncodeEdgeValue(edge));
  w_->batch.Put(store_.h_->cf[kCfInEdges], InEdgeKey(edge), rocksdb::Slice());
  delta_.edges.push_back(edge);
  CacheEdge(edge);
}

namespace {

// Inserts or replaces `e` in `list`, which is sorted by the given key order.
template <typename Less>
void Upsert(std::vector<EdgeRecord>* list, const EdgeRecord& e, Less less) {
  auto pos = std::lower_bound(list->begin(), list->end(), e, less);
  if (pos != list->end() && !less(e, *pos)) {
    *pos = e;
  } else {
    list->insert(pos, e);
  }
}

}  // namespace

void StoreWriter::CacheEdge(const EdgeRecord& e) {
  // Out lists are in out_edges key order (to, job, first_seen); in lists in in_edges key
  // order (from, job, first_seen).
  auto out_less = [](const EdgeRecord& a, const EdgeRecord& b) {
    return std::tie(a.to, a.job, a.first_seen) < std::tie(b.to, b.job, b.first_seen);
  };
  auto in_less = [](const EdgeRecord& a, const EdgeRecord& b) {
    return std::tie(a.from, a.job, a.first_seen) < std::tie(b.from, b.job, b.first_seen);
  };
  // A list is updated when cached, and started when its node is fresh (then it was empty).
  auto update = [&](auto& lists, std::string prefix, bool fresh, auto less) {
    auto it = lists.find(prefix);
    if (it == lists.end()) {
      if (!fresh) return;
      it = lists.emplace(std::move(prefix), std::vector<EdgeRecord>()).first;
      ++cached_;
    }
    Upsert(&it->second, e, less);
    ++cached_;
  };
  update(out_lists_, EdgePrefix(e.from, e.kind), Fresh(e.from), out_less);
  update(out_lists_, EdgePrefix(e.from, e.kind, e.to), Fresh(e.from) || Fresh(e.to), out_less);
  update(in_lists_, EdgePrefix(e.to, e.kind), Fresh(e.to), in_less);
}

void StoreWriter::PutSchema(NodeId dataset, Micros time, const std::vector<SchemaColumn>& cols) {
  w_->batch.Put(store_.h_->cf[kCfSchemas], SchemaKey(dataset, time), EncodeSchema(cols));
  auto it = schemas_.find(dataset);
  if (it == schemas_.end() && Fresh(dataset)) it = schemas_.emplace(dataset, CachedSchema()).first;
  if (it != schemas_.end() && time >= it->second.time) {
    it->second.time = time;
    it->second.columns = cols;
  }
}

void StoreWriter::DropCache() {
  names_.clear();
  nodes_.clear();
  runs_.clear();
  out_lists_.clear();
  in_lists_.clear();
  field_lists_.clear();
  schemas_.clear();
  cached_ = 0;
  fresh_from_ = next_id_;
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
  DropCache();  // it may hold what was just undone
  next_id_ = sp.next_id;
  next_seq_ = sp.next_seq;
  delta_.nodes.resize(sp.nodes);
  delta_.edges.resize(sp.edges);
  delta_.runs.resize(sp.runs);
  return Status::Ok();
}

}  // namespace tributary
