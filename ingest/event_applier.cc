#include "ingest/event_applier.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/coding.h"

namespace tributary {
namespace {

Result<TransformSet> ToTransforms(const std::vector<Transformation>& in) {
  if (in.empty()) return TransformSet();
  thread_local std::string encoded;
  encoded.clear();
  PutVarint64(&encoded, in.size());
  for (const auto& t : in) PutTransform(&encoded, t.type, t.subtype, t.description, t.masking);
  return TransformsOfEncoding(encoded);
}

// Adds `more` to `into`. Returns whether `into` now holds more than `more`.
bool MergeTransforms(TransformSet* into, TransformSet more) {
  *into = TransformSet::Union(*into, more);
  return *into != more;
}

void InsertSorted(std::vector<NodeId>* v, NodeId id) {
  auto it = std::lower_bound(v->begin(), v->end(), id);
  if (it == v->end() || *it != id) v->insert(it, id);
}

bool ContainsSorted(const std::vector<NodeId>& v, NodeId id) {
  return std::binary_search(v.begin(), v.end(), id);
}

bool IsTerminal(RunState s) {
  return s == RunState::kCompleted || s == RunState::kFailed || s == RunState::kAborted;
}

// Applies `facets` sent at time `t` to `into`: a facet replaces one of the same name set at
// an earlier or equal time; `_deleted` leaves a tombstone. Returns whether anything changed.
// A facet whose text changed is marked text_changed. Texts that were not loaded (has_text
// false) are compared by digest.
bool ApplyFacets(const std::vector<Facet>& facets, Micros t, std::vector<FacetRecord>* into) {
  bool changed = false;
  for (const auto& f : facets) {
    auto it =
        std::lower_bound(into->begin(), into->end(), f.name,
                         [](const FacetRecord& r, const std::string& n) { return r.name < n; });
    bool present = it != into->end() && it->name == f.name;
    if (present && it->time > t) continue;  // a newer event already set it
    if (f.deleted) {
      // A tombstone (empty json) remembers when the facet was deleted, so an older event
      // cannot bring it back.
      if (!present) {
        into->insert(it, FacetRecord{.name = f.name, .json = "", .time = t});
        changed = true;
        continue;
      }
      if (!it->deleted()) {
        it->json.clear();
        it->digest = {};
        it->has_text = true;
        it->text_changed = true;
        changed = true;
      }
      if (it->time != t) {
        it->time = t;
        changed = true;
      }
      continue;
    }
    if (present) {
      const bool same = it->has_text ? it->json == f.json : it->digest == f.digest;
      if (!same) {
        it->json = f.json;
        it->digest = f.digest;
        it->has_text = true;
        it->text_changed = true;
        changed = true;
      }
      if (it->time != t) {
        it->time = t;
        changed = true;
      }
    } else {
      into->insert(it, FacetRecord{.name = f.name, .json = f.json, .time = t, .digest = f.digest});
      changed = true;
    }
  }
  return changed;
}

// Owners and tags of a node, derived again from its ownership and tags facets when their
// texts changed (only those are loaded).
void DeriveOwnersAndTags(NodeRecord* n) {
  for (const auto& f : n->facets) {
    if (!f.text_changed || (f.name != "ownership" && f.name != "tags")) continue;
    if (f.name == "ownership") {
      n->owners.clear();
    } else {
      n->tags.clear();
    }
    if (f.json.empty()) continue;  // deleted
    nlohmann::json j = nlohmann::json::parse(f.json, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) continue;
    const char* list = f.name == "ownership" ? "owners" : "tags";
    if (!j.contains(list) || !j[list].is_array()) continue;
    for (const auto& item : j[list]) {
      if (!item.is_object()) continue;
      auto str = [&](const char* k) {
        return item.contains(k) && item[k].is_string() ? item[k].get<std::string>() : "";
      };
      if (f.name == "ownership") {
        if (!str("name").empty()) n->owners.push_back(str("name"));
      } else if (!str("key").empty()) {
        n->tags.push_back({str("key"), str("value"), str("field")});
      }
    }
  }
}

RunState StateOf(EventType type) {
  switch (type) {
    case EventType::kComplete:
      return RunState::kCompleted;
    case EventType::kFail:
      return RunState::kFailed;
    case EventType::kAbort:
      return RunState::kAborted;
    case EventType::kOther:
      return RunState::kNew;  // carries metadata only
    case EventType::kNone:
    case EventType::kStart:
    case EventType::kRunning:
      return RunState::kRunning;
  }
  return RunState::kNew;
}

// Column edges by (from, to), with their transformations: added in any order and more than
// once, then sorted once by Seal, which merges the repeats (a map node per edge cost more).
class ColumnEdges {
 public:
  using Entry = std::pair<std::pair<NodeId, NodeId>, TransformSet>;

