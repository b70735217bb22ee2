#include "api/metrics.h"

#include <cstdio>

namespace tributary {

void Metrics::ObserveRequest(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
  ++requests_[{route, status}];
}

std::string Metrics::Render(const std::string& extra) const {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  line("# HELP tributary_events_accepted_total OpenLineage events stored.");
  line("# TYPE tributary_events_accepted_total counter");
  line("tributary_events_accepted_total " + std::to_string(accepted_.load()));
  line("# HELP tributary_events_rejected_total OpenLineage events rejected as invalid.");
  line("# TYPE tributary_events_rejected_total counter");
  line("tributary_events_rejected_total " + std::to_string(rejected_.load()));
  line("# HELP tributary_events_duplicate_total Exact duplicates acknowledged, stored once.");
  line("# TYPE tributary_events_duplicate_total counter");
  line("tributary_events_duplicate_total " + std::to_string(duplicates_.load()));
  std::lock_guard lock(mu_);
  line("# HELP tributary_http_requests_total HTTP requests by route and status.");
  line("# TYPE tributary_http_requests_total counter");
  for (const auto& [key, n] : requests_) {
    line("tributary_http_requests_total{route=\"" + key.first + "\",status=\"" +
         std::to_string(key.second) + "\"} " + std::to_string(n));
  }
  line("# HELP tributary_http_request_seconds HTTP request latency by route.");
  line("# TYPE tributary_http_request_seconds histogram");
  char buf[64];
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%g", kBuckets[i]);
      line("tributary_http_request_seconds_bucket{route=\"" + route + "\",le=\"" + buf + "\"} " +
           std::to_string(h.counts[i]));
    }
    line("tributary_http_request_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " +
         std::to_string(h.count));
    std::snprintf(buf, sizeof buf, "%.6f", h.sum);
    line("tributary_http_request_seconds_sum{route=\"" + route + "\"} " + buf);
    line("tributary_http_request_seconds_count{route=\"" + route + "\"} " +
         std::to_string(h.count));
  }
  out += extra;
  return out;
}

}  // namespace tributary
