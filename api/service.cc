#include "api/service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "analysis/closure.h"
#include "api/json_output.h"
#include "api/node_ref.h"
#include "api/request_params.h"
#include "store/store_writer.h"
#include "store/text_codec.h"

namespace tributary {

using nlohmann::json;

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

ApiResponse ErrorResponse(const Status& status) {
  json body = {{"error", status.message()}, {"code", StatusCodeName(status.code())}};
  body["path"] = status.path();
  return JsonResponse(HttpStatusFor(status.code()), body);
}

Service::Service(ServiceOptions options) : options_(std::move(options)) {}

Service::~Service() {
  pipeline_.reset();  // drains the queue before the store closes
}

Result<std::unique_ptr<Service>> Service::Open(const ServiceOptions& options) {
  std::unique_ptr<Service> s(new Service(options));
  if (!options.domain_map_path.empty()) {
    TRIB_ASSIGN_OR_RETURN(s->domains_, DomainMap::Load(options.domain_map_path));
  }
  TRIB_ASSIGN_OR_RETURN(s->store_, GraphStore::Open(options.store));
  if (s->store_->rebuilding() && !options.allow_interrupted_rebuild) {
    return Status::FailedPrecondition(
        "the store's last rebuild was interrupted and its graph is incomplete: run "
        "'tributary rebuild' to finish it");
  }
  if (options.ingest_only) {
    s->graph_ = std::make_unique<LineageGraph>();
  } else {
    TRIB_ASSIGN_OR_RETURN(s->graph_, LineageGraph::Load(*s->store_));
  }
  s->StartPipeline();
  return s;
}

void Service::StartPipeline() {
  IngestPipeline::CommitListener listener;
  if (!options_.ingest_only) {
    LineageGraph* g = graph_.get();
    listener = [g](const GraphDelta& d) { g->ApplyDelta(d); };
  }
  // An ingest-only service belongs to a process that exits when the ingest is done.
  pipeline_ = std::make_unique<IngestPipeline>(*store_, std::move(listener),
                                               IngestPipeline::kMaxGroup, options_.ingest_only);
}

Service::ParsedChunk Service::ParseTexts(std::vector<std::string> texts) {
  size_t n = texts.size();
  ParsedChunk chunk;
  chunk.results.assign(n, Status::Internal("not processed"));
  std::vector<std::optional<IngestItem>> items(n);
  auto parse_range = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      std::string canonical;
      Result<ParsedEvent> ev = parser_.Parse(texts[i], &canonical);
      if (!ev.ok()) {
        chunk.results[i] = ev.status();
        continue;
      }
      items[i] =
          IngestItem{std::move(ev).value(), EncodeStoredText(texts[i]), EventDigest(canonical)};
    }
  };
  // Parsing (and compressing each event for the log) is the costly part of ingest: spread
  // large batches over the cores.
  // (hardware_concurrency reads sysfs on every call: a single event must not pay for it.)
  size_t threads = n / 64 + 1;
  if (threads > 1)
    threads = std::min<size_t>(threads, std::max(1u, std::thread::hardware_concurrency()));
  if (threads <= 1) {
    parse_range(0, n);
  } else {
    // The calling thread parses the first part: one thread fewer to start and end per
    // batch (each end flushes the thread's allocation cache and returns its stack).
    std::vector<std::future<void>> parts;
    size_t per = (n + threads - 1) / threads;
    for (size_t b = per; b < n; b += per) {
      parts.push_back(std::async(std::launch::async, parse_range, b, std::min(n, b + per)));
    }
    parse_range(0, std::min(n, per));
    for (auto& p : parts) p.get();
  }
  for (size_t i = 0; i < n; ++i) {
    if (items[i]) {
      chunk.valid.push_back(std::move(*items[i]));
      chunk.where.push_back(i);
    }
  }
  return chunk;
}

Service::Submission Service::Enqueue(ParsedChunk chunk) {
  Submission s;
  s.applied = pipeline_->Enqueue(std::move(chunk.valid));
  s.chunk = std::move(chunk);
  return s;
}

std::vector<Result<ApplyOutcome>> Service::Submit(ParsedChunk chunk) {
  return Finish(Enqueue(std::move(chunk)));
}

