// GET /api/v1/render: a closure drawn as a diagram (viz/diagram.h).
#include <set>

#include "analysis/closure.h"
#include "api/request_params.h"
#include "api/service.h"
#include "viz/diagram.h"

namespace tributary {

ApiResponse Service::Render(const Params& p) {
  auto format = ParseDiagramFormat(Param(p, "format").empty() ? "svg" : Param(p, "format"));
  if (!format.ok()) return ErrorResponse(format.status());
  std::string highlight = Param(p, "highlight");
  if (!highlight.empty() && highlight != "impact") {
    return ErrorResponse(Status::InvalidArgument(
        "'highlight' must be impact, not '" + highlight + "'", "highlight"));
  }
  bool impact = highlight == "impact";
  if (impact && !Param(p, "direction").empty() && Param(p, "direction") != "downstream") {
    return ErrorResponse(Status::InvalidArgument(
        "highlight=impact draws what is downstream: 'direction' must be downstream", "direction"));
  }
  DiagramOptions options;
  auto max_nodes = ParseInt(p, "max_nodes", static_cast<int>(options.max_dataset_nodes), 1, 100000);
  if (!max_nodes.ok()) return ErrorResponse(max_nodes.status());
  options.max_dataset_nodes = static_cast<size_t>(*max_nodes);
  options.max_column_nodes = std::min(options.max_column_nodes, options.max_dataset_nodes);
  GraphReader g = graph_->Read();
  auto query = ParseClosureQuery(g, p, "downstream");
  if (!query.ok()) return ErrorResponse(query.status());
  auto closure = ComputeClosure(g, *query);
  if (!closure.ok()) return ErrorResponse(closure.status());
  if (impact) {
    // The unaffected neighbours: what feeds the affected nodes from outside the closure,
    // drawn greyed (distance -1) for context.
    std::set<NodeId> in_closure;
    for (const auto& n : closure->nodes) in_closure.insert(n.id);
    std::set<NodeId> neighbours;
    std::vector<uint32_t> edges;
    for (const auto& n : std::vector<ClosureNode>(closure->nodes)) {
      if (n.distance == 0) continue;
      edges.clear();
      g.AppendEdges(n.id, /*outgoing=*/false, &edges);
      for (uint32_t ei : edges) {
        const GraphEdge& e = g.edge(ei);
        if (!EdgeVisible(g, e, *query) || in_closure.count(e.from)) continue;
        if (neighbours.insert(e.from).second) closure->nodes.push_back({e.from, -1, true});
        closure->edges.push_back(ei);
      }
    }
  }
  Diagram diagram = BuildDiagram(g, *query, *closure);
  diagram.highlight = impact;
  Status clustered = AssignDomainClusters(&diagram, *store_, domains_);
  if (!clustered.ok()) return ErrorResponse(clustered);
  auto rendered = RenderDiagram(diagram, *format, options);
  if (!rendered.ok()) return ErrorResponse(rendered.status());
  ApiResponse r;
  r.body = std::move(rendered).value();
  r.content_type = DiagramMimeType(*format);
  return r;
}

}  // namespace tributary
