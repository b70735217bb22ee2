// BlastRadius: everything downstream of a broken node, at column level where column lineage
// exists and at dataset level where it does not.
//
// The walk follows column edges from the affected columns. Where a job reads an affected
// dataset and writes an output without any column lineage for it, the whole output is taken
// as affected (a coverage gap): every one of its columns, and so on downstream. Such answers
// are over-approximations, and the report says exactly where: each gap hop, and for every
// dataset and column whether it is reached without crossing a gap (`exact`). It also says
// whether a dataset is reached only through INDIRECT edges (filters, joins): then its values
// are not copied from the broken data, only influenced by it.
//
// Distances count dataset hops: a column edge or a gap hop is one. Each dataset is reported
// once, at its shortest distance, with one shortest path that reaches it.
//
// Thread safety: runs under the caller's GraphReader.
#pragma once

#include <optional>
#include <vector>

#include "analysis/lineage_graph.h"
#include "common/status.h"

namespace tributary {

struct ImpactQuery {
  // What broke: datasets (all their columns), fields, or jobs (all their outputs).
  std::vector<NodeId> roots;
  // Datasets written by a broken run, with the run's job: affected as a whole, one hop
  // from the job (as a job root's outputs are).
  std::vector<std::pair<NodeId, NodeId>> written_by;  // (job, dataset)
  int depth = -1;                                     // largest distance; -1: unlimited
  bool direct_only = false;  // follow only edges with a DIRECT transformation
  std::optional<Micros> as_of;
};

// One step of a path: the node reached and the job that led there (kNoNode at the start).
struct PathStep {
  NodeId node = kNoNode;
  NodeId job = kNoNode;
  bool gap = false;  // reached by a coverage-gap hop, not a column edge
};

struct ImpactedColumn {
  NodeId field = kNoNode;
  int distance = 0;
  bool exact = true;           // reached without crossing a coverage gap
  bool indirect_only = false;  // no all-DIRECT path reaches it
};

struct ImpactedDataset {
  NodeId dataset = kNoNode;
  int distance = 0;
  bool exact = true;                    // some column reached without a gap
  bool whole = false;                   // taken as affected as a whole (root, or behind a gap)
  bool indirect_only = false;           // no all-DIRECT path reaches any of its columns
  std::vector<ImpactedColumn> columns;  // by distance, then id
  std::vector<PathStep> path;           // one shortest path from a root
};

// A hop where column lineage was missing: `job` reads `from` and writes `to` with no
// column lineage into `to`.
struct CoverageGap {
  NodeId job = kNoNode;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
};

struct ImpactReport {
  std::vector<ImpactedDataset> datasets;  // by distance, then id; the roots' datasets first
  std::vector<NodeId> jobs;               // jobs on the walked edges and gap hops, sorted
  std::vector<CoverageGap> gaps;
};

// InvalidArgument when a root is not a dataset, field or job of the graph.
Result<ImpactReport> ComputeBlastRadius(const GraphReader& graph, const ImpactQuery& query);

}  // namespace tributary
