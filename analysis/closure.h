// Closure: everything upstream or downstream of a dataset, job or column.
//
// At dataset level the walk follows read and write edges (dataset -> job -> dataset), in
// the direction data flows: it is a directed closure, not Marquez's undirected
// neighbourhood. At column level it follows column (derive) edges between fields. Distances
// count edges from the root: at dataset level a dataset one job away is at distance 2.
// Cycles terminate; every node is reported once, at its shortest distance. There is no cap
// on the size of the answer.
//
// Cost: O(V + E) of the part of the graph reached. The set of reached nodes (a bit per node,
// NodeBits) is cleared word by word after each walk, so a query never clears memory the
// size of the whole graph.
//
// Thread safety: runs under the caller's GraphReader; any number may run at once.
#pragma once

#include <optional>
#include <vector>

#include "analysis/lineage_graph.h"
#include "common/status.h"

namespace tributary {

enum class Direction { kUpstream, kDownstream, kBoth };
enum class Level { kDataset, kColumn };

struct ClosureQuery {
  NodeId root = kNoNode;  // a dataset, job or field
  Direction direction = Direction::kDownstream;
  int depth = -1;  // largest distance reported; -1: unlimited
  Level level = Level::kDataset;
  // Column level: follow only edges with a DIRECT transformation.
  bool direct_only = false;
  // Answer from the graph as it stood at this time; unset: current lineage.
  std::optional<Micros> as_of;
  // false: nodes only; ClosureResult::edges stays empty (a cheaper walk and answer).
  bool collect_edges = true;
};

struct ClosureNode {
  NodeId id = kNoNode;
  int distance = 0;
  // Which way it was reached: true upstream, false downstream (the root: false).
  bool upstream = false;
};

struct ClosureResult {
  std::vector<ClosureNode> nodes;  // in order of distance, then id; the root(s) first
  std::vector<uint32_t> edges;     // edge indices into the reader, each once
};

// Computes the closure. InvalidArgument when the root is not a dataset, job or field of
// the graph, or when the level does not fit the root (a field at dataset level is
// answered for its dataset).
Result<ClosureResult> ComputeClosure(const GraphReader& graph, const ClosureQuery& query);

// True when edge `e` is part of the graph the query looks at.
bool EdgeVisible(const GraphReader& graph, const GraphEdge& e, const ClosureQuery& query);

}  // namespace tributary
