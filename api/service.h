// Service: Tributary's operations, independent of transport.
//
// The HTTP server and the command line both call these. Each query operation takes the
// request's parameters and returns an ApiResponse (status, JSON body); errors are JSON
// bodies {"error": ..., "path": ...} built by one function, ErrorResponse.
//
// Thread safety: all methods may be called concurrently, except Rebuild, which needs the
// service to itself.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/domain_map.h"
#include "analysis/lineage_graph.h"
#include "api/metrics.h"
#include "common/status.h"
#include "ingest/event_parser.h"
#include "ingest/ingest_pipeline.h"
#include "store/graph_store.h"

namespace tributary {

struct ServiceOptions {
  StoreOptions store;
  // Largest event or batch body accepted, in bytes, as sent and after gzip decoding.
  size_t max_body_bytes = size_t{16} << 20;
  // Open a store whose last rebuild was interrupted (only to rebuild it).
  bool allow_interrupted_rebuild = false;
  // Namespace-prefix to domain mapping file (analysis/domain_map.h); empty: none.
  std::string domain_map_path;
  // Neither load the in-memory graph nor keep it up to date: for a process that ingests and
  // exits (the `ingest` command), which then needs half the memory and starts at once on a
  // large store. The graph stays empty: queries find nothing.
  bool ingest_only = false;
};

using Params = std::map<std::string, std::string>;

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  // Extra response headers, such as Server-Timing.
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is produced piece by piece instead (large exports): the function
  // calls its argument with each piece, in order, and stops early when it returns false.
  std::function<void(const std::function<bool(std::string_view)>&)> stream;
};

// The one mapping from Status to an HTTP answer.
ApiResponse ErrorResponse(const Status& status);
int HttpStatusFor(StatusCode code);

struct IngestSummary {
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  struct Rejection {
    std::string source;  // file and line or index
    std::string error;
    std::string path;
  };
  std::vector<Rejection> rejected;
};

class Service {
 public:
  static Result<std::unique_ptr<Service>> Open(const ServiceOptions& options);
  ~Service();

  // POST /api/v1/lineage: one event. 201 on success.
  ApiResponse PostLineage(std::string_view body);
  // POST /api/v1/lineage/batch: a JSON array, or NDJSON when `ndjson`.
  ApiResponse PostBatch(std::string_view body, bool ndjson);
  // GET /api/v1/closure.
  ApiResponse Closure(const Params& params);
  // GET /api/v1/namespaces/{ns}/datasets/{name} and .../jobs/{name}.
  ApiResponse GetDataset(const std::string& ns, const std::string& name);
  ApiResponse GetJob(const std::string& ns, const std::string& name);
  ApiResponse Stats();
  // Incident response (api/incident_handlers.cc; docs/api.md).
  ApiResponse Impact(const Params& params);              // GET /api/v1/impact
  ApiResponse RootCause(const Params& params);           // GET /api/v1/rootcause
  ApiResponse Paths(const Params& params);               // GET /api/v1/paths
  ApiResponse Diff(const Params& params);                // GET /api/v1/diff
  ApiResponse RunLineageUpstream(const Params& params);  // GET /api/v1/runlineage/upstream
  // GET /api/v1/render: a diagram (api/render_handler.cc).
  ApiResponse Render(const Params& params);
  // GET /api/v1/reports/audit (api/report_handler.cc). `caller`: the identity the request
  // carries, or empty.
  ApiResponse AuditReport(const Params& params, const std::string& caller);
  ApiResponse Health();
  ApiResponse MetricsText();

  // Ingests events from files (.json: one event or an array; anything else: NDJSON).
  // `progress(done_bytes, total_bytes)` is called now and then.
  Result<IngestSummary> IngestFiles(const std::vector<std::string>& paths,
                                    const std::function<void(uint64_t, uint64_t)>& progress);

  // Rebuilds every derived record from the event log, then reloads the graph.
  Status Rebuild();

  Metrics& metrics() { return metrics_; }
  GraphStore& store() { return *store_; }
  const LineageGraph& graph() const { return *graph_; }
  const ServiceOptions& options() const { return options_; }

 private:
  explicit Service(ServiceOptions options);
  // The ingest pipeline, keeping the graph up to date unless ingest_only.
  void StartPipeline();
  // Events parsed (on all cores) and waiting to be submitted; `results` holds the
  // rejections, by index, and `where` the index of each valid event.
  struct ParsedChunk {
    std::vector<Result<ApplyOutcome>> results;
    std::vector<IngestItem> valid;
    std::vector<size_t> where;
  };
  ParsedChunk ParseTexts(std::vector<std::string> texts);
  // A chunk whose valid events are queued for the writer, in order.
  struct Submission {
    ParsedChunk chunk;
    std::vector<std::future<Result<ApplyOutcome>>> applied;
  };
  Submission Enqueue(ParsedChunk chunk);
  // Waits for a submission; returns every event's result, by index.
  std::vector<Result<ApplyOutcome>> Finish(Submission s);
  // Both.
  std::vector<Result<ApplyOutcome>> Submit(ParsedChunk chunk);
  // Both, for one request.
  std::vector<Result<ApplyOutcome>> IngestTexts(std::vector<std::string> texts);

  ServiceOptions options_;
  std::unique_ptr<GraphStore> store_;
  std::unique_ptr<LineageGraph> graph_;
  std::unique_ptr<IngestPipeline> pipeline_;
  EventParser parser_;
  Metrics metrics_;
  DomainMap domains_;
};

}  // namespace tributary