  void Add(NodeId from, NodeId to, TransformSet ts) { entries_.push_back({{from, to}, ts}); }
  void Seal() {
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.first < b.first; });
    auto out = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (out != entries_.begin() && std::prev(out)->first == it->first) {
        MergeTransforms(&std::prev(out)->second, it->second);
      } else {
        *out++ = *it;
      }
    }
    entries_.erase(out, entries_.end());
  }
  // After Seal.
  bool contains(NodeId from, NodeId to) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), std::pair(from, to),
                               [](const Entry& e, const auto& key) { return e.first < key; });
    return it != entries_.end() && it->first == std::pair(from, to);
  }
  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

// The lineage one event reports, resolved to node ids.
struct Report {
  std::vector<NodeId> inputs;            // sorted
  std::vector<NodeId> outputs;           // sorted
  ColumnEdges column_edges;              // sealed once collected
  std::vector<NodeId> lineage_datasets;  // sorted
};

// One event's application: caches the records it touches and writes each once.
class Application {
 public:
  Application(const ParsedEvent& ev, StoreWriter& w) : ev_(ev), w_(w), t_(ev.event_time) {}

  Status Run();

 private:
  // The event's own copy of a node, to change (written by Flush when touched).
  Result<NodeRecord*> Node(NodeId id);
  // A node to read: the event's copy if it has one, else the writer's.
  Result<const NodeRecord*> Peek(NodeId id);
  // Finds the node named `key`, or creates it; `seen` clears (or, for a new node, skips)
  // the unseen flag.
  Result<NodeId> ResolveNode(const std::string& key, NodeKind kind, const std::string& ns,
                             const std::string& name, NodeId dataset, const std::string& field,
                             bool seen);
  Result<NodeId> ResolveJob(const std::string& ns, const std::string& name, bool seen);
  Result<NodeId> ResolveRun(const std::string& run_id, NodeId job);
  Result<NodeId> ResolveDataset(const std::string& ns, const std::string& name, bool seen);
  Result<NodeId> ResolveField(NodeId dataset, const std::string& path, bool seen);
  Result<NodeId> ApplyDataset(const DatasetRef& ref);
  Status ApplyRename(const DatasetRef& ref);
  Status ApplySchema(NodeId dataset, const std::vector<SchemaField>& schema);
  Status CollectColumnLineage(NodeId dataset, const DatasetRef& ref, Report* report);
  Status ApplyRunState(RunRecord* run);
  // Adds what `report` says as edges of `job` (kNoNode for static lineage).
  Status AddEdges(NodeId job, NodeId run, const Report& report, Micros lineage_time);
  // `transforms`: those of a derive edge (those of `e` are not read).
  Status AddEdge(EdgeRecord e, Micros lineage_time, TransformSet transforms);
  // Retires the job's current edges not in `keep`, at t_.
  Status Retire(NodeId job, const Report& keep);
  Status RetireStatic(NodeId dataset, const Report& keep);
  // The ids of the fields of `dataset` known so far.
  Result<std::vector<NodeId>> FieldIds(NodeId dataset);
  // Calls fn(edge) for each column edge into a field of `dataset`. The edges are the
  // writer's own: fn must not write.
  template <typename Fn>
  Status CollectDerives(NodeId dataset, Fn fn);
  Status Flush();
  void Touch(NodeRecord* n) {
    dirty_nodes_.insert(n->id);
    if (t_ > n->updated) n->updated = t_;
  }

  struct FieldKey {
    NodeId dataset;
    std::string path;
    bool operator==(const FieldKey&) const = default;
  };
  struct FieldKeyHash {
    size_t operator()(const FieldKey& k) const {
      return std::hash<std::string>()(k.path) ^ (k.dataset * 0x9e3779b97f4a7c15ULL);
    }
  };
  struct ResolvedField {
    NodeId id = kNoNode;
    bool seen = false;  // resolved as seen: its unseen flag is cleared
  };

  const ParsedEvent& ev_;
  StoreWriter& w_;
  Micros t_;
  std::unordered_map<FieldKey, ResolvedField, FieldKeyHash> fields_;  // see ResolveField
  std::map<NodeId, NodeRecord> nodes_;
  std::set<NodeId> dirty_nodes_;
  std::map<NodeId, RunRecord> runs_;
  std::set<NodeId> dirty_runs_;
};

