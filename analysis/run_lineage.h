// RunLineage: the runs upstream of a run, as Marquez's /api/v1/runlineage/upstream answers.
//
// For each input dataset of a run, the producing run is the latest completed run that wrote
// it and ended no later than the run started. The walk repeats from those runs, breadth
// first, to `depth` levels; each run appears once.
//
// Thread safety: runs under the caller's GraphReader.
#pragma once

#include <vector>

#include "analysis/lineage_graph.h"
#include "common/status.h"

namespace tributary {

struct RunInput {
  NodeId dataset = kNoNode;
  NodeId produced_by = kNoNode;  // a run, or kNoNode when none is known
};

struct UpstreamRun {
  NodeId run = kNoNode;
  int depth = 0;
  std::vector<RunInput> inputs;
};

// NotFound when `run` is not a known run.
Result<std::vector<UpstreamRun>> UpstreamRuns(const GraphReader& graph, NodeId run, int depth);

}  // namespace tributary
