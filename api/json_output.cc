#include "api/json_output.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "api/node_ref.h"
#include "api/request_params.h"

namespace tributary {

using nlohmann::json;

namespace {

json TimeOrNull(Micros t) { return t == 0 || t == kForever ? json(nullptr) : json(FormatTime(t)); }

json ParseOr(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(text) : j;
}

const FacetRecord* FindFacet(const std::vector<FacetRecord>& facets, const std::string& name) {
  for (const auto& f : facets) {
    if (f.name == name) return f.json.empty() ? nullptr : &f;
  }
  return nullptr;
}

// owners[].name and .type of an ownership facet.
json OwnersJson(const std::vector<FacetRecord>& facets) {
  json out = json::array();
  const FacetRecord* f = FindFacet(facets, "ownership");
  if (!f) return out;
  json j = ParseOr(f->json);
  if (!j.is_object() || !j.contains("owners") || !j["owners"].is_array()) return out;
  for (const auto& o : j["owners"]) {
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) continue;
    json owner = {{"name", o["name"]}};
    if (o.contains("type") && o["type"].is_string()) owner["type"] = o["type"];
    out.push_back(owner);
  }
  return out;
}

json TagsJson(const std::vector<FacetRecord>& facets) {
  json out = json::array();
  const FacetRecord* f = FindFacet(facets, "tags");
  if (!f) return out;
  json j = ParseOr(f->json);
  if (!j.is_object() || !j.contains("tags") || !j["tags"].is_array()) return out;
  for (const auto& t : j["tags"]) {
    if (t.is_object()) out.push_back(t);
  }
  return out;
}

}  // namespace

std::string NodeIdOf(const GraphReader& g, NodeId id) { return GraphNodeId(g, id); }

namespace {

// True when one of the 8 bytes of `w` needs an escape in a JSON string: '"', '\\', or a
// control character (below 0x20). The usual bit tricks: `zero(x)` is nonzero when a byte of
// x is 0, and `below_space` when a byte of w is under 0x20 (bytes of 0x80 and up are left
// out by ~w). Either can flag more than one byte after a borrow, never none when one
// qualifies; the caller rescans a flagged word byte by byte.
bool NeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  auto zero = [&](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (zero(w ^ (kOnes * '"')) | zero(w ^ (kOnes * '\\')) | below_space) != 0;
}

// The characters of `s` as they go inside a JSON string. Runs of characters that need no
// escape are copied whole, found eight bytes at a time: names and ids rarely hold any.
void AppendJsonEscaped(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (NeedsEscape(w)) break;
  }
  size_t run = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (c != '"' && c != '\\' && u >= 0x20) continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back('\\');
      out->push_back(c);
    }
  }
  out->append(s.data() + run, s.size() - run);
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendJsonEscaped(out, s);
  out->push_back('"');
}

void AppendJsonStrings(std::string* out, const std::vector<std::string>& items) {
  AppendJsonArray(out, items, [&](const std::string& s) { AppendJsonString(out, s); });
}

void AppendBoolMember(std::string* out, const char* key, bool value) {
  out->append(",\"").append(key).append(value ? "\":true" : "\":false");
}

void NodeIdJsonCache::Append(std::string* out, const GraphReader& g, NodeId id) {
  const GraphNode& n = g.node(id);
  const bool field = n.kind == NodeKind::kField;
  const NodeId key = field ? n.dataset : id;
  Entry* e = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& x) {
    return x.key == key && x.field == field && !x.text.empty();
  });
  if (e == entries_.end()) {
    // A field's id up to its name; any other node's whole id. The oldest entry goes.
    e = &entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    const GraphNode& owner = field ? g.node(n.dataset) : n;
    e->text.assign("\"");
    ForEachMarquezNodeIdPart(n.kind, g.ns(owner), g.name(owner), {},
                             [&](std::string_view text, bool is_name) {
                               if (is_name) {
                                 AppendJsonEscaped(&e->text, text);
                               } else {
                                 e->text.append(text);
                               }
                             });
    e->key = key;
    e->field = field;
  }
  out->append(e->text);
  if (field) AppendJsonEscaped(out, g.field(n));
  out->push_back('"');
}

NodeJsonWriter::NodeJsonWriter(std::string* out, const GraphReader& g) : out_(out), g_(g) {}

