#include "analysis/lineage_graph.h"

#include <algorithm>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <span>
#include <string_view>
#include <unordered_map>

#include "analysis/domain_map.h"

namespace tributary {
namespace {

// Edge property: the index of the edge in Impl::edges.
using Csr = boost::compressed_sparse_row_graph<boost::bidirectionalS, boost::no_property, uint32_t,
                                               boost::no_property, uint32_t, uint32_t>;

const std::vector<NodeId> kNoFields;

}  // namespace

struct LineageGraph::Impl {
  std::vector<GraphNode> nodes;
  // Interned names: a deque, so that the views keyed in text_ids stay valid as it grows.
  std::deque<std::string> texts{""};
  std::unordered_map<std::string_view, uint32_t> text_ids{{texts[0], 0}};
  std::vector<GraphEdge> edges;
  std::vector<TransformSet> transform_sets{{}};  // 0: the empty set
  std::vector<bool> direct_sets{false};          // by set: holds a DIRECT transformation
  std::unordered_map<TransformSet, uint32_t> transform_index{{{}, 0}};
  Csr csr;
  uint32_t csr_edges = 0;             // edges [0, csr_edges) are in the CSR; the rest in `extra_*`
  std::vector<uint64_t> live_column;  // bit i: edges[i] is a current column edge
  std::vector<uint64_t> live_direct;  // bit i: ... and has a DIRECT transformation
  std::unordered_map<NodeId, std::vector<uint32_t>> extra_out;
  std::unordered_map<NodeId, std::vector<uint32_t>> extra_in;
  std::unordered_map<NodeId, std::vector<NodeId>> fields;
  // Datasets and jobs by name: (namespace text id << 32 | name text id) -> node id. Queries
  // name their roots; a lookup here costs two hash probes where the store's costs a read.
  std::unordered_map<uint64_t, uint32_t> dataset_ids;
  std::unordered_map<uint64_t, uint32_t> job_ids;
  // Owners (text ids) and the domain tag (a text id) of nodes that have either.
  struct Governance {
    std::vector<uint32_t> owners;
    uint32_t domain_tag = 0;
  };
  std::unordered_map<NodeId, Governance> governance;
  std::unordered_map<NodeId, GraphRun> runs;
  std::unordered_map<NodeId, std::vector<NodeId>> runs_of_job;
  std::unordered_map<NodeId, std::vector<NodeId>> runs_reading;
  std::unordered_map<NodeId, std::vector<NodeId>> runs_writing;
  // What counts() reports, kept up to date as nodes and edges are applied: a count over the
  // whole graph took milliseconds per million edges, under the lock that ingest waits for.
  // (Jobs are job_ids.size(): a job has one name, where a dataset may have several.)
  uint64_t dataset_count = 0;
  uint64_t field_count = 0;
  uint64_t current_column_edges = 0;
  uint64_t current_dataset_edges = 0;

  // Adds `sign` (1 or -1) to the count of current edges of `e`'s kind, if `e` is current.
  void CountEdge(const GraphEdge& e, int sign) {
    if (!e.current()) return;
    uint64_t& n = e.kind == EdgeKind::kDerive ? current_column_edges : current_dataset_edges;
    n += static_cast<uint64_t>(static_cast<int64_t>(sign));
  }

  static uint64_t NameKey(uint32_t ns_text, uint32_t name_text) {
    return uint64_t{ns_text} << 32 | name_text;
  }

  // The text id of `text`, if interned.
  std::optional<uint32_t> TextId(std::string_view text) const {
    auto it = text_ids.find(text);
    if (it == text_ids.end()) return std::nullopt;
    return it->second;
  }

  std::optional<NodeId> FindNamed(const std::unordered_map<uint64_t, uint32_t>& ids,
                                  std::string_view ns, std::string_view name) const {
    std::optional<uint32_t> ns_text = TextId(ns), name_text = TextId(name);
    if (!ns_text || !name_text) return std::nullopt;
    auto it = ids.find(NameKey(*ns_text, *name_text));
    if (it == ids.end()) return std::nullopt;
    return it->second;
  }

  uint32_t Intern(const std::string& text) {
    if (std::optional<uint32_t> known = TextId(text)) return *known;
    uint32_t id = static_cast<uint32_t>(texts.size());
    texts.push_back(text);
    text_ids.emplace(texts.back(), id);
    return id;
  }

