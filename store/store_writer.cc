#include "store/store_writer.h"

#include <algorithm>
#include <mutex>
#include <tuple>
#include <utility>

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

StoreWriter::Sealed::Sealed() = default;
StoreWriter::Sealed::~Sealed() = default;

void StoreWriter::Written() {
  ForgetScanners();  // the store has changed
  w_->batch.Clear();
  broken_ = Status::Ok();
  pending_.clear();
  pending_digests_.clear();
  save_points_.clear();
  next_id_ = store_.next_id_.load();
  next_seq_ = store_.next_seq_.load();
}

void StoreWriter::Clear() {
  Written();
  // Entries are small but many: past the budget, start over rather than track recency.
  if (cached_ > store_.options().writer_cache_entries) TrimCache();
  delta_ = GraphDelta();
}

bool StoreWriter::empty() const { return w_->batch.Count() == 0; }

bool StoreWriter::over_budget() const { return cached_ > store_.options().writer_cache_entries; }

std::shared_ptr<StoreWriter::Sealed> StoreWriter::Seal(std::shared_future<Status> written) {
  std::shared_ptr<Sealed> b(new Sealed());
  // The next batch will likely be about as large as this one: room for a quarter more, as a
  // batch that outgrows its string copies all of it into one twice the size.
  const size_t size = w_->batch.GetDataSize();
  b->w_ = std::exchange(w_, std::make_unique<WriterState>(size + size / 4));
  b->next_id_ = next_id_;
  b->next_seq_ = next_seq_;
  b->broken_ = std::exchange(broken_, Status::Ok());
  b->delta_ = std::exchange(delta_, GraphDelta());
  b->pending_ = std::exchange(pending_, EdgeLists());
  b->digests_ = std::exchange(pending_digests_, {});
  save_points_.clear();
  // Iterators pin the memtables and files they read: none is kept past a group, as the
  // writer may wait long for the next.
  ForgetScanners();
  inflight_ = b;
  inflight_written_ = std::move(written);
  return b;
}

Status StoreWriter::WaitInFlight() {
  if (inflight_) {
    Status s = inflight_written_.get();
    inflight_.reset();
    inflight_written_ = std::shared_future<Status>();
    ForgetScanners();  // the reads merged in its writes until now
    if (!s.ok()) {
      // The store never got the batch, and what was written since builds on it.
      Written();
      delta_ = GraphDelta();
      DropCache();
      return s;
    }
  }
  if (empty() && over_budget()) TrimCache();
  return Status::Ok();
}

size_t StoreWriter::pending_bytes() const { return w_->batch.GetDataSize(); }

namespace {

// Reads `key` of `cf` from the committed store. Returns false when absent.
Result<bool> Get(StoreHandles& h, int cf, const std::string& key, std::string* value) {
  rocksdb::Status s = h.db->Get(rocksdb::ReadOptions(), h.cf[cf], key, value);
  if (s.IsNotFound()) return false;
  TRIB_RETURN_IF_ERROR(FromRocks(s, "reading"));
  return true;
}

template <typename Fn>
Status ScanPrefix(rocksdb::Iterator* it, const std::string& prefix, Fn fn) {
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    TRIB_RETURN_IF_ERROR(fn(it->key().ToStringView(), it->value().ToStringView()));
  }
  return FromRocks(it->status(), "scanning");
}

// Reads and decodes the record `id` of `cf` from the committed store.
template <typename Record, typename Decode>
Result<std::optional<Record>> ReadRecord(StoreHandles& h, int cf, NodeId id, Decode decode) {
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(h, cf, IdKey(id), &v));
  std::optional<Record> r;
  if (found) {
    r.emplace();
    TRIB_RETURN_IF_ERROR(decode(v, &*r));
  }
  return r;
}

bool IsFieldPrefix(std::string_view key) { return key.size() >= 9 && key[0] == FieldPrefix(0)[0]; }

