#include "api/cli.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "api/http_server.h"
#include "api/service.h"

namespace tributary {
namespace {

constexpr const char* kUsage = R"(tributary: a lineage graph store and impact-analysis service

usage:
  tributary serve   [--data DIR] [--host H] [--port N] [--sync true|false]
                    [--max-body-bytes N] [--threads N] [--load-samples-if-empty DIR]
  tributary ingest  [--data DIR] [--sync true|false] FILE|DIR...
  tributary closure [--data DIR] (--node-id ID | [--kind dataset|job|field]
                    --namespace NS --name NAME [--field F])
                    [--direction upstream|downstream|both] [--depth N]
                    [--level dataset|column] [--direct-only] [--as-of TIME]
  tributary rebuild [--data DIR]
  tributary --help

  --data DIR   the store directory (default ./var)
  --sync       fsync every commit (default true)

ingest reads .json files (one event, or an array of events) and NDJSON files (one event
per line); directories are read recursively. It prints a summary of accepted and rejected
events with reasons, and exits with 3 when any event was rejected.
)";

struct Args {
  std::string command;
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
};

// Options that take no value.
const std::set<std::string> kFlags = {"direct-only", "help"};

std::optional<std::string> Parse(const std::vector<std::string>& argv, Args* args) {
  size_t i = 0;
  if (i < argv.size() && argv[i].rfind("--", 0) != 0) args->command = argv[i++];
  bool options_ended = false;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--" && !options_ended) {
      options_ended = true;  // everything after is a path, even if it starts with --
      continue;
    }
    if (options_ended || a.rfind("--", 0) != 0) {
      args->positional.push_back(a);
      continue;
    }
    std::string key = a.substr(2), value;
    size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (kFlags.count(key)) {
      value = "true";
    } else if (i + 1 < argv.size()) {
      value = argv[++i];
    } else {
      return "option --" + key + " needs a value";
    }
    args->options[key] = value;
  }
  return std::nullopt;
}

std::optional<std::string> CheckOptions(const Args& args, const std::set<std::string>& allowed) {
  for (const auto& [k, _] : args.options) {
    if (!allowed.count(k)) return "unknown option --" + k + " for '" + args.command + "'";
  }
  return std::nullopt;
}

std::string Opt(const Args& a, const std::string& k, const std::string& def = {}) {
  auto it = a.options.find(k);
  return it == a.options.end() ? def : it->second;
}

std::optional<bool> ParseBoolText(const std::string& v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return std::nullopt;
}

std::optional<long> ParseNumber(const std::string& v) {
  if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stol(v);
}

int Usage(std::ostream& err, const std::string& problem) {
  err << "tributary: " << problem << "\n\nRun 'tributary --help' for usage.\n";
  return 2;
}

Result<std::unique_ptr<Service>> OpenService(const Args& a, bool sync) {
  ServiceOptions o;
  o.allow_interrupted_rebuild = a.command == "rebuild";
  o.store.path = Opt(a, "data", "./var");
  o.store.sync = sync;
  if (auto n = ParseNumber(Opt(a, "max-body-bytes"))) o.max_body_bytes = static_cast<size_t>(*n);
  auto s = Service::Open(o);
  if (!s.ok() && s.status().code() == StatusCode::kUnavailable) {
    return Status::Unavailable(s.status().message() +
                               " (is a server already running on this store?)");
  }
  return s;
}

void PrintSummary(const IngestSummary& s, std::ostream& out) {
  out << "accepted: " << s.accepted;
  if (s.duplicates) out << " (" << s.duplicates << " exact duplicates stored once)";
  out << "\nrejected: " << s.rejected.size() << "\n";
  size_t shown = 0;
  for (const auto& r : s.rejected) {
    if (++shown > 50) {
      out << "  ... and " << (s.rejected.size() - 50) << " more\n";
      break;
    }
    out << "  " << r.source << ": " << r.error;
    if (!r.path.empty()) out << " (at " << r.path << ")";
    out << "\n";
  }
}