Result<NodeRecord*> Application::Node(NodeId id) {
  auto it = nodes_.find(id);
  if (it != nodes_.end()) return &it->second;
  TRIB_ASSIGN_OR_RETURN(const NodeRecord* n, Peek(id));
  return &nodes_.emplace(id, *n).first->second;
}

Result<const NodeRecord*> Application::Peek(NodeId id) {
  auto it = nodes_.find(id);
  if (it != nodes_.end()) return &it->second;
  TRIB_ASSIGN_OR_RETURN(const NodeRecord* n, w_.PeekNode(id));
  if (!n) return Status::DataLoss("name index points at missing node " + std::to_string(id));
  return n;
}

Result<NodeId> Application::ResolveNode(const std::string& key, NodeKind kind,
                                        const std::string& ns, const std::string& name,
                                        NodeId dataset, const std::string& field, bool seen) {
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> id, w_.FindName(key));
  if (id) {
    if (!seen) return *id;  // nothing changes: the node need not be read
    TRIB_ASSIGN_OR_RETURN(const NodeRecord* n, Peek(*id));
    if (n->unseen()) {
      TRIB_ASSIGN_OR_RETURN(NodeRecord * changed, Node(*id));
      changed->flags &= ~kFlagUnseen;
      Touch(changed);
    }
    return *id;
  }
  NodeRecord n;
  n.id = w_.AllocateId();
  n.kind = kind;
  n.ns = ns;
  n.name = name;
  n.dataset = dataset;
  n.field = field;
  n.flags = seen ? 0 : kFlagUnseen;
  n.first_seen = n.updated = t_;
  w_.PutName(key, n.id);
  NodeId nid = n.id;
  nodes_.emplace(nid, std::move(n));
  dirty_nodes_.insert(nid);
  return nid;
}

Result<NodeId> Application::ResolveJob(const std::string& ns, const std::string& name, bool seen) {
  return ResolveNode(JobNameKey(ns, name), NodeKind::kJob, ns, name, kNoNode, "", seen);
}

Result<NodeId> Application::ResolveRun(const std::string& run_id, NodeId job) {
  TRIB_ASSIGN_OR_RETURN(const NodeRecord* j, Peek(job));
  std::string key = RunNameKey(run_id, j->ns, j->name);
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> id, w_.FindName(key));
  if (id) {
    if (!runs_.count(*id)) {
      TRIB_ASSIGN_OR_RETURN(const RunRecord* r, w_.PeekRun(*id));
      if (!r) return Status::DataLoss("name index points at missing run");
      runs_.emplace(*id, *r);
    }
    return *id;
  }
  RunRecord r;
  r.id = w_.AllocateId();
  r.run_id = run_id;
  r.job = job;
  w_.PutName(key, r.id);
  NodeId rid = r.id;
  runs_.emplace(rid, std::move(r));
  dirty_runs_.insert(rid);
  return rid;
}

Result<NodeId> Application::ResolveDataset(const std::string& ns, const std::string& name,
                                           bool seen) {
  return ResolveNode(DatasetNameKey(ns, name), NodeKind::kDataset, ns, name, kNoNode, "", seen);
}

Result<NodeId> Application::ResolveField(NodeId dataset, const std::string& path, bool seen) {
  // An event names its fields many times over (schema, lineage outputs, key columns as
  // inputs): each is looked up once, and again only to be marked seen.
  auto [it, fresh] = fields_.try_emplace(FieldKey{dataset, path});
  if (!fresh && (it->second.seen || !seen)) return it->second.id;
  // A field's namespace and name are its dataset's: they are not stored with it.
  Result<NodeId> id =
      ResolveNode(FieldNameKey(dataset, path), NodeKind::kField, "", "", dataset, path, seen);
  if (!id.ok()) {
    if (fresh) fields_.erase(it);
    return id;
  }
  it->second.id = *id;
  it->second.seen = it->second.seen || seen;
  return id;
}

Status Application::ApplyRename(const DatasetRef& ref) {
  const auto& prev = *ref.lifecycle->previous;
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> old_id,
                        w_.FindName(DatasetNameKey(prev.ns, prev.name)));
  if (!old_id) return Status::Ok();  // nothing known under the old name: a plain new dataset
  std::string new_key = DatasetNameKey(ref.ns, ref.name);
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> new_id, w_.FindName(new_key));
  if (new_id) return Status::Ok();  // both names known: kept apart (docs/ingest.md)
  TRIB_ASSIGN_OR_RETURN(NodeRecord * n, Node(*old_id));
  w_.PutName(new_key, n->id);
  std::string alias = prev.ns + "\n" + prev.name;
  if (std::find(n->aliases.begin(), n->aliases.end(), alias) == n->aliases.end()) {
    n->aliases.push_back(alias);
  }
  n->ns = ref.ns;
  n->name = ref.name;
  Touch(n);
  return Status::Ok();
}