std::vector<Result<ApplyOutcome>> Service::Finish(Submission s) {
  ParsedChunk& chunk = s.chunk;
  for (size_t k = 0; k < chunk.where.size(); ++k) {
    chunk.results[chunk.where[k]] = s.applied[k].get();
  }
  uint64_t accepted = 0, rejected = 0, duplicates = 0;
  for (const auto& r : chunk.results) {
    if (r.ok()) {
      ++accepted;
      if (r->duplicate) ++duplicates;
    } else if (r.status().code() == StatusCode::kInvalidArgument) {
      ++rejected;
    }
  }
  metrics_.EventsAccepted(accepted - duplicates);
  metrics_.EventsDuplicate(duplicates);
  metrics_.EventsRejected(rejected);
  return std::move(chunk.results);
}

std::vector<Result<ApplyOutcome>> Service::IngestTexts(std::vector<std::string> texts) {
  return Submit(ParseTexts(std::move(texts)));
}

ApiResponse Service::PostLineage(std::string_view body) {
  if (body.size() > options_.max_body_bytes) {
    metrics_.EventsRejected(1);
    return ErrorResponse(Status::TooLarge("event of " + std::to_string(body.size()) +
                                          " bytes exceeds the limit of " +
                                          std::to_string(options_.max_body_bytes)));
  }
  std::vector<std::string> one{std::string(body)};
  Result<ApplyOutcome> r = std::move(IngestTexts(std::move(one)).front());
  if (!r.ok()) return ErrorResponse(r.status());
  return JsonResponse(201, {{"status", r->duplicate ? "duplicate" : "created"}});
}

ApiResponse Service::PostBatch(std::string_view body, bool ndjson) {
  if (body.size() > options_.max_body_bytes) {
    return ErrorResponse(Status::TooLarge("batch of " + std::to_string(body.size()) +
                                          " bytes exceeds the limit of " +
                                          std::to_string(options_.max_body_bytes)));
  }
  Result<std::vector<std::string>> texts = parser_.SplitBatch(body, ndjson);
  if (!texts.ok()) return ErrorResponse(texts.status());
  size_t received = texts->size();
  std::vector<Result<ApplyOutcome>> results = IngestTexts(std::move(texts).value());
  json failed = json::array();
  uint64_t ok = 0, retriable = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      ++ok;
      continue;
    }
    const Status& s = results[i].status();
    bool retry = s.code() == StatusCode::kUnavailable;  // the store could not commit
    if (retry) ++retriable;
    failed.push_back({{"index", i},
                      {"reason", s.message()},
                      {"error", s.message()},
                      {"path", s.path()},
                      {"retriable", retry}});
  }
  uint64_t bad = received - ok;
  json out = {{"status", bad == 0 ? "success" : (ok == 0 ? "failure" : "partial_success")},
              {"accepted", ok},
              {"summary",
               {{"received", received},
                {"successful", ok},
                {"failed", bad},
                {"retriable", retriable},
                {"non_retriable", bad - retriable}}},
              {"failed_events", failed}};
  return JsonResponse(200, out);
}

ApiResponse Service::Closure(const Params& params) {
  GraphReader reader = graph_->Read();
  Result<ClosureQuery> parsed = ParseClosureQuery(reader, params, "downstream");
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  Result<bool> with_edges = ParseBool(params, "edges", true);
  if (!with_edges.ok()) return ErrorResponse(with_edges.status());
  parsed->collect_edges = *with_edges;
  const ClosureQuery& q = *parsed;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  Result<ClosureResult> result = ComputeClosure(reader, q);
  if (!result.ok()) return ErrorResponse(result.status());
  const Clock::time_point computed = Clock::now();
  ApiResponse r;
  AppendClosureAnswer(&r.body, reader, q, *result);
  // The W3C Server-Timing header, in milliseconds: the walk, and writing its answer.
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  char timing[96];
  std::snprintf(timing, sizeof timing, "closure;dur=%.4f, json;dur=%.4f", ms(computed - start),
                ms(Clock::now() - computed));
  r.headers.emplace_back("Server-Timing", timing);
  return r;
}

ApiResponse Service::GetDataset(const std::string& ns, const std::string& name) {
  Result<std::optional<NodeId>> id = store_->FindName(DatasetNameKey(ns, name));
  if (!id.ok()) return ErrorResponse(id.status());
  if (!*id)
    return ErrorResponse(Status::NotFound("no dataset '" + name + "' in namespace '" + ns + "'"));
  Result<json> j = DatasetDetailJson(*store_, *graph_, **id);
  if (!j.ok()) return ErrorResponse(j.status());
  return JsonResponse(200, *j);
}

