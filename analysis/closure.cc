#include "analysis/closure.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace tributary {
namespace {

// The nodes a walk has reached (a bit each, cleared word by word after the walk), and its
// working lists, so that a small walk allocates little besides its answer; Trim() lets go
// of what a large one grew.
struct Scratch {
  NodeBits seen;
  std::vector<uint32_t> frontier, next, ids;
  std::vector<std::pair<uint32_t, uint32_t>> neighbours;  // (edge index, node at the far end)

  void Trim() {
    constexpr size_t kKeep = size_t{1} << 16;
    auto trim = [&](auto& v) {
      if (v.capacity() > kKeep) std::decay_t<decltype(v)>().swap(v);
    };
    trim(frontier);
    trim(next);
    trim(ids);
    trim(neighbours);
    seen.Trim(kKeep);
  }

  void Begin(size_t nodes) {
    seen.Clear();
    seen.Reserve(nodes);
  }
};

// Walks are CPU-bound, so at most one per core runs at a time, each with a scratch from
// this pool. One scratch per server thread, when each held a 32-bit mark per node (32 MB at
// 8 million ids), was measured at a gigabyte more resident memory at 10^7 edges. A walk
// that finds every scratch taken waits for one.
class ScratchPool {
 public:
  static ScratchPool& Instance() {
    static ScratchPool pool(std::max(1u, std::thread::hardware_concurrency()));
    return pool;
  }

  std::unique_ptr<Scratch> Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || created_ < limit_; });
    if (free_.empty()) {
      ++created_;
      return std::make_unique<Scratch>();
    }
    std::unique_ptr<Scratch> s = std::move(free_.back());
    free_.pop_back();
    return s;
  }

  void Release(std::unique_ptr<Scratch> s) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(s));
    }
    cv_.notify_one();
  }

 private:
  explicit ScratchPool(size_t limit) : limit_(limit) {}

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Scratch>> free_;
  size_t created_ = 0;
  const size_t limit_;
};

// A scratch for the duration of one walk.
class ScratchLease {
 public:
  ScratchLease() : s_(ScratchPool::Instance().Acquire()) {}
  ~ScratchLease() {
    s_->Trim();
    ScratchPool::Instance().Release(std::move(s_));
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  Scratch& operator*() { return *s_; }

 private:
  std::unique_ptr<Scratch> s_;
};

// Sorts node ids: a radix sort (three passes of 11 bits) for long runs, where std::sort was
// a third of a large closure's time.
void SortIds(std::vector<uint32_t>* ids) {
  if (ids->size() < 2048) {
    std::sort(ids->begin(), ids->end());
    return;
  }
  const uint32_t largest = *std::max_element(ids->begin(), ids->end());
  std::vector<uint32_t> tmp(ids->size());
  for (int shift = 0; shift < 32 && (largest >> shift) != 0; shift += 11) {
    uint32_t count[2049] = {};
    for (uint32_t v : *ids) ++count[((v >> shift) & 2047) + 1];
    for (int i = 0; i < 2048; ++i) count[i + 1] += count[i];
    for (uint32_t v : *ids) tmp[count[(v >> shift) & 2047]++] = v;
    ids->swap(tmp);
  }
}

}  // namespace

bool EdgeVisible(const GraphReader& graph, const GraphEdge& e, const ClosureQuery& query) {
  if (query.as_of ? !e.ValidAt(*query.as_of) : !e.current()) return false;
  if (query.level == Level::kColumn) {
    if (e.kind != EdgeKind::kDerive) return false;
    if (query.direct_only && !graph.has_direct(e.transforms)) return false;
    return true;
  }
  return e.kind != EdgeKind::kDerive;
}