void NodeJsonWriter::Write(NodeId id, const int* distance, const char* direction) {
  const GraphNode& n = g_.node(id);
  out_->append("{\"id\":");
  id_.Append(out_, g_, id);
  if (n.kind == NodeKind::kField) {
    if (n.dataset != dataset_) {
      const GraphNode& d = g_.node(n.dataset);
      members_.assign(",\"kind\":\"field\",\"namespace\":");
      AppendJsonString(&members_, g_.ns(d));
      members_.append(",\"name\":");
      AppendJsonString(&members_, g_.name(d));
      members_.append(",\"field\":");
      dataset_ = n.dataset;
    }
    out_->append(members_);
    AppendJsonString(out_, g_.field(n));
  } else {
    out_->append(",\"kind\":\"");
    out_->append(NodeKindName(n.kind));
    out_->append("\",\"namespace\":");
    AppendJsonString(out_, g_.ns(n));
    out_->append(",\"name\":");
    AppendJsonString(out_, g_.name(n));
  }
  if (n.flags & kFlagUnseen) out_->append(",\"unseen\":true");
  if (n.flags & kFlagDropped) out_->append(",\"dropped\":true");
  if (distance) {
    char digits[16];
    out_->append(",\"distance\":");
    out_->append(digits, std::to_chars(digits, digits + sizeof digits, *distance).ptr);
  }
  if (direction) {
    out_->append(",\"direction\":\"");
    out_->append(direction);
    out_->push_back('"');
  }
  out_->push_back('}');
}

void AppendNodeJson(std::string* out, const GraphReader& g, NodeId id, const int* distance,
                    const char* direction) {
  NodeJsonWriter(out, g).Write(id, distance, direction);
}

EdgeJsonWriter::EdgeJsonWriter(std::string* out, const GraphReader& g) : out_(out), g_(g) {}

void EdgeJsonWriter::Write(const GraphEdge& e) {
  out_->append("{\"from\":");
  from_.Append(out_, g_, e.from);
  out_->append(",\"to\":");
  to_.Append(out_, g_, e.to);
  out_->append(",\"kind\":\"");
  out_->append(EdgeKindName(e.kind));
  out_->append("\",\"job\":");
  if (e.job == kNoNode) {
    out_->append("null");
  } else {
    job_.Append(out_, g_, e.job);
  }
  // A handful of transformation sets serve most edges: each is written out once.
  std::string& ts = transforms_[e.transforms];
  if (ts.empty()) {
    ts.assign(",\"transformations\":");
    AppendJsonArray(&ts, g_.transforms(e.transforms), [&](const Transform& t) {
      ts.append("{\"type\":");
      AppendJsonString(&ts, t.type);
      ts.append(",\"subtype\":");
      AppendJsonString(&ts, t.subtype);
      AppendBoolMember(&ts, "masking", t.masking);
      if (!t.description.empty()) {
        ts.append(",\"description\":");
        AppendJsonString(&ts, t.description);
      }
      ts.push_back('}');
    });
  }
  out_->append(ts);
  // The edges of one run share the moment they were first seen.
  if (e.first_seen != first_seen_ || first_seen_text_.empty()) {
    first_seen_ = e.first_seen;
    first_seen_text_ = FormatTime(e.first_seen);
  }
  out_->append(",\"firstSeen\":\"");
  out_->append(first_seen_text_);
  out_->append("\",\"retired\":");
  if (e.retired == kForever) {
    out_->append("null");
  } else {
    out_->push_back('"');
    out_->append(FormatTime(e.retired));
    out_->push_back('"');
  }
  out_->push_back('}');
}

void EdgeJsonWriter::WriteArray(std::span<const uint32_t> indices) {
  // The ends of an edge are anywhere in the graph: their records are fetched four edges
  // ahead, and then the string objects of their fields' names two ahead (a name of up to
  // 15 bytes lies inside its object), while this edge is written.
  auto ends = [&](size_t i, auto fetch) {
    const GraphEdge& e = g_.edge(indices[i]);
    fetch(e.from);
    fetch(e.to);
  };
  out_->push_back('[');
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i + 4 < indices.size()) ends(i + 4, [&](NodeId n) { __builtin_prefetch(&g_.node(n)); });
    if (i + 2 < indices.size()) {
      ends(i + 2, [&](NodeId n) { __builtin_prefetch(&g_.text(g_.node(n).field_text)); });
    }
    if (i) out_->push_back(',');
    Write(g_.edge(indices[i]));
  }
  out_->push_back(']');
}

void AppendEdgeJson(std::string* out, const GraphReader& g, const GraphEdge& e) {
  EdgeJsonWriter(out, g).Write(e);
}

