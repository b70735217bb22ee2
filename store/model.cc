#include "store/model.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "common/coding.h"

namespace tributary {
namespace {

// Value encodings start with a version byte so that a record can grow fields later.
constexpr uint8_t kRecordVersion = 1;
// Node records of version 2 hold their facets' digests; version 1 held the texts inline.
constexpr uint8_t kNodeVersion = 2;

// Name-index key prefixes (one byte, then the kind's own key).
constexpr char kNameDataset = 'd';
constexpr char kNameJob = 'j';
constexpr char kNameField = 'f';
constexpr char kNameRun = 'r';

void PutFacets(std::string* dst, const std::vector<FacetRecord>& facets) {
  PutVarint64(dst, facets.size());
  for (const auto& f : facets) {
    PutLengthPrefixed(dst, f.name);
    PutLengthPrefixed(dst, f.json);
    PutVarsint64(dst, f.time);
  }
}

bool GetFacets(Decoder* d, std::vector<FacetRecord>* facets) {
  uint64_t n;
  if (!d->GetVarint64(&n) || n > d->rest().size()) return false;
  facets->resize(n);
  for (auto& f : *facets) {
    if (!d->GetLengthPrefixed(&f.name) || !d->GetLengthPrefixed(&f.json) ||
        !d->GetVarsint64(&f.time)) {
      return false;
    }
  }
  return true;
}

// A node's facets without their texts: name, time, then 0 for a tombstone or 1 and the
// text's digest.
void PutFacetDigests(std::string* dst, const std::vector<FacetRecord>& facets) {
  PutVarint64(dst, facets.size());
  for (const auto& f : facets) {
    PutLengthPrefixed(dst, f.name);
    PutVarsint64(dst, f.time);
    if (f.deleted()) {
      dst->push_back(0);
    } else {
      dst->push_back(1);
      dst->append(reinterpret_cast<const char*>(f.digest.data()), f.digest.size());
    }
  }
}

bool GetFacetDigests(Decoder* d, std::vector<FacetRecord>* facets) {
  uint64_t n;
  if (!d->GetVarint64(&n) || n > d->rest().size()) return false;
  facets->resize(n);
  for (auto& f : *facets) {
    uint8_t live;
    if (!d->GetLengthPrefixed(&f.name) || !d->GetVarsint64(&f.time) || !d->GetByte(&live)) {
      return false;
    }
    f.text_changed = false;
    if (live == 0) continue;  // a tombstone: its text is known to be empty
    std::string_view digest;
    if (live != 1 || !d->GetBytes(f.digest.size(), &digest)) return false;
    std::memcpy(f.digest.data(), digest.data(), f.digest.size());
    f.has_text = false;
  }
  return true;
}

// Version 1 kept the texts inline: they are moved to the facets column family when the
// node is next written.
bool GetInlineNodeFacets(Decoder* d, std::vector<FacetRecord>* facets) {
  if (!GetFacets(d, facets)) return false;
  for (auto& f : *facets) {
    if (!f.json.empty()) f.digest = ShortDigestOf(f.json);
  }
  return true;
}

void PutTransforms(std::string* dst, TransformSet ts) { dst->append(ts.encoded()); }

// Decodes the `n` transformations that follow the count in `encoded`, into a set.
bool DecodeTransforms(std::string_view encoded, uint64_t n, TransformSet* ts) {
  Decoder d(encoded);
  uint64_t count;
  d.GetVarint64(&count);  // `n`, read and checked by the caller
  std::vector<Transform> items(n);
  for (auto& t : items) {
    uint8_t m;
    if (!d.GetLengthPrefixed(&t.type) || !d.GetLengthPrefixed(&t.subtype) ||
        !d.GetLengthPrefixed(&t.description) || !d.GetByte(&m)) {
      return false;
    }
    t.masking = m != 0;
  }
  *ts = TransformSet::Of(std::move(items));
  return true;
}

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Reads a count of transformations and as many, from `d`, as a set. Most edges repeat a few
// sets: those are found by their encoded bytes in a cache of the thread's recent sets, without
// decoding their strings or taking the intern table's lock.
bool GetTransforms(Decoder* d, TransformSet* ts) {
  const std::string_view start = d->rest();
  uint64_t n;
  if (!d->GetVarint64(&n) || n > d->rest().size()) return false;
  if (n == 0) {
    *ts = TransformSet();
    return true;
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view text;
    uint8_t m;
    if (!d->GetLengthPrefixed(&text) || !d->GetLengthPrefixed(&text) ||
        !d->GetLengthPrefixed(&text) || !d->GetByte(&m)) {
      return false;
    }
  }
  const std::string_view encoded = start.substr(0, start.size() - d->rest().size());
  thread_local std::unordered_map<std::string, TransformSet, TextHash, std::equal_to<>> recent;
  if (auto it = recent.find(encoded); it != recent.end()) {
    *ts = it->second;
    return true;
  }
  if (!DecodeTransforms(encoded, n, ts)) return false;
  // A cache, not a second table: a store whose sets are mostly distinct must not keep a copy
  // of them all per thread.
  if (recent.size() >= 4096) recent.clear();
  recent.emplace(encoded, *ts);
  return true;
}

void PutIds(std::string* dst, const std::vector<NodeId>& ids) {
  PutVarint64(dst, ids.size());
  for (NodeId id : ids) PutVarint64(dst, id);
}

bool GetIds(Decoder* d, std::vector<NodeId>* ids) {
  uint64_t n;
  if (!d->GetVarint64(&n) || n > d->rest().size()) return false;
  ids->resize(n);
  for (auto& id : *ids) {
    if (!d->GetVarint64(&id)) return false;
  }
  return true;
}

bool GetU32(Decoder* d, uint32_t* v) {
  uint64_t u;
  if (!d->GetVarint64(&u)) return false;
  *v = static_cast<uint32_t>(u);
  return true;
}

Status Corrupt(const char* what) { return Status::DataLoss(std::string("corrupt ") + what); }

void PutEdgeKey(std::string* k, NodeId a, EdgeKind kind, NodeId b, NodeId job, Micros first) {
  k->reserve(33);
  PutFixed64BE(k, a);
  k->push_back(static_cast<char>(kind));
  PutFixed64BE(k, b);
  PutFixed64BE(k, job);
  PutTimeKey(k, first);
}

}  // namespace

const char* NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kDataset:
      return "dataset";
    case NodeKind::kJob:
      return "job";
    case NodeKind::kRun:
      return "run";
    case NodeKind::kField:
      return "field";
  }
  return "unknown";
}

