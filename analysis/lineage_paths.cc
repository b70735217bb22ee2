#include "analysis/lineage_paths.h"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace tributary {
namespace {

class PathFinder {
 public:
  PathFinder(const GraphReader& g, const PathQuery& q, bool column)
      : g_(g), q_(q), column_(column) {}

  bool Usable(const GraphEdge& e) const {
    if (q_.as_of ? !e.ValidAt(*q_.as_of) : !e.current()) return false;
    if (column_) {
      if (e.kind != EdgeKind::kDerive) return false;
      if (q_.direct_only) {
        for (const auto& t : g_.transforms(e.transforms)) {
          if (t.type == "DIRECT") return true;
        }
        return false;
      }
      return true;
    }
    return e.kind != EdgeKind::kDerive;
  }

  // Shortest path from `from` to `to` avoiding banned nodes and edges; empty when none.
  std::vector<uint32_t> Shortest(NodeId from, NodeId to,
                                 const std::unordered_set<NodeId>& banned_nodes,
                                 const std::unordered_set<uint32_t>& banned_edges) const {
    if (from == to) return {};
    std::unordered_map<NodeId, uint32_t> via;  // node -> edge that reached it
    std::deque<NodeId> queue{from};
    via[from] = UINT32_MAX;
    std::vector<uint32_t> adjacent;
    while (!queue.empty()) {
      NodeId v = queue.front();
      queue.pop_front();
      adjacent.clear();
      g_.AppendEdges(v, /*outgoing=*/true, &adjacent);
      std::sort(adjacent.begin(), adjacent.end());  // deterministic ties
      for (uint32_t ei : adjacent) {
        const GraphEdge& e = g_.edge(ei);
        if (!Usable(e) || banned_edges.count(ei) || banned_nodes.count(e.to) || via.count(e.to)) {
          continue;
        }
        via[e.to] = ei;
        if (e.to == to) {
          std::vector<uint32_t> path;
          for (NodeId at = to; at != from;) {
            uint32_t ei2 = via[at];
            path.push_back(ei2);
            at = g_.edge(ei2).from;
          }
          std::reverse(path.begin(), path.end());
          return path;
        }
        queue.push_back(e.to);
      }
    }
    return {};
  }

 private:
  const GraphReader& g_;
  const PathQuery& q_;
  bool column_;
};

}  // namespace

Result<PathsResult> FindPaths(const GraphReader& graph, const PathQuery& query) {
  const GraphNode& a = graph.node(query.from);
  const GraphNode& b = graph.node(query.to);
  if (!a.present || !b.present) return Status::InvalidArgument("unknown node", "from");
  bool column = a.kind == NodeKind::kField;
  if (column != (b.kind == NodeKind::kField) || a.kind == NodeKind::kRun ||
      b.kind == NodeKind::kRun) {
    return Status::InvalidArgument("'from' and 'to' must both be columns, or both datasets or jobs",
                                   "to");
  }
  if (query.k < 1 || query.k > 100) {
    return Status::InvalidArgument("'k' must be from 1 to 100", "k");
  }
  PathFinder finder(graph, query, column);
  PathsResult result;
  if (query.from == query.to) return result;
  // Yen's algorithm: each next path deviates from an accepted one at some spur node.
  std::vector<std::vector<uint32_t>> accepted;
  std::set<std::pair<size_t, std::vector<uint32_t>>> candidates;  // (length, edges)
  std::vector<uint32_t> first = finder.Shortest(query.from, query.to, {}, {});
  if (first.empty()) return result;
  accepted.push_back(first);
  const size_t want = static_cast<size_t>(query.k) + 1;  // one more tells whether more exist
  while (accepted.size() < want) {
    const std::vector<uint32_t>& last = accepted.back();
    for (size_t i = 0; i < last.size(); ++i) {
      NodeId spur = graph.edge(last[i]).from;
      std::vector<uint32_t> root(last.begin(), last.begin() + i);
      std::unordered_set<uint32_t> banned_edges;
      for (const auto& p : accepted) {
        if (p.size() > i && std::equal(root.begin(), root.end(), p.begin()))
          banned_edges.insert(p[i]);
      }
      std::unordered_set<NodeId> banned_nodes;
      for (uint32_t ei : root) banned_nodes.insert(graph.edge(ei).from);
      std::vector<uint32_t> spur_path = finder.Shortest(spur, query.to, banned_nodes, banned_edges);
      if (spur_path.empty()) continue;
      std::vector<uint32_t> total = root;
      total.insert(total.end(), spur_path.begin(), spur_path.end());
      candidates.emplace(total.size(), std::move(total));
    }
    // The shortest candidate not accepted yet.
    bool added = false;
    while (!candidates.empty()) {
      auto best = candidates.begin()->second;
      candidates.erase(candidates.begin());
      if (std::find(accepted.begin(), accepted.end(), best) == accepted.end()) {
        accepted.push_back(std::move(best));
        added = true;
        break;
      }
    }
    if (!added) break;
  }
  result.more = accepted.size() > static_cast<size_t>(query.k);
  if (result.more) accepted.resize(query.k);
  result.paths = std::move(accepted);
  return result;
}

}  // namespace tributary