// Orders (name key, id) entries by key, for lower_bound.
bool NameKeyLess(const std::pair<std::string, NodeId>& entry, const std::string& key) {
  return entry.first < key;
}

}  // namespace

Status ReadOutEdgeValue(StoreHandles& h, EdgeRecord* e) {
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(h, kCfOutEdges, OutEdgeKey(*e), &v));
  if (!found) return Status::DataLoss("in_edges entry without out_edges record");
  return DecodeEdgeValue(v, e);
}

rocksdb::Iterator* StoreWriter::Scanner(int cf) {
  if (scanners_.empty()) scanners_.resize(kCfCount);
  std::unique_ptr<rocksdb::Iterator>& it = scanners_[cf];
  // One that failed is not trusted again.
  if (!it || !it->status().ok()) {
    it.reset(store_.h_->db->NewIterator(rocksdb::ReadOptions(), store_.h_->cf[cf]));
  }
  return it.get();
}

void StoreWriter::ForgetScanners() { scanners_.clear(); }

Result<std::optional<NodeId>> StoreWriter::FindName(const std::string& key) {
  if (IsFieldPrefix(key)) {
    // A dataset's fields sit together in the store: one scan reads them all, where a read
    // per field would cost a full lookup each, and the list is kept complete from then on.
    TRIB_ASSIGN_OR_RETURN(const FieldList* list, Fields(DecodeFixed64BE(key.data() + 1)));
    auto pos = std::lower_bound(list->begin(), list->end(), key, NameKeyLess);
    if (pos != list->end() && pos->first == key) return std::optional<NodeId>(pos->second);
    return std::optional<NodeId>();
  }
  if (auto it = names_.find(key); it != names_.end()) return it->second;
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(*store_.h_, kCfNames, key, &v));
  std::optional<NodeId> id;
  if (found) {
    if (v.size() != 8) return Status::DataLoss("corrupt name entry");
    id = DecodeFixed64BE(v.data());
  }
  names_.emplace(key, id);
  ++cached_;
  return id;
}

const NodeRecord* StoreWriter::CacheNode(NodeId id, std::optional<NodeRecord> n) {
  ++cached_;
  if (n && Kept(*n)) return &kept_nodes_.emplace(id, std::move(*n)).first->second;
  auto& slot = nodes_.emplace(id, std::move(n)).first->second;
  return slot ? &*slot : nullptr;
}

Result<const NodeRecord*> StoreWriter::PeekNode(NodeId id) {
  if (auto it = nodes_.find(id); it != nodes_.end()) return it->second ? &*it->second : nullptr;
  if (auto it = kept_nodes_.find(id); it != kept_nodes_.end()) return &it->second;
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> n,
                        ReadRecord<NodeRecord>(*store_.h_, kCfNodes, id, DecodeNode));
  return CacheNode(id, std::move(n));
}

Result<std::optional<NodeRecord>> StoreWriter::GetNode(NodeId id) {
  TRIB_ASSIGN_OR_RETURN(const NodeRecord* n, PeekNode(id));
  if (!n) return std::optional<NodeRecord>();
  return std::optional<NodeRecord>(*n);
}

Result<const RunRecord*> StoreWriter::PeekRun(NodeId id) {
  auto it = runs_.find(id);
  if (it == runs_.end()) {
    TRIB_ASSIGN_OR_RETURN(std::optional<RunRecord> r,
                          ReadRecord<RunRecord>(*store_.h_, kCfRuns, id, DecodeRun));
    it = runs_.emplace(id, std::move(r)).first;
    ++cached_;
  }
  return it->second ? &*it->second : nullptr;
}

Result<StoreWriter::FieldList*> StoreWriter::Fields(NodeId dataset) {
  if (auto it = field_lists_.find(dataset); it != field_lists_.end()) return &it->second;
  FieldList out;
  // A dataset created since the cache was dropped has only the fields PutName added.
  if (!Fresh(dataset)) {
    TRIB_RETURN_IF_ERROR(ScanPrefix(Scanner(kCfNames), FieldPrefix(dataset),
                                    [&](std::string_view k, std::string_view v) {
                                      if (v.size() != 8) {
                                        return Status::DataLoss("corrupt name entry");
                                      }
                                      out.emplace_back(std::string(k), DecodeFixed64BE(v.data()));
                                      return Status::Ok();
                                    }));
  }
  cached_ += 1 + out.size();
  return &field_lists_.emplace(dataset, std::move(out)).first->second;
}

Result<std::span<const std::pair<std::string, NodeId>>> StoreWriter::FieldsOf(NodeId dataset) {
  TRIB_ASSIGN_OR_RETURN(const FieldList* list, Fields(dataset));
  return std::span<const std::pair<std::string, NodeId>>(*list);
}

namespace {

// Lists of edges out of a node are in out_edges key order (to, job, first_seen); lists into
// a node in in_edges key order (from, job, first_seen).
bool OutLess(const EdgeRecord& a, const EdgeRecord& b) {
  return std::tie(a.to, a.job, a.first_seen) < std::tie(b.to, b.job, b.first_seen);
}
bool InLess(const EdgeRecord& a, const EdgeRecord& b) {
  return std::tie(a.from, a.job, a.first_seen) < std::tie(b.from, b.job, b.first_seen);
}

// Inserts or replaces `e` in `list`, which is sorted by `less`.
void Upsert(std::vector<EdgeRecord>* list, const EdgeRecord& e,
            bool (*less)(const EdgeRecord&, const EdgeRecord&)) {
  auto pos = std::lower_bound(list->begin(), list->end(), e, less);
  if (pos != list->end() && !less(e, *pos)) {
    *pos = e;
  } else {
    list->insert(pos, e);
  }
}

}  // namespace

namespace {

// Decodes an entry of in_edges (`incoming`) or out_edges into `e`. An in_edges entry of an
// older store holds no value: `valueless` is then set, and ReadValue must complete `e`.
Status DecodeEdgeEntry(std::string_view k, std::string_view v, bool incoming, EdgeRecord* e,
                       bool* valueless) {
  if (k.size() != 33) return Status::DataLoss("corrupt edge key");
  if (incoming) {
    DecodeInEdgeKey(k, e);
  } else {
    DecodeOutEdgeKey(k, e);
  }
  *valueless = incoming && v.empty();
  if (!*valueless && !DecodeEdgeValue(v, e).ok()) return Status::DataLoss("corrupt edge value");
  return Status::Ok();
}

// Reads the edges of `node` and `kind` in one direction from the committed store.
// `it` iterates in_edges when `incoming`, else out_edges.
Status ScanEdges(StoreHandles& h, rocksdb::Iterator* it, NodeId node, EdgeKind kind, bool incoming,
                 std::vector<EdgeRecord>* out) {
  std::vector<size_t> valueless;
  TRIB_RETURN_IF_ERROR(
      ScanPrefix(it, EdgePrefix(node, kind), [&](std::string_view k, std::string_view v) {
        EdgeRecord e;
        bool no_value = false;
        TRIB_RETURN_IF_ERROR(DecodeEdgeEntry(k, v, incoming, &e, &no_value));
        if (no_value) valueless.push_back(out->size());
        out->push_back(std::move(e));
        return Status::Ok();
      }));
  for (size_t i : valueless) TRIB_RETURN_IF_ERROR(ReadOutEdgeValue(h, &(*out)[i]));
  return Status::Ok();
}

}  // namespace

