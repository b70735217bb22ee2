// Lineage diagrams: a closure drawn with Graphviz (cgraph + gvc as a library; nothing shells
// out to `dot`).
//
// A Diagram is a plain description of what to draw, in our own types; BuildDiagram makes one
// from a closure, and RenderDiagram lays it out and renders it. Large diagrams stay readable:
// above DiagramOptions' limits a column-level diagram collapses to dataset level, and a
// dataset-level one to one node per cluster (a domain or a namespace); the legend says so.
//
// Thread safety: free functions. Graphviz keeps global state, so RenderDiagram serialises
// its Graphviz work internally, on one Graphviz context kept for the life of the process.
#pragma once

#include <string>
#include <vector>

#include "analysis/closure.h"
#include "analysis/domain_map.h"
#include "analysis/lineage_graph.h"
#include "common/status.h"

namespace tributary {

enum class DiagramFormat { kDot, kSvg, kPng, kPdf };
enum class DiagramLevel { kColumn, kDataset, kCluster };

// Parses "dot", "svg", "png" or "pdf".
Result<DiagramFormat> ParseDiagramFormat(const std::string& text);
const char* DiagramMimeType(DiagramFormat format);

struct DiagramNode {
  std::string key;  // unique; the Marquez-style node id
  NodeKind kind = NodeKind::kDataset;
  std::string ns;
  std::string name;
  std::string field;    // fields only
  std::string cluster;  // the namespace, or the domain (AssignDomainClusters)
  int distance = -1;    // from the root; -1: a neighbour outside the closure (greyed)
  bool root = false;
  bool unseen = false;
};

struct DiagramEdge {
  std::string from;  // DiagramNode::key
  std::string to;
  EdgeKind kind = EdgeKind::kRead;
  std::string job;       // column edges: the deriving job's name; empty for static lineage
  bool direct = true;    // column edges: some DIRECT transformation (else INDIRECT/unknown)
  bool masking = false;  // column edges: some transformation masks the value
};

struct Diagram {
  std::string title;                  // e.g. the root and the direction
  std::vector<std::string> subtitle;  // further title lines: as-of time, depth, ...
  DiagramLevel level = DiagramLevel::kDataset;
  bool highlight = false;          // impact highlighting: colour by distance, grey the rest
  std::vector<DiagramNode> nodes;  // kept in this order in the output (stable DOT)
  std::vector<DiagramEdge> edges;
};

struct DiagramOptions {
  // Above this many field nodes a column-level diagram is drawn at dataset level.
  size_t max_column_nodes = 150;
  // Above this many dataset and job nodes a dataset-level diagram is drawn by cluster.
  size_t max_dataset_nodes = 250;
  // Bound on the layout's work (dot's iteration limits are scaled from it).
  double layout_seconds = 5.0;
};

// Builds the diagram of a closure answer. `query` gives the level, direction and as-of time
// for the title.
Diagram BuildDiagram(const GraphReader& graph, const ClosureQuery& query,
                     const ClosureResult& closure);

// Puts each node in its data-mesh domain's cluster (analysis/domain_map.h), looking its
// dataset or job up in `store`; nodes of no known domain stay in their namespace's cluster.
Status AssignDomainClusters(Diagram* diagram, const GraphStore& store, const DomainMap& domains);

// Collapses as DiagramOptions say, lays out left to right and renders. DOT output is the
// graph handed to the layout, before layout, with nodes and edges in the diagram's order, so
// it is deterministic and independent of the Graphviz version.
// InvalidArgument for an unknown format; Internal when Graphviz fails.
Result<std::string> RenderDiagram(const Diagram& diagram, DiagramFormat format,
                                  const DiagramOptions& options = {});

}  // namespace tributary
