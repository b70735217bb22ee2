#include "analysis/domain_map.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tributary {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<DomainMap> DomainMap::Parse(const std::string& text) {
  DomainMap m;
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.rfind('=');
    if (eq == std::string::npos || Trim(t.substr(0, eq)).empty() ||
        Trim(t.substr(eq + 1)).empty()) {
      return Status::InvalidArgument(
          "domain map line " + std::to_string(line_no) + ": expected 'namespace-prefix = domain'",
          "line " + std::to_string(line_no));
    }
    m.prefixes_.emplace_back(Trim(t.substr(0, eq)), Trim(t.substr(eq + 1)));
  }
  std::stable_sort(m.prefixes_.begin(), m.prefixes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return m;
}

Result<DomainMap> DomainMap::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read domain map " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str());
}

std::string_view DomainMap::DomainTag(const std::vector<TagRecord>& tags) {
  for (const auto& t : tags) {
    if (t.key == "domain" && t.field.empty() && !t.value.empty()) return t.value;
  }
  return {};
}

std::string DomainMap::DomainOf(const NodeRecord& node) const {
  return DomainOf(node.ns, DomainTag(node.tags), node.owners);
}

std::string DomainMap::DomainOf(const GraphReader& graph, NodeId id) const {
  return DomainOf(graph.ns(graph.node(id)), graph.domain_tag(id), graph.owners(id));
}

std::string DomainMap::DomainOf(std::string_view ns, std::string_view domain_tag,
                                const std::vector<std::string>& owners) const {
  if (!domain_tag.empty()) return std::string(domain_tag);
  for (const auto& o : owners) {
    if (o.rfind("domain:", 0) == 0 && o.size() > 7) return o.substr(7);
  }
  for (const auto& [prefix, domain] : prefixes_) {
    if (ns.starts_with(prefix)) return domain;
  }
  return kUnassigned;
}

}  // namespace tributary