Status Application::ApplySchema(NodeId dataset, const std::vector<SchemaField>& schema) {
  // The records of the dataset's known fields (normally the schema's) are read together.
  TRIB_ASSIGN_OR_RETURN(std::vector<NodeId> known, FieldIds(dataset));
  TRIB_RETURN_IF_ERROR(w_.PrefetchNodes(std::move(known)));
  std::vector<SchemaColumn> cols;
  cols.reserve(schema.size());
  for (const auto& f : schema) {
    cols.push_back({f.path, f.type, f.description});
    TRIB_ASSIGN_OR_RETURN(NodeId fid, ResolveField(dataset, f.path, true));
    TRIB_ASSIGN_OR_RETURN(const NodeRecord* fn, Peek(fid));
    if (fn->field_type != f.type && t_ >= fn->updated) {
      TRIB_ASSIGN_OR_RETURN(NodeRecord * changed, Node(fid));
      changed->field_type = f.type;
      Touch(changed);
    }
  }
  Micros latest_time = 0;
  TRIB_ASSIGN_OR_RETURN(auto latest, w_.LatestSchema(dataset, &latest_time));
  if (!latest) {
    w_.PutSchema(dataset, t_, cols);
  } else if (*latest != cols && t_ > latest_time) {
    w_.PutSchema(dataset, t_, cols);
  }
  return Status::Ok();
}

Result<NodeId> Application::ApplyDataset(const DatasetRef& ref) {
  if (ref.lifecycle && ref.lifecycle->state == "RENAME" && ref.lifecycle->previous) {
    TRIB_RETURN_IF_ERROR(ApplyRename(ref));
  }
  TRIB_ASSIGN_OR_RETURN(NodeId id, ResolveDataset(ref.ns, ref.name, true));
  TRIB_ASSIGN_OR_RETURN(NodeRecord * n, Node(id));
  // A lifecycle change counts only if it is not older than the last one recorded.
  bool lifecycle_current = true;
  for (const auto& f : n->facets) {
    if (f.name == "lifecycleStateChange" && f.time > t_) lifecycle_current = false;
  }
  if (ApplyFacets(ref.facets, t_, &n->facets)) {
    DeriveOwnersAndTags(n);
    Touch(n);
  }
  for (const auto& s : ref.symlinks) {
    std::string key = DatasetNameKey(s.ns, s.name);
    TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> other, w_.FindName(key));
    if (other) continue;  // already a name of this or another dataset
    w_.PutName(key, id);
    n->aliases.push_back(s.ns + "\n" + s.name);
    Touch(n);
  }
  if (ref.lifecycle && lifecycle_current) {
    const std::string& state = ref.lifecycle->state;
    if (state == "DROP") {
      n->flags |= kFlagDropped;
      n->dropped_at = t_;
      Touch(n);
    } else if ((state == "CREATE" || state == "OVERWRITE") && (n->flags & kFlagDropped)) {
      n->flags &= ~kFlagDropped;
      Touch(n);
    }
  }
  if (ref.schema) TRIB_RETURN_IF_ERROR(ApplySchema(id, *ref.schema));
  return id;
}

