#include "api/node_ref.h"

#include <optional>
#include <string_view>

namespace tributary {
namespace {

std::string Get(const std::map<std::string, std::string>& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

std::optional<NodeId> Find(const GraphReader& graph, NodeKind kind, std::string_view ns,
                           std::string_view name) {
  return kind == NodeKind::kJob ? graph.FindJob(ns, name) : graph.FindDataset(ns, name);
}

// Tries every split of `text` at a colon into (ns, name), left to right, and returns the
// first node the graph knows.
std::optional<NodeId> FindSplit(const GraphReader& graph, NodeKind kind, std::string_view text) {
  size_t tried = 0;
  for (size_t c = text.find(':'); c != std::string_view::npos && tried < 64;
       c = text.find(':', c + 1), ++tried) {
    if (std::optional<NodeId> id = Find(graph, kind, text.substr(0, c), text.substr(c + 1))) {
      return id;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<NodeRef> ResolveNodeRef(const GraphReader& graph,
                               const std::map<std::string, std::string>& params,
                               const std::string& id_param) {
  std::string node_id = Get(params, id_param);
  if (!node_id.empty()) {
    auto starts = [&](const char* p) { return node_id.rfind(p, 0) == 0; };
    if (starts("datasetField:")) {
      std::string_view rest = std::string_view(node_id).substr(13);
      // The field is after a colon; try the last colon first (and no more than 64 of them,
      // as FindSplit does).
      size_t tried = 0;
      for (size_t c = rest.rfind(':'); c != std::string_view::npos && c > 0 && tried < 64;
           c = rest.rfind(':', c - 1), ++tried) {
        std::optional<NodeId> ds = FindSplit(graph, NodeKind::kDataset, rest.substr(0, c));
        if (!ds) continue;
        if (std::optional<NodeId> f = graph.FindField(*ds, rest.substr(c + 1))) {
          return NodeRef{*f, NodeKind::kField};
        }
      }
      return Status::NotFound("no field matches " + id_param + " '" + node_id + "'");
    }
    NodeKind kind;
    std::string_view rest = node_id;
    if (starts("dataset:")) {
      kind = NodeKind::kDataset;
      rest.remove_prefix(8);
    } else if (starts("job:")) {
      kind = NodeKind::kJob;
      rest.remove_prefix(4);
    } else {
      return Status::InvalidArgument(
          "'" + id_param + "' must start with dataset:, job: or datasetField:", id_param);
    }
    std::optional<NodeId> id = FindSplit(graph, kind, rest);
    if (!id)
      return Status::NotFound("no " + std::string(NodeKindName(kind)) + " matches " + id_param +
                              " '" + node_id + "'");
    return NodeRef{*id, kind};
  }

  std::string ns = Get(params, "namespace");
  std::string name = Get(params, "name");
  std::string field = Get(params, "field");
  std::string kind_text = Get(params, "kind");
  if (kind_text.empty()) kind_text = field.empty() ? "dataset" : "field";
  NodeKind kind;
  if (kind_text == "dataset") {
    kind = NodeKind::kDataset;
  } else if (kind_text == "job") {
    kind = NodeKind::kJob;
  } else if (kind_text == "field") {
    kind = NodeKind::kField;
  } else {
    return Status::InvalidArgument("'kind' must be dataset, job or field, not '" + kind_text + "'",
                                   "kind");
  }
  if (ns.empty()) return Status::InvalidArgument("missing parameter 'namespace'", "namespace");
  if (name.empty()) return Status::InvalidArgument("missing parameter 'name'", "name");
  if (kind == NodeKind::kField && field.empty()) {
    return Status::InvalidArgument("missing parameter 'field' for kind=field", "field");
  }
  std::optional<NodeId> id =
      Find(graph, kind == NodeKind::kJob ? NodeKind::kJob : NodeKind::kDataset, ns, name);
  if (!id) {
    return Status::NotFound("no " + std::string(kind == NodeKind::kJob ? "job" : "dataset") + " '" +
                            name + "' in namespace '" + ns + "'");
  }
  if (kind != NodeKind::kField) return NodeRef{*id, kind};
  std::optional<NodeId> f = graph.FindField(*id, field);
  if (!f) return Status::NotFound("dataset '" + name + "' has no field '" + field + "'");
  return NodeRef{*f, NodeKind::kField};
}

}  // namespace tributary
