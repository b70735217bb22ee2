// IngestPipeline: durable, group-committed ingest of parsed events.
//
// Callers (HTTP handlers, the file loader) parse events on their own threads and Submit
// them. One writer thread takes everything queued, applies each event under its own save
// point (a failing event is undone alone), and seals the lot as one WriteBatch. A commit
// thread writes it with the WAL on while the writer applies the next group, and a sync
// thread fsyncs the WAL while the commit thread writes the next batch: concurrent callers
// share one fsync, and one fsync may cover several batches. Only after the fsync does Submit
// return success: an acknowledged event is durable. The batch's GraphDelta goes to the
// listener (the in-memory graph) before any caller is answered, so an acknowledged event is
// also visible to queries. When a write fails, its events fail, and so do those of the group
// applied on top of it. When an fsync fails, the events it covers fail (retryably) although
// the store holds them: the graph follows the store, and a retry is found a duplicate.
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
#include "store/store_writer.h"

namespace tributary {

struct IngestItem {
  ParsedEvent event;
  std::string stored;  // the bytes to log: EncodeStoredText of the event's text
  std::string digest;  // EventDigest of its canonical form, for duplicate detection
};

class IngestPipeline {
 public:
  using CommitListener = std::function<void(const GraphDelta&)>;

  // `store` must outlive the pipeline. At most `max_group` events share one commit. With
  // `process_ends_with_it`, the process exits soon after the pipeline stops: the writer leaves
  // its cache to the exit rather than freeing it (StoreWriter::AbandonCache).
  static constexpr size_t kMaxGroup = 512;
  IngestPipeline(GraphStore& store, CommitListener listener, size_t max_group = kMaxGroup,
                 bool process_ends_with_it = false);
  ~IngestPipeline();  // finishes what is queued, then stops
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Blocks until the event is committed or rejected.
  Result<ApplyOutcome> Submit(IngestItem item);
  // Submits several at once; results in the same order.
  std::vector<Result<ApplyOutcome>> SubmitAll(std::vector<IngestItem> items);
  // Queues several at once, after everything queued before, without waiting.
  std::vector<std::future<Result<ApplyOutcome>>> Enqueue(std::vector<IngestItem> items);

 private:
  struct Pending {
    IngestItem item;
    std::promise<Result<ApplyOutcome>> done;
  };
  // A group of events applied and sealed, on its way to the commit and sync threads.
  struct Sealed {
    std::vector<std::unique_ptr<Pending>> group;
    std::vector<Result<ApplyOutcome>> results;
    std::shared_ptr<StoreWriter::Sealed> batch;
    std::promise<Status> written;
    Status write_status;  // the commit thread's write, for the sync thread
  };
  void WriterLoop();
  void CommitLoop();
  void SyncLoop();
  // Fails, retryably, every event of `results` that had succeeded, unless `why` is ok.
  static void FailAll(std::vector<Result<ApplyOutcome>>& results, const Status& why);
  static void Answer(std::vector<std::unique_ptr<Pending>>& group,
                     std::vector<Result<ApplyOutcome>>& results);

  GraphStore& store_;
  CommitListener listener_;
  size_t max_group_;
  bool process_ends_with_it_;
  EventApplier applier_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  bool stopping_ = false;
  // Sealed groups, oldest first, for the commit thread; guarded by mu_.
  std::deque<std::unique_ptr<Sealed>> sealed_;
  std::condition_variable sealed_cv_;
  bool writer_done_ = false;
  // Written groups, oldest first, for the sync thread; guarded by mu_.
  std::deque<std::unique_ptr<Sealed>> written_;
  std::condition_variable written_cv_;
  bool committer_done_ = false;
  std::thread writer_;
  std::thread committer_;
  std::thread syncer_;
};

}  // namespace tributary
