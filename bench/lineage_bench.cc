// Tributary's in-process benchmarks (Google Benchmark): ingest and closure on generated
// meshes, each next to its ceiling. docs/benchmarks.md has the figures and the commands.
//
//   build/lineage_bench [--benchmark_filter=...]    (sizes: TRIB_BENCH_EDGES, default 1e5,1e6)
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>

#include "analysis/closure.h"
#include "analysis/lineage_graph.h"
#include "api/json_output.h"
#include "api/service.h"
#include "bench/mesh_generator.h"
#include "ingest/event_applier.h"
#include "ingest/event_parser.h"
#include "ingest/ingest_pipeline.h"
#include "store/graph_store.h"

namespace tributary {
namespace {

namespace fs = std::filesystem;

// Datasets for about `edges` column edges with the generator's defaults.
uint64_t DatasetsFor(uint64_t edges) { return std::max<uint64_t>(40, edges * 4 / (3 * 58)); }

// Lineage depth of the closure meshes: TRIB_BENCH_LAYERS (default 4).
int Layers() {
  const char* env = std::getenv("TRIB_BENCH_LAYERS");
  return env ? std::max(2, std::atoi(env)) : 4;
}

std::vector<std::string> Events(uint64_t datasets, int runs = 1, int layers = 4) {
  MeshOptions o;
  o.datasets = datasets;
  o.runs = runs;
  o.layers = layers;
  std::vector<std::string> out;
  MeshGenerator(o).Generate([&](const std::string& e) { out.push_back(e); });
  return out;
}

// A loaded mesh: store, graph, and roots to query from.
struct Mesh {
  std::string dir;
  std::unique_ptr<GraphStore> store;
  std::unique_ptr<LineageGraph> graph;
  std::vector<NodeId> sources;  // fields of the first layer
  std::vector<NodeId> sinks;    // fields of the last layer
  uint64_t column_edges = 0;
};

// Loaded meshes by size; cleared before exit, while RocksDB can still close them.
std::map<uint64_t, std::unique_ptr<Mesh>> meshes;

Mesh& LoadMesh(uint64_t edges) {
  auto& slot = meshes[edges];
  if (slot) return *slot;
  slot = std::make_unique<Mesh>();
  Mesh& m = *slot;
  m.dir = (fs::temp_directory_path() / ("trib_bench_" + std::to_string(edges))).string();
  fs::remove_all(m.dir);
  StoreOptions so;
  so.path = m.dir;
  so.sync = false;  // setup only
  m.store = std::move(GraphStore::Open(so)).value();
  {
    IngestPipeline pipeline(*m.store, nullptr, 1024);
    EventParser parser;
    std::vector<IngestItem> items;
    uint64_t datasets = DatasetsFor(edges);
    for (auto& e : Events(datasets, 1, Layers())) {
      std::string canonical;
      auto ev = parser.Parse(e, &canonical);
      items.push_back({std::move(ev).value(), std::move(e), EventDigest(canonical)});
      if (items.size() == 1024) {
        pipeline.SubmitAll(std::move(items));
        items.clear();
      }
    }
    pipeline.SubmitAll(std::move(items));
  }
  m.graph = std::move(LineageGraph::Load(*m.store)).value();
  GraphReader g = m.graph->Read();
  m.column_edges = g.counts().current_column_edges;
  uint64_t per_layer = DatasetsFor(edges) / Layers();
  for (NodeId id = 1; id < g.node_capacity(); ++id) {
    const GraphNode& n = g.node(id);
    if (!n.present || n.kind != NodeKind::kField) continue;
    const std::string& name = g.name(g.node(n.dataset));
    uint64_t index = std::stoull(name.substr(name.rfind('d') + 1));
    if (index < per_layer) m.sources.push_back(id);
    if (index >= static_cast<uint64_t>(Layers() - 1) * per_layer) m.sinks.push_back(id);
  }
  return m;
}

uint64_t EdgesArg(const benchmark::State& state) { return static_cast<uint64_t>(state.range(0)); }

void Percentiles(benchmark::State& state, std::vector<double>& ms, double nodes) {
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return;
  state.counters["p50_ms"] = ms[ms.size() / 2];
  state.counters["p99_ms"] = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  state.counters["nodes_avg"] = nodes / ms.size();
}

// Closures from random roots; with `as_of`, as of a moment after every edge was first seen
// (the same answers, from the edges' records rather than their live bits).
void ClosureBench(benchmark::State& state, bool downstream, bool as_of = false) {
  Mesh& m = LoadMesh(EdgesArg(state));
  const auto& roots = downstream ? m.sources : m.sinks;
  std::mt19937_64 rng(42);
  std::vector<double> ms;
  double nodes = 0;
  GraphReader g = m.graph->Read();
  for (auto _ : state) {
    ClosureQuery q;
    q.root = roots[rng() % roots.size()];
    q.level = Level::kColumn;
    q.direction = downstream ? Direction::kDownstream : Direction::kUpstream;
    if (as_of) q.as_of = std::numeric_limits<Micros>::max() / 2;
    auto t0 = std::chrono::steady_clock::now();
    auto r = ComputeClosure(g, q);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    nodes += r->nodes.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["column_edges"] = static_cast<double>(m.column_edges);
  Percentiles(state, ms, nodes);
}

void BM_ClosureDownstream(benchmark::State& state) { ClosureBench(state, true); }
void BM_ClosureUpstream(benchmark::State& state) { ClosureBench(state, false); }
void BM_ClosureDownstreamAsOf(benchmark::State& state) { ClosureBench(state, true, true); }
void BM_ClosureUpstreamAsOf(benchmark::State& state) { ClosureBench(state, false, true); }

// The ceiling: a plain CSR of the current column edges, and a bare breadth-first search over
// it from the same roots, with the same visited-stamp trick as the closure.
struct PlainCsr {
  std::vector<uint32_t> offsets, targets, mark, queue;
  uint32_t epoch = 0;

  explicit PlainCsr(const GraphReader& g) {
    size_t n = g.node_capacity();
    offsets.assign(n + 1, 0);
    mark.assign(n, 0);
    std::vector<uint32_t> adjacent;
    for (NodeId v = 0; v < n; ++v) {
      adjacent.clear();
      g.AppendEdges(v, /*outgoing=*/true, &adjacent);
      for (uint32_t ei : adjacent) {
        const GraphEdge& e = g.edge(ei);
        if (e.kind == EdgeKind::kDerive && e.current())
          targets.push_back(static_cast<uint32_t>(e.to));
      }
      offsets[v + 1] = static_cast<uint32_t>(targets.size());
    }
  }

  size_t Bfs(NodeId root) {
    ++epoch;
    queue.clear();
    queue.push_back(static_cast<uint32_t>(root));
    mark[root] = epoch;
    for (size_t i = 0; i < queue.size(); ++i) {
      uint32_t v = queue[i];
      for (uint32_t k = offsets[v]; k < offsets[v + 1]; ++k) {
        uint32_t w = targets[k];
        if (mark[w] != epoch) {
          mark[w] = epoch;
          queue.push_back(w);
        }
      }
    }
    return queue.size();
  }
};

void BM_CsrBfsCeiling(benchmark::State& state) {
  Mesh& m = LoadMesh(EdgesArg(state));
  PlainCsr csr(m.graph->Read());
  std::mt19937_64 rng(42);
  std::vector<double> ms;
  double nodes = 0;
  for (auto _ : state) {
    NodeId root = m.sources[rng() % m.sources.size()];
    auto t0 = std::chrono::steady_clock::now();
    size_t reached = csr.Bfs(root);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    nodes += reached;
    benchmark::DoNotOptimize(csr.queue.data());
  }
  Percentiles(state, ms, nodes);
}

// The worst case among sampled roots: the largest downstream column closure, and the bare
// CSR search from the same root beside it (the "full traversal" comparison).
void BM_LargestClosure(benchmark::State& state) {
  Mesh& m = LoadMesh(EdgesArg(state));
  GraphReader g = m.graph->Read();
  std::mt19937_64 rng(7);
  ClosureQuery q;
  q.level = Level::kColumn;
  size_t worst_size = 0;
  NodeId worst = m.sources.front();
  // And the smallest sampled closure of 10^4 nodes or more, whose answer with every edge
  // (the API's default) is written below: tens of megabytes, where the largest's would be
  // hundreds.
  size_t mid_size = 0;
  NodeId mid = kNoNode;
  for (int i = 0; i < 50; ++i) {
    q.root = m.sources[rng() % m.sources.size()];
    size_t n = ComputeClosure(g, q)->nodes.size();
    if (n > worst_size) {
      worst_size = n;
      worst = q.root;
    }
    if (n >= 10000 && (mid == kNoNode || n < mid_size)) {
      mid_size = n;
      mid = q.root;
    }
  }
  if (mid == kNoNode) mid = worst;
  q.root = worst;
  size_t edges = 0;
  for (auto _ : state) {
    auto r = ComputeClosure(g, q);
    edges = r->edges.size();
    benchmark::DoNotOptimize(r);
  }
  constexpr int kRuns = 20;
  auto mean_ms = [&](auto fn) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRuns; ++i) fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
               .count() /
           kRuns;
  };
  // The same walk answering nodes and distances only (the API's edges=false): the same
  // output as the bare search, which is the fair comparison.
  q.collect_edges = false;
  double nodes_only_ms = mean_ms([&] { benchmark::DoNotOptimize(ComputeClosure(g, q)); });
  // Writing the answer of `query` as GET /api/v1/closure does, into a new string each time
  // as a server would: its milliseconds and its size in megabytes.
  auto write_answer = [&](const ClosureQuery& query) {
    const ClosureResult result = ComputeClosure(g, query).value();
    size_t bytes = 0;
    double ms = mean_ms([&] {
      std::string out;
      AppendClosureAnswer(&out, g, query, result);
      bytes = out.size();
      benchmark::DoNotOptimize(out.data());
    });
    return std::pair{ms, static_cast<double>(bytes) / 1e6};
  };
  const auto [answer_ms, answer_mb] = write_answer(q);  // edges=false
  // The same walk as of a moment (time travel, here one after every edge was first seen:
  // the same answer), which reads each edge's record where current lineage reads a bit.
  ClosureQuery as_of = q;
  as_of.as_of = std::numeric_limits<Micros>::max() / 2;
  double as_of_ms = mean_ms([&] { benchmark::DoNotOptimize(ComputeClosure(g, as_of)); });
  ClosureQuery with_edges = q;
  with_edges.root = mid;
  with_edges.collect_edges = true;
  const auto [edges_answer_ms, edges_answer_mb] = write_answer(with_edges);
  const ClosureResult mid_result = ComputeClosure(g, with_edges).value();
  PlainCsr csr(g);
  double csr_ms = mean_ms([&] { benchmark::DoNotOptimize(csr.Bfs(worst)); });
  state.counters["nodes"] = static_cast<double>(worst_size);
  state.counters["edges"] = static_cast<double>(edges);
  state.counters["nodes_only_ms"] = nodes_only_ms;
  state.counters["as_of_ms"] = as_of_ms;
  state.counters["edges_answer_ms"] = edges_answer_ms;
  state.counters["edges_answer_mb"] = edges_answer_mb;
  state.counters["edges_answer_items"] =
      static_cast<double>(mid_result.nodes.size() + mid_result.edges.size());
  state.counters["answer_ms"] = answer_ms;
  state.counters["answer_mb"] = answer_mb;
  state.counters["csr_bfs_ms"] = csr_ms;
  state.counters["column_edges"] = static_cast<double>(m.column_edges);
}

// The ingest benchmarks' events (generated once) and their size in bytes.
const std::vector<std::string>& IngestEvents(size_t* bytes) {
  static const std::vector<std::string> events = Events(400, 2);
  *bytes = 0;
  for (const auto& e : events) *bytes += e.size();
  return events;
}

void SetRates(benchmark::State& state, size_t events, size_t bytes) {
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

// Ingest of generator events through Service::IngestFiles, as `tributary ingest` reads them:
// an NDJSON file read in chunks, parsed on every core while the previous chunk is applied,
// fsynced group commits written while the next group is applied, and the graph kept up to
// date as a server keeps it (`tributary ingest` keeps none).
void BM_Ingest(benchmark::State& state) {
  size_t bytes = 0;
  const std::vector<std::string>& events = IngestEvents(&bytes);
  const std::string file = (fs::temp_directory_path() / "trib_bench_ingest.ndjson").string();
  {
    std::ofstream out(file, std::ios::binary);
    for (const auto& e : events) out << e << '\n';
  }
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir =
        (fs::temp_directory_path() / ("trib_bench_ingest_" + std::to_string(round++))).string();
    fs::remove_all(dir);
    ServiceOptions so;
    so.store.path = dir;
    so.store.sync = true;
    auto service = std::move(Service::Open(so)).value();
    state.ResumeTiming();
    Result<IngestSummary> summary = service->IngestFiles({file}, nullptr);
    state.PauseTiming();
    if (!summary.ok() || summary->accepted != events.size()) {
      state.SkipWithError("ingest failed");
      break;
    }
    service.reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  fs::remove(file);
  SetRates(state, events.size(), bytes);
}

// Ceiling 1: parsing the same events with nlohmann alone, on one core.
void BM_ParseCeiling(benchmark::State& state) {
  size_t bytes = 0;
  const std::vector<std::string>& events = IngestEvents(&bytes);
  for (auto _ : state) {
    for (const auto& e : events) benchmark::DoNotOptimize(nlohmann::json::parse(e));
  }
  SetRates(state, events.size(), bytes);
}

// Tributary's parse of the same events on one core, as ingest parses each (validation, the
// typed event, the canonical text and the event's digest): what ingest spends before the
// writer, against ceiling 1.
void BM_ParseEvents(benchmark::State& state) {
  size_t bytes = 0;
  const std::vector<std::string>& events = IngestEvents(&bytes);
  EventParser parser;
  for (auto _ : state) {
    for (const auto& e : events) {
      std::string canonical;
      Result<ParsedEvent> ev = parser.Parse(e, &canonical);
      if (!ev.ok()) {
        state.SkipWithError("parse failed");
        return;
      }
      benchmark::DoNotOptimize(EventDigest(canonical));
    }
  }
  SetRates(state, events.size(), bytes);
}

// Ceiling 2: the same bytes written to RocksDB in fsynced WriteBatches of 512 events.
void BM_RocksWriteCeiling(benchmark::State& state) {
  size_t bytes = 0;
  const std::vector<std::string>& events = IngestEvents(&bytes);
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir =
        (fs::temp_directory_path() / ("trib_bench_rocks_" + std::to_string(round++))).string();
    fs::remove_all(dir);
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    rocksdb::DB::Open(o, dir, &raw);
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    state.ResumeTiming();
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < events.size(); ++i) {
      batch.Put(std::to_string(i), events[i]);
      if (batch.Count() == 512 || i + 1 == events.size()) {
        db->Write(wo, &batch);
        batch.Clear();
      }
    }
    state.PauseTiming();
    db.reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  SetRates(state, events.size(), bytes);
}

std::vector<int64_t> Sizes() {
  const char* env = std::getenv("TRIB_BENCH_EDGES");
  std::vector<int64_t> sizes;
  std::string s = env ? env : "100000,1000000";
  for (size_t pos = 0; pos < s.size();) {
    size_t comma = s.find(',', pos);
    sizes.push_back(static_cast<int64_t>(std::stod(s.substr(pos, comma - pos))));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return sizes;
}

}  // namespace
}  // namespace tributary