void AppendClosureAnswer(std::string* out, const GraphReader& g, const ClosureQuery& q,
                         const ClosureResult& result) {
  out->reserve(out->size() + 64 + result.nodes.size() * 256 + result.edges.size() * 384);
  out->append("{\"root\":");
  AppendNodeJson(out, g, q.root, nullptr, nullptr);
  out->append(",\"query\":");
  AppendClosureQueryJson(out, q, /*with_edges=*/true);
  out->append(",\"nodes\":");
  NodeJsonWriter nodes(out, g);
  AppendJsonArray(out, result.nodes, [&](const ClosureNode& n) {
    const char* direction = q.direction == Direction::kBoth && n.distance > 0
                                ? (n.upstream ? "upstream" : "downstream")
                                : nullptr;
    nodes.Write(n.id, &n.distance, direction);
  });
  if (q.collect_edges) {
    out->append(",\"edges\":");
    EdgeJsonWriter(out, g).WriteArray(result.edges);
  }
  out->push_back('}');
}

json NodeJson(const GraphReader& g, NodeId id) {
  std::string text;
  AppendNodeJson(&text, g, id, nullptr, nullptr);
  return json::parse(text);
}

json TransformsJson(const std::vector<Transform>& ts) {
  json out = json::array();
  for (const auto& t : ts) {
    json j = {{"type", t.type}, {"subtype", t.subtype}, {"masking", t.masking}};
    if (!t.description.empty()) j["description"] = t.description;
    out.push_back(std::move(j));
  }
  return out;
}

json EdgeJson(const GraphReader& g, const GraphEdge& e) {
  std::string text;
  AppendEdgeJson(&text, g, e);
  return json::parse(text);
}

json FacetsJson(const std::vector<FacetRecord>& facets) {
  json out = json::object();
  for (const auto& f : facets) {
    if (!f.json.empty()) out[f.name] = ParseOr(f.json);  // empty: a deletion tombstone
  }
  return out;
}

json RunJson(const RunRecord& r) {
  json j;
  j["runId"] = r.run_id;
  j["state"] = RunStateName(r.state);
  j["startedAt"] = TimeOrNull(r.started_at);
  j["endedAt"] = TimeOrNull(r.ended_at);
  j["updatedAt"] = TimeOrNull(r.last_event);
  j["errorMessage"] = r.error_message.empty() ? json(nullptr) : json(r.error_message);
  j["facets"] = FacetsJson(r.facets);
  return j;
}

