// HttpServer: Tributary's HTTP API on cpp-httplib.
//
// Routes (docs/api.md documents each):
//   POST /api/v1/lineage, POST /api/v1/lineage/batch, GET /api/v1/closure,
//   GET /api/v1/namespaces/{ns}/datasets/{name}, GET /api/v1/namespaces/{ns}/jobs/{name},
//   GET /api/v1/stats, GET /healthz, GET /metrics.
// Request bodies may be gzip-encoded (Content-Encoding: gzip). The size limit applies both to
// the body as sent and to the decoded event.
//
// Thread safety: Start and Stop from one thread; requests are served on a thread pool.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "api/service.h"
#include "common/status.h"

namespace tributary {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 5000;  // 0: any free port
  // Worker threads; cpp-httplib's default of 8 is too few for many keep-alive clients.
  int threads = 32;
  // Requests served on one keep-alive connection before it is closed.
  int keep_alive_max = 10000;
  // Seconds an idle keep-alive connection stays open (cpp-httplib's default is 5).
  int keep_alive_timeout_seconds = 60;
};

class HttpServer {
 public:
  HttpServer(Service& service, ServerOptions options);
  ~HttpServer();  // stops the server
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and serves on a background thread. Returns the bound port. Unavailable when the
  // address cannot be bound.
  Result<int> Start();
  // Stops accepting, finishes requests in flight, joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary
