// http_load: a whole-process load driver for Tributary's HTTP API.
//
//   http_load ingest  [common] [--batch N] FILE.ndjson
//       POSTs the file's events: one per request to /api/v1/lineage, or N per request to
//       /api/v1/lineage/batch (NDJSON bodies). Events go out in file order, each client taking
//       the next event (or batch) when its previous request is answered.
//   http_load closure [common] [--requests N] [--direction D] [--depth N] [--edges B]
//                     [--as-of TIME] [--seed N] [--datasets N] [--columns N] [--domains N]
//                     [--layers N]
//       GETs /api/v1/closure at column level from random columns of a mesh made by mesh_gen
//       with the same --datasets/--columns/--domains/--layers: downstream from first-layer
//       columns, upstream from last-layer columns. A column that no lineage mentions does not
//       exist (404): those are counted as not_found and left out of the latencies.
//   http_load get     [common] [--requests N] PATHS_FILE
//       GETs the file's request paths (one per line), cycling through them.
//
//   common: [--host H] [--port N] [--clients C] [--warmup N]
//
// Each client is a thread with one keep-alive connection (TCP_NODELAY). Every request is
// timed from before it is sent to after its whole answer is read; a request whose answer is
// not a success fails the run. Prints one JSON object with the counts, the rate and the
// latency percentiles.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/mesh_generator.h"
#include "common/text.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  int port = 5000;
  int clients = 8;
  int warmup = 0;
  size_t batch = 1;
  size_t requests = 1000;
  std::string direction = "downstream";
  int depth = -1;
  std::string edges;  // empty: the server's default
  std::string as_of;  // empty: current lineage
  tributary::MeshOptions mesh;
  std::string file;
};

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr,
               "http_load: %s\n"
               "usage: http_load ingest|closure|get [--host H] [--port N] [--clients C] "
               "[--warmup N] [--batch N] [--requests N] [--direction D] [--depth N] "
               "[--edges true|false] [--as-of TIME] [--seed N] [--datasets N] [--columns N] "
               "[--domains N] "
               "[--layers N] [FILE]\n",
               problem.c_str());
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  if (argc < 2) Usage("no mode");
  Options o;
  o.mode = argv[1];
  if (o.mode != "ingest" && o.mode != "closure" && o.mode != "get") Usage("unknown mode " + o.mode);
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      o.file = k;
      continue;
    }
    if (i + 1 >= argc) Usage(k + " needs a value");
    std::string v = argv[++i];
    long long n = std::atoll(v.c_str());
    if (k == "--host") {
      o.host = v;
    } else if (k == "--direction") {
      o.direction = v;
    } else if (k == "--edges") {
      o.edges = v;
    } else if (k == "--as-of") {
      o.as_of = v;
    } else if (k == "--depth") {
      o.depth = static_cast<int>(n);
    } else if (n <= 0 && k != "--warmup") {
      Usage(k + " needs a positive number");
    } else if (k == "--port") {
      o.port = static_cast<int>(n);
    } else if (k == "--clients") {
      o.clients = static_cast<int>(n);
    } else if (k == "--warmup") {
      o.warmup = static_cast<int>(n);
    } else if (k == "--batch") {
      o.batch = static_cast<size_t>(n);
    } else if (k == "--requests") {
      o.requests = static_cast<size_t>(n);
    } else if (k == "--seed") {
      o.mesh.seed = static_cast<uint64_t>(n);
    } else if (k == "--datasets") {
      o.mesh.datasets = static_cast<uint64_t>(n);
    } else if (k == "--columns") {
      o.mesh.columns = static_cast<int>(n);
    } else if (k == "--domains") {
      o.mesh.domains = static_cast<int>(n);
    } else if (k == "--layers") {
      o.mesh.layers = static_cast<int>(n);
    } else {
      Usage("unknown option " + k);
    }
  }
  if (o.mode != "closure" && o.file.empty()) Usage("no file");
  return o;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) Usage("cannot read " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

// One unit of work: a request and what it stands for.
struct Request {
  std::string target;  // path (and query)
  std::string body;    // POST body; empty for GET
  size_t events = 0;
};

std::vector<Request> IngestRequests(const Options& o) {
  std::vector<std::string> events = ReadLines(o.file);
  std::vector<Request> out;
  for (size_t i = 0; i < events.size(); i += o.batch) {
    Request r;
    if (o.batch == 1) {
      r.target = "/api/v1/lineage";
      r.body = std::move(events[i]);
      r.events = 1;
    } else {
      r.target = "/api/v1/lineage/batch";
      for (size_t j = i; j < std::min(events.size(), i + o.batch); ++j) {
        r.body += events[j];
        r.body += '\n';
        ++r.events;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Request> ClosureRequests(const Options& o) {
  const tributary::MeshOptions& m = o.mesh;
  const uint64_t per_layer = std::max<uint64_t>(1, m.datasets / m.layers);
  const bool upstream = o.direction == "upstream";
  // Downstream from the first layer, upstream from the last.
  const uint64_t begin = upstream ? (m.layers - 1) * per_layer : 0;
  const uint64_t end = upstream ? m.datasets : per_layer;
  std::mt19937_64 rng(m.seed);
  std::vector<Request> out;
  for (size_t i = 0; i < o.requests; ++i) {
    uint64_t d = begin + rng() % (end - begin);
    std::string column = tributary::MeshGenerator::ColumnName(static_cast<int>(rng() % m.columns));
    std::string id = "datasetField:" + tributary::MeshGenerator::DatasetNamespace(d, m.domains) +
                     ":" + tributary::MeshGenerator::DatasetName(d) + ":" + column;
    Request r;
    r.target = "/api/v1/closure?level=column&direction=" + o.direction +
               "&nodeId=" + tributary::PercentEncode(id);
    if (o.depth >= 0) r.target += "&depth=" + std::to_string(o.depth);
    if (!o.edges.empty()) r.target += "&edges=" + o.edges;
    if (!o.as_of.empty()) r.target += "&as_of=" + tributary::PercentEncode(o.as_of);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Request> GetRequests(const Options& o) {
  std::vector<std::string> paths = ReadLines(o.file);
  std::vector<Request> out;
  for (size_t i = 0; i < o.requests; ++i) out.push_back({paths[i % paths.size()], "", 0});
  return out;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * (sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  std::vector<Request> requests = o.mode == "ingest"    ? IngestRequests(o)
                                  : o.mode == "closure" ? ClosureRequests(o)
                                                        : GetRequests(o);
  // Warm-up requests (GET modes only: an event is stored once) run first, untimed.
  auto connect = [&] {
    auto cli = std::make_unique<httplib::Client>(o.host, o.port);
    cli->set_keep_alive(true);
    cli->set_tcp_nodelay(true);
    cli->set_read_timeout(600, 0);
    cli->set_write_timeout(600, 0);
    return cli;
  };
  if (o.mode != "ingest") {
    auto cli = connect();
    for (int i = 0; i < o.warmup && !requests.empty(); ++i) {
      (void)cli->Get(requests[i % requests.size()].target);
    }
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::vector<double> latencies_ms;
  size_t events = 0, bytes_sent = 0, bytes_received = 0, not_found = 0;
  std::string first_error;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&] {
      auto cli = connect();
      std::vector<double> mine;
      size_t my_events = 0, sent = 0, received = 0, missing = 0;
      std::string error;
      for (size_t i; !failed && (i = next++) < requests.size();) {
        const Request& r = requests[i];
        auto t0 = Clock::now();
        httplib::Result res =
            r.body.empty() ? cli->Get(r.target)
                           : cli->Post(r.target, r.body,
                                       o.batch == 1 ? "application/json" : "application/x-ndjson");
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (res && res->status == 404 && o.mode == "closure") {
          ++missing;
          continue;
        }
        if (!res || res->status >= 300 ||
            (o.batch > 1 && res->body.find("\"failure\"") != std::string::npos)) {
          error = !res ? "request failed: " + httplib::to_string(res.error())
                       : "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
          error += " (" + r.target.substr(0, 200) + ")";
          failed = true;
          break;
        }
        mine.push_back(ms);
        my_events += r.events;
        sent += r.body.size();
        received += res->body.size();
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      events += my_events;
      bytes_sent += sent;
      bytes_received += received;
      not_found += missing;
      if (!error.empty() && first_error.empty()) first_error = error;
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) {
    std::fprintf(stderr, "http_load: %s\n", first_error.c_str());
    return 1;
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  double mean = 0;
  for (double v : latencies_ms) mean += v;
  if (!latencies_ms.empty()) mean /= latencies_ms.size();
  std::printf(
      "{\"mode\":\"%s\",\"clients\":%d,\"batch\":%zu,\"requests\":%zu,\"events\":%zu,"
      "\"not_found\":%zu,\"seconds\":%.3f,\"requests_per_s\":%.1f,\"events_per_s\":%.1f,\"mb_sent_"
      "per_s\":%.2f,"
      "\"mb_received\":%.2f,\"latency_ms\":{\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
      "\"p99\":%.3f,\"max\":%.3f}}\n",
      o.mode.c_str(), o.clients, o.batch, latencies_ms.size(), events, not_found, seconds,
      latencies_ms.size() / seconds, events / seconds, bytes_sent / seconds / 1e6,
      bytes_received / 1e6, mean, Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.9),
      Percentile(latencies_ms, 0.99), latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return 0;
}
