// Query-parameter parsing shared by the API's handlers. Each failure is InvalidArgument
// whose path() names the parameter. Internal to api/.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/closure.h"
#include "api/service.h"
#include "common/status.h"
#include "common/time.h"

namespace tributary {

ApiResponse JsonResponse(int status, const nlohmann::json& body);

// "true"/"1"/"yes" or "false"/"0"/"no"; `def` when absent or empty.
Result<bool> ParseBool(const Params& p, const std::string& key, bool def);
// A whole number from `min` to `max`; `def` when absent or empty.
Result<int> ParseInt(const Params& p, const std::string& key, int def, int min, int max);
// "depth": a whole number from 0; -1 (unlimited) when absent.
Result<int> ParseDepth(const Params& p);
// An RFC 3339 time or a date; unset when absent.
Result<std::optional<Micros>> ParseTimeParam(const Params& p, const std::string& key);
// The value, or "" when absent.
std::string Param(const Params& p, const std::string& key);

// The walk parameters most queries share: depth (when `with_depth`; else -1), direct_only
// and as_of.
struct WalkParams {
  int depth = -1;
  bool direct_only = false;
  std::optional<Micros> as_of;
};
Result<WalkParams> ParseWalkParams(const Params& p, bool with_depth);

// A closure query from direction, depth, level, direct_only and as_of, and the node
// parameters. Every parameter is checked before the node is looked up, so a bad parameter is
// always InvalidArgument; an unknown node is NotFound. `level` defaults to column for a
// field and dataset otherwise.
Result<ClosureQuery> ParseClosureQuery(const GraphReader& graph, const Params& p,
                                       const char* default_direction);
const char* DirectionName(Direction d);
const char* LevelName(Level l);
// The query as echoed in answers: direction, level, depth, direct_only, as_of, and with
// `with_edges` also edges (collect_edges). Written as text, for answers written as text.
void AppendClosureQueryJson(std::string* out, const ClosureQuery& q, bool with_edges);
// The same without edges, as a JSON value.
nlohmann::json ClosureQueryJson(const ClosureQuery& q);

}  // namespace tributary