Result<json> DatasetDetailJson(const GraphStore& store, const LineageGraph& graph, NodeId id) {
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> n, store.GetNode(id));
  if (!n) return Status::NotFound("dataset not found");
  json j;
  j["id"] = {{"namespace", n->ns}, {"name", n->name}};
  j["nodeId"] = MarquezNodeId(NodeKind::kDataset, n->ns, n->name);
  j["type"] = "DATASET";
  j["namespace"] = n->ns;
  j["name"] = n->name;
  j["createdAt"] = TimeOrNull(n->first_seen);
  j["updatedAt"] = TimeOrNull(n->updated);
  j["unseen"] = n->unseen();
  j["dropped"] = (n->flags & kFlagDropped) != 0;
  if (n->flags & kFlagDropped) j["droppedAt"] = TimeOrNull(n->dropped_at);
  json aliases = json::array();
  for (const auto& a : n->aliases) {
    size_t nl = a.find('\n');
    aliases.push_back({{"namespace", a.substr(0, nl)}, {"name", a.substr(nl + 1)}});
  }
  j["aliases"] = aliases;

  TRIB_ASSIGN_OR_RETURN(auto field_names, store.ScanNames(FieldPrefix(id)));
  json fields = json::array();
  for (const auto& [key, fid] : field_names) {
    TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> f, store.GetNode(fid));
    if (!f) continue;
    json fj = {{"name", f->field},
               {"type", f->field_type.empty() ? json(nullptr) : json(f->field_type)}};
    if (f->unseen()) fj["unseen"] = true;
    fields.push_back(std::move(fj));
  }
  j["fields"] = fields;
  j["owners"] = OwnersJson(n->facets);
  j["tags"] = TagsJson(n->facets);
  j["facets"] = FacetsJson(n->facets);

  TRIB_ASSIGN_OR_RETURN(std::vector<SchemaVersion> versions, store.SchemaVersions(id));
  json sv = json::array();
  for (const auto& v : versions) {
    json cols = json::array();
    for (const auto& c : v.columns) {
      json cj = {{"name", c.path}, {"type", c.type}};
      if (!c.description.empty()) cj["description"] = c.description;
      cols.push_back(std::move(cj));
    }
    sv.push_back({{"createdAt", FormatTime(v.time)}, {"fields", cols}});
  }
  j["schemaVersions"] = sv;

  // Writers and readers from the current graph; the latest run among the writers' runs.
  std::vector<NodeId> writers, readers;
  {
    GraphReader g = graph.Read();
    std::vector<uint32_t> edges;
    g.AppendEdges(id, /*outgoing=*/false, &edges);
    for (uint32_t ei : edges) {
      const GraphEdge& e = g.edge(ei);
      if (e.kind == EdgeKind::kWrite && e.current()) writers.push_back(e.from);
    }
    edges.clear();
    g.AppendEdges(id, /*outgoing=*/true, &edges);
    for (uint32_t ei : edges) {
      const GraphEdge& e = g.edge(ei);
      if (e.kind == EdgeKind::kRead && e.current()) readers.push_back(e.to);
    }
  }
  json produced = json::array(), consumed = json::array();
  std::optional<RunRecord> latest;
  for (NodeId w : writers) {
    TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> job, store.GetNode(w));
    if (!job) continue;
    produced.push_back(MarquezNodeId(NodeKind::kJob, job->ns, job->name));
    if (job->latest_run == kNoNode) continue;
    TRIB_ASSIGN_OR_RETURN(std::optional<RunRecord> run, store.GetRun(job->latest_run));
    if (run && (!latest || run->last_event > latest->last_event)) latest = std::move(run);
  }
  for (NodeId r : readers) {
    TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> job, store.GetNode(r));
    if (job) consumed.push_back(MarquezNodeId(NodeKind::kJob, job->ns, job->name));
  }
  j["producedBy"] = produced;
  j["consumedBy"] = consumed;
  j["latestRun"] = latest ? RunJson(*latest) : json(nullptr);
  return j;
}

Result<json> JobDetailJson(const GraphStore& store, const LineageGraph& graph, NodeId id) {
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> n, store.GetNode(id));
  if (!n) return Status::NotFound("job not found");
  json j;
  j["id"] = {{"namespace", n->ns}, {"name", n->name}};
  j["nodeId"] = MarquezNodeId(NodeKind::kJob, n->ns, n->name);
  j["type"] = "JOB";
  j["namespace"] = n->ns;
  j["name"] = n->name;
  j["createdAt"] = TimeOrNull(n->first_seen);
  j["updatedAt"] = TimeOrNull(n->updated);
  j["owners"] = OwnersJson(n->facets);
  j["tags"] = TagsJson(n->facets);
  j["facets"] = FacetsJson(n->facets);
  j["lineageAsOf"] = TimeOrNull(n->lineage_time);
  std::vector<NodeId> inputs, outputs;
  {
    GraphReader g = graph.Read();
    std::vector<uint32_t> edges;
    g.AppendEdges(id, /*outgoing=*/false, &edges);
    g.AppendEdges(id, /*outgoing=*/true, &edges);
    for (uint32_t ei : edges) {
      const GraphEdge& e = g.edge(ei);
      if (!e.current()) continue;
      if (e.kind == EdgeKind::kRead) inputs.push_back(e.from);
      if (e.kind == EdgeKind::kWrite) outputs.push_back(e.to);
    }
  }
  auto datasets = [&](std::vector<NodeId> ids) -> Result<json> {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    json out = json::array();
    for (NodeId d : ids) {
      TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> ds, store.GetNode(d));
      if (ds) out.push_back({{"namespace", ds->ns}, {"name", ds->name}});
    }
    return out;
  };
  TRIB_ASSIGN_OR_RETURN(j["inputs"], datasets(inputs));
  TRIB_ASSIGN_OR_RETURN(j["outputs"], datasets(outputs));
  j["parentJob"] = nullptr;
  if (n->parent_job != kNoNode) {
    TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> p, store.GetNode(n->parent_job));
    if (p) j["parentJob"] = {{"namespace", p->ns}, {"name", p->name}};
  }
  j["latestRun"] = nullptr;
  if (n->latest_run != kNoNode) {
    TRIB_ASSIGN_OR_RETURN(std::optional<RunRecord> r, store.GetRun(n->latest_run));
    if (r) j["latestRun"] = RunJson(*r);
  }
  return j;
}

}  // namespace tributary