std::vector<EdgeRecord>* StoreWriter::CacheList(const ListKey& key, std::vector<EdgeRecord> out) {
  const bool incoming = CachedIncoming(key.kind);
  // Those of the batch in flight first, then the newer ones.
  if (inflight_) {
    if (auto it = inflight_->pending_.find(key); it != inflight_->pending_.end()) {
      for (const auto& e : it->second) Upsert(&out, e, incoming ? InLess : OutLess);
    }
  }
  if (auto it = pending_.find(key); it != pending_.end()) {
    for (const auto& e : it->second) Upsert(&out, e, incoming ? InLess : OutLess);
    pending_.erase(it);
  }
  cached_ += 1 + out.size();
  return lists_.emplace(key, std::move(out));
}

Result<std::vector<EdgeRecord>*> StoreWriter::List(NodeId node, EdgeKind kind) {
  const ListKey key{node, kind};
  if (std::vector<EdgeRecord>* list = lists_.find(key)) return list;
  std::vector<EdgeRecord> out;
  if (!Fresh(node)) {
    const bool incoming = CachedIncoming(kind);
    TRIB_RETURN_IF_ERROR(ScanEdges(*store_.h_, Scanner(incoming ? kCfInEdges : kCfOutEdges), node,
                                   kind, incoming, &out));
  }
  return CacheList(key, std::move(out));
}

namespace {

// Splits sorted, distinct `ids` into runs close enough together that one pass over the
// store's entries between a run's first and last id costs less than a lookup per id.
template <typename Fn>
Status ForEachCluster(const std::vector<NodeId>& ids, Fn fn) {
  constexpr NodeId kMaxGap = 64;
  for (size_t begin = 0; begin < ids.size();) {
    size_t end = begin + 1;
    while (end < ids.size() && ids[end] - ids[end - 1] <= kMaxGap) ++end;
    TRIB_RETURN_IF_ERROR(fn(std::span<const NodeId>(ids.data() + begin, end - begin)));
    begin = end;
  }
  return Status::Ok();
}

void SortUnique(std::vector<NodeId>* ids) {
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}

}  // namespace

Status StoreWriter::PrefetchNodes(std::vector<NodeId> ids) {
  std::erase_if(ids, [&](NodeId id) { return nodes_.count(id) > 0 || kept_nodes_.count(id) > 0; });
  if (ids.size() < 2) return Status::Ok();  // a plain lookup does as well
  SortUnique(&ids);
  rocksdb::Iterator* it = Scanner(kCfNodes);
  TRIB_RETURN_IF_ERROR(ForEachCluster(ids, [&](std::span<const NodeId> run) -> Status {
    const std::string last = IdKey(run.back());
    size_t next = 0;  // the first id of `run` not yet found or passed
    for (it->Seek(IdKey(run.front())); it->Valid() && it->key().compare(last) <= 0; it->Next()) {
      if (it->key().size() != 8) return Status::DataLoss("corrupt node key");
      NodeId id = DecodeFixed64BE(it->key().data());
      while (next < run.size() && run[next] < id) CacheNode(run[next++], std::nullopt);
      if (next == run.size() || run[next] != id) continue;
      NodeRecord n;
      TRIB_RETURN_IF_ERROR(DecodeNode(it->value().ToStringView(), &n));
      CacheNode(run[next++], std::move(n));
    }
    TRIB_RETURN_IF_ERROR(FromRocks(it->status(), "reading nodes"));
    while (next < run.size()) CacheNode(run[next++], std::nullopt);
    return Status::Ok();
  }));
  return Status::Ok();
}

