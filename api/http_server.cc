#include "api/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <regex>

#include "common/coding.h"

namespace tributary {

struct HttpServer::Impl {
  Service& service;
  ServerOptions options;
  httplib::Server server;
  std::thread thread;
  bool started = false;

  Impl(Service& s, ServerOptions o) : service(s), options(std::move(o)) {}

  static Params ParamsOf(const httplib::Request& req) {
    Params p;
    for (const auto& [k, v] : req.params) p.emplace(k, v);  // the first value wins
    return p;
  }

  // Who is asking, as far as the request says: a proxy's user header, else a fingerprint
  // of the bearer token (never the token itself).
  static std::string CallerOf(const httplib::Request& req) {
    for (const char* h : {"X-Forwarded-User", "X-Remote-User", "X-User"}) {
      std::string v = req.get_header_value(h);
      if (!v.empty()) return v.substr(0, 256);
    }
    std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0 && auth.size() > 7) {
      return "bearer token sha256:" + Sha256Hex(auth.substr(7)).substr(0, 16);
    }
    return "";
  }

  static void Send(httplib::Response& res, ApiResponse r) {
    res.status = r.status;
    for (const auto& [name, value] : r.headers) res.set_header(name, value);
    if (!r.stream) {
      // What set_content does, with the body moved rather than copied: a large closure's
      // answer is tens of megabytes.
      res.body = std::move(r.body);
      res.set_header("Content-Type", r.content_type);
      return;
    }
    auto stream = r.stream;
    res.set_chunked_content_provider(r.content_type, [stream](size_t, httplib::DataSink& sink) {
      stream([&](std::string_view piece) { return sink.write(piece.data(), piece.size()); });
      sink.done();
      return true;
    });
  }

  // Wraps a handler with latency and status metrics under a fixed route label.
  template <typename Fn>
  httplib::Server::Handler Timed(const std::string& route, Fn fn) {
    return [this, route, fn](const httplib::Request& req, httplib::Response& res) {
      auto start = std::chrono::steady_clock::now();
      Send(res, fn(req));
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      service.metrics().ObserveRequest(route, res.status, secs);
    };
  }

  // GET /api/v1/namespaces/{ns}/datasets/{name} and .../jobs/{name}.
  ApiResponse NamespaceRoute(const httplib::Request& req, std::string* route) {
    std::string target = req.target.substr(0, req.target.find('?'));
    std::vector<std::string> parts;
    for (size_t pos = 0; pos <= target.size();) {
      size_t slash = target.find('/', pos);
      if (slash == std::string::npos) slash = target.size();
      parts.push_back(target.substr(pos, slash - pos));
      pos = slash + 1;
    }
    // "", "api", "v1", "namespaces", ns, kind, name
    std::string ns, kind, name;
    if (parts.size() == 7) {
      ns = httplib::detail::decode_url(parts[4], false);
      kind = parts[5];
      name = httplib::detail::decode_url(parts[6], false);
    } else {
      // Unencoded slashes: take the first "/datasets/" or "/jobs/" after the namespace.
      static const std::regex kLoose(R"(/api/v1/namespaces/(.+?)/(datasets|jobs)/(.+))");
      std::smatch m;
      if (std::regex_match(req.path, m, kLoose)) {
        ns = m[1];
        kind = m[2];
        name = m[3];
      }
    }
    if (kind == "datasets" && !ns.empty() && !name.empty()) {
      *route = "/api/v1/namespaces/{ns}/datasets/{name}";
      return service.GetDataset(ns, name);
    }
    if (kind == "jobs" && !ns.empty() && !name.empty()) {
      *route = "/api/v1/namespaces/{ns}/jobs/{name}";
      return service.GetJob(ns, name);
    }
    return ErrorResponse(Status::NotFound("no route for GET " + req.path));
  }