int main(int argc, char** argv) {
  using namespace tributary;
  for (int64_t size : Sizes()) {
    benchmark::RegisterBenchmark("BM_ClosureDownstream", BM_ClosureDownstream)
        ->Arg(size)
        ->Iterations(2000)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_ClosureUpstream", BM_ClosureUpstream)
        ->Arg(size)
        ->Iterations(2000)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_ClosureDownstreamAsOf", BM_ClosureDownstreamAsOf)
        ->Arg(size)
        ->Iterations(2000)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_ClosureUpstreamAsOf", BM_ClosureUpstreamAsOf)
        ->Arg(size)
        ->Iterations(2000)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_CsrBfsCeiling", BM_CsrBfsCeiling)
        ->Arg(size)
        ->Iterations(2000)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_LargestClosure", BM_LargestClosure)
        ->Arg(size)
        ->Iterations(20)
        ->Unit(benchmark::kMillisecond);
  }
  // Ingest runs on the pipeline's writer thread too: rates use wall-clock time. Its
  // iterations (3 unless TRIB_BENCH_INGEST_ITERATIONS says otherwise) each ingest into a
  // fresh store.
  const char* ingest_iterations = std::getenv("TRIB_BENCH_INGEST_ITERATIONS");
  benchmark::RegisterBenchmark("BM_Ingest", BM_Ingest)
      ->Iterations(ingest_iterations ? std::max(1, std::atoi(ingest_iterations)) : 3)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_ParseCeiling", BM_ParseCeiling)
      ->Iterations(3)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_ParseEvents", BM_ParseEvents)
      ->Iterations(3)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_RocksWriteCeiling", BM_RocksWriteCeiling)
      ->Iterations(3)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& [size, mesh] : meshes) {
    std::string dir = mesh->dir;
    mesh.reset();
    std::filesystem::remove_all(dir);
  }
  return 0;
}
