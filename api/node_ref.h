// Node references in requests: kind/namespace/name/field parameters, or Marquez-style ids
// ("dataset:<ns>:<name>", "job:<ns>:<name>", "datasetField:<ns>:<name>:<field>").
//
// A Marquez id is split where the graph actually knows a node: namespaces such as
// "postgres://host:5432" and names with colons resolve right without guessing. Names are
// looked up in the graph that the query then walks, so a root is found exactly when the
// walk can see it.
#pragma once

#include <map>
#include <string>

#include "analysis/lineage_graph.h"
#include "common/status.h"

namespace tributary {

struct NodeRef {
  NodeId id = kNoNode;
  NodeKind kind = NodeKind::kDataset;
};

// Resolves the node named by `params` ("nodeId", or "kind", "namespace", "name", "field").
// InvalidArgument (path = the parameter) for missing or malformed parameters; NotFound
// when no such node is known.
Result<NodeRef> ResolveNodeRef(const GraphReader& graph,
                               const std::map<std::string, std::string>& params,
                               const std::string& id_param = "nodeId");

}  // namespace tributary