  void Routes() {
    server.Post("/api/v1/lineage", Timed("/api/v1/lineage", [this](const httplib::Request& req) {
                  return service.PostLineage(req.body);
                }));
    server.Post("/api/v1/lineage/batch",
                Timed("/api/v1/lineage/batch", [this](const httplib::Request& req) {
                  std::string type = req.get_header_value("Content-Type");
                  bool ndjson = type.find("ndjson") != std::string::npos ||
                                type.find("jsonl") != std::string::npos;
                  return service.PostBatch(req.body, ndjson);
                }));
    server.Get("/api/v1/closure", Timed("/api/v1/closure", [this](const httplib::Request& req) {
                 return service.Closure(ParamsOf(req));
               }));
    // Names may hold slashes: split the raw target, whose encoded segments hold none, and
    // only then decode them.
    server.Get(R"(/api/v1/namespaces/.+)", [this](const httplib::Request& req,
                                                  httplib::Response& res) {
      auto start = std::chrono::steady_clock::now();
      std::string route = "/api/v1/namespaces";
      Send(res, NamespaceRoute(req, &route));
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      service.metrics().ObserveRequest(route, res.status, secs);
    });
    for (auto [route, fn] :
         std::initializer_list<std::pair<const char*, ApiResponse (Service::*)(const Params&)>>{
             {"/api/v1/impact", &Service::Impact},
             {"/api/v1/rootcause", &Service::RootCause},
             {"/api/v1/paths", &Service::Paths},
             {"/api/v1/diff", &Service::Diff},
             {"/api/v1/runlineage/upstream", &Service::RunLineageUpstream},
             {"/api/v1/render", &Service::Render}}) {
      server.Get(route, Timed(route, [this, fn](const httplib::Request& req) {
                   return (service.*fn)(ParamsOf(req));
                 }));
    }
    server.Get("/api/v1/reports/audit",
               Timed("/api/v1/reports/audit", [this](const httplib::Request& req) {
                 return service.AuditReport(ParamsOf(req), CallerOf(req));
               }));
    server.Get("/api/v1/stats",
               Timed("/api/v1/stats", [this](const httplib::Request&) { return service.Stats(); }));
    server.Get("/healthz",
               Timed("/healthz", [this](const httplib::Request&) { return service.Health(); }));
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      Send(res, service.MetricsText());
    });
    // Errors raised by httplib itself (unknown route, oversized or undecodable body) get the
    // same JSON body as ours.
    httplib::Server::HandlerWithResponse on_error = [this](const httplib::Request& req,
                                                           httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      Status s;
      if (res.status == 404) {
        s = Status::NotFound("no route for " + req.method + " " + req.path);
      } else if (res.status == 413) {
        s = Status::TooLarge("request body exceeds the limit of " +
                             std::to_string(service.options().max_body_bytes) + " bytes");
        if (req.path.rfind("/api/v1/lineage", 0) == 0) service.metrics().EventsRejected(1);
      } else if (res.status == 415) {
        s = Status::InvalidArgument("unsupported Content-Encoding", "Content-Encoding");
      } else {
        s = Status(StatusCode::kInvalidArgument, "bad request");
      }
      ApiResponse r = ErrorResponse(s);
      res.set_content(r.body, r.content_type.c_str());
      return httplib::Server::HandlerResponse::Handled;
    };
    server.set_error_handler(on_error);
  }
};

namespace {

// Debian's cpp-httplib is a compiled library that listens with a backlog of 5: when more
// clients than that connect at once (8 load-test clients, a burst of Airflow workers), the
// kernel drops the extra SYNs and those clients connect a second later (measured: 1 s on a
// client's first request, one run in three). The library does not hand out its socket, so
// find the listening socket on `port` and listen again: on Linux that sets the backlog.
void WidenListenBacklog(int port) {
  rlimit limit{};
  int max_fd = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536
                   ? static_cast<int>(limit.rlim_cur)
                   : 65536;
  for (int fd = 0; fd < max_fd; ++fd) {
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int bound = addr.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                : addr.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                    : -1;
    if (bound == port) ::listen(fd, 1024);
  }
}

}  // namespace

HttpServer::HttpServer(Service& service, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start() {
  Impl& s = *impl_;
  int threads = std::max(1, s.options.threads);
  s.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.server.set_tcp_nodelay(true);
  s.server.set_keep_alive_max_count(static_cast<size_t>(std::max(1, s.options.keep_alive_max)));
  s.server.set_keep_alive_timeout(std::max(1, s.options.keep_alive_timeout_seconds));
  s.server.set_payload_max_length(s.service.options().max_body_bytes);
  s.Routes();
  int port = s.options.port;
  if (port == 0) {
    port = s.server.bind_to_any_port(s.options.host);
    if (port < 0) return Status::Unavailable("cannot bind to " + s.options.host);
  } else if (!s.server.bind_to_port(s.options.host, port)) {
    return Status::Unavailable("cannot bind to " + s.options.host + ":" + std::to_string(port));
  }
  WidenListenBacklog(port);
  s.thread = std::thread([&s] { s.server.listen_after_bind(); });
  s.started = true;
  // listen_after_bind sets is_running once it accepts; wait for it so callers can connect.
  while (!s.server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.started) return;
  s.server.stop();
  if (s.thread.joinable()) s.thread.join();
  s.started = false;
}

}  // namespace tributary
