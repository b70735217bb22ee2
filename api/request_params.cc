#include "api/request_params.h"

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

}  // namespace tributary
