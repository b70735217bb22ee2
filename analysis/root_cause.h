// RootCause: for a broken dataset or column, the upstream jobs that may have broken it.
//
// A suspect is an upstream job whose latest run failed or was aborted, or whose outputs are
// stale: no successful run within `stale_after` of the reference time (`as_of`, or now).
// Suspects come nearest first; distance counts dataset hops (the job writing the root is 1).
// At column level (a field root) only jobs on the column lineage upstream are considered.
//
// Thread safety: runs under the caller's GraphReader.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/lineage_graph.h"
#include "common/status.h"

namespace tributary {

struct RootCauseQuery {
  NodeId root = kNoNode;
  int depth = -1;  // in dataset hops; -1: unlimited
  std::optional<Micros> as_of;
  Micros now = 0;                                    // the reference time without as_of
  Micros stale_after = Micros{24} * 3600 * 1000000;  // a day
};

struct Suspect {
  NodeId job = kNoNode;
  int distance = 0;
  NodeId latest_run = kNoNode;  // kNoNode when the job has no run
  RunState latest_state = RunState::kNew;
  std::string error_message;  // of the latest run
  Micros last_success = 0;    // end of the latest completed run; 0: never
  bool failed = false;        // latest run FAILED or ABORTED
  bool stale = false;         // no success within stale_after
};

struct RootCauseReport {
  std::vector<Suspect> suspects;  // nearest first
  size_t jobs_checked = 0;
};

Result<RootCauseReport> FindRootCauses(const GraphReader& graph, const RootCauseQuery& query);

}  // namespace tributary