  uint32_t InternTransforms(TransformSet ts) {
    auto [it, inserted] = transform_index.try_emplace(ts, transform_sets.size());
    if (inserted) {
      transform_sets.push_back(ts);
      direct_sets.push_back(
          std::any_of(ts.begin(), ts.end(), [](const Transform& t) { return t.type == "DIRECT"; }));
    }
    return it->second;
  }

  GraphEdge ToGraphEdge(const EdgeRecord& e) {
    GraphEdge g;
    g.from = static_cast<uint32_t>(e.from);
    g.to = static_cast<uint32_t>(e.to);
    g.job = static_cast<uint32_t>(e.job);
    g.last_run = static_cast<uint32_t>(e.last_run);
    g.first_seen = e.first_seen;
    g.retired = e.retired;
    g.kind = e.kind;
    g.transforms = InternTransforms(e.transforms);
    return g;
  }

  void SetLiveBit(uint32_t i) {
    if (live_column.size() * 64 <= i) {
      const size_t words = std::max<size_t>(i / 64 + 1, live_column.size() * 3 / 2);
      live_column.resize(words, 0);
      live_direct.resize(words, 0);
    }
    const uint64_t bit = uint64_t{1} << (i % 64);
    const GraphEdge& e = edges[i];
    const bool live = e.kind == EdgeKind::kDerive && e.current();
    live_column[i / 64] = live ? live_column[i / 64] | bit : live_column[i / 64] & ~bit;
    const bool direct = live && direct_sets[e.transforms];
    live_direct[i / 64] = direct ? live_direct[i / 64] | bit : live_direct[i / 64] & ~bit;
  }

  void EnsureNode(NodeId id) {
    if (id >= nodes.size()) nodes.resize(std::max<size_t>(id + 1, nodes.size() * 3 / 2));
  }

  void RebuildCsr() {
    std::vector<std::pair<uint32_t, uint32_t>> ends;
    std::vector<uint32_t> props;
    ends.reserve(edges.size());
    props.reserve(edges.size());
    for (uint32_t i = 0; i < edges.size(); ++i) {
      ends.emplace_back(static_cast<uint32_t>(edges[i].from), static_cast<uint32_t>(edges[i].to));
      props.push_back(i);
    }
    csr = Csr(boost::edges_are_unsorted_multi_pass, ends.begin(), ends.end(), props.begin(),
              static_cast<uint32_t>(nodes.size()));
    csr_edges = static_cast<uint32_t>(edges.size());
    extra_out.clear();
    extra_in.clear();
  }

  void AppendAdjacent(NodeId id, bool outgoing,
                      std::vector<std::pair<uint32_t, uint32_t>>* out) const {
    if (id < csr_edges_vertices()) {
      if (outgoing) {
        for (auto [it, end] = boost::out_edges(static_cast<uint32_t>(id), csr); it != end; ++it) {
          out->emplace_back(csr[*it], boost::target(*it, csr));
        }
      } else {
        for (auto [it, end] = boost::in_edges(static_cast<uint32_t>(id), csr); it != end; ++it) {
          out->emplace_back(csr[*it], boost::source(*it, csr));
        }
      }
    }
    const auto& extra = outgoing ? extra_out : extra_in;
    if (extra.empty()) return;
    auto it = extra.find(id);
    if (it == extra.end()) return;
    for (uint32_t i : it->second) out->emplace_back(i, outgoing ? edges[i].to : edges[i].from);
  }

  static bool Bit(const std::vector<uint64_t>& bits, uint32_t i) {
    return i / 64 < bits.size() && (bits[i / 64] >> (i % 64)) & 1;
  }

  // One level of a column walk through the edges that `filter` keeps. Current lineage needs
  // one bit per edge; a moment in the past needs the edge's record.
  void ExpandColumns(std::span<const uint32_t> frontier, bool outgoing,
                     const ColumnEdgeFilter& filter, NodeBits* seen, std::vector<uint32_t>* crossed,
                     std::vector<uint32_t>* next) const {
    if (!filter.as_of) {
      const std::vector<uint64_t>& bits = filter.direct_only ? live_direct : live_column;
      Expand<false>(
          frontier, outgoing, [&](uint32_t ei) { return Bit(bits, ei); }, seen, crossed, next);
      return;
    }
    const Micros t = *filter.as_of;
    const bool direct_only = filter.direct_only;
    auto keep = [&](uint32_t ei) {
      const GraphEdge& e = edges[ei];
      return e.kind == EdgeKind::kDerive && e.ValidAt(t) &&
             (!direct_only || direct_sets[e.transforms]);
    };
    Expand<true>(frontier, outgoing, keep, seen, crossed, next);
  }