Status StoreWriter::PrefetchLists(std::vector<NodeId> nodes, EdgeKind kind) {
  for (NodeId n : nodes) lists_.Prefetch({n, kind});
  // Fresh nodes need no read: List starts their lists empty.
  std::erase_if(nodes, [&](NodeId n) { return Fresh(n) || lists_.contains({n, kind}); });
  if (nodes.size() < 2) return Status::Ok();
  SortUnique(&nodes);
  const bool incoming = CachedIncoming(kind);
  rocksdb::Iterator* it = Scanner(incoming ? kCfInEdges : kCfOutEdges);
  std::vector<std::vector<EdgeRecord>> found;
  TRIB_RETURN_IF_ERROR(ForEachCluster(nodes, [&](std::span<const NodeId> run) -> Status {
    found.assign(run.size(), {});
    std::vector<std::pair<size_t, size_t>> valueless;  // (list, entry) of older stores
    const std::string end = IdKey(run.back() + 1);
    size_t next = 0;
    for (it->Seek(EdgePrefix(run.front(), kind)); it->Valid() && it->key().compare(end) < 0;
         it->Next()) {
      std::string_view k = it->key().ToStringView();
      if (k.size() != 33) return Status::DataLoss("corrupt edge key");
      // Keys start with the node and the kind: entries of other nodes are passed undecoded.
      const NodeId node = DecodeFixed64BE(k.data());
      if (static_cast<EdgeKind>(k[8]) != kind) continue;
      while (next < run.size() && run[next] < node) ++next;
      if (next == run.size()) break;
      if (run[next] != node) continue;
      EdgeRecord e;
      bool no_value = false;
      TRIB_RETURN_IF_ERROR(DecodeEdgeEntry(k, it->value().ToStringView(), incoming, &e, &no_value));
      if (no_value) valueless.emplace_back(next, found[next].size());
      found[next].push_back(std::move(e));
    }
    TRIB_RETURN_IF_ERROR(FromRocks(it->status(), "reading edges"));
    for (auto [list, entry] : valueless) {
      TRIB_RETURN_IF_ERROR(ReadOutEdgeValue(*store_.h_, &found[list][entry]));
    }
    for (size_t i = 0; i < run.size(); ++i) CacheList({run[i], kind}, std::move(found[i]));
    return Status::Ok();
  }));
  return Status::Ok();
}

Result<std::span<const EdgeRecord>> StoreWriter::ListOf(NodeId node, EdgeKind kind) {
  TRIB_ASSIGN_OR_RETURN(std::vector<EdgeRecord> * list, List(node, kind));
  return std::span<const EdgeRecord>(*list);
}

Result<std::vector<EdgeRecord>> StoreWriter::Edges(NodeId node, EdgeKind kind) {
  TRIB_ASSIGN_OR_RETURN(std::vector<EdgeRecord> * list, List(node, kind));
  return *list;
}

Result<std::span<const EdgeRecord>> StoreWriter::EdgesBetween(NodeId from, EdgeKind kind,
                                                              NodeId to) {
  const bool incoming = CachedIncoming(kind);
  TRIB_ASSIGN_OR_RETURN(std::vector<EdgeRecord> * list, List(incoming ? to : from, kind));
  // The list is sorted by the other end first.
  const NodeId other = incoming ? from : to;
  auto end_of = [&](const EdgeRecord& e) { return incoming ? e.from : e.to; };
  auto lo = std::partition_point(list->begin(), list->end(),
                                 [&](const EdgeRecord& e) { return end_of(e) < other; });
  auto hi = std::partition_point(lo, list->end(),
                                 [&](const EdgeRecord& e) { return end_of(e) == other; });
  return std::span<const EdgeRecord>(list->data() + (lo - list->begin()), hi - lo);
}

Result<std::optional<std::vector<SchemaColumn>>> StoreWriter::LatestSchema(NodeId dataset,
                                                                           Micros* time) {
  if (auto it = schemas_.find(dataset); it != schemas_.end()) {
    if (time) *time = it->second.time;
    return it->second.columns;
  }
  CachedSchema& cached = schemas_[dataset];
  ++cached_;
  if (!Fresh(dataset)) {
    rocksdb::Iterator* it = Scanner(kCfSchemas);
    // The newest version is the last key under the dataset's prefix.
    std::string upper = IdKey(dataset + 1);
    it->SeekForPrev(upper);
    if (it->Valid() && it->key().ToStringView() == upper) it->Prev();
    Status s = FromRocks(it->status(), "reading schema");
    if (s.ok() && it->Valid() && it->key().starts_with(IdKey(dataset))) {
      cached.time = DecodeTimeKey(it->key().data() + 8);
      cached.columns.emplace();
      s = DecodeSchema(it->value().ToStringView(), &*cached.columns);
    }
    if (!s.ok()) {
      schemas_.erase(dataset);
      return s;
    }
  }
  if (time) *time = cached.time;
  return cached.columns;
}