Status Application::CollectColumnLineage(NodeId dataset, const DatasetRef& ref, Report* report) {
  const ColumnLineage& cl = *ref.column_lineage;
  InsertSorted(&report->lineage_datasets, dataset);
  // Inputs name a few datasets many times over: each is resolved once (resolving a name as
  // unseen again changes nothing).
  std::vector<std::pair<const InputFieldRef*, NodeId>> datasets;
  // A column edge implies its input dataset is read, even if `inputs` left it out.
  auto resolve_input = [&](const InputFieldRef& in, bool has_edges) -> Result<NodeId> {
    NodeId ds = kNoNode;
    for (const auto& [seen, id] : datasets) {
      if (seen->name == in.name && seen->ns == in.ns) {
        ds = id;
        break;
      }
    }
    if (ds == kNoNode) {
      TRIB_ASSIGN_OR_RETURN(ds, ResolveDataset(in.ns, in.name, false));
      datasets.emplace_back(&in, ds);
    }
    if (has_edges && ds != dataset) InsertSorted(&report->inputs, ds);
    return ResolveField(ds, in.field, false);
  };
  std::vector<NodeId> outputs;
  for (const auto& f : cl.fields) {
    TRIB_ASSIGN_OR_RETURN(NodeId out, ResolveField(dataset, f.output_field, false));
    outputs.push_back(out);
    for (const auto& in : f.inputs) {
      TRIB_ASSIGN_OR_RETURN(NodeId src, resolve_input(in, true));
      TRIB_ASSIGN_OR_RETURN(TransformSet ts, ToTransforms(in.transformations));
      report->column_edges.Add(src, out, ts);
    }
  }
  if (!cl.dataset_wide.empty()) {
    // Dataset-wide inputs affect every output column: those named in the facet and those
    // of the dataset's schema.
    if (ref.schema) {
      for (const auto& s : *ref.schema) {
        TRIB_ASSIGN_OR_RETURN(NodeId out, ResolveField(dataset, s.path, true));
        outputs.push_back(out);
      }
    } else {
      TRIB_ASSIGN_OR_RETURN(auto latest, w_.LatestSchema(dataset));
      if (latest) {
        for (const auto& c : *latest) {
          TRIB_ASSIGN_OR_RETURN(NodeId out, ResolveField(dataset, c.path, true));
          outputs.push_back(out);
        }
      }
    }
    std::sort(outputs.begin(), outputs.end());
    outputs.erase(std::unique(outputs.begin(), outputs.end()), outputs.end());
    for (const auto& in : cl.dataset_wide) {
      TRIB_ASSIGN_OR_RETURN(NodeId src, resolve_input(in, !outputs.empty()));
      TRIB_ASSIGN_OR_RETURN(TransformSet ts, ToTransforms(in.transformations));
      for (NodeId out : outputs) report->column_edges.Add(src, out, ts);
    }
  }
  return Status::Ok();
}

Status Application::ApplyRunState(RunRecord* run) {
  RunState next = StateOf(ev_.event_type);
  if (run->last_event < t_) run->last_event = t_;
  // The run started no later than its earliest event, START or not (some runs send none).
  if (run->started_at == 0 || t_ < run->started_at) run->started_at = t_;
  if (next == RunState::kNew) return Status::Ok();
  bool take;
  if (run->state == RunState::kNew) {
    take = true;
  } else if (IsTerminal(run->state) && !IsTerminal(next)) {
    take = false;
  } else if (!IsTerminal(run->state) && IsTerminal(next)) {
    take = true;
  } else {
    take = t_ >= run->state_time;
  }
  if (take) {
    run->state = next;
    run->state_time = t_;
    if (IsTerminal(next)) run->ended_at = t_;
  }
  return Status::Ok();
}

Status Application::AddEdge(EdgeRecord e, Micros lineage_time, TransformSet transforms) {
  // The writer's own list: the pointers into it are not used after the first PutEdge.
  TRIB_ASSIGN_OR_RETURN(std::span<const EdgeRecord> existing,
                        w_.EdgesBetween(e.from, e.kind, e.to));
  const EdgeRecord* open = nullptr;
  const EdgeRecord* covering = nullptr;
  Micros next_start = kForever;
  for (const auto& x : existing) {
    if (x.job != e.job) continue;
    if (x.current()) open = &x;
    if (x.ValidAt(t_)) covering = &x;
    if (x.first_seen > t_) next_start = std::min(next_start, x.first_seen);
  }
  if (t_ < lineage_time) {
    // A late event from before the job's current lineage: record it as history only.
    if (covering) return Status::Ok();
    e.first_seen = t_;
    e.retired = std::min(lineage_time, next_start);
    e.transforms = transforms;
    if (e.retired > e.first_seen) w_.PutEdge(e);
    return Status::Ok();
  }
  if (!open) {
    if (covering) return Status::Ok();  // closed after t by a newer report
    e.first_seen = t_;
    e.retired = kForever;
    e.transforms = transforms;
    w_.PutEdge(e);
    return Status::Ok();
  }
  if (open->first_seen > t_) return Status::Ok();  // a newer report opened it
  // An edge reported again as it is is not rewritten: which run last reported a current edge
  // follows from its job's lineage run (see EdgeRecord::last_run), and rewriting every edge
  // of every run would cost most of ingest.
  if (e.kind != EdgeKind::kDerive || open->transforms == transforms) return Status::Ok();
  EdgeRecord updated = *open;
  if (open->last_run == e.last_run || open->first_seen == t_) {
    updated.transforms = transforms;  // the same run told more
    w_.PutEdge(updated);
    return Status::Ok();
  }
  // Another run derives it differently: close the old interval, open a new one.
  updated.retired = t_;
  w_.PutEdge(updated);
  e.first_seen = t_;
  e.retired = kForever;
  e.transforms = transforms;
  w_.PutEdge(e);
  return Status::Ok();
}