ApiResponse Service::GetJob(const std::string& ns, const std::string& name) {
  Result<std::optional<NodeId>> id = store_->FindName(JobNameKey(ns, name));
  if (!id.ok()) return ErrorResponse(id.status());
  if (!*id)
    return ErrorResponse(Status::NotFound("no job '" + name + "' in namespace '" + ns + "'"));
  Result<json> j = JobDetailJson(*store_, *graph_, **id);
  if (!j.ok()) return ErrorResponse(j.status());
  return JsonResponse(200, *j);
}

ApiResponse Service::Stats() {
  GraphCounts c = graph_->Read().counts();
  return JsonResponse(200, {{"events", store_->event_count()},
                            {"datasets", c.datasets},
                            {"jobs", c.jobs},
                            {"runs", c.runs},
                            {"fields", c.fields},
                            {"columnEdges", c.current_column_edges},
                            {"datasetEdges", c.current_dataset_edges},
                            {"edgeRecords", c.edges}});
}

ApiResponse Service::Health() { return JsonResponse(200, {{"status", "ok"}}); }

ApiResponse Service::MetricsText() {
  GraphCounts c = graph_->Read().counts();
  std::string extra;
  extra += "# HELP tributary_graph_nodes Nodes in the lineage graph by kind.\n";
  extra += "# TYPE tributary_graph_nodes gauge\n";
  extra += "tributary_graph_nodes{kind=\"dataset\"} " + std::to_string(c.datasets) + "\n";
  extra += "tributary_graph_nodes{kind=\"job\"} " + std::to_string(c.jobs) + "\n";
  extra += "tributary_graph_nodes{kind=\"field\"} " + std::to_string(c.fields) + "\n";
  extra += "tributary_graph_nodes{kind=\"run\"} " + std::to_string(c.runs) + "\n";
  extra += "# HELP tributary_graph_edges Current edges in the lineage graph by kind.\n";
  extra += "# TYPE tributary_graph_edges gauge\n";
  extra +=
      "tributary_graph_edges{kind=\"column\"} " + std::to_string(c.current_column_edges) + "\n";
  extra +=
      "tributary_graph_edges{kind=\"dataset\"} " + std::to_string(c.current_dataset_edges) + "\n";
  extra += "# HELP tributary_store_events Events in the raw event log.\n";
  extra += "# TYPE tributary_store_events gauge\n";
  extra += "tributary_store_events " + std::to_string(store_->event_count()) + "\n";
  ApiResponse r;
  r.body = metrics_.Render(extra);
  r.content_type = "text/plain; version=0.0.4";
  return r;
}

