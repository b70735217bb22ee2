// DomainMap: which data-mesh domain a dataset or job belongs to.
//
// In order: a tag with key "domain" (from the tags facet); an owner named "domain:<name>"
// (from the ownership facet); the longest namespace prefix listed in the mapping file; else
// "unassigned". The mapping file has one "namespace-prefix = domain" per line; blank lines
// and lines starting with '#' are ignored.
//
// Thread safety: immutable after Load; safe to share.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/lineage_graph.h"
#include "common/status.h"
#include "store/model.h"

namespace tributary {

class DomainMap {
 public:
  static constexpr const char* kUnassigned = "unassigned";

  DomainMap() = default;
  // Reads a mapping file. InvalidArgument naming the line for a malformed one; NotFound
  // when the file cannot be read.
  static Result<DomainMap> Load(const std::string& path);
  // Parses mapping text (the file's content).
  static Result<DomainMap> Parse(const std::string& text);

  // The node's domain, by the rules above.
  std::string DomainOf(const NodeRecord& node) const;
  // The same from the parts it is decided by (`domain_tag` as DomainTag gives it).
  std::string DomainOf(std::string_view ns, std::string_view domain_tag,
                       const std::vector<std::string>& owners) const;
  // The domain of a node of the graph, from the owners and domain tag it keeps.
  std::string DomainOf(const GraphReader& graph, NodeId id) const;
  // The value of the node's own "domain" tag (one not on a field); empty when it has none.
  static std::string_view DomainTag(const std::vector<TagRecord>& tags);

 private:
  std::vector<std::pair<std::string, std::string>> prefixes_;  // longest first
};

}  // namespace tributary
