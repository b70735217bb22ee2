#include "analysis/blast_radius.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace tributary {
namespace {

bool Visible(const GraphEdge& e, const std::optional<Micros>& as_of) {
  return as_of ? e.ValidAt(*as_of) : e.current();
}

// One breadth-first walk. Nodes are fields, and datasets taken as affected as a whole.
class Walk {
 public:
  Walk(const GraphReader& g, const ImpactQuery& q, bool allow_gaps, bool direct_only)
      : g_(g), q_(q), allow_gaps_(allow_gaps), direct_only_(direct_only) {}

  void Run(const std::vector<std::pair<NodeId, PathStep>>& seeds, int seed_distance_of_jobs) {
    std::vector<NodeId> level;
    for (const auto& [node, from] : seeds) {
      int d = from.job != kNoNode ? seed_distance_of_jobs : 0;
      if (q_.depth >= 0 && d > q_.depth) continue;
      if (!reached_.try_emplace(node, Reached{d, from}).second) continue;
      if (from.job != kNoNode) jobs_.insert(from.job);
      (d == 0 ? level : pending_[d]).push_back(node);
    }
    for (int d = 0; !level.empty() || !pending_.empty(); ++d) {
      if (auto it = pending_.find(d); it != pending_.end()) {
        level.insert(level.end(), it->second.begin(), it->second.end());
        pending_.erase(it);
      }
      std::vector<NodeId> next;
      // `level` grows while it is walked: a whole dataset adds its fields at its distance.
      for (size_t i = 0; i < level.size(); ++i) {
        NodeId v = level[i];
        if (q_.depth >= 0 && d > q_.depth) break;
        Expand(v, d, &level, &next);
      }
      level.swap(next);
      if (q_.depth >= 0 && d >= q_.depth) {
        // Nodes beyond the depth were reached but are not reported.
        for (NodeId v : level) reached_.erase(v);
        level.clear();
        pending_.clear();
      }
    }
  }

  // A reached node: its distance, and the step that reached it first (PathStep.node: the
  // node before it).
  struct Reached {
    int distance = 0;
    PathStep from;
  };
  const std::unordered_map<NodeId, Reached>& reached() const { return reached_; }
  const std::set<NodeId>& jobs() const { return jobs_; }
  const std::vector<CoverageGap>& gaps() const { return gaps_; }
  // Whether the walk met a column edge without a DIRECT transformation (and followed it).
  bool met_non_direct() const { return met_non_direct_; }

 private:
  void Reach(NodeId w, int d, PathStep from, std::vector<NodeId>* into) {
    // One hash lookup a visit: most visits find the node already reached.
    if (!reached_.try_emplace(w, Reached{d, from}).second) return;
    if (from.job != kNoNode) jobs_.insert(from.job);
    into->push_back(w);
  }

  void Expand(NodeId v, int d, std::vector<NodeId>* level, std::vector<NodeId>* next) {
    const GraphNode& n = g_.node(v);
    bool at_limit = q_.depth >= 0 && d >= q_.depth;
    if (n.kind == NodeKind::kDataset) {
      for (NodeId f : g_.fields(v)) Reach(f, d, PathStep{v, kNoNode, false}, level);
      if (!at_limit) ExpandGaps(v, v, d, next);
      return;
    }
    if (n.kind != NodeKind::kField || at_limit) return;
    ExpandGaps(n.dataset, v, d, next);
    adjacent_.clear();
    g_.AppendEdges(v, /*outgoing=*/true, &adjacent_);
    for (uint32_t ei : adjacent_) {
      const GraphEdge& e = g_.edge(ei);
      if (e.kind != EdgeKind::kDerive || !Visible(e, q_.as_of)) continue;
      if (!g_.has_direct(e.transforms)) {
        if (direct_only_ || q_.direct_only) continue;
        met_non_direct_ = true;
      }
      Reach(e.to, d + 1, PathStep{v, e.job, false}, next);
    }
  }

  // Outputs of jobs reading `dataset` for which the job has no column lineage. `via` is the
  // affected node of the dataset that got there first (the dataset, or one of its fields).
  void ExpandGaps(NodeId dataset, NodeId via, int d, std::vector<NodeId>* next) {
    if (!allow_gaps_ || !gap_expanded_.insert(dataset).second) return;
    std::vector<uint32_t> reads;
    g_.AppendEdges(dataset, /*outgoing=*/true, &reads);
    for (uint32_t ri : reads) {
      const GraphEdge& r = g_.edge(ri);
      if (r.kind != EdgeKind::kRead || !Visible(r, q_.as_of)) continue;
      NodeId job = r.to;
      std::vector<uint32_t> writes;
      g_.AppendEdges(job, /*outgoing=*/true, &writes);
      for (uint32_t wi : writes) {
        const GraphEdge& w = g_.edge(wi);
        if (w.kind != EdgeKind::kWrite || !Visible(w, q_.as_of)) continue;
        if (JobHasColumnLineage(job, w.to)) continue;
        if (!reached_.count(w.to)) gaps_.push_back({job, dataset, w.to});
        Reach(w.to, d + 1, PathStep{via, job, true}, next);
      }
    }
  }

  bool JobHasColumnLineage(NodeId job, NodeId dataset) {
    auto key = std::make_pair(job, dataset);
    if (auto it = lineage_.find(key); it != lineage_.end()) return it->second;
    bool found = false;
    std::vector<uint32_t> in;
    for (NodeId f : g_.fields(dataset)) {
      in.clear();
      g_.AppendEdges(f, /*outgoing=*/false, &in);
      for (uint32_t ei : in) {
        const GraphEdge& e = g_.edge(ei);
        if (e.kind == EdgeKind::kDerive && e.job == job && Visible(e, q_.as_of)) {
          found = true;
          break;
        }
      }
      if (found) break;
    }
    lineage_[key] = found;
    return found;
  }