Result<std::optional<uint64_t>> StoreWriter::FindDigest(const std::string& digest) {
  if (auto it = pending_digests_.find(digest); it != pending_digests_.end()) {
    return std::optional<uint64_t>(it->second);
  }
  if (inflight_) {
    if (auto it = inflight_->digests_.find(digest); it != inflight_->digests_.end()) {
      return std::optional<uint64_t>(it->second);
    }
  }
  std::string v;
  TRIB_ASSIGN_OR_RETURN(bool found, Get(*store_.h_, kCfEventDigests, digest, &v));
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
  pending_digests_[digest] = seq;
}

void StoreWriter::PutName(const std::string& key, NodeId id) {
  w_->batch.Put(store_.h_->cf[kCfNames], key, IdKey(id));
  ++cached_;
  if (!IsFieldPrefix(key)) {
    names_[key] = id;
    return;
  }
  // A field's name lives in its dataset's list, complete once loaded: load it first.
  Result<FieldList*> loaded = Fields(DecodeFixed64BE(key.data() + 1));
  if (!loaded.ok()) {
    broken_ = loaded.status();
    return;
  }
  FieldList& list = **loaded;
  auto pos = std::lower_bound(list.begin(), list.end(), key, NameKeyLess);
  if (pos != list.end() && pos->first == key) {
    pos->second = id;
  } else {
    list.insert(pos, {key, id});
  }
}

void StoreWriter::PutNode(NodeRecord node) {
  // A facet's text is written only when it changed; the node record holds its digest, and
  // so do the cache and the delta, as a read from the store would.
  for (auto& f : node.facets) {
    if (f.text_changed && f.has_text) {
      const std::string key = FacetKey(node.id, f.name);
      if (f.json.empty()) {
        w_->batch.Delete(store_.h_->cf[kCfFacets], key);
      } else {
        w_->batch.Put(store_.h_->cf[kCfFacets], key, f.json);
      }
    }
    f.text_changed = false;
    if (!f.deleted()) {
      std::string().swap(f.json);
      f.has_text = false;
    }
  }
  w_->batch.Put(store_.h_->cf[kCfNodes], IdKey(node.id), EncodeNode(node));
  if (record_delta_) delta_.nodes.push_back(node);
  NodeId id = node.id;
  if (Kept(node)) {
    nodes_.erase(id);  // it may have been looked up as absent
    kept_nodes_[id] = std::move(node);
  } else {
    nodes_[id] = std::move(node);
  }
  ++cached_;
}

void StoreWriter::PutRun(RunRecord run) {
  w_->batch.Put(store_.h_->cf[kCfRuns], IdKey(run.id), EncodeRun(run));
  if (record_delta_) delta_.runs.push_back(run);
  const NodeId id = run.id;
  runs_[id] = std::move(run);
  ++cached_;
}

void StoreWriter::PutEdge(const EdgeRecord& edge) {
  // Each edge is kept once, in the direction ingest reads it; the in-memory graph holds
  // both directions.
  if (CachedIncoming(edge.kind)) {
    w_->batch.Put(store_.h_->cf[kCfInEdges], InEdgeKey(edge), EncodeEdgeValue(edge));
  } else {
    w_->batch.Put(store_.h_->cf[kCfOutEdges], OutEdgeKey(edge), EncodeEdgeValue(edge));
  }
  if (record_delta_) delta_.edges.push_back(edge);
  CacheEdge(edge);
}

