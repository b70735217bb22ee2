#include "analysis/lineage_diff.h"

#include <algorithm>
#include <set>

namespace tributary {

Result<LineageDiff> ComputeDiff(const GraphReader& graph, const ClosureQuery& base, Micros from,
                                Micros to) {
  if (from > to) return Status::InvalidArgument("'from' is after 'to'", "from");
  std::set<uint32_t> edges;
  std::set<NodeId> nodes;
  for (Micros t : {from, to}) {
    ClosureQuery q = base;
    q.as_of = t;
    TRIB_ASSIGN_OR_RETURN(ClosureResult r, ComputeClosure(graph, q));
    edges.insert(r.edges.begin(), r.edges.end());
    for (const auto& n : r.nodes) nodes.insert(n.id);
  }
  // Edges that lived only inside the window are in neither closure: find them around the
  // nodes either closure reached.
  std::vector<uint32_t> around;
  for (NodeId n : nodes) {
    around.clear();
    graph.AppendEdges(n, /*outgoing=*/true, &around);
    for (uint32_t ei : around) {
      const GraphEdge& e = graph.edge(ei);
      bool inside = e.first_seen > from && e.retired <= to;
      bool level_ok = (base.level == Level::kColumn) == (e.kind == EdgeKind::kDerive);
      if (inside && level_ok && nodes.count(e.to)) edges.insert(ei);
    }
  }
  LineageDiff diff;
  for (uint32_t ei : edges) {
    const GraphEdge& e = graph.edge(ei);
    if (e.first_seen > from && e.first_seen <= to) diff.added.push_back(ei);
    if (e.retired != kForever && e.retired > from && e.retired <= to) diff.retired.push_back(ei);
  }
  auto by_time = [&](bool added) {
    return [&graph, added](uint32_t a, uint32_t b) {
      Micros ta = added ? graph.edge(a).first_seen : graph.edge(a).retired;
      Micros tb = added ? graph.edge(b).first_seen : graph.edge(b).retired;
      return ta != tb ? ta < tb : a < b;
    };
  };
  std::sort(diff.added.begin(), diff.added.end(), by_time(true));
  std::sort(diff.retired.begin(), diff.retired.end(), by_time(false));
  return diff;
}

}  // namespace tributary
