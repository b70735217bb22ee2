// LineagePaths: how one node reaches another. The k shortest simple paths (fewest edges),
// by Yen's algorithm over breadth-first searches, and whether more exist.
//
// Between fields the paths follow column edges; otherwise read and write edges (dataset ->
// job -> dataset). `as_of` and `direct_only` filter edges as for closure.
//
// Cost: O(k * path length * (V + E)) of the reachable part, in the worst case.
//
// Thread safety: runs under the caller's GraphReader.
#pragma once

#include <optional>
#include <vector>

#include "analysis/lineage_graph.h"
#include "common/status.h"

namespace tributary {

struct PathQuery {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  int k = 3;  // 1 to 100
  bool direct_only = false;
  std::optional<Micros> as_of;
};

struct PathsResult {
  std::vector<std::vector<uint32_t>> paths;  // edge indices, shortest first
  bool more = false;                         // another simple path exists
};

// InvalidArgument when the two nodes are not both fields, or both datasets/jobs.
Result<PathsResult> FindPaths(const GraphReader& graph, const PathQuery& query);

}  // namespace tributary
