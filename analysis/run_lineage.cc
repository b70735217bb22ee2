#include "analysis/run_lineage.h"

#include <deque>
#include <unordered_set>

namespace tributary {

Result<std::vector<UpstreamRun>> UpstreamRuns(const GraphReader& graph, NodeId run, int depth) {
  if (!graph.run(run)) return Status::NotFound("unknown run");
  std::vector<UpstreamRun> out;
  std::unordered_set<NodeId> seen{run};
  std::deque<std::pair<NodeId, int>> queue{{run, 0}};
  while (!queue.empty()) {
    auto [id, d] = queue.front();
    queue.pop_front();
    const GraphRun* r = graph.run(id);
    UpstreamRun u;
    u.run = id;
    u.depth = d;
    for (NodeId dataset : r->inputs) {
      RunInput in;
      in.dataset = dataset;
      const GraphRun* best = nullptr;
      for (NodeId w : graph.runs_writing(dataset)) {
        const GraphRun* c = graph.run(w);
        if (!c || c->id == id || c->state != RunState::kCompleted) continue;
        if (r->started_at != 0 && c->ended_at > r->started_at) continue;
        if (!best || c->ended_at > best->ended_at) best = c;
      }
      if (best) {
        in.produced_by = best->id;
        if (d < depth && seen.insert(best->id).second) queue.emplace_back(best->id, d + 1);
      }
      u.inputs.push_back(in);
    }
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace tributary
