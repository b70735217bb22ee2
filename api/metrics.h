// Metrics: counters and latency histograms, exposed in the Prometheus text format.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace tributary {

class Metrics {
 public:
  void EventsAccepted(uint64_t n) { accepted_ += n; }
  void EventsRejected(uint64_t n) { rejected_ += n; }
  void EventsDuplicate(uint64_t n) { duplicates_ += n; }
  // Records one request to `route` (a route pattern, not the raw path) that took `seconds`.
  void ObserveRequest(const std::string& route, int status, double seconds);

  // The metrics in Prometheus text exposition format; `extra` is appended as is.
  std::string Render(const std::string& extra) const;

  uint64_t accepted() const { return accepted_; }
  uint64_t rejected() const { return rejected_; }

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> duplicates_{0};
  mutable std::mutex mu_;
  std::map<std::string, Histogram> latency_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace tributary