void StoreWriter::CacheEdge(const EdgeRecord& e) {
  const bool incoming = CachedIncoming(e.kind);
  const ListKey key{incoming ? e.to : e.from, e.kind};
  auto less = incoming ? InLess : OutLess;
  std::vector<EdgeRecord>* list = lists_.find(key);
  if (list == nullptr) {
    if (!Fresh(key.node)) {
      // Not cached: kept aside until the commit, for a load before it to merge in.
      Upsert(&pending_[key], e, less);
      return;
    }
    list = lists_.emplace(key, std::vector<EdgeRecord>());  // a fresh node had none
    ++cached_;
  }
  Upsert(list, e, less);
  ++cached_;
}

void StoreWriter::PutSchema(NodeId dataset, Micros time, const std::vector<SchemaColumn>& cols) {
  w_->batch.Put(store_.h_->cf[kCfSchemas], SchemaKey(dataset, time), EncodeSchema(cols));
  // Keep the latest version exact: load the committed one first.
  if (Status s = LatestSchema(dataset).status(); !s.ok()) {
    broken_ = s;
    return;
  }
  CachedSchema& cached = schemas_[dataset];
  if (time >= cached.time) {
    cached.time = time;
    cached.columns = cols;
  }
}

void StoreWriter::TrimCache() {
  // Names of datasets, jobs and runs are small, few next to fields and edges, and looked up
  // by nearly every event: they stay, unless they alone fill half the budget. (Field names
  // live in the field lists, which go.) They are exact: nothing is pending.
  if (names_.size() + kept_nodes_.size() > store_.options().writer_cache_entries / 2) {
    DropCache();
    return;
  }
  auto names = std::move(names_);
  auto kept = std::move(kept_nodes_);
  DropCache();
  names_ = std::move(names);
  kept_nodes_ = std::move(kept);
  cached_ = names_.size() + kept_nodes_.size();
}

void StoreWriter::AbandonCache() {
  struct Cache {
    decltype(names_) names;
    decltype(nodes_) nodes;
    decltype(kept_nodes_) kept_nodes;
    decltype(runs_) runs;
    decltype(lists_) lists;
    decltype(field_lists_) field_lists;
    decltype(schemas_) schemas;
  };
  // Never destroyed, not even by exit(): that would free the entries one by one after all.
  static std::mutex mu;
  static auto* abandoned = new std::vector<std::unique_ptr<Cache>>();
  auto cache = std::make_unique<Cache>(
      Cache{std::move(names_), std::move(nodes_), std::move(kept_nodes_), std::move(runs_),
            std::move(lists_), std::move(field_lists_), std::move(schemas_)});
  {
    std::lock_guard lock(mu);
    abandoned->push_back(std::move(cache));
  }
  DropCache();
}

void StoreWriter::DropCache() {
  names_.clear();
  nodes_.clear();
  kept_nodes_.clear();
  runs_.clear();
  lists_.clear();
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
  // The writes before the save point are committed below, after the batch in flight.
  if (Status s = WaitInFlight(); !s.ok()) return s;
  SavePoint sp = save_points_.back();
  save_points_.pop_back();
  TRIB_RETURN_IF_ERROR(FromRocks(w_->batch.RollbackToSavePoint(), "rolling back"));
  next_id_ = sp.next_id;
  next_seq_ = sp.next_seq;
  delta_.nodes.resize(sp.nodes);
  delta_.edges.resize(sp.edges);
  delta_.runs.resize(sp.runs);
  // The cache may hold what was just undone, and it is what makes the writes before the
  // save point visible: commit those, then start the cache afresh.
  Status s = empty() ? Status::Ok() : store_.WriteBatchOf(*this);
  DropCache();
  if (!s.ok()) {
    Clear();  // nothing of the batch was written
    return s;
  }
  Written();
  return Status::Ok();
}

}  // namespace tributary