Result<IngestSummary> Service::IngestFiles(
    const std::vector<std::string>& paths,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".json" || ext == ".ndjson" || ext == ".jsonl")) {
          found.push_back(e.path());
        }
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.emplace_back(p);
    } else {
      return Status::NotFound("no such file or directory: " + p);
    }
  }
  uint64_t total = 0;
  for (const auto& f : files) total += fs::file_size(f);
  IngestSummary summary;

  // Each chunk is read and parsed while the ones before it are applied and committed, and
  // is queued before the ones before it are waited for, so the writer never waits for it.
  struct Pending {
    Submission submission;
    std::vector<std::string> sources;
    uint64_t bytes_done = 0;
  };
  std::deque<Pending> pending;
  size_t queued = 0;  // events of the chunks in `pending`
  auto collect_oldest = [&] {
    Pending& p = pending.front();
    queued -= p.sources.size();
    std::vector<Result<ApplyOutcome>> results = Finish(std::move(p.submission));
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].ok()) {
        ++summary.accepted;
        if (results[i]->duplicate) ++summary.duplicates;
      } else {
        const Status& s = results[i].status();
        summary.rejected.push_back({p.sources[i], s.message(), s.path()});
      }
    }
    if (progress) progress(p.bytes_done, total);
    pending.pop_front();
  };
  auto collect = [&] {
    while (!pending.empty()) collect_oldest();
  };
  // Chunks start small and double up to kChunk: the writer starts on the first events
  // while the next are parsed, rather than waiting for a whole first chunk to be parsed (a
  // third of the time of a file of 1,200 events). Up to kChunk events stay queued while
  // the next chunk is parsed: the small first chunks are not waited for one by one (the
  // writer sat idle while the next was parsed), and a large file keeps one chunk queued
  // and one being parsed, as before.
  constexpr size_t kFirstChunk = 64;
  constexpr size_t kChunk = 1024;
  size_t chunk_size = kFirstChunk;
  auto dispatch = [&](std::vector<std::string> texts, std::vector<std::string> sources,
                      uint64_t bytes_done) {
    ParsedChunk chunk = ParseTexts(std::move(texts));
    queued += sources.size();
    pending.push_back({Enqueue(std::move(chunk)), std::move(sources), bytes_done});
    chunk_size = std::min(kChunk, chunk_size * 2);
    while (queued > kChunk) collect_oldest();
  };

  uint64_t done = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      collect();  // what was queued is applied all the same
      return Status::Unavailable("cannot read " + f.string());
    }
    // A JSON array, or a .json file of one event, is read whole; NDJSON is streamed.
    char c = 0;
    while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
    }
    bool array = in && c == '[';
    in.clear();
    in.seekg(0);
    if (array || f.extension() == ".json") {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string body = ss.str();
      std::vector<std::string> texts, sources;
      if (!array) {
        texts.push_back(std::move(body));
        sources.push_back(f.string());
      } else {
        Result<std::vector<std::string>> split = parser_.SplitBatch(body, /*ndjson=*/false);
        if (!split.ok()) {
          collect();
          summary.rejected.push_back({f.string(), split.status().message(), split.status().path()});
          done += fs::file_size(f);
          continue;
        }
        texts = std::move(split).value();
        for (size_t i = 0; i < texts.size(); ++i) {
          sources.push_back(f.string() + "[" + std::to_string(i) + "]");
        }
      }
      done += fs::file_size(f);
      for (size_t b = 0; b < texts.size();) {
        const size_t e = std::min(texts.size(), b + chunk_size);
        dispatch(std::vector<std::string>(std::make_move_iterator(texts.begin() + b),
                                          std::make_move_iterator(texts.begin() + e)),
                 std::vector<std::string>(sources.begin() + b, sources.begin() + e), done);
        b = e;
      }
      continue;
    }
    std::vector<std::string> texts, sources;
    size_t line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      done += line.size() + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      texts.push_back(std::move(line));
      sources.push_back(f.string() + ":" + std::to_string(line_no));
      if (texts.size() == chunk_size) {
        dispatch(std::move(texts), std::move(sources), std::min(done, total));
        texts.clear();
        sources.clear();
      }
    }
    if (!texts.empty()) dispatch(std::move(texts), std::move(sources), std::min(done, total));
  }
  collect();
  if (progress) progress(total, total);
  return summary;
}

Status Service::Rebuild() {
  pipeline_.reset();
  TRIB_RETURN_IF_ERROR(store_->ResetDerived());
  std::unique_ptr<StoreWriter> writer = store_->NewWriter();
  EventApplier applier;
  uint64_t skipped = 0;
  Status status = store_->ForEachEvent([&](uint64_t seq, std::string_view bytes) -> Status {
    std::string canonical;
    Result<ParsedEvent> ev = parser_.Parse(bytes, &canonical);
    if (!ev.ok()) {
      ++skipped;  // stored by an older, more lenient version: kept in the log, not applied
      return Status::Ok();
    }
    writer->SetSavePoint();
    Result<ApplyOutcome> r = applier.Apply(*ev, bytes, EventDigest(canonical), *writer, seq);
    if (!r.ok()) {
      TRIB_RETURN_IF_ERROR(writer->RollbackToSavePoint());
      ++skipped;
      return Status::Ok();
    }
    writer->PopSavePoint();
    if (writer->pending_bytes() > (32 << 20)) TRIB_RETURN_IF_ERROR(store_->Commit(*writer));
    return Status::Ok();
  });
  if (status.ok()) status = store_->Commit(*writer);
  // An ingest-only service's process exits once the rebuild is done.
  if (options_.ingest_only) writer->AbandonCache();
  writer.reset();
  if (status.ok()) status = store_->FinishRebuild();
  if (status.ok() && !options_.ingest_only) {
    auto graph = LineageGraph::Load(*store_);
    if (graph.ok()) {
      graph_ = std::move(graph).value();
    } else {
      status = graph.status();
    }
  }
  StartPipeline();
  TRIB_RETURN_IF_ERROR(status);
  if (skipped > 0) {
    return Status::DataLoss(std::to_string(skipped) +
                            " logged events could not be applied; they remain in the log");
  }
  return Status::Ok();
}

}  // namespace tributary
