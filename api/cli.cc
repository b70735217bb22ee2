#include "api/cli.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <initializer_list>
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
                    [--domains FILE] [--writer-cache N]
  tributary ingest  [--data DIR] [--sync true|false] [--writer-cache N] FILE|DIR...
  tributary closure [--data DIR] (--node-id ID | [--kind dataset|job|field]
                    --namespace NS --name NAME [--field F])
                    [--direction upstream|downstream|both] [--depth N]
                    [--level dataset|column] [--direct-only] [--as-of TIME]
                    [--edges true|false]
  tributary impact  [--data DIR] (NODE | --run-id ID) [--depth N] [--direct-only]
                    [--as-of TIME] [--since TIME] [--json]
  tributary rootcause [--data DIR] NODE [--depth N] [--as-of TIME]
                    [--stale-after-hours N] [--json]
  tributary paths   [--data DIR] --from ID --to ID [--k N] [--direct-only] [--as-of TIME]
                    [--json]
  tributary diff    [--data DIR] NODE --from TIME [--to TIME] [--direction D] [--depth N]
                    [--level L] [--json]
  tributary render  [--data DIR] NODE [--direction D] [--depth N] [--level L] [--as-of TIME]
                    [--format svg|png|pdf|dot] [--highlight impact] [--max-nodes N] -o FILE
  tributary report  [--data DIR] (NODE | --domain D) [--as-of TIME] [--from TIME] [--to TIME]
                    [--format html|pdf|csv|json] [--table NAME] -o FILE
  tributary rebuild [--data DIR]
  tributary --help

  NODE         --node-id ID, or [--kind dataset|job|field] --namespace NS --name NAME
               [--field F]; ids in Marquez's form (datasetField:<ns>:<name>:<field>)
  --json       print the raw JSON answer instead of a table
  --data DIR   the store directory (default ./var)
  --domains F  namespace-prefix to domain mapping, one "prefix = domain" per line (all
               query commands take it too); tags and owners named domain:X come first
  --sync       fsync every commit (default true)
  --writer-cache N  entries the ingest writer's read cache may hold before it starts over
               (default 4000000, about 150 bytes each); more makes ingest into a large
               store faster, at that much more memory

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
const std::set<std::string> kFlags = {"direct-only", "help", "json"};

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
    if (!options_ended && a == "-o") {  // the one short option: an output file
      if (i + 1 >= argv.size()) return std::string("option -o needs a file");
      args->options["o"] = argv[++i];
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

// The usage error for the first of `names` that is given but is not a number, if any.
std::optional<std::string> NotANumber(const Args& a, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (a.options.count(name) && !ParseNumber(Opt(a, name))) {
      return std::string("--") + name + " must be a number";
    }
  }
  return std::nullopt;
}

int Usage(std::ostream& err, const std::string& problem) {
  err << "tributary: " << problem << "\n\nRun 'tributary --help' for usage.\n";
  return 2;
}