  // The closure's inner loop (GraphReader::ExpandColumns), over the CSR's arrays, following
  // the edges `keep` accepts by index. A level's nodes are independent, so the row bounds of
  // the node a few places ahead are fetched, and then its far ends (and downstream, its
  // edges' indices, which sit beside them), while this one's are read: a large walk is
  // mostly waiting for memory, and this overlaps the waits.
  template <bool kReadsRecords, typename Keep>
  void Expand(std::span<const uint32_t> frontier, bool outgoing, Keep keep, NodeBits* seen,
              std::vector<uint32_t>* crossed, std::vector<uint32_t>* next) const {
    auto visit = [&](uint32_t ei, uint32_t w) {
      if (!keep(ei)) return;
      if (crossed) crossed->push_back(ei);
      if (seen->Insert(w)) next->push_back(w);
    };
    const uint32_t in_csr = static_cast<uint32_t>(csr_edges_vertices());
    // Boost's CSR keeps its arrays as public members (marked "should be private" in Boost
    // 1.74, Debian 12's): the row starts, the far ends, and the edges' properties.
    const uint32_t* rows =
        outgoing ? csr.m_forward.m_rowstart.data() : csr.m_backward.m_rowstart.data();
    const uint32_t* ends =
        outgoing ? csr.m_forward.m_column.data() : csr.m_backward.m_column.data();
    constexpr size_t kAhead = 8;
    const size_t n = frontier.size();
    for (size_t i = 0; i < std::min(n, kAhead); ++i) {
      if (frontier[i] < in_csr) __builtin_prefetch(rows + frontier[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n && frontier[i + kAhead] < in_csr) {
        __builtin_prefetch(rows + frontier[i + kAhead]);
      }
      if (i + kAhead / 2 < n && frontier[i + kAhead / 2] < in_csr) {
        uint32_t row = rows[frontier[i + kAhead / 2]];
        __builtin_prefetch(ends + row);
        if (outgoing) __builtin_prefetch(csr.m_forward.m_edge_properties.data() + row);
      }
      // A filter that reads edge records: those of the node two places ahead, downstream
      // (upstream, the in-edges' indices are themselves scattered).
      if (kReadsRecords && outgoing && i + 2 < n && frontier[i + 2] < in_csr) {
        const uint32_t u = frontier[i + 2];
        const uint32_t* props = csr.m_forward.m_edge_properties.data();
        for (uint32_t k = rows[u], end = std::min(rows[u + 1], rows[u] + 16); k < end; ++k) {
          __builtin_prefetch(edges.data() + props[k]);
        }
      }
      const uint32_t v = frontier[i];
      if (v < in_csr) {
        if (outgoing) {
          for (auto [it, end] = boost::out_edges(v, csr); it != end; ++it) {
            visit(csr[*it], boost::target(*it, csr));
          }
        } else {
          for (auto [it, end] = boost::in_edges(v, csr); it != end; ++it) {
            visit(csr[*it], boost::source(*it, csr));
          }
        }
      }
      const auto& extra = outgoing ? extra_out : extra_in;
      if (extra.empty()) continue;
      auto it = extra.find(v);
      if (it == extra.end()) continue;
      for (uint32_t e : it->second) visit(e, outgoing ? edges[e].to : edges[e].from);
    }
  }

  void Append(NodeId id, bool outgoing, std::vector<uint32_t>* out) const {
    if (id < csr_edges_vertices()) {
      if (outgoing) {
        for (auto [it, end] = boost::out_edges(static_cast<uint32_t>(id), csr); it != end; ++it) {
          out->push_back(csr[*it]);
        }
      } else {
        for (auto [it, end] = boost::in_edges(static_cast<uint32_t>(id), csr); it != end; ++it) {
          out->push_back(csr[*it]);
        }
      }
    }
    const auto& extra = outgoing ? extra_out : extra_in;
    auto it = extra.find(id);
    if (it != extra.end()) out->insert(out->end(), it->second.begin(), it->second.end());
  }

  size_t csr_edges_vertices() const { return boost::num_vertices(csr); }
};

LineageGraph::LineageGraph() : impl_(std::make_unique<Impl>()) { impl_->RebuildCsr(); }
LineageGraph::~LineageGraph() = default;

Result<std::unique_ptr<LineageGraph>> LineageGraph::Load(const GraphStore& store) {
  auto g = std::make_unique<LineageGraph>();
  Impl& impl = *g->impl_;
  // Edges are read on a second thread while this one reads nodes and runs (at 10^7 edges each
  // half takes several seconds). The two touch disjoint parts of the graph: edges, their
  // transformation sets and live bits there; nodes, texts, fields and runs here. Room for the
  // nodes the edges name is made once both are done.
  NodeId last_end = 0;
  std::future<Status> edges = std::async(std::launch::async, [&] {
    return store.ForEachEdge([&](const EdgeRecord& e) {
      last_end = std::max({last_end, e.from, e.to});
      impl.edges.push_back(impl.ToGraphEdge(e));
      impl.SetLiveBit(static_cast<uint32_t>(impl.edges.size() - 1));
      impl.CountEdge(impl.edges.back(), 1);
      return Status::Ok();
    });
  });
  Status nodes_and_runs = store.ForEachNode([&](const NodeRecord& n) {
    g->ApplyNodeLocked(n);
    return Status::Ok();
  });
  if (nodes_and_runs.ok()) {
    nodes_and_runs = store.ForEachRun([&](const RunRecord& r) {
      g->ApplyRunLocked(r);
      return Status::Ok();
    });
  }
  Status edges_read = edges.get();
  TRIB_RETURN_IF_ERROR(nodes_and_runs);
  TRIB_RETURN_IF_ERROR(edges_read);
  if (!impl.edges.empty()) impl.EnsureNode(last_end);
  impl.RebuildCsr();
  return g;
}

void LineageGraph::ApplyNodeLocked(const NodeRecord& n) {
  Impl& impl = *impl_;
  impl.EnsureNode(n.id);
  GraphNode& g = impl.nodes[n.id];
  bool is_new = !g.present;
  g.present = true;
  g.kind = n.kind;
  g.flags = n.flags;
  g.dataset = static_cast<uint32_t>(n.dataset);
  g.ns_text = impl.Intern(n.ns);
  g.name_text = impl.Intern(n.name);
  g.field_text = impl.Intern(n.field);
  g.latest_run = static_cast<uint32_t>(n.latest_run);
  g.lineage_run = static_cast<uint32_t>(n.lineage_run);
  g.lineage_time = n.lineage_time;
  if (is_new) {
    switch (n.kind) {
      case NodeKind::kDataset:
        ++impl.dataset_count;
        break;
      case NodeKind::kJob:
        impl.job_ids.emplace(Impl::NameKey(g.ns_text, g.name_text), n.id);
        break;
      case NodeKind::kField:
        ++impl.field_count;
        impl.fields[n.dataset].push_back(n.id);
        break;
      case NodeKind::kRun:
        break;
    }
  }
  if (n.kind == NodeKind::kDataset) {
    // Every name the store resolves to the dataset: the current one, and former names and
    // symlinks ("ns\nname"). A name belongs to one dataset only, so the first one kept is
    // the only one; a renamed dataset keeps its former name as an alias.
    impl.dataset_ids.emplace(Impl::NameKey(g.ns_text, g.name_text), n.id);
    for (const std::string& alias : n.aliases) {
      const size_t cut = alias.find('\n');
      if (cut == std::string::npos) continue;
      impl.dataset_ids.emplace(
          Impl::NameKey(impl.Intern(alias.substr(0, cut)), impl.Intern(alias.substr(cut + 1))),
          n.id);
    }
  }
  const std::string_view domain_tag = DomainMap::DomainTag(n.tags);
  if (n.owners.empty() && domain_tag.empty()) {
    impl.governance.erase(n.id);
  } else {
    Impl::Governance& gov = impl.governance[n.id];
    gov.owners.clear();
    for (const auto& o : n.owners) gov.owners.push_back(impl.Intern(o));
    gov.domain_tag = impl.Intern(std::string(domain_tag));
  }
}

void LineageGraph::ApplyRunLocked(const RunRecord& r) {
  Impl& impl = *impl_;
  auto [it, is_new] = impl.runs.try_emplace(r.id);
  GraphRun& g = it->second;
  if (is_new) impl.runs_of_job[r.job].push_back(r.id);
  // Inputs and outputs only grow: index the new ones.
  for (NodeId d : r.inputs) {
    if (!std::binary_search(g.inputs.begin(), g.inputs.end(), d))
      impl.runs_reading[d].push_back(r.id);
  }
  for (NodeId d : r.outputs) {
    if (!std::binary_search(g.outputs.begin(), g.outputs.end(), d))
      impl.runs_writing[d].push_back(r.id);
  }
  g.id = r.id;
  g.job = r.job;
  g.run_id = r.run_id;
  g.state = r.state;
  g.started_at = r.started_at;
  g.ended_at = r.ended_at;
  g.error_message = r.error_message;
  g.inputs = r.inputs;
  g.outputs = r.outputs;
}

void LineageGraph::ApplyEdgeLocked(const EdgeRecord& e) {
  Impl& impl = *impl_;
  impl.EnsureNode(std::max(e.from, e.to));
  std::vector<uint32_t> candidates;
  impl.Append(e.from, /*outgoing=*/true, &candidates);
  for (uint32_t i : candidates) {
    GraphEdge& g = impl.edges[i];
    if (g.to == e.to && g.kind == e.kind && g.job == e.job && g.first_seen == e.first_seen) {
      impl.CountEdge(g, -1);
      g.retired = e.retired;
      impl.CountEdge(g, 1);
      g.last_run = static_cast<uint32_t>(e.last_run);
      g.transforms = impl.InternTransforms(e.transforms);
      impl.SetLiveBit(i);
      return;
    }
  }
  uint32_t index = static_cast<uint32_t>(impl.edges.size());
  impl.edges.push_back(impl.ToGraphEdge(e));
  impl.SetLiveBit(index);
  impl.CountEdge(impl.edges.back(), 1);
  impl.extra_out[e.from].push_back(index);
  impl.extra_in[e.to].push_back(index);
}

void LineageGraph::ApplyDelta(const GraphDelta& delta) {
  std::unique_lock lock(mu_);
  for (const auto& n : delta.nodes) ApplyNodeLocked(n);
  for (const auto& r : delta.runs) ApplyRunLocked(r);
  for (const auto& e : delta.edges) ApplyEdgeLocked(e);
  Impl& impl = *impl_;
  size_t extra = impl.edges.size() - impl.csr_edges;
  // Rebuilding once the overflow reaches a quarter of the CSR keeps appends amortised O(1).
  if (extra > std::max<size_t>(4096, impl.csr_edges / 4) ||
      impl.nodes.size() > impl.csr_edges_vertices() + 65536) {
    impl.RebuildCsr();
  }
}

GraphReader::GraphReader(const LineageGraph& g) : g_(g), lock_(g.mu_) {}

size_t GraphReader::node_capacity() const { return g_.impl_->nodes.size(); }

const std::string& GraphReader::text(uint32_t id) const {
  return id < g_.impl_->texts.size() ? g_.impl_->texts[id] : g_.impl_->texts[0];
}

const GraphNode& GraphReader::node(NodeId id) const {
  static const GraphNode kAbsent;
  return id < g_.impl_->nodes.size() ? g_.impl_->nodes[id] : kAbsent;
}

const GraphEdge& GraphReader::edge(uint32_t index) const { return g_.impl_->edges[index]; }

const std::vector<Transform>& GraphReader::transforms(uint32_t index) const {
  return g_.impl_->transform_sets[index].items();
}

bool GraphReader::has_direct(uint32_t transforms) const {
  return g_.impl_->direct_sets[transforms];
}

void GraphReader::AppendEdges(NodeId id, bool outgoing, std::vector<uint32_t>* out) const {
  g_.impl_->Append(id, outgoing, out);
}

void GraphReader::AppendAdjacent(NodeId id, bool outgoing,
                                 std::vector<std::pair<uint32_t, uint32_t>>* out) const {
  g_.impl_->AppendAdjacent(id, outgoing, out);
}

void GraphReader::ExpandColumns(std::span<const uint32_t> frontier, bool outgoing,
                                const ColumnEdgeFilter& filter, NodeBits* seen,
                                std::vector<uint32_t>* crossed, std::vector<uint32_t>* next) const {
  g_.impl_->ExpandColumns(frontier, outgoing, filter, seen, crossed, next);
}

std::vector<std::string> GraphReader::owners(NodeId id) const {
  std::vector<std::string> out;
  auto it = g_.impl_->governance.find(id);
  if (it == g_.impl_->governance.end()) return out;
  for (uint32_t t : it->second.owners) out.push_back(text(t));
  return out;
}

const std::string& GraphReader::domain_tag(NodeId id) const {
  auto it = g_.impl_->governance.find(id);
  return text(it == g_.impl_->governance.end() ? 0 : it->second.domain_tag);
}

const std::vector<NodeId>& GraphReader::fields(NodeId dataset) const {
  auto it = g_.impl_->fields.find(dataset);
  return it == g_.impl_->fields.end() ? kNoFields : it->second;
}

std::optional<NodeId> GraphReader::FindDataset(std::string_view ns, std::string_view name) const {
  return g_.impl_->FindNamed(g_.impl_->dataset_ids, ns, name);
}

std::optional<NodeId> GraphReader::FindJob(std::string_view ns, std::string_view name) const {
  return g_.impl_->FindNamed(g_.impl_->job_ids, ns, name);
}

std::optional<NodeId> GraphReader::FindField(NodeId dataset, std::string_view path) const {
  std::optional<uint32_t> text = g_.impl_->TextId(path);
  if (!text) return std::nullopt;
  for (NodeId f : fields(dataset)) {
    if (g_.impl_->nodes[f].field_text == *text) return f;
  }
  return std::nullopt;
}

const GraphRun* GraphReader::run(NodeId id) const {
  auto it = g_.impl_->runs.find(id);
  return it == g_.impl_->runs.end() ? nullptr : &it->second;
}

namespace {
const std::vector<NodeId>& Lookup(const std::unordered_map<NodeId, std::vector<NodeId>>& m,
                                  NodeId id) {
  auto it = m.find(id);
  return it == m.end() ? kNoFields : it->second;
}
}  // namespace

const std::vector<NodeId>& GraphReader::runs_of_job(NodeId job) const {
  return Lookup(g_.impl_->runs_of_job, job);
}
const std::vector<NodeId>& GraphReader::runs_reading(NodeId dataset) const {
  return Lookup(g_.impl_->runs_reading, dataset);
}
const std::vector<NodeId>& GraphReader::runs_writing(NodeId dataset) const {
  return Lookup(g_.impl_->runs_writing, dataset);
}

NodeId GraphReader::LastReportingRun(const GraphEdge& e, std::optional<Micros> as_of) const {
  if (e.current() && e.job != kNoNode) {
    const GraphNode& job = node(e.job);
    bool lineage_in_view = !as_of || job.lineage_time <= *as_of;
    if (job.lineage_run != kNoNode && e.first_seen <= job.lineage_time && lineage_in_view) {
      return job.lineage_run;
    }
  }
  return e.last_run;
}

std::string GraphNodeId(const GraphReader& g, NodeId id) {
  const GraphNode& n = g.node(id);
  if (n.kind == NodeKind::kField) {
    const GraphNode& d = g.node(n.dataset);
    return MarquezNodeId(NodeKind::kField, g.ns(d), g.name(d), g.field(n));
  }
  return MarquezNodeId(n.kind, g.ns(n), g.name(n));
}

GraphCounts GraphReader::counts() const {
  const LineageGraph::Impl& impl = *g_.impl_;
  GraphCounts c;
  c.datasets = impl.dataset_count;
  c.jobs = impl.job_ids.size();  // a job has one name
  c.fields = impl.field_count;
  c.runs = impl.runs.size();
  c.edges = impl.edges.size();
  c.current_column_edges = impl.current_column_edges;
  c.current_dataset_edges = impl.current_dataset_edges;
  return c;
}

}  // namespace tributary