Result<ClosureResult> ComputeClosure(const GraphReader& graph, const ClosureQuery& q) {
  const GraphNode& root = graph.node(q.root);
  if (!root.present || root.kind == NodeKind::kRun) {
    return Status::InvalidArgument("closure root must be a dataset, job or field", "root");
  }
  ClosureQuery query = q;
  NodeId root_id = q.root;
  if (query.level == Level::kDataset && root.kind == NodeKind::kField) root_id = root.dataset;

  // Seeds at distance 0: the root itself, and at column level a dataset's fields.
  std::vector<NodeId> seeds{root_id};
  if (query.level == Level::kColumn && root.kind == NodeKind::kDataset) {
    const auto& f = graph.fields(root_id);
    seeds.insert(seeds.end(), f.begin(), f.end());
  }

  ScratchLease lease;
  Scratch& s = *lease;
  ClosureResult result;
  result.nodes.reserve(64);
  std::vector<uint32_t> adjacent;
  std::vector<uint32_t>& frontier = s.frontier;
  std::vector<uint32_t>& next_frontier = s.next;

  auto run = [&](bool upstream) {
    s.Begin(graph.node_capacity());
    frontier.clear();
    for (NodeId seed : seeds) {
      if (s.seen.Insert(static_cast<uint32_t>(seed)))
        frontier.push_back(static_cast<uint32_t>(seed));
    }
    int d = 0;  // the distance of every node in the frontier
    // A job at column level: its own column edges lead out of it.
    bool job_root = query.level == Level::kColumn && root.kind == NodeKind::kJob;
    if (job_root) {
      frontier.clear();
      // Every edge the job derives: the far ends, in the walk's direction, are at distance 1.
      std::vector<uint32_t> edges;
      std::vector<uint32_t> job_edges;
      // The job's column edges end in fields of the datasets it writes.
      graph.AppendEdges(root_id, /*outgoing=*/true, &edges);
      graph.AppendEdges(root_id, /*outgoing=*/false, &edges);
      for (uint32_t ei : edges) {
        const GraphEdge& de = graph.edge(ei);
        if (de.kind != EdgeKind::kWrite) continue;
        if (query.as_of ? !de.ValidAt(*query.as_of) : !de.current()) continue;
        for (NodeId f : graph.fields(de.to)) {
          adjacent.clear();
          graph.AppendEdges(f, /*outgoing=*/false, &adjacent);
          for (uint32_t ci : adjacent) {
            const GraphEdge& ce = graph.edge(ci);
            if (ce.job != root_id || !EdgeVisible(graph, ce, query)) continue;
            job_edges.push_back(ci);
          }
        }
      }
      for (uint32_t ci : job_edges) {
        const GraphEdge& ce = graph.edge(ci);
        // The job's own edges are not reported: one end of each lies on the other side of
        // the job, outside this direction's closure.
        uint32_t next = upstream ? ce.from : ce.to;
        if (!s.seen.Insert(next)) continue;
        if (query.depth < 0 || 1 <= query.depth) {
          frontier.push_back(next);
          result.nodes.push_back({next, 1, upstream});
        }
      }
      if (query.depth == 0) frontier.clear();
      d = 1;
    }
    // Breadth-first, level by level, so each node gets its shortest distance. At column
    // level the graph expands the levels itself, over its arrays.
    const ColumnEdgeFilter filter{query.as_of, query.direct_only};
    for (; !frontier.empty() && (query.depth < 0 || d < query.depth); ++d) {
      next_frontier.clear();
      if (query.level == Level::kColumn) {
        graph.ExpandColumns(frontier, /*outgoing=*/!upstream, filter, &s.seen,
                            query.collect_edges ? &result.edges : nullptr, &next_frontier);
        for (uint32_t w : next_frontier) result.nodes.push_back({w, d + 1, upstream});
      } else {
        for (uint32_t v : frontier) {
          s.neighbours.clear();
          graph.AppendAdjacent(v, /*outgoing=*/!upstream, &s.neighbours);
          for (auto [ei, w] : s.neighbours) {
            if (!EdgeVisible(graph, graph.edge(ei), query)) continue;
            if (query.collect_edges) result.edges.push_back(ei);
            if (!s.seen.Insert(w)) continue;
            result.nodes.push_back({w, d + 1, upstream});
            next_frontier.push_back(w);
          }
        }
      }
      frontier.swap(next_frontier);
    }
  };

  for (NodeId seed : seeds) result.nodes.push_back({seed, 0, false});
  if (query.direction != Direction::kDownstream) run(/*upstream=*/true);
  if (query.direction != Direction::kUpstream) run(/*upstream=*/false);

  auto by_distance = [](const ClosureNode& a, const ClosureNode& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
  };
  if (query.direction == Direction::kBoth) {
    // A node can be reached both ways; keep its shortest distance.
    std::stable_sort(result.nodes.begin(), result.nodes.end(),
                     [](const ClosureNode& a, const ClosureNode& b) {
                       return a.id != b.id ? a.id < b.id : a.distance < b.distance;
                     });
    result.nodes.erase(
        std::unique(result.nodes.begin(), result.nodes.end(),
                    [](const ClosureNode& a, const ClosureNode& b) { return a.id == b.id; }),
        result.nodes.end());
    std::sort(result.nodes.begin(), result.nodes.end(), by_distance);
    std::sort(result.edges.begin(), result.edges.end());
    result.edges.erase(std::unique(result.edges.begin(), result.edges.end()), result.edges.end());
  } else {
    // One walk: every node was reached once, in order of distance (the seeds first), and
    // every edge crossed once. Only each distance's nodes need sorting.
    std::vector<uint32_t>& ids = s.ids;
    for (auto lo = result.nodes.begin(); lo != result.nodes.end();) {
      auto hi = std::find_if(lo, result.nodes.end(),
                             [&](const ClosureNode& n) { return n.distance != lo->distance; });
      ids.clear();
      for (auto it = lo; it != hi; ++it) ids.push_back(static_cast<uint32_t>(it->id));
      SortIds(&ids);
      for (size_t i = 0; i < ids.size(); ++i) lo[i].id = ids[i];
      lo = hi;
    }
    std::sort(result.edges.begin(), result.edges.end());
  }
  return result;
}

}  // namespace tributary
