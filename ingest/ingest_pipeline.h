// IngestPipeline: durable, group-committed ingest of parsed events.
//
// Callers (HTTP handlers, the file loader) parse events on their own threads and Submit
// them. One writer thread takes everything queued, applies each event under its own save
// point (a failing event is undone alone), and commits the lot in one WriteBatch with the
// WAL on, so concurrent callers share one fsync. Only after the commit does Submit return
// success: an acknowledged event is durable. The commit's GraphDelta then goes to the
// listener (the in-memory graph) before any caller is answered, so an acknowledged event is
// also visible to queries.
//
// Thread safety: Submit may be called from any number of threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "ingest/event_applier.h"
#include "ingest/parsed_event.h"
#include "store/graph_store.h"

namespace tributary {

struct IngestItem {
  ParsedEvent event;
  std::string raw;     // the bytes to log
  std::string digest;  // EventDigest of its canonical form, for duplicate detection
};

class IngestPipeline {
 public:
  using CommitListener = std::function<void(const GraphDelta&)>;

  // `store` must outlive the pipeline. At most `max_group` events share one commit.
  IngestPipeline(GraphStore& store, CommitListener listener, size_t max_group = 512);
  ~IngestPipeline();  // finishes what is queued, then stops
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Blocks until the event is committed or rejected.
  Result<ApplyOutcome> Submit(IngestItem item);
  // Submits several at once; results in the same order.
  std::vector<Result<ApplyOutcome>> SubmitAll(std::vector<IngestItem> items);

 private:
  struct Pending {
    IngestItem item;
    std::promise<Result<ApplyOutcome>> done;
  };
  void WriterLoop();

  GraphStore& store_;
  CommitListener listener_;
  size_t max_group_;
  EventApplier applier_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace tributary
