// GET /api/v1/reports/audit: audit reports (viz/audit_report.h).
#include <memory>
#include <nlohmann/json.hpp>

#include "api/node_ref.h"
#include "api/request_params.h"
#include "api/service.h"
#include "common/coding.h"
#include "viz/audit_report.h"

namespace tributary {

using nlohmann::json;

namespace {
constexpr const char* kVersion = "0.1.0";
constexpr Micros kDefaultPeriod = Micros{30} * 86400 * 1000000;  // 30 days
}  // namespace

ApiResponse Service::AuditReport(const Params& p, const std::string& caller) {
  std::string format = Param(p, "format").empty() ? "html" : Param(p, "format");
  if (format != "html" && format != "pdf" && format != "csv" && format != "json") {
    return ErrorResponse(Status::InvalidArgument(
        "'format' must be html, pdf, csv or json, not '" + format + "'", "format"));
  }
  AuditQuery q;
  q.requested_by = caller;
  auto as_of = ParseTimeParam(p, "as_of");
  if (!as_of.ok()) return ErrorResponse(as_of.status());
  q.as_of = *as_of;
  auto to = ParseTimeParam(p, "to");
  if (!to.ok()) return ErrorResponse(to.status());
  auto from = ParseTimeParam(p, "from");
  if (!from.ok()) return ErrorResponse(from.status());
  Micros now = NowMicros();
  q.to = *to ? **to : (q.as_of ? *q.as_of : now);
  q.from = *from ? **from : q.to - kDefaultPeriod;
  if (q.from > q.to) {
    return ErrorResponse(Status::InvalidArgument("'from' is after 'to'", "from"));
  }
  std::string table = Param(p, "table");
  q.domain = Param(p, "domain");
  if (q.domain.empty()) {
    // The report reads the graph itself: the reader that resolves the root is let go first.
    Result<NodeRef> ref = ResolveNodeRef(graph_->Read(), p);
    if (!ref.ok()) return ErrorResponse(ref.status());
    if (ref->kind != NodeKind::kDataset) {
      return ErrorResponse(Status::InvalidArgument(
          "an audit report is for a dataset (a data product) or a domain", "kind"));
    }
    q.dataset = ref->id;
  }
  for (const auto& [k, v] : p) q.parameters.emplace_back(k, v);
  auto report = BuildAuditReport(*store_, *graph_, domains_, q, now, kVersion);
  if (!report.ok()) return ErrorResponse(report.status());

  ApiResponse r;
  if (format == "html" || format == "pdf") {
    auto doc = format == "html" ? ReportHtml(*report) : ReportPdf(*report);
    if (!doc.ok()) return ErrorResponse(doc.status());
    r.body = std::move(doc).value();
    r.content_type = format == "html" ? "text/html; charset=utf-8" : "application/pdf";
    return r;
  }
  if (format == "csv") {
    if (!ReportCsv(*report, table, [&](std::string_view s) { r.body.append(s); })) {
      return ErrorResponse(
          Status::InvalidArgument("no table '" + table + "' in the report", "table"));
    }
    r.content_type = "text/csv; charset=utf-8";
    return r;
  }
  json out;
  out["title"] = report->title;
  out["subject"] = report->subject;
  json evidence = json::object();
  for (const auto& [k, v] : report->evidence) evidence[k] = v;
  out["evidence"] = evidence;
  // Enough to run the same query again.
  json params = json::object();
  for (const auto& [k, v] : q.parameters) params[k] = v;
  out["query"] = {{"endpoint", "/api/v1/reports/audit"},
                  {"parameters", params},
                  {"as_of", q.as_of ? json(FormatTime(*q.as_of)) : json(nullptr)},
                  {"from", FormatTime(q.from)},
                  {"to", FormatTime(q.to)},
                  {"generated_at", FormatTime(now)}};
  json tables = json::object();
  for (const auto& t : report->tables) {
    if (!table.empty() && t.name != table) continue;
    json rows = json::array();
    for (const auto& row : t.rows) {
      json obj = json::object();
      for (size_t i = 0; i < t.columns.size() && i < row.size(); ++i) obj[t.columns[i]] = row[i];
      rows.push_back(std::move(obj));
    }
    tables[t.name] = {{"title", t.title}, {"columns", t.columns}, {"rows", rows}};
  }
  if (!table.empty() && tables.empty()) {
    return ErrorResponse(
        Status::InvalidArgument("no table '" + table + "' in the report", "table"));
  }
  out["tables"] = tables;
  out["contentSha256"] = report->content_sha256;
  // The digest covers the document without its own field.
  std::string content = out.dump(-1, ' ', false, json::error_handler_t::replace);
  out["sha256"] = Sha256Hex(content);
  out["sha256_of"] = "this document without its sha256 and sha256_of fields, as compact JSON";
  return JsonResponse(200, out);
}

}  // namespace tributary