  const GraphReader& g_;
  const ImpactQuery& q_;
  bool allow_gaps_;
  bool direct_only_;
  std::unordered_map<NodeId, Reached> reached_;
  std::map<int, std::vector<NodeId>> pending_;  // seeds at a distance above 0
  std::set<NodeId> jobs_;
  std::set<NodeId> gap_expanded_;
  std::vector<CoverageGap> gaps_;
  bool met_non_direct_ = false;
  std::map<std::pair<NodeId, NodeId>, bool> lineage_;
  std::vector<uint32_t> adjacent_;
};

}  // namespace

Result<ImpactReport> ComputeBlastRadius(const GraphReader& graph, const ImpactQuery& query) {
  std::vector<std::pair<NodeId, PathStep>> seeds;
  for (NodeId root : query.roots) {
    const GraphNode& n = graph.node(root);
    if (!n.present || n.kind == NodeKind::kRun) {
      return Status::InvalidArgument("impact root must be a dataset, field or job", "root");
    }
    if (n.kind != NodeKind::kJob) {
      seeds.push_back({root, PathStep{}});
      continue;
    }
    // A broken job: everything it writes is affected, one hop away.
    std::vector<uint32_t> out;
    graph.AppendEdges(root, /*outgoing=*/true, &out);
    for (uint32_t ei : out) {
      const GraphEdge& e = graph.edge(ei);
      if (e.kind == EdgeKind::kWrite && Visible(e, query.as_of)) {
        seeds.push_back({e.to, PathStep{root, root, false}});
      }
    }
  }

  for (const auto& [job, dataset] : query.written_by) {
    if (!graph.node(dataset).present) continue;
    seeds.push_back({dataset, PathStep{job, job, false}});
  }

  Walk full(graph, query, /*allow_gaps=*/true, /*direct_only=*/false);
  full.Run(seeds, 1);
  // A walk that took no coverage-gap hop took the same steps, in the same order, as one that
  // may take none: it reached the same nodes at the same distances. Likewise a walk without
  // gaps that met no column edge lacking a DIRECT transformation is the DIRECT-only walk.
  std::optional<Walk> exact_walk;
  if (!full.gaps().empty()) {
    exact_walk.emplace(graph, query, /*allow_gaps=*/false, /*direct_only=*/false);
    exact_walk->Run(seeds, 1);
  }
  const Walk& exact = exact_walk ? *exact_walk : full;
  std::optional<Walk> direct_walk;
  if (exact.met_non_direct()) {
    direct_walk.emplace(graph, query, /*allow_gaps=*/false, /*direct_only=*/true);
    direct_walk->Run(seeds, 1);
  }
  const Walk& direct = direct_walk ? *direct_walk : exact;

  std::map<NodeId, ImpactedDataset> by_dataset;
  std::map<NodeId, NodeId> best_node;  // dataset -> the node that reaches it first
  auto consider = [&](NodeId dataset, NodeId node, int d) {
    auto [it, inserted] = by_dataset.try_emplace(dataset);
    ImpactedDataset& ds = it->second;
    if (inserted) {
      ds.dataset = dataset;
      ds.distance = d;
      ds.exact = false;
      ds.indirect_only = true;
      best_node[dataset] = node;
    } else if (d < ds.distance) {
      ds.distance = d;
      best_node[dataset] = node;
    }
    return &ds;
  };
  for (const auto& [node, r] : full.reached()) {
    const int d = r.distance;
    const GraphNode& n = graph.node(node);
    if (n.kind == NodeKind::kDataset) {
      ImpactedDataset* ds = consider(node, node, d);
      ds->whole = true;
      if (exact.reached().count(node)) ds->exact = true;
      if (direct.reached().count(node)) ds->indirect_only = false;
      continue;
    }
    ImpactedDataset* ds = consider(n.dataset, node, d);
    ImpactedColumn c;
    c.field = node;
    c.distance = d;
    c.exact = exact.reached().count(node) > 0;
    // Behind a coverage gap nothing is known about how values flow.
    c.indirect_only = c.exact && !query.direct_only && !direct.reached().count(node);
    if (c.exact) ds->exact = true;
    if (!c.indirect_only) ds->indirect_only = false;
    ds->columns.push_back(c);
  }

  ImpactReport report;
  for (auto& [id, ds] : by_dataset) {
    // Behind a coverage gap nothing is known about how values flow.
    if (!ds.exact) ds.indirect_only = false;
    std::sort(ds.columns.begin(), ds.columns.end(), [](const auto& a, const auto& b) {
      return a.distance != b.distance ? a.distance < b.distance : a.field < b.field;
    });
    // One shortest path, walked back from the node that reached the dataset first.
    std::vector<PathStep> path;
    NodeId at = best_node[id];
    for (size_t guard = 0; at != kNoNode && guard <= full.reached().size(); ++guard) {
      auto p = full.reached().find(at);
      if (p == full.reached().end()) break;
      const PathStep& from = p->second.from;
      path.push_back(PathStep{at, from.job, from.gap});
      at = from.node;
    }
    std::reverse(path.begin(), path.end());
    ds.path = std::move(path);
    report.datasets.push_back(std::move(ds));
  }
  std::stable_sort(report.datasets.begin(), report.datasets.end(),
                   [](const auto& a, const auto& b) { return a.distance < b.distance; });
  report.jobs.assign(full.jobs().begin(), full.jobs().end());
  report.gaps = full.gaps();
  return report;
}

}  // namespace tributary
