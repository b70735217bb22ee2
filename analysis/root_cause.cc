#include "analysis/root_cause.h"

#include <algorithm>
#include <map>

#include "analysis/closure.h"

namespace tributary {

Result<RootCauseReport> FindRootCauses(const GraphReader& graph, const RootCauseQuery& query) {
  const GraphNode& root = graph.node(query.root);
  if (!root.present || (root.kind != NodeKind::kDataset && root.kind != NodeKind::kField)) {
    return Status::InvalidArgument("root cause needs a dataset or a field", "kind");
  }
  ClosureQuery cq;
  cq.root = query.root;
  cq.direction = Direction::kUpstream;
  cq.level = root.kind == NodeKind::kField ? Level::kColumn : Level::kDataset;
  cq.as_of = query.as_of;
  if (query.depth >= 0) cq.depth = cq.level == Level::kDataset ? 2 * query.depth : query.depth;
  TRIB_ASSIGN_OR_RETURN(ClosureResult closure, ComputeClosure(graph, cq));

  // Candidate jobs with their distance in dataset hops.
  std::map<NodeId, int> jobs;
  if (cq.level == Level::kDataset) {
    for (const auto& n : closure.nodes) {
      if (graph.node(n.id).kind == NodeKind::kJob) jobs.emplace(n.id, (n.distance + 1) / 2);
    }
  } else {
    std::map<NodeId, int> dist;
    for (const auto& n : closure.nodes) dist[n.id] = n.distance;
    for (uint32_t ei : closure.edges) {
      const GraphEdge& e = graph.edge(ei);
      if (e.job == kNoNode || !dist.count(e.from)) continue;
      int d = dist[e.from];
      auto [it, inserted] = jobs.emplace(e.job, d);
      if (!inserted) it->second = std::min(it->second, d);
    }
  }

  const Micros reference = query.as_of ? *query.as_of : query.now;
  RootCauseReport report;
  report.jobs_checked = jobs.size();
  for (const auto& [job, distance] : jobs) {
    Suspect s;
    s.job = job;
    s.distance = distance;
    // The latest run as of the reference time, and the latest success before it.
    const GraphRun* latest = nullptr;
    for (NodeId rid : graph.runs_of_job(job)) {
      const GraphRun* r = graph.run(rid);
      if (!r || r->started_at > reference) continue;
      if (!latest || r->started_at > latest->started_at ||
          (r->started_at == latest->started_at && r->id > latest->id)) {
        latest = r;
      }
      bool succeeded = r->state == RunState::kCompleted && r->ended_at <= reference;
      if (succeeded && r->ended_at > s.last_success) s.last_success = r->ended_at;
    }
    if (latest) {
      s.latest_run = latest->id;
      s.latest_state = latest->state;
      // As of a past time, a run that ended later was still running then.
      if (latest->ended_at > reference) s.latest_state = RunState::kRunning;
      s.error_message = s.latest_state == RunState::kFailed ? latest->error_message : "";
    }
    s.failed = s.latest_state == RunState::kFailed || s.latest_state == RunState::kAborted;
    s.stale = s.last_success == 0 || reference - s.last_success > query.stale_after;
    if (s.failed || s.stale) report.suspects.push_back(std::move(s));
  }
  std::stable_sort(report.suspects.begin(), report.suspects.end(),
                   [](const Suspect& a, const Suspect& b) {
                     if (a.distance != b.distance) return a.distance < b.distance;
                     if (a.failed != b.failed) return a.failed;  // failures before staleness
                     return a.job < b.job;
                   });
  return report;
}

}  // namespace tributary