Status Application::AddEdges(NodeId job, NodeId run, const Report& report, Micros lineage_time) {
  if (job != kNoNode) {
    for (NodeId in : report.inputs) {
      EdgeRecord e;
      e.from = in;
      e.kind = EdgeKind::kRead;
      e.to = job;
      e.job = job;
      e.last_run = run;
      TRIB_RETURN_IF_ERROR(AddEdge(std::move(e), lineage_time, {}));
    }
    for (NodeId out : report.outputs) {
      EdgeRecord e;
      e.from = job;
      e.kind = EdgeKind::kWrite;
      e.to = out;
      e.job = job;
      e.last_run = run;
      TRIB_RETURN_IF_ERROR(AddEdge(std::move(e), lineage_time, {}));
    }
  }
  // The edges into the fields this event derives are read together.
  std::vector<NodeId> targets;
  for (const auto& [pair, _] : report.column_edges) targets.push_back(pair.second);
  TRIB_RETURN_IF_ERROR(w_.PrefetchLists(std::move(targets), EdgeKind::kDerive));
  for (const auto& [pair, transforms] : report.column_edges) {
    EdgeRecord e;
    e.from = pair.first;
    e.kind = EdgeKind::kDerive;
    e.to = pair.second;
    e.job = job;
    e.last_run = run;
    TRIB_RETURN_IF_ERROR(AddEdge(std::move(e), lineage_time, transforms));
  }
  return Status::Ok();
}

Status Application::Retire(NodeId job, const Report& keep) {
  // The completion before this one reported every edge it saw: a retired edge keeps that run
  // as the last to report it.
  TRIB_ASSIGN_OR_RETURN(NodeRecord * job_node, Node(job));
  const NodeId previous_run = job_node->lineage_run;
  const Micros previous_time = job_node->lineage_time;
  // The lists read below are the writer's own, which retiring an edge changes: the edges to
  // retire are collected first.
  std::vector<EdgeRecord> doomed;
  auto retire_doomed = [&] {
    for (EdgeRecord& e : doomed) {
      e.retired = t_;
      if (previous_run != kNoNode && e.first_seen <= previous_time) e.last_run = previous_run;
      w_.PutEdge(e);
    }
    doomed.clear();
  };
  TRIB_ASSIGN_OR_RETURN(auto reads, w_.ListOf(job, EdgeKind::kRead));
  for (const auto& e : reads) {
    if (e.current() && e.first_seen < t_ && !ContainsSorted(keep.inputs, e.from)) {
      doomed.push_back(e);
    }
  }
  retire_doomed();
  TRIB_ASSIGN_OR_RETURN(auto writes, w_.ListOf(job, EdgeKind::kWrite));
  std::vector<NodeId> written;
  for (const auto& e : writes) {
    InsertSorted(&written, e.to);
    if (e.current() && e.first_seen < t_ && !ContainsSorted(keep.outputs, e.to)) {
      doomed.push_back(e);
    }
  }
  retire_doomed();
  for (NodeId out : keep.outputs) InsertSorted(&written, out);
  for (NodeId ds : keep.lineage_datasets) InsertSorted(&written, ds);
  // Column edges of the job end in fields of datasets it writes or has written. Those
  // into a dataset this run writes but gave no column lineage for are kept.
  for (NodeId ds : written) {
    bool dataset_dropped =
        !ContainsSorted(keep.outputs, ds) && !ContainsSorted(keep.lineage_datasets, ds);
    bool reported = ContainsSorted(keep.lineage_datasets, ds);
    if (!dataset_dropped && !reported) continue;
    TRIB_RETURN_IF_ERROR(CollectDerives(ds, [&](const EdgeRecord& e) {
      if (e.job != job || !e.current() || e.first_seen >= t_) return;
      if (!dataset_dropped && keep.column_edges.contains(e.from, e.to)) return;
      doomed.push_back(e);
    }));
    retire_doomed();
  }
  return Status::Ok();
}

Result<std::vector<NodeId>> Application::FieldIds(NodeId dataset) {
  TRIB_ASSIGN_OR_RETURN(auto fields, w_.FieldsOf(dataset));
  std::vector<NodeId> ids;
  ids.reserve(fields.size());
  for (const auto& [_, fid] : fields) ids.push_back(fid);
  return ids;
}

template <typename Fn>
Status Application::CollectDerives(NodeId dataset, Fn fn) {
  TRIB_ASSIGN_OR_RETURN(std::vector<NodeId> ids, FieldIds(dataset));
  TRIB_RETURN_IF_ERROR(w_.PrefetchLists(ids, EdgeKind::kDerive));
  for (NodeId fid : ids) {
    TRIB_ASSIGN_OR_RETURN(auto derives, w_.ListOf(fid, EdgeKind::kDerive));
    for (const auto& e : derives) fn(e);
  }
  return Status::Ok();
}