std::string MarquezNodeId(NodeKind kind, const std::string& ns, const std::string& name,
                          const std::string& field) {
  std::string id;
  ForEachMarquezNodeIdPart(kind, ns, name, field,
                           [&](std::string_view text, bool) { id.append(text); });
  return id;
}

const char* EdgeKindName(EdgeKind kind) {
  switch (kind) {
    case EdgeKind::kRead:
      return "read";
    case EdgeKind::kWrite:
      return "write";
    case EdgeKind::kDerive:
      return "column";
  }
  return "unknown";
}

const char* RunStateName(RunState state) {
  switch (state) {
    case RunState::kNew:
      return "NEW";
    case RunState::kRunning:
      return "RUNNING";
    case RunState::kCompleted:
      return "COMPLETED";
    case RunState::kFailed:
      return "FAILED";
    case RunState::kAborted:
      return "ABORTED";
  }
  return "UNKNOWN";
}

std::string EncodeNode(const NodeRecord& n) {
  std::string v;
  v.push_back(static_cast<char>(kNodeVersion));
  v.push_back(static_cast<char>(n.kind));
  PutVarint64(&v, n.id);
  PutLengthPrefixed(&v, n.ns);
  PutLengthPrefixed(&v, n.name);
  PutLengthPrefixed(&v, n.field);
  PutVarint64(&v, n.dataset);
  PutVarint64(&v, n.flags);
  PutVarsint64(&v, n.first_seen);
  PutVarsint64(&v, n.updated);
  PutVarsint64(&v, n.dropped_at);
  PutLengthPrefixed(&v, n.field_type);
  PutFacetDigests(&v, n.facets);
  PutVarint64(&v, n.aliases.size());
  for (const auto& a : n.aliases) PutLengthPrefixed(&v, a);
  PutVarint64(&v, n.parent_job);
  PutVarint64(&v, n.latest_run);
  PutVarint64(&v, n.lineage_run);
  PutVarsint64(&v, n.lineage_time);
  PutVarint64(&v, n.owners.size());
  for (const auto& o : n.owners) PutLengthPrefixed(&v, o);
  PutVarint64(&v, n.tags.size());
  for (const auto& t : n.tags) {
    PutLengthPrefixed(&v, t.key);
    PutLengthPrefixed(&v, t.value);
    PutLengthPrefixed(&v, t.field);
  }
  return v;
}

Status DecodeNode(std::string_view in, NodeRecord* n) {
  Decoder d(in);
  uint8_t version, kind;
  uint64_t naliases;
  if (!d.GetByte(&version) || (version != 1 && version != kNodeVersion) || !d.GetByte(&kind) ||
      !d.GetVarint64(&n->id) || !d.GetLengthPrefixed(&n->ns) || !d.GetLengthPrefixed(&n->name) ||
      !d.GetLengthPrefixed(&n->field) || !d.GetVarint64(&n->dataset) || !GetU32(&d, &n->flags) ||
      !d.GetVarsint64(&n->first_seen) || !d.GetVarsint64(&n->updated) ||
      !d.GetVarsint64(&n->dropped_at) || !d.GetLengthPrefixed(&n->field_type) ||
      !(version == 1 ? GetInlineNodeFacets(&d, &n->facets) : GetFacetDigests(&d, &n->facets)) ||
      !d.GetVarint64(&naliases) || naliases > in.size()) {
    return Corrupt("node record");
  }
  n->kind = static_cast<NodeKind>(kind);
  n->aliases.resize(naliases);
  for (auto& a : n->aliases) {
    if (!d.GetLengthPrefixed(&a)) return Corrupt("node record");
  }
  uint64_t nowners, ntags;
  if (!d.GetVarint64(&n->parent_job) || !d.GetVarint64(&n->latest_run) ||
      !d.GetVarint64(&n->lineage_run) || !d.GetVarsint64(&n->lineage_time)) {
    return Corrupt("node record");
  }
  // Owners and tags came later: a record that ends here has none.
  if (d.done()) return Status::Ok();
  if (!d.GetVarint64(&nowners) || nowners > in.size()) return Corrupt("node record");
  n->owners.resize(nowners);
  for (auto& o : n->owners) {
    if (!d.GetLengthPrefixed(&o)) return Corrupt("node record");
  }
  if (!d.GetVarint64(&ntags) || ntags > in.size()) return Corrupt("node record");
  n->tags.resize(ntags);
  for (auto& t : n->tags) {
    if (!d.GetLengthPrefixed(&t.key) || !d.GetLengthPrefixed(&t.value) ||
        !d.GetLengthPrefixed(&t.field)) {
      return Corrupt("node record");
    }
  }
  return Status::Ok();
}

std::string EncodeRun(const RunRecord& r) {
  std::string v;
  v.push_back(static_cast<char>(kRecordVersion));
  PutVarint64(&v, r.id);
  PutLengthPrefixed(&v, r.run_id);
  PutVarint64(&v, r.job);
  v.push_back(static_cast<char>(r.state));
  PutVarsint64(&v, r.state_time);
  PutVarsint64(&v, r.started_at);
  PutVarsint64(&v, r.ended_at);
  PutVarsint64(&v, r.last_event);
  PutVarint64(&v, r.parent_run);
  PutLengthPrefixed(&v, r.error_message);
  PutFacets(&v, r.facets);
  PutIds(&v, r.inputs);
  PutIds(&v, r.outputs);
  PutVarint64(&v, r.column_edges.size());
  for (const auto& e : r.column_edges) {
    PutVarint64(&v, e.from);
    PutVarint64(&v, e.to);
    PutTransforms(&v, e.transforms);
  }
  PutIds(&v, r.lineage_datasets);
  return v;
}

Status DecodeRun(std::string_view in, RunRecord* r) {
  Decoder d(in);
  uint8_t version, state;
  uint64_t nedges;
  if (!d.GetByte(&version) || version != kRecordVersion || !d.GetVarint64(&r->id) ||
      !d.GetLengthPrefixed(&r->run_id) || !d.GetVarint64(&r->job) || !d.GetByte(&state) ||
      !d.GetVarsint64(&r->state_time) || !d.GetVarsint64(&r->started_at) ||
      !d.GetVarsint64(&r->ended_at) || !d.GetVarsint64(&r->last_event) ||
      !d.GetVarint64(&r->parent_run) || !d.GetLengthPrefixed(&r->error_message) ||
      !GetFacets(&d, &r->facets) || !GetIds(&d, &r->inputs) || !GetIds(&d, &r->outputs) ||
      !d.GetVarint64(&nedges) || nedges > in.size()) {
    return Corrupt("run record");
  }
  r->state = static_cast<RunState>(state);
  r->column_edges.resize(nedges);
  for (auto& e : r->column_edges) {
    if (!d.GetVarint64(&e.from) || !d.GetVarint64(&e.to) || !GetTransforms(&d, &e.transforms)) {
      return Corrupt("run record");
    }
  }
  if (!GetIds(&d, &r->lineage_datasets)) return Corrupt("run record");
  return Status::Ok();
}

std::string EncodeEdgeValue(const EdgeRecord& e) {
  std::string v;
  v.push_back(static_cast<char>(kRecordVersion));
  PutVarsint64(&v, e.retired);
  PutVarint64(&v, e.last_run);
  PutTransforms(&v, e.transforms);
  return v;
}

Status DecodeEdgeValue(std::string_view in, EdgeRecord* e) {
  Decoder d(in);
  uint8_t version;
  if (!d.GetByte(&version) || version != kRecordVersion || !d.GetVarsint64(&e->retired) ||
      !d.GetVarint64(&e->last_run) || !GetTransforms(&d, &e->transforms)) {
    return Corrupt("edge record");
  }
  return Status::Ok();
}

std::string EncodeSchema(const std::vector<SchemaColumn>& cols) {
  std::string v;
  v.push_back(static_cast<char>(kRecordVersion));
  PutVarint64(&v, cols.size());
  for (const auto& c : cols) {
    PutLengthPrefixed(&v, c.path);
    PutLengthPrefixed(&v, c.type);
    PutLengthPrefixed(&v, c.description);
  }
  return v;
}

Status DecodeSchema(std::string_view in, std::vector<SchemaColumn>* cols) {
  Decoder d(in);
  uint8_t version;
  uint64_t n;
  if (!d.GetByte(&version) || version != kRecordVersion || !d.GetVarint64(&n) || n > in.size()) {
    return Corrupt("schema record");
  }
  cols->resize(n);
  for (auto& c : *cols) {
    if (!d.GetLengthPrefixed(&c.path) || !d.GetLengthPrefixed(&c.type) ||
        !d.GetLengthPrefixed(&c.description)) {
      return Corrupt("schema record");
    }
  }
  return Status::Ok();
}

std::string DatasetNameKey(std::string_view ns, std::string_view name) {
  std::string k(1, kNameDataset);
  PutLengthPrefixed(&k, ns);
  k.append(name);
  return k;
}

std::string JobNameKey(std::string_view ns, std::string_view name) {
  std::string k(1, kNameJob);
  PutLengthPrefixed(&k, ns);
  k.append(name);
  return k;
}

std::string FieldPrefix(NodeId dataset) {
  std::string k(1, kNameField);
  PutFixed64BE(&k, dataset);
  return k;
}

std::string FieldNameKey(NodeId dataset, std::string_view path) {
  std::string k = FieldPrefix(dataset);
  k.append(path);
  return k;
}

std::string RunIdPrefix(std::string_view run_id) {
  std::string k(1, kNameRun);
  PutLengthPrefixed(&k, run_id);
  return k;
}

std::string RunNameKey(std::string_view run_id, std::string_view job_ns,
                       std::string_view job_name) {
  std::string k = RunIdPrefix(run_id);
  PutLengthPrefixed(&k, job_ns);
  k.append(job_name);
  return k;
}

std::string OutEdgeKey(const EdgeRecord& e) {
  std::string k;
  PutEdgeKey(&k, e.from, e.kind, e.to, e.job, e.first_seen);
  return k;
}

std::string InEdgeKey(const EdgeRecord& e) {
  std::string k;
  PutEdgeKey(&k, e.to, e.kind, e.from, e.job, e.first_seen);
  return k;
}

void DecodeOutEdgeKey(std::string_view key, EdgeRecord* e) {
  e->from = DecodeFixed64BE(key.data());
  e->kind = static_cast<EdgeKind>(key[8]);
  e->to = DecodeFixed64BE(key.data() + 9);
  e->job = DecodeFixed64BE(key.data() + 17);
  e->first_seen = DecodeTimeKey(key.data() + 25);
}

void DecodeInEdgeKey(std::string_view key, EdgeRecord* e) {
  DecodeOutEdgeKey(key, e);
  std::swap(e->from, e->to);
}

std::string EdgePrefix(NodeId node, EdgeKind kind) {
  std::string k;
  PutFixed64BE(&k, node);
  k.push_back(static_cast<char>(kind));
  return k;
}

std::string EdgePrefix(NodeId node, EdgeKind kind, NodeId other) {
  std::string k = EdgePrefix(node, kind);
  PutFixed64BE(&k, other);
  return k;
}

std::string IdKey(NodeId id) {
  std::string k;
  PutFixed64BE(&k, id);
  return k;
}

std::string FacetKey(NodeId node, std::string_view facet) {
  std::string k;
  PutFixed64BE(&k, node);
  k.append(facet);
  return k;
}

std::string SchemaKey(NodeId dataset, Micros time) {
  std::string k;
  PutFixed64BE(&k, dataset);
  PutTimeKey(&k, time);
  return k;
}

Result<TransformSet> TransformsOfEncoding(std::string_view encoded) {
  Decoder d(encoded);
  TransformSet ts;
  if (!GetTransforms(&d, &ts) || !d.done()) return Corrupt("transformations");
  return ts;
}

}  // namespace tributary
