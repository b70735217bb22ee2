#include "ingest/ingest_pipeline.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "store/store_writer.h"

namespace tributary {
namespace {

// Names the calling thread as `top -H` and perf show it (at most 15 characters), and lets it
// run ahead of the threads that parse. Every event passes through the writer, commit and
// sync threads one at a time, while callers parse on as many threads as there are requests:
// when the cores are shared evenly, the serial stages wait behind parsing. Raising a thread's
// priority needs CAP_SYS_NICE; without it the thread keeps the default.
void StartStage(const char* name) {
  pthread_setname_np(pthread_self(), name);
  constexpr int kNice = -5;
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kNice);
}

}  // namespace

IngestPipeline::IngestPipeline(GraphStore& store, CommitListener listener, size_t max_group,
                               bool process_ends_with_it)
    : store_(store),
      listener_(std::move(listener)),
      max_group_(max_group),
      process_ends_with_it_(process_ends_with_it) {
  writer_ = std::thread([this] {
    StartStage("trib-writer");
    WriterLoop();
  });
  committer_ = std::thread([this] {
    StartStage("trib-commit");
    CommitLoop();
  });
  syncer_ = std::thread([this] {
    StartStage("trib-sync");
    SyncLoop();
  });
}

IngestPipeline::~IngestPipeline() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();  // it finishes the queue and waits for its last batch to be written
  {
    std::lock_guard lock(mu_);
    writer_done_ = true;
  }
  sealed_cv_.notify_all();
  committer_.join();
  {
    std::lock_guard lock(mu_);
    committer_done_ = true;
  }
  written_cv_.notify_all();
  syncer_.join();
}

Result<ApplyOutcome> IngestPipeline::Submit(IngestItem item) {
  std::vector<IngestItem> one;
  one.push_back(std::move(item));
  return std::move(SubmitAll(std::move(one)).front());
}

std::vector<Result<ApplyOutcome>> IngestPipeline::SubmitAll(std::vector<IngestItem> items) {
  std::vector<std::future<Result<ApplyOutcome>>> futures = Enqueue(std::move(items));
  std::vector<Result<ApplyOutcome>> results;
  results.reserve(futures.size());
  for (auto& f : futures) results.push_back(f.get());
  return results;
}

std::vector<std::future<Result<ApplyOutcome>>> IngestPipeline::Enqueue(
    std::vector<IngestItem> items) {
  std::vector<std::future<Result<ApplyOutcome>>> futures;
  futures.reserve(items.size());
  {
    std::lock_guard lock(mu_);
    for (auto& item : items) {
      auto p = std::make_unique<Pending>();
      p->item = std::move(item);
      futures.push_back(p->done.get_future());
      queue_.push_back(std::move(p));
    }
  }
  cv_.notify_one();
  return futures;
}

void IngestPipeline::FailAll(std::vector<Result<ApplyOutcome>>& results, const Status& why) {
  if (why.ok()) return;
  for (auto& r : results) {
    if (r.ok()) r = Status::Unavailable("commit failed: " + why.message());
  }
}

void IngestPipeline::Answer(std::vector<std::unique_ptr<Pending>>& group,
                            std::vector<Result<ApplyOutcome>>& results) {
  for (size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(std::move(results[i]));
}

void IngestPipeline::WriterLoop() {
  std::unique_ptr<StoreWriter> writer = store_.NewWriter();
  writer->set_record_delta(static_cast<bool>(listener_));
  // Moves queued events into `group`, up to max_group_; false when there were none.
  auto take = [&](std::vector<std::unique_ptr<Pending>>& group) {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return false;
    while (!queue_.empty() && group.size() < max_group_) {
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return true;
  };
  for (;;) {
    auto next = std::make_unique<Sealed>();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and nothing left
    }
    std::vector<Result<ApplyOutcome>>& results = next->results;
    auto apply_taken = [&] {
      for (size_t i = results.size(); i < next->group.size(); ++i) {
        Pending& p = *next->group[i];
        writer->SetSavePoint();
        Result<ApplyOutcome> r =
            applier_.Apply(p.item.event, p.item.stored, p.item.digest, *writer);
        if (r.ok()) {
          writer->PopSavePoint();
        } else if (Status undo = writer->RollbackToSavePoint(); !undo.ok()) {
          // The rollback commits the events before this one (or found the batch in flight
          // failed); either way none of them is durable: they fail, retryably.
          r = undo;
          FailAll(results, undo);
        }
        results.push_back(std::move(r));
      }
    };
    take(next->group);
    apply_taken();
    // One batch in flight at a time: this group was applied on top of the previous one.
    if (Status landed = writer->WaitInFlight(); !landed.ok()) {
      FailAll(results, landed);
      Answer(next->group, results);
      continue;
    }
    // Events that arrived while that batch was written join this group: fewer, larger
    // commits when callers send one event at a time.
    while (next->group.size() < max_group_ && take(next->group)) apply_taken();
    next->batch = writer->Seal(next->written.get_future().share());
    {
      std::lock_guard lock(mu_);
      sealed_.push_back(std::move(next));
    }
    sealed_cv_.notify_one();
    // Past its budget the cache starts over, once the batch is in the store.
    if (writer->over_budget()) (void)writer->WaitInFlight();
  }
  (void)writer->WaitInFlight();
  if (process_ends_with_it_) writer->AbandonCache();
}

void IngestPipeline::CommitLoop() {
  for (;;) {
    std::unique_ptr<Sealed> s;
    {
      std::unique_lock lock(mu_);
      sealed_cv_.wait(lock, [&] { return writer_done_ || !sealed_.empty(); });
      if (sealed_.empty()) return;  // the writer is done, and nothing left
      s = std::move(sealed_.front());
      sealed_.pop_front();
    }
    // In the store, not yet durable: the writer may build on it, callers must wait.
    s->write_status = store_.Write(*s->batch, /*sync=*/false);
    s->written.set_value(s->write_status);
    {
      std::lock_guard lock(mu_);
      written_.push_back(std::move(s));
    }
    written_cv_.notify_one();
  }
}

void IngestPipeline::SyncLoop() {
  for (;;) {
    std::deque<std::unique_ptr<Sealed>> ready;
    {
      std::unique_lock lock(mu_);
      written_cv_.wait(lock, [&] { return committer_done_ || !written_.empty(); });
      if (written_.empty()) return;  // the commit thread is done, and nothing left
      ready.swap(written_);          // one fsync covers every batch written so far
    }
    const Status synced = store_.SyncLog();
    for (auto& s : ready) {
      // A written batch is in the store even when the fsync failed: the graph follows it.
      const bool written = s->write_status.ok();
      if (written && !s->batch->delta().empty() && listener_) listener_(s->batch->delta());
      // Not durable: every event in the group fails, retryably.
      FailAll(s->results, written ? synced : s->write_status);
      Answer(s->group, s->results);
    }
  }
}

}  // namespace tributary
