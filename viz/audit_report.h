// AuditReport: lineage evidence for a data product (a dataset) or a whole domain, as
// auditors ask for it: where the data comes from, who consumes it, how each column is
// derived, who owns it, how its schema changed, which runs touched it in a period, and where
// its PII goes.
//
// BuildAuditReport assembles the report as plain tables; the formatters write it as a
// self-contained HTML page (diagrams embedded as SVG, printable, no external resources) or
// as CSV. (JSON is written by the API, which owns the JSON library.) Every report carries the
// query, the as-of time, when and by whom it was generated, the tool version, and a SHA-256
// of its content; nothing is truncated.
//
// Thread safety: free functions; the report is a value.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain_map.h"
#include "analysis/lineage_graph.h"
#include "common/status.h"
#include "store/graph_store.h"
#include "viz/diagram.h"

namespace tributary {

struct ReportTable {
  std::string name;   // machine name: "upstream", "column_lineage", ...
  std::string title;  // for people
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct AuditQuery {
  // The data product: one dataset, or every dataset of `domain` when that is set.
  NodeId dataset = kNoNode;
  std::string domain;
  std::optional<Micros> as_of;  // lineage as it stood then; unset: now
  Micros from = 0;              // the period for runs: [from, to]
  Micros to = 0;
  std::string requested_by;  // the caller's identity, when the request carries one
  // The query parameters as given, to state them and to run the query again.
  std::vector<std::pair<std::string, std::string>> parameters;
};

struct AuditReport {
  std::string title;
  std::string subject;                                        // the dataset id, or "domain <name>"
  std::vector<std::pair<std::string, std::string>> evidence;  // label, value (in order)
  std::vector<ReportTable> tables;
  std::vector<Diagram> diagrams;  // upstream and downstream, drawn by the formatters
  // SHA-256 of the report's content: its tables, as the all-tables CSV writes them (the
  // lines not starting with '#'). Every format states it in the evidence; HTML and CSV also
  // end with a digest of their own bytes.
  std::string content_sha256;
};

// Builds the report from the in-memory graph and the store's records. NotFound for an
// unknown dataset or a domain with no dataset.
Result<AuditReport> BuildAuditReport(const GraphStore& store, const LineageGraph& graph,
                                     const DomainMap& domains, const AuditQuery& query,
                                     Micros generated_at, const std::string& version);

// The HTML page: diagrams embedded as SVG, printable, no external resources. It ends with a
// comment holding the SHA-256 of everything before that line, so a reader can verify it.
Result<std::string> ReportHtml(const AuditReport& report);
// A PDF: title, evidence (with the content digest), diagrams, then every table, with page
// numbers; tables continue across pages with their header repeated.
Result<std::string> ReportPdf(const AuditReport& report);
// CSV of one table when `table` names it, or of every table: then each table starts with a
// header line "table,<its columns>" and each row with the table's name. Evidence lines come
// first as "# label: value" comments. Written to `sink` line by line, so a large export
// streams. Returns false when `table` names no table.
bool ReportCsv(const AuditReport& report, const std::string& table,
               const std::function<void(std::string_view)>& sink);

}  // namespace tributary