Result<std::unique_ptr<Service>> OpenService(const Args& a, bool sync, bool ingest_only = false) {
  ServiceOptions o;
  o.ingest_only = ingest_only;
  o.allow_interrupted_rebuild = a.command == "rebuild";
  o.domain_map_path = Opt(a, "domains");
  o.store.path = Opt(a, "data", "./var");
  o.store.sync = sync;
  if (auto n = ParseNumber(Opt(a, "max-body-bytes"))) o.max_body_bytes = static_cast<size_t>(*n);
  if (auto n = ParseNumber(Opt(a, "writer-cache"))) {
    o.store.writer_cache_entries = static_cast<size_t>(*n);
  }
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
                                  "load-samples-if-empty", "domains", "writer-cache"})) {
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
  if (auto bad = NotANumber(a, {"max-body-bytes", "writer-cache"})) return Usage(err, *bad);

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
  if (auto bad = CheckOptions(a, {"data", "sync", "writer-cache"})) return Usage(err, *bad);
  if (a.positional.empty()) return Usage(err, "ingest needs at least one FILE or DIR");
  if (auto bad = NotANumber(a, {"writer-cache"})) return Usage(err, *bad);
  auto sync = ParseBoolText(Opt(a, "sync", "true"));
  if (!sync) return Usage(err, "--sync must be true or false");
  auto service = OpenService(a, *sync, /*ingest_only=*/true);
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

using nlohmann::json;

// The query parameter for a command-line option: dashes become underscores, and node ids
// keep Marquez's spelling.
std::string ParamName(const std::string& option) {
  if (option == "node-id") return "nodeId";
  std::string p = option;
  std::replace(p.begin(), p.end(), '-', '_');
  return p;
}

std::string Short(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

// Runs one query command: checks options, opens the store read-only in effect, calls
// `method` with the options as parameters, and prints a table with `table` (or the JSON
// with --json).
int Query(const Args& a, std::ostream& out, std::ostream& err, std::set<std::string> allowed,
          ApiResponse (Service::*method)(const Params&),
          void (*table)(const json&, std::ostream&)) {
  allowed.insert({"data", "json", "domains"});
  if (auto bad = CheckOptions(a, allowed)) return Usage(err, *bad);
  auto service = OpenService(a, true);
  if (!service.ok()) {
    err << "tributary: " << service.status().ToString() << "\n";
    return 1;
  }
  Params p;
  for (const auto& [opt, value] : a.options) {
    if (opt != "data" && opt != "json" && opt != "domains") p[ParamName(opt)] = value;
  }
  ApiResponse r = ((**service).*method)(p);
  json j = json::parse(r.body, nullptr, false);
  if (r.status != 200) {
    err << "tributary: " << (j.is_object() ? j.value("error", r.body) : r.body);
    if (j.is_object() && !j.value("path", "").empty()) err << " (" << j.value("path", "") << ")";
    err << "\n";
    return r.status == 400 ? 2 : 1;
  }
  if (a.options.count("json") || table == nullptr) {
    out << j.dump(2) << "\n";
  } else {
    table(j, out);
  }
  return 0;
}

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void ImpactTable(const json& j, std::ostream& out) {
  const json& s = j["summary"];
  out << "Impact: " << s["datasets"] << " datasets, " << s["columns"] << " columns, " << s["jobs"]
      << " jobs, " << s["domains"] << " domains, " << s["owners"] << " owners"
      << (s["exact"].get<bool>() ? " (exact)\n" : " (over-approximated: see coverage gaps)\n");
  out << "Notify: ";
  for (size_t i = 0; i < s["notify"].size(); ++i) out << (i ? ", " : "") << Text(s["notify"][i]);
  out << "\n";
  for (const auto& d : j["domains"]) {
    out << "\n" << Text(d["domain"]) << "\n";
    for (const auto& o : d["owners"]) {
      out << "  " << Text(o["owner"]) << "\n";
      for (const auto& ds : o["datasets"]) {
        out << "    " << ds["distance"] << "  " << Short(Text(ds["id"]), 70) << "  "
            << ds["columns"].size() << " col" << (ds["wholeDataset"].get<bool>() ? " (whole)" : "")
            << (ds["exact"].get<bool>() ? "" : " (approximate)")
            << (ds["indirectOnly"].get<bool>() ? " (indirect only)" : "") << "\n";
      }
    }
  }
  if (!j["coverageGaps"].empty()) {
    out << "\nCoverage gaps (no column lineage):\n";
    for (const auto& g : j["coverageGaps"]) {
      out << "  " << Text(g["job"]) << ": " << Text(g["from"]) << " -> " << Text(g["to"]) << "\n";
    }
  }
  if (j.contains("runs")) {
    const json& r = j["runs"];
    out << "\nRuns since " << Text(r["since"])
        << " that read affected data: " << r["consumedAffectedData"].size() << "\n";
    for (const auto& run : r["consumedAffectedData"]) {
      out << "  " << Text(run["startedAt"]) << "  " << Text(run["job"]["name"]) << "  "
          << Text(run["state"]) << "  " << Text(run["runId"]) << "\n";
    }
    out << "Affected datasets not read since then: " << r["notReadSince"].size() << "\n";
    for (const auto& d : r["notReadSince"]) out << "  " << Text(d) << "\n";
  }
}

void RootCauseTable(const json& j, std::ostream& out) {
  out << "Root cause candidates for " << Text(j["root"]["id"]) << " (" << j["jobsChecked"]
      << " upstream jobs checked, reference time " << Text(j["query"]["reference_time"]) << ")\n";
  if (j["suspects"].empty()) out << "  none: every upstream job's latest run succeeded in time\n";
  for (const auto& s : j["suspects"]) {
    out << "  " << s["distance"] << "  " << Text(s["namespace"]) << ":" << Text(s["name"]) << "\n"
        << "     " << Text(s["reason"]) << "; latest run "
        << (s["latestRun"].is_null() ? "none" : Text(s["latestRun"]["state"])) << "; last success "
        << (s["lastSuccess"].is_null() ? "never" : Text(s["lastSuccess"])) << "\n";
    if (!s["errorMessage"].is_null())
      out << "     error: " << Short(Text(s["errorMessage"]), 100) << "\n";
  }
}

void PathsTable(const json& j, std::ostream& out) {
  out << j["paths"].size() << " path(s) from " << Text(j["from"]["id"]) << " to "
      << Text(j["to"]["id"]) << (j["morePaths"].get<bool>() ? " (more exist)" : "") << "\n";
  int i = 0;
  for (const auto& p : j["paths"]) {
    out << "\n" << ++i << ". " << p["length"] << " edge(s)\n";
    for (const auto& e : p["edges"]) {
      std::string t;
      for (const auto& tr : e["transformations"]) {
        t += (t.empty() ? "" : ",") + Text(tr["type"]) + "/" + Text(tr["subtype"]) +
             (tr["masking"].get<bool>() ? "/masked" : "");
      }
      out << "   " << Text(e["from"]) << "\n     -> " << Text(e["to"]) << "\n        job "
          << Text(e["job"]) << (t.empty() ? "" : ", " + t) << ", last run " << Text(e["lastRun"])
          << "\n";
    }
  }
}

void DiffTable(const json& j, std::ostream& out) {
  out << "Lineage of " << Text(j["root"]["id"]) << " from " << Text(j["from"]) << " to "
      << Text(j["to"]) << ": " << j["added"].size() << " added, " << j["retired"].size()
      << " retired\n";
  for (const auto& e : j["added"]) {
    out << "  + " << Text(e["firstSeen"]) << "  " << Text(e["from"]) << " -> " << Text(e["to"])
        << "\n";
  }
  for (const auto& e : j["retired"]) {
    out << "  - " << Text(e["retired"]) << "  " << Text(e["from"]) << " -> " << Text(e["to"])
        << "\n";
  }
}

const std::set<std::string> kNodeOptions = {"node-id", "kind", "namespace", "name", "field"};

std::set<std::string> With(std::set<std::string> base, std::initializer_list<std::string> more) {
  base.insert(more.begin(), more.end());
  return base;
}

// Commands that write a file: render (a diagram) and report (an audit report). The format
// comes from --format, else from the file's extension, else `default_format`.
int WriteFile(const Args& a, std::ostream& out, std::ostream& err, std::set<std::string> allowed,
              const std::set<std::string>& formats, const std::string& default_format,
              const std::function<ApiResponse(Service&, const Params&)>& call) {
  allowed.insert({"data", "domains", "format", "o", "output"});
  if (auto bad = CheckOptions(a, allowed)) return Usage(err, *bad);
  std::string path = a.options.count("o") ? a.options.at("o") : Opt(a, "output");
  if (path.empty()) return Usage(err, a.command + " needs -o FILE");
  Params p;
  for (const auto& [opt, value] : a.options) {
    if (opt != "data" && opt != "domains" && opt != "o" && opt != "output") {
      p[ParamName(opt)] = value;
    }
  }
  if (!p.count("format")) {
    // From the file's extension; SVG otherwise.
    size_t dot = path.rfind('.');
    std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    p["format"] = formats.count(ext) ? ext : default_format;
  }
  auto service = OpenService(a, true);
  if (!service.ok()) {
    err << "tributary: " << service.status().ToString() << "\n";
    return 1;
  }
  ApiResponse r = call(**service, p);
  if (r.status != 200) {
    json j = json::parse(r.body, nullptr, false);
    err << "tributary: " << (j.is_object() ? j.value("error", r.body) : r.body);
    if (j.is_object() && !j.value("path", "").empty()) err << " (" << j.value("path", "") << ")";
    err << "\n";
    return r.status == 400 ? 2 : 1;
  }
  std::ofstream file(path, std::ios::binary);
  size_t bytes = 0;
  auto write = [&](std::string_view piece) {
    file.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    bytes += piece.size();
    return static_cast<bool>(file);
  };
  if (r.stream) {
    r.stream(write);
  } else {
    write(r.body);
  }
  if (!file) {
    err << "tributary: cannot write " << path << "\n";
    return 1;
  }
  out << "wrote " << path << " (" << bytes << " bytes, " << p["format"] << ")\n";
  return 0;
}

int Rebuild(const Args& a, std::ostream& out, std::ostream& err) {
  if (auto bad = CheckOptions(a, {"data"})) return Usage(err, *bad);
  auto service = OpenService(a, true, /*ingest_only=*/true);
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
  if (a.command == "closure") {
    return Query(
        a, out, err,
        With(kNodeOptions, {"direction", "depth", "level", "direct-only", "as-of", "edges"}),
        &Service::Closure, nullptr);
  }
  if (a.command == "impact") {
    return Query(a, out, err,
                 With(kNodeOptions, {"run-id", "depth", "direct-only", "as-of", "since"}),
                 &Service::Impact, ImpactTable);
  }
  if (a.command == "rootcause") {
    return Query(a, out, err, With(kNodeOptions, {"depth", "as-of", "stale-after-hours"}),
                 &Service::RootCause, RootCauseTable);
  }
  if (a.command == "paths") {
    return Query(a, out, err, {"from", "to", "k", "direct-only", "as-of"}, &Service::Paths,
                 PathsTable);
  }
  if (a.command == "diff") {
    return Query(a, out, err,
                 With(kNodeOptions, {"from", "to", "direction", "depth", "level", "direct-only"}),
                 &Service::Diff, DiffTable);
  }
  if (a.command == "rebuild") return Rebuild(a, out, err);
  if (a.command == "render") {
    return WriteFile(a, out, err,
                     With(kNodeOptions, {"direction", "depth", "level", "direct-only", "as-of",
                                         "highlight", "max-nodes"}),
                     {"svg", "png", "pdf", "dot"}, "svg",
                     [](Service& s, const Params& p) { return s.Render(p); });
  }
  if (a.command == "report") {
    std::string user = std::getenv("USER") ? std::getenv("USER") : "";
    return WriteFile(a, out, err, With(kNodeOptions, {"domain", "as-of", "from", "to", "table"}),
                     {"html", "pdf", "csv", "json"}, "html", [user](Service& s, const Params& p) {
                       return s.AuditReport(p, user.empty() ? "" : "local user " + user);
                     });
  }
  return Usage(err, "unknown command '" + a.command + "'");
}

}  // namespace tributary
