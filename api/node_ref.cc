#include "api/node_ref.h"

#include <vector>

namespace tributary {
namespace {

std::string Get(const std::map<std::string, std::string>& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

Result<std::optional<NodeId>> Find(const GraphStore& store, NodeKind kind, const std::string& ns,
                                   const std::string& name) {
  return store.FindName(kind == NodeKind::kJob ? JobNameKey(ns, name) : DatasetNameKey(ns, name));
}

// Tries every split of `text` at a colon into (ns, name), left to right, and returns the
// first node the store knows.
Result<std::optional<NodeId>> FindSplit(const GraphStore& store, NodeKind kind,
                                        const std::string& text) {
  std::vector<size_t> colons;
  for (size_t i = 0; i < text.size() && colons.size() < 64; ++i) {
    if (text[i] == ':') colons.push_back(i);
  }
  for (size_t c : colons) {
    TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> id,
                          Find(store, kind, text.substr(0, c), text.substr(c + 1)));
    if (id) return id;
  }
  return std::optional<NodeId>();
}

}  // namespace

Result<NodeRef> ResolveNodeRef(const GraphStore& store,
                               const std::map<std::string, std::string>& params,
                               const std::string& id_param) {
  std::string node_id = Get(params, id_param);
  if (!node_id.empty()) {
    auto starts = [&](const char* p) { return node_id.rfind(p, 0) == 0; };
    if (starts("datasetField:")) {
      std::string rest = node_id.substr(13);
      // The field is after a colon; try the last colon first.
      for (size_t c = rest.rfind(':'); c != std::string::npos && c > 0;
           c = rest.rfind(':', c - 1)) {
        TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> ds,
                              FindSplit(store, NodeKind::kDataset, rest.substr(0, c)));
        if (!ds) continue;
        TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> f,
                              store.FindName(FieldNameKey(*ds, rest.substr(c + 1))));
        if (f) return NodeRef{*f, NodeKind::kField};
      }
      return Status::NotFound("no field matches " + id_param + " '" + node_id + "'");
    }
    NodeKind kind;
    std::string rest;
    if (starts("dataset:")) {
      kind = NodeKind::kDataset;
      rest = node_id.substr(8);
    } else if (starts("job:")) {
      kind = NodeKind::kJob;
      rest = node_id.substr(4);
    } else {
      return Status::InvalidArgument(
          "'" + id_param + "' must start with dataset:, job: or datasetField:", id_param);
    }
    TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> id, FindSplit(store, kind, rest));
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
  TRIB_ASSIGN_OR_RETURN(
      std::optional<NodeId> id,
      Find(store, kind == NodeKind::kJob ? NodeKind::kJob : NodeKind::kDataset, ns, name));
  if (!id) {
    return Status::NotFound("no " + std::string(kind == NodeKind::kJob ? "job" : "dataset") + " '" +
                            name + "' in namespace '" + ns + "'");
  }
  if (kind != NodeKind::kField) return NodeRef{*id, kind};
  TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> f, store.FindName(FieldNameKey(*id, field)));
  if (!f) return Status::NotFound("dataset '" + name + "' has no field '" + field + "'");
  return NodeRef{*f, NodeKind::kField};
}

}  // namespace tributary