int Serve(const Args& a, std::ostream& out, std::ostream& err) {
  if (auto bad = CheckOptions(a, {"data", "host", "port", "sync", "max-body-bytes", "threads",
                                  "load-samples-if-empty"})) {
    return Usage(err, *bad);
  }
  auto sync = ParseBoolText(Opt(a, "sync", "true"));
  if (!sync) return Usage(err, "--sync must be true or false");
  ServerOptions so;
  so.host = Opt(a, "host", "0.0.0.0");
  auto port = ParseNumber(Opt(a, "port", "5000"));
  if (!port || *port > 65535) return Usage(err, "--port must be a number from 0 to 65535");
  so.port = static_cast<int>(*port);
  if (a.options.count("threads")) {
    auto t = ParseNumber(Opt(a, "threads"));
    if (!t || *t < 1 || *t > 1024) return Usage(err, "--threads must be from 1 to 1024");
    so.threads = static_cast<int>(*t);
  }
  if (a.options.count("max-body-bytes") && !ParseNumber(Opt(a, "max-body-bytes"))) {
    return Usage(err, "--max-body-bytes must be a number");
  }

  // Block the stop signals before any thread starts, so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto service = OpenService(a, *sync);
  if (!service.ok()) {
    err << "tributary: " << service.status().ToString() << "\n";
    return 1;
  }
  std::string samples = Opt(a, "load-samples-if-empty");
  if (!samples.empty() && (*service)->store().event_count() == 0) {
    auto summary = (*service)->IngestFiles({samples}, nullptr);
    if (!summary.ok()) {
      err << "tributary: loading samples: " << summary.status().ToString() << "\n";
      return 1;
    }
    out << "loaded the sample mesh from " << samples << ": " << summary->accepted << " events\n";
    if (!summary->rejected.empty()) PrintSummary(*summary, err);
  }
  HttpServer server(**service, so);
  auto bound = server.Start();
  if (!bound.ok()) {
    err << "tributary: " << bound.status().ToString() << "\n";
    return 1;
  }
  out << "tributary serving on http://" << so.host << ":" << *bound << " (store "
      << Opt(a, "data", "./var") << ")" << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  out << "stopping" << std::endl;
  server.Stop();
  return 0;
}

int Ingest(const Args& a, std::ostream& out, std::ostream& err) {
  if (auto bad = CheckOptions(a, {"data", "sync"})) return Usage(err, *bad);
  if (a.positional.empty()) return Usage(err, "ingest needs at least one FILE or DIR");
  auto sync = ParseBoolText(Opt(a, "sync", "true"));
  if (!sync) return Usage(err, "--sync must be true or false");
  auto service = OpenService(a, *sync);
  if (!service.ok()) {
    err << "tributary: " << service.status().ToString() << "\n";
    return 1;
  }
  bool tty = isatty(STDERR_FILENO);
  auto progress = [&](uint64_t done, uint64_t total) {
    if (!tty || total == 0) return;
    int pct = static_cast<int>(done * 100 / total);
    int bar = pct / 4;
    std::fprintf(stderr, "\r[%-25s] %3d%%  %.1f/%.1f MB", std::string(bar, '#').c_str(), pct,
                 done / 1e6, total / 1e6);
    if (done == total) std::fprintf(stderr, "\n");
  };
  auto summary = (*service)->IngestFiles(a.positional, progress);
  if (!summary.ok()) {
    err << "tributary: " << summary.status().ToString() << "\n";
    return 1;
  }
  PrintSummary(*summary, out);
  return summary->rejected.empty() ? 0 : 3;
}

int Closure(const Args& a, std::ostream& out, std::ostream& err) {
  if (auto bad = CheckOptions(a, {"data", "node-id", "kind", "namespace", "name", "field",
                                  "direction", "depth", "level", "direct-only", "as-of"})) {
    return Usage(err, *bad);
  }
  auto service = OpenService(a, true);
  if (!service.ok()) {
    err << "tributary: " << service.status().ToString() << "\n";
    return 1;
  }
  Params p;
  const std::map<std::string, std::string> names = {
      {"node-id", "nodeId"}, {"kind", "kind"},   {"namespace", "namespace"},
      {"name", "name"},      {"field", "field"}, {"direction", "direction"},
      {"depth", "depth"},    {"level", "level"}, {"direct-only", "direct_only"},
      {"as-of", "as_of"}};
  for (const auto& [opt, param] : names) {
    if (a.options.count(opt)) p[param] = a.options.at(opt);
  }
  ApiResponse r = (*service)->Closure(p);
  if (r.status != 200) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    err << "tributary: " << (j.is_object() ? j.value("error", r.body) : r.body);
    if (j.is_object() && !j.value("path", "").empty()) err << " (" << j.value("path", "") << ")";
    err << "\n";
    return r.status == 400 ? 2 : 1;
  }
  out << nlohmann::json::parse(r.body).dump(2) << "\n";
  return 0;
}

int Rebuild(const Args& a, std::ostream& out, std::ostream& err) {
  if (auto bad = CheckOptions(a, {"data"})) return Usage(err, *bad);
  auto service = OpenService(a, true);
  if (!service.ok()) {
    err << "tributary: " << service.status().ToString() << "\n";
    return 1;
  }
  Status s = (*service)->Rebuild();
  if (!s.ok()) {
    err << "tributary: rebuild: " << s.ToString() << "\n";
    return 1;
  }
  out << "rebuilt the graph from " << (*service)->store().event_count() << " logged events\n";
  return 0;
}

}  // namespace

int RunCli(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  Args a;
  if (auto bad = Parse(argv, &a)) return Usage(err, *bad);
  if (a.command.empty() || a.command == "help" || a.options.count("help")) {
    if (a.command.empty() && !a.options.count("help")) return Usage(err, "no command given");
    out << kUsage;
    return 0;
  }
  if (a.command == "serve") return Serve(a, out, err);
  if (a.command == "ingest") return Ingest(a, out, err);
  if (a.command == "closure") return Closure(a, out, err);
  if (a.command == "rebuild") return Rebuild(a, out, err);
  return Usage(err, "unknown command '" + a.command + "'");
}

}  // namespace tributary