Status Application::RetireStatic(NodeId dataset, const Report& keep) {
  std::vector<EdgeRecord> doomed;
  TRIB_RETURN_IF_ERROR(CollectDerives(dataset, [&](const EdgeRecord& e) {
    if (e.job != kNoNode || !e.current() || e.first_seen >= t_) return;
    if (keep.column_edges.contains(e.from, e.to)) return;
    doomed.push_back(e);
  }));
  for (EdgeRecord& e : doomed) {
    e.retired = t_;
    w_.PutEdge(e);
  }
  return Status::Ok();
}

Status Application::Flush() {
  // The event's records are done with: the writer takes them.
  for (NodeId id : dirty_nodes_) w_.PutNode(std::move(nodes_.at(id)));
  for (NodeId id : dirty_runs_) w_.PutRun(std::move(runs_.at(id)));
  return Status::Ok();
}

Status Application::Run() {
  if (ev_.kind == EventKind::kDataset) {
    const DatasetRef& ref = *ev_.dataset;
    TRIB_ASSIGN_OR_RETURN(NodeId ds, ApplyDataset(ref));
    if (ref.column_lineage) {
      Report report;
      TRIB_RETURN_IF_ERROR(CollectColumnLineage(ds, ref, &report));
      report.column_edges.Seal();
      report.inputs.clear();  // no job: no dataset-level edges
      // Static lineage of a dataset is ordered by the dataset's own lineage time.
      TRIB_ASSIGN_OR_RETURN(NodeRecord * node, Node(ds));
      Micros lineage_time = node->lineage_time;
      TRIB_RETURN_IF_ERROR(AddEdges(kNoNode, kNoNode, report, lineage_time));
      if (t_ > lineage_time) {
        TRIB_RETURN_IF_ERROR(RetireStatic(ds, report));
        TRIB_ASSIGN_OR_RETURN(node, Node(ds));
        node->lineage_time = t_;
        Touch(node);
      }
    }
    return Flush();
  }

  TRIB_ASSIGN_OR_RETURN(NodeId job_id, ResolveJob(ev_.job_ns, ev_.job_name, true));
  {
    TRIB_ASSIGN_OR_RETURN(NodeRecord * job, Node(job_id));
    if (ApplyFacets(ev_.job_facets, t_, &job->facets)) {
      DeriveOwnersAndTags(job);
      Touch(job);
    }
  }

  Report report;
  for (const auto* list : {&ev_.inputs, &ev_.outputs}) {
    for (const auto& ref : *list) {
      TRIB_ASSIGN_OR_RETURN(NodeId ds, ApplyDataset(ref));
      InsertSorted(list == &ev_.inputs ? &report.inputs : &report.outputs, ds);
    }
  }
  for (const auto* list : {&ev_.inputs, &ev_.outputs}) {
    for (const auto& ref : *list) {
      if (!ref.column_lineage) continue;
      TRIB_ASSIGN_OR_RETURN(NodeId ds, ResolveDataset(ref.ns, ref.name, true));
      TRIB_RETURN_IF_ERROR(CollectColumnLineage(ds, ref, &report));
    }
  }
  report.column_edges.Seal();

  TRIB_ASSIGN_OR_RETURN(NodeRecord * job, Node(job_id));
  Micros lineage_time = job->lineage_time;

  if (ev_.kind == EventKind::kJob) {
    // Declared (static) lineage of a job: it stands for the job's lineage as of t.
    TRIB_RETURN_IF_ERROR(AddEdges(job_id, kNoNode, report, lineage_time));
    bool has_lineage = !report.inputs.empty() || !report.outputs.empty();
    if (has_lineage && t_ > lineage_time) {
      TRIB_RETURN_IF_ERROR(Retire(job_id, report));
      TRIB_ASSIGN_OR_RETURN(job, Node(job_id));
      job->lineage_time = t_;
      job->lineage_run = kNoNode;
      Touch(job);
    }
    return Flush();
  }

  // RunEvent.
  TRIB_ASSIGN_OR_RETURN(NodeId run_id, ResolveRun(ev_.run_id, job_id));
  RunRecord* run = &runs_.at(run_id);
  dirty_runs_.insert(run_id);
  ApplyFacets(ev_.run_facets, t_, &run->facets);  // the run is written in any case
  if (ev_.error_message && t_ >= run->state_time) run->error_message = *ev_.error_message;
  TRIB_RETURN_IF_ERROR(ApplyRunState(run));
  for (NodeId id : report.inputs) InsertSorted(&run->inputs, id);
  for (NodeId id : report.outputs) InsertSorted(&run->outputs, id);
  for (NodeId id : report.lineage_datasets) InsertSorted(&run->lineage_datasets, id);
  {
    // The run accumulates its events' column edges (both lists are sorted by (from, to)),
    // and what this event reports takes the transforms the run has accumulated.
    std::vector<RunColumnEdge> merged;
    merged.reserve(run->column_edges.size() + report.column_edges.size());
    auto old = run->column_edges.begin();
    const auto old_end = run->column_edges.end();
    auto before = [](const RunColumnEdge& e, const std::pair<NodeId, NodeId>& pair) {
      return std::pair(e.from, e.to) < pair;
    };
    for (auto& [pair, ts] : report.column_edges) {
      while (old != old_end && before(*old, pair)) merged.push_back(std::move(*old++));
      if (old != old_end && old->from == pair.first && old->to == pair.second) {
        merged.push_back(std::move(*old++));
      } else {
        merged.push_back({pair.first, pair.second, {}});
      }
      if (MergeTransforms(&merged.back().transforms, ts)) ts = merged.back().transforms;
    }
    std::move(old, old_end, std::back_inserter(merged));
    run->column_edges = std::move(merged);
  }

  if (ev_.parent) {
    const ParentRef& p = *ev_.parent;
    TRIB_ASSIGN_OR_RETURN(NodeId parent_job, ResolveJob(p.job_ns, p.job_name, false));
    TRIB_ASSIGN_OR_RETURN(NodeId parent_run, ResolveRun(p.run_id, parent_job));
    run = &runs_.at(run_id);  // the map may have grown
    run->parent_run = parent_run;
    TRIB_ASSIGN_OR_RETURN(job, Node(job_id));
    if (job->parent_job != parent_job && parent_job != job_id) {
      job->parent_job = parent_job;
      Touch(job);
    }
  }

  // The run's full accumulated report, for retirement, which reads only which edges are kept:
  // their transforms are left out.
  Report accumulated;
  accumulated.inputs = run->inputs;
  accumulated.outputs = run->outputs;
  accumulated.lineage_datasets = run->lineage_datasets;
  // The run's edges are sorted by (from, to) and distinct: added in order, they are sealed.
  for (const auto& e : run->column_edges) accumulated.column_edges.Add(e.from, e.to, {});
  TRIB_RETURN_IF_ERROR(AddEdges(job_id, run_id, report, lineage_time));

  run = &runs_.at(run_id);
  TRIB_ASSIGN_OR_RETURN(job, Node(job_id));
  if (job->latest_run != run_id) {
    bool newer = true;
    if (job->latest_run != kNoNode) {
      // Only its start is compared: the record, with its column edges, is not copied.
      const RunRecord* latest = nullptr;
      if (auto it = runs_.find(job->latest_run); it != runs_.end()) {
        latest = &it->second;
      } else {
        TRIB_ASSIGN_OR_RETURN(latest, w_.PeekRun(job->latest_run));
      }
      newer = latest == nullptr || latest->started_at <= run->started_at;
    }
    if (newer) {
      job->latest_run = run_id;
      Touch(job);
    }
  }
  bool completes = ev_.event_type == EventType::kComplete && run->state == RunState::kCompleted;
  bool has_lineage = !accumulated.inputs.empty() || !accumulated.outputs.empty();
  if (completes && has_lineage && t_ > lineage_time) {
    TRIB_RETURN_IF_ERROR(Retire(job_id, accumulated));
    TRIB_ASSIGN_OR_RETURN(job, Node(job_id));
    job->lineage_time = t_;
    job->lineage_run = run_id;
    Touch(job);
  }
  return Flush();
}

}  // namespace

std::string EventDigest(const std::string& canonical) { return Sha256Raw(canonical); }

Result<ApplyOutcome> EventApplier::Apply(const ParsedEvent& event, std::string_view stored,
                                         const std::string& digest, StoreWriter& writer,
                                         uint64_t seq) const {
  ApplyOutcome outcome;
  TRIB_ASSIGN_OR_RETURN(std::optional<uint64_t> dup, writer.FindDigest(digest));
  if (dup) {
    outcome.seq = *dup;
    outcome.duplicate = true;
    return outcome;
  }
  outcome.seq = seq != 0 ? seq : writer.AppendEvent(stored);
  writer.PutDigest(digest, outcome.seq);
  Application app(event, writer);
  TRIB_RETURN_IF_ERROR(app.Run());
  return outcome;
}

}  // namespace tributary
