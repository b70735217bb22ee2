// The incident-response endpoints of Service: impact, rootcause, paths, diff and Marquez's
// runlineage/upstream.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "analysis/blast_radius.h"
#include "analysis/closure.h"
#include "analysis/lineage_diff.h"
#include "analysis/lineage_paths.h"
#include "analysis/root_cause.h"
#include "analysis/run_lineage.h"
#include "api/json_output.h"
#include "api/node_ref.h"
#include "api/request_params.h"
#include "api/service.h"

namespace tributary {

using nlohmann::json;

namespace {

json TimeOrNull(Micros t) { return t == 0 || t == kForever ? json(nullptr) : json(FormatTime(t)); }

json RunRef(const GraphReader& g, NodeId run_id) {
  const GraphRun* r = g.run(run_id);
  if (!r) return nullptr;
  const GraphNode& job = g.node(r->job);
  return {{"runId", r->run_id},
          {"job", {{"namespace", g.ns(job)}, {"name", g.name(job)}}},
          {"state", RunStateName(r->state)},
          {"startedAt", TimeOrNull(r->started_at)},
          {"endedAt", TimeOrNull(r->ended_at)}};
}

// Edge JSON plus the run that last reported it (as of `as_of`, when set).
json EdgeWithRun(const GraphReader& g, uint32_t ei, std::optional<Micros> as_of = {}) {
  const GraphEdge& e = g.edge(ei);
  json j = EdgeJson(g, e);
  NodeId run = g.LastReportingRun(e, as_of);
  const GraphRun* r = run == kNoNode ? nullptr : g.run(run);
  j["lastRun"] = r ? json(r->run_id) : json(nullptr);
  return j;
}

// The runs named by a run_id parameter (a runId may be reused by several jobs).
Result<std::vector<NodeId>> ResolveRuns(const GraphStore& store, const std::string& run_id) {
  TRIB_ASSIGN_OR_RETURN(auto names, store.ScanNames(RunIdPrefix(run_id)));
  std::vector<NodeId> runs;
  for (const auto& [key, id] : names) runs.push_back(id);
  if (runs.empty()) return Status::NotFound("no run with runId '" + run_id + "'");
  return runs;
}

}  // namespace

ApiResponse Service::Impact(const Params& p) {
  ImpactQuery q;
  auto walk = ParseWalkParams(p, /*with_depth=*/true);
  if (!walk.ok()) return ErrorResponse(walk.status());
  q.depth = walk->depth;
  q.direct_only = walk->direct_only;
  q.as_of = walk->as_of;
  auto since = ParseTimeParam(p, "since");
  if (!since.ok()) return ErrorResponse(since.status());

  std::string run_id = Param(p, "run_id");
  std::vector<NodeId> runs;
  GraphReader g = graph_->Read();
  if (!run_id.empty()) {
    auto r = ResolveRuns(*store_, run_id);
    if (!r.ok()) return ErrorResponse(r.status());
    runs = *r;
  } else {
    auto ref = ResolveNodeRef(g, p);
    if (!ref.ok()) return ErrorResponse(ref.status());
    q.roots.push_back(ref->id);
  }
  json roots = json::array();
  for (NodeId run : runs) {
    // A broken run: what it wrote (or was to write) is affected.
    const GraphRun* r = g.run(run);
    if (!r) continue;
    for (NodeId out : r->outputs) q.written_by.emplace_back(r->job, out);
    roots.push_back(RunRef(g, run));
  }
  for (NodeId root : q.roots) {
    if (runs.empty()) roots.push_back(NodeJson(g, root));
  }
  auto report = ComputeBlastRadius(g, q);
  if (!report.ok()) return ErrorResponse(report.status());

  // Domains and owners come from the graph. Each affected dataset's object is written
  // once, as text: the answer lists it by domain and owner as well as in one list,
  // and large impacts hold thousands of them (copying them as JSON trees was most of the
  // time of this request).
  struct Group {
    std::set<std::string> owners;
    std::vector<size_t> datasets;  // indices into report->datasets and dataset_text
  };
  std::map<std::string, Group> by_domain;
  std::set<std::string> all_owners;
  std::vector<std::string> dataset_text(report->datasets.size());
  std::vector<std::vector<std::string>> dataset_owners(report->datasets.size());
  size_t columns = 0, approximate = 0;
  for (size_t i = 0; i < report->datasets.size(); ++i) {
    const ImpactedDataset& d = report->datasets[i];
    std::vector<std::string>& owners = dataset_owners[i];
    owners = g.owners(d.dataset);
    const std::string domain = domains_.DomainOf(g, d.dataset);
    std::string& t = dataset_text[i];
    AppendNodeJson(&t, g, d.dataset, &d.distance, nullptr);
    t.pop_back();  // the node's closing brace: its object goes on
    t.append(",\"domain\":");
    AppendJsonString(&t, domain);
    t.append(",\"owners\":");
    AppendJsonStrings(&t, owners);
    AppendBoolMember(&t, "exact", d.exact);
    AppendBoolMember(&t, "wholeDataset", d.whole);
    AppendBoolMember(&t, "indirectOnly", d.indirect_only);
    t.append(",\"columns\":");
    AppendJsonArray(&t, d.columns, [&](const ImpactedColumn& col) {
      t.append("{\"field\":");
      AppendJsonString(&t, g.field(g.node(col.field)));
      t.append(",\"distance\":").append(std::to_string(col.distance));
      AppendBoolMember(&t, "exact", col.exact);
      AppendBoolMember(&t, "indirectOnly", col.indirect_only);
      t.push_back('}');
    });
    t.append(",\"path\":");
    AppendJsonArray(&t, d.path, [&](const PathStep& step) {
      t.append("{\"node\":");
      AppendJsonString(&t, NodeIdOf(g, step.node));
      t.append(",\"job\":");
      if (step.job == kNoNode) {
        t.append("null");
      } else {
        AppendJsonString(&t, NodeIdOf(g, step.job));
      }
      AppendBoolMember(&t, "coverageGap", step.gap);
      t.push_back('}');
    });
    t.push_back('}');
    columns += d.columns.size();
    if (!d.exact) ++approximate;
    Group& group = by_domain[domain];
    group.owners.insert(owners.begin(), owners.end());
    all_owners.insert(owners.begin(), owners.end());
    group.datasets.push_back(i);
  }
  // A list of dataset objects by their indices.
  auto append_datasets = [&](std::string* out, const std::vector<size_t>& list) {
    AppendJsonArray(out, list, [&](size_t i) { out->append(dataset_text[i]); });
  };

  std::string domains_text = "[";
  json summary_domains = json::array();
  for (auto& [domain, group] : by_domain) {
    // Within a domain, datasets by owner (a dataset with several owners is under each).
    std::map<std::string, std::vector<size_t>> by_owner;
    for (size_t i : group.datasets) {
      if (dataset_owners[i].empty()) by_owner["(no owner)"].push_back(i);
      for (const auto& o : dataset_owners[i]) by_owner[o].push_back(i);
    }
    if (domains_text.size() > 1) domains_text.push_back(',');
    domains_text.append("{\"domain\":");
    AppendJsonString(&domains_text, domain);
    domains_text.append(",\"owners\":[");
    bool first = true;
    for (const auto& [owner, list] : by_owner) {
      if (!first) domains_text.push_back(',');
      first = false;
      domains_text.append("{\"owner\":");
      AppendJsonString(&domains_text, owner);
      domains_text.append(",\"datasets\":");
      append_datasets(&domains_text, list);
      domains_text.push_back('}');
    }
    domains_text.append("]}");
    json products = json::array();
    for (size_t i : group.datasets) products.push_back(NodeIdOf(g, report->datasets[i].dataset));
    summary_domains.push_back(
        {{"domain", domain}, {"dataProducts", products}, {"owners", group.owners}});
  }
  domains_text.push_back(']');
  json gaps = json::array();
  for (const auto& gap : report->gaps) {
    gaps.push_back({{"job", NodeIdOf(g, gap.job)},
                    {"from", NodeIdOf(g, gap.from)},
                    {"to", NodeIdOf(g, gap.to)}});
  }
  json jobs = json::array();
  for (NodeId j : report->jobs) jobs.push_back(NodeIdOf(g, j));

  json out;
  out["roots"] = roots;
  out["query"] = {{"depth", q.depth < 0 ? json(nullptr) : json(q.depth)},
                  {"direct_only", q.direct_only},
                  {"as_of", q.as_of ? json(FormatTime(*q.as_of)) : json(nullptr)},
                  {"since", *since ? json(FormatTime(**since)) : json(nullptr)}};
  out["summary"] = {{"datasets", report->datasets.size()},
                    {"columns", columns},
                    {"jobs", report->jobs.size()},
                    {"domains", by_domain.size()},
                    {"owners", all_owners.size()},
                    {"exact", report->gaps.empty()},
                    {"approximateDatasets", approximate},
                    {"hit", summary_domains},
                    {"notify", all_owners}};
  out["coverageGaps"] = gaps;
  out["jobs"] = jobs;

  if (*since) {
    // Runs that started after `since` and read an affected dataset consumed bad data.
    std::map<NodeId, std::set<NodeId>> consumed;  // run -> affected datasets it read
    json clean = json::array();
    for (const auto& d : report->datasets) {
      bool read = false;
      for (NodeId rid : g.runs_reading(d.dataset)) {
        const GraphRun* r = g.run(rid);
        if (!r || r->started_at < **since) continue;
        consumed[rid].insert(d.dataset);
        read = true;
      }
      if (!read) clean.push_back(NodeIdOf(g, d.dataset));
    }
    json runs_json = json::array();
    for (const auto& [rid, read] : consumed) {
      json rj = RunRef(g, rid);
      rj["startedAtMicros"] = g.run(rid)->started_at;  // for sorting; removed below
      json list = json::array();
      for (NodeId ds : read) list.push_back(NodeIdOf(g, ds));
      rj["readAffected"] = list;
      runs_json.push_back(std::move(rj));
    }
    std::stable_sort(runs_json.begin(), runs_json.end(), [](const json& a, const json& b) {
      return a["startedAtMicros"].get<Micros>() < b["startedAtMicros"].get<Micros>();
    });
    for (auto& rj : runs_json) rj.erase("startedAtMicros");
    out["runs"] = {{"since", FormatTime(**since)},
                   {"consumedAffectedData", runs_json},
                   {"notReadSince", clean}};
  }
  // The rest of the answer as JSON, then the two lists of dataset objects written above.
  ApiResponse r = JsonResponse(200, out);
  r.body.pop_back();  // the closing brace
  r.body.append(",\"domains\":").append(domains_text);
  r.body.append(",\"datasets\":");
  AppendJsonArray(&r.body, dataset_text, [&](const std::string& t) { r.body.append(t); });
  r.body.push_back('}');
  return r;
}

ApiResponse Service::RootCause(const Params& p) {
  RootCauseQuery q;
  auto depth = ParseDepth(p);
  if (!depth.ok()) return ErrorResponse(depth.status());
  q.depth = *depth;
  auto as_of = ParseTimeParam(p, "as_of");
  if (!as_of.ok()) return ErrorResponse(as_of.status());
  q.as_of = *as_of;
  auto stale = ParseInt(p, "stale_after_hours", 24, 0, 24 * 365 * 10);
  if (!stale.ok()) return ErrorResponse(stale.status());
  q.stale_after = Micros{*stale} * 3600 * 1000000;
  q.now = NowMicros();
  GraphReader g = graph_->Read();
  auto ref = ResolveNodeRef(g, p);
  if (!ref.ok()) return ErrorResponse(ref.status());
  q.root = ref->id;
  auto report = FindRootCauses(g, q);
  if (!report.ok()) return ErrorResponse(report.status());
  json suspects = json::array();
  for (const auto& s : report->suspects) {
    json j = NodeJson(g, s.job);
    j["distance"] = s.distance;
    j["reason"] = s.failed ? (s.stale ? "failed and stale" : "failed") : "stale";
    j["latestRun"] = s.latest_run == kNoNode ? json(nullptr) : RunRef(g, s.latest_run);
    if (s.latest_run != kNoNode) {
      j["latestRun"]["state"] = RunStateName(s.latest_state);
      // As of a past time, a run still going then had not ended.
      if (s.latest_state == RunState::kRunning) j["latestRun"]["endedAt"] = nullptr;
    }
    j["errorMessage"] = s.error_message.empty() ? json(nullptr) : json(s.error_message);
    j["lastSuccess"] = TimeOrNull(s.last_success);
    suspects.push_back(std::move(j));
  }
  json out = {{"root", NodeJson(g, q.root)},
              {"query",
               {{"as_of", q.as_of ? json(FormatTime(*q.as_of)) : json(nullptr)},
                {"reference_time", FormatTime(q.as_of ? *q.as_of : q.now)},
                {"stale_after_hours", *stale},
                {"depth", q.depth < 0 ? json(nullptr) : json(q.depth)}}},
              {"jobsChecked", report->jobs_checked},
              {"suspects", suspects}};
  return JsonResponse(200, out);
}

ApiResponse Service::Paths(const Params& p) {
  PathQuery q;
  auto k = ParseInt(p, "k", 3, 1, 100);
  if (!k.ok()) return ErrorResponse(k.status());
  q.k = *k;
  auto walk = ParseWalkParams(p, /*with_depth=*/false);
  if (!walk.ok()) return ErrorResponse(walk.status());
  q.direct_only = walk->direct_only;
  q.as_of = walk->as_of;
  for (const char* end : {"from", "to"}) {
    if (Param(p, end).empty()) {
      return ErrorResponse(
          Status::InvalidArgument(std::string("missing parameter '") + end +
                                      "' (a node id such as datasetField:ns:name:field)",
                                  end));
    }
  }
  GraphReader g = graph_->Read();
  for (const char* end : {"from", "to"}) {
    auto ref = ResolveNodeRef(g, p, end);
    if (!ref.ok()) return ErrorResponse(ref.status());
    (std::string(end) == "from" ? q.from : q.to) = ref->id;
  }
  auto result = FindPaths(g, q);
  if (!result.ok()) return ErrorResponse(result.status());
  json paths = json::array();
  for (const auto& path : result->paths) {
    json edges = json::array();
    for (uint32_t ei : path) edges.push_back(EdgeWithRun(g, ei, q.as_of));
    paths.push_back({{"length", path.size()}, {"edges", edges}});
  }
  json out = {{"from", NodeJson(g, q.from)},
              {"to", NodeJson(g, q.to)},
              {"query",
               {{"k", q.k},
                {"direct_only", q.direct_only},
                {"as_of", q.as_of ? json(FormatTime(*q.as_of)) : json(nullptr)}}},
              {"paths", paths},
              {"morePaths", result->more}};
  return JsonResponse(200, out);
}

ApiResponse Service::Diff(const Params& p) {
  auto from = ParseTimeParam(p, "from");
  if (!from.ok()) return ErrorResponse(from.status());
  auto to = ParseTimeParam(p, "to");
  if (!to.ok()) return ErrorResponse(to.status());
  if (!*from) return ErrorResponse(Status::InvalidArgument("missing parameter 'from'", "from"));
  Micros until = *to ? **to : NowMicros();
  GraphReader g = graph_->Read();
  auto base = ParseClosureQuery(g, p, "both");
  if (!base.ok()) return ErrorResponse(base.status());
  auto diff = ComputeDiff(g, *base, **from, until);
  if (!diff.ok()) return ErrorResponse(diff.status());
  json added = json::array(), retired = json::array();
  for (uint32_t ei : diff->added) added.push_back(EdgeWithRun(g, ei, until));
  for (uint32_t ei : diff->retired) retired.push_back(EdgeWithRun(g, ei, until));
  json query = ClosureQueryJson(*base);
  query.erase("as_of");
  json out = {{"root", NodeJson(g, base->root)}, {"query", query}, {"from", FormatTime(**from)},
              {"to", FormatTime(until)},         {"added", added}, {"retired", retired}};
  return JsonResponse(200, out);
}

ApiResponse Service::RunLineageUpstream(const Params& p) {
  std::string run_id = Param(p, "runId");
  if (run_id.empty()) {
    return ErrorResponse(Status::InvalidArgument("missing parameter 'runId'", "runId"));
  }
  auto depth = ParseInt(p, "depth", 20, 0, 1000);
  if (!depth.ok()) return ErrorResponse(depth.status());
  auto runs = ResolveRuns(*store_, run_id);
  if (!runs.ok()) return ErrorResponse(runs.status());
  GraphReader g = graph_->Read();
  json out_runs = json::array();
  std::set<NodeId> listed;
  for (NodeId start : *runs) {
    auto up = UpstreamRuns(g, start, *depth);
    if (!up.ok()) return ErrorResponse(up.status());
    for (const auto& u : *up) {
      if (!listed.insert(u.run).second) continue;
      const GraphRun* r = g.run(u.run);
      const GraphNode& job = g.node(r->job);
      json inputs = json::array();
      for (const auto& in : u.inputs) {
        const GraphNode& d = g.node(in.dataset);
        const GraphRun* producer = in.produced_by == kNoNode ? nullptr : g.run(in.produced_by);
        inputs.push_back({{"namespace", g.ns(d)},
                          {"name", g.name(d)},
                          {"version", nullptr},
                          {"producedByRunId", producer ? json(producer->run_id) : json(nullptr)}});
      }
      out_runs.push_back(
          {{"job", {{"namespace", g.ns(job)}, {"name", g.name(job)}, {"version", nullptr}}},
           {"run",
            {{"id", r->run_id},
             {"start", TimeOrNull(r->started_at)},
             {"end", TimeOrNull(r->ended_at)},
             {"status", RunStateName(r->state)}}},
           {"inputs", inputs}});
    }
  }
  return JsonResponse(200, {{"runs", out_runs}});
}

}  // namespace tributary
