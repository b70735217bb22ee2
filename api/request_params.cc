#include "api/request_params.h"

#include <charconv>

#include "api/node_ref.h"

namespace tributary {

ApiResponse JsonResponse(int status, const nlohmann::json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string Param(const Params& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

Result<bool> ParseBool(const Params& p, const std::string& key, bool def) {
  std::string v = Param(p, key);
  if (v.empty()) return def;
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return Status::InvalidArgument("'" + key + "' must be true or false, not '" + v + "'", key);
}

Result<int> ParseInt(const Params& p, const std::string& key, int def, int min, int max) {
  std::string v = Param(p, key);
  if (v.empty()) return def;
  bool digits = v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos;
  int n = digits ? std::stoi(v) : -1;
  if (!digits || n < min || n > max) {
    return Status::InvalidArgument("'" + key + "' must be a whole number from " +
                                       std::to_string(min) + " to " + std::to_string(max) +
                                       ", not '" + v + "'",
                                   key);
  }
  return n;
}

Result<int> ParseDepth(const Params& p) {
  std::string v = Param(p, "depth");
  if (v.empty()) return -1;
  if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("'depth' must be a whole number from 0, not '" + v + "'",
                                   "depth");
  }
  return std::stoi(v);
}

Result<std::optional<Micros>> ParseTimeParam(const Params& p, const std::string& key) {
  std::string v = Param(p, key);
  if (v.empty()) return std::optional<Micros>();
  Result<Micros> t = ParseTime(v, /*allow_date_only=*/true);
  if (!t.ok()) return Status::InvalidArgument("'" + key + "': " + t.status().message(), key);
  return std::optional<Micros>(*t);
}

Result<WalkParams> ParseWalkParams(const Params& p, bool with_depth) {
  WalkParams w;
  if (with_depth) {
    TRIB_ASSIGN_OR_RETURN(w.depth, ParseDepth(p));
  }
  TRIB_ASSIGN_OR_RETURN(w.direct_only, ParseBool(p, "direct_only", false));
  TRIB_ASSIGN_OR_RETURN(w.as_of, ParseTimeParam(p, "as_of"));
  return w;
}

Result<ClosureQuery> ParseClosureQuery(const GraphReader& graph, const Params& p,
                                       const char* default_direction) {
  ClosureQuery q;
  std::string direction = Param(p, "direction");
  if (direction.empty()) direction = default_direction;
  if (direction == "upstream") {
    q.direction = Direction::kUpstream;
  } else if (direction == "downstream") {
    q.direction = Direction::kDownstream;
  } else if (direction == "both") {
    q.direction = Direction::kBoth;
  } else {
    return Status::InvalidArgument(
        "'direction' must be upstream, downstream or both, not '" + direction + "'", "direction");
  }
  TRIB_ASSIGN_OR_RETURN(q.depth, ParseDepth(p));
  std::string level = Param(p, "level");
  if (!level.empty() && level != "dataset" && level != "column") {
    return Status::InvalidArgument("'level' must be dataset or column, not '" + level + "'",
                                   "level");
  }
  TRIB_ASSIGN_OR_RETURN(WalkParams walk, ParseWalkParams(p, /*with_depth=*/false));
  q.direct_only = walk.direct_only;
  q.as_of = walk.as_of;
  TRIB_ASSIGN_OR_RETURN(NodeRef ref, ResolveNodeRef(graph, p));
  q.root = ref.id;
  if (level.empty()) level = ref.kind == NodeKind::kField ? "column" : "dataset";
  q.level = level == "column" ? Level::kColumn : Level::kDataset;
  return q;
}

const char* DirectionName(Direction d) {
  switch (d) {
    case Direction::kUpstream:
      return "upstream";
    case Direction::kDownstream:
      return "downstream";
    case Direction::kBoth:
      return "both";
  }
  return "";
}

const char* LevelName(Level l) { return l == Level::kColumn ? "column" : "dataset"; }

void AppendClosureQueryJson(std::string* out, const ClosureQuery& q, bool with_edges) {
  out->append("{\"direction\":\"").append(DirectionName(q.direction));
  out->append("\",\"level\":\"").append(LevelName(q.level));
  out->append("\",\"depth\":");
  if (q.depth < 0) {
    out->append("null");
  } else {
    char digits[16];
    out->append(digits, std::to_chars(digits, digits + sizeof digits, q.depth).ptr);
  }
  out->append(",\"direct_only\":").append(q.direct_only ? "true" : "false");
  // A formatted time holds digits, '-', ':', '.', 'T' and 'Z': nothing to escape.
  out->append(",\"as_of\":").append(q.as_of ? "\"" + FormatTime(*q.as_of) + "\"" : "null");
  if (with_edges) out->append(",\"edges\":").append(q.collect_edges ? "true" : "false");
  out->push_back('}');
}

nlohmann::json ClosureQueryJson(const ClosureQuery& q) {
  std::string text;
  AppendClosureQueryJson(&text, q, /*with_edges=*/false);
  return nlohmann::json::parse(text);
}

}  // namespace tributary
