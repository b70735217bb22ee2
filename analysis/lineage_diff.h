// LineageDiff: the edges added and retired between two times within a node's closure.
//
// The closure is taken at both times (same direction, level and depth) and the union of
// their edges is examined: an edge is "added" when first seen in (from, to], "retired" when
// retired in (from, to]. An edge that came and went inside the window is reported in both.
//
// Thread safety: runs under the caller's GraphReader.
#pragma once

#include <vector>

#include "analysis/closure.h"
#include "common/status.h"

namespace tributary {

struct LineageDiff {
  std::vector<uint32_t> added;    // edge indices, by time then index
  std::vector<uint32_t> retired;  // edge indices, by time then index
};

// `base` gives the root, direction, level and depth; its as_of is ignored. InvalidArgument
// when from > to.
Result<LineageDiff> ComputeDiff(const GraphReader& graph, const ClosureQuery& base, Micros from,
                                Micros to);

}  // namespace tributary
