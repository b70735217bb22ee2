#include "ingest/ingest_pipeline.h"

#include "store/store_writer.h"

namespace tributary {

IngestPipeline::IngestPipeline(GraphStore& store, CommitListener listener, size_t max_group)
    : store_(store), listener_(std::move(listener)), max_group_(max_group) {
  writer_ = std::thread([this] { WriterLoop(); });
}

IngestPipeline::~IngestPipeline() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

Result<ApplyOutcome> IngestPipeline::Submit(IngestItem item) {
  std::vector<IngestItem> one;
  one.push_back(std::move(item));
  return std::move(SubmitAll(std::move(one)).front());
}

std::vector<Result<ApplyOutcome>> IngestPipeline::SubmitAll(std::vector<IngestItem> items) {
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
  std::vector<Result<ApplyOutcome>> results;
  results.reserve(futures.size());
  for (auto& f : futures) results.push_back(f.get());
  return results;
}

void IngestPipeline::WriterLoop() {
  std::unique_ptr<StoreWriter> writer = store_.NewWriter();
  std::vector<std::unique_ptr<Pending>> group;
  std::vector<Result<ApplyOutcome>> results;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    results.clear();
    for (auto& p : group) {
      writer->SetSavePoint();
      Result<ApplyOutcome> r = applier_.Apply(p->item.event, p->item.raw, p->item.digest, *writer);
      if (r.ok()) {
        writer->PopSavePoint();
      } else if (Status undo = writer->RollbackToSavePoint(); !undo.ok()) {
        // The rollback commits the events before this one; it failed, so none of them is
        // durable: they fail, retryably.
        r = undo;
        for (auto& earlier : results) {
          if (earlier.ok()) earlier = Status::Unavailable("commit failed: " + undo.message());
        }
      }
      results.push_back(std::move(r));
    }
    GraphDelta delta;
    Status committed = store_.Commit(*writer, &delta);
    if (committed.ok()) {
      if (!delta.empty() && listener_) listener_(delta);
    } else {
      // Nothing of the group is durable: every event in it fails, retryably.
      for (auto& r : results) {
        if (r.ok()) r = Status::Unavailable("commit failed: " + committed.message());
      }
    }
    for (size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(std::move(results[i]));
    group.clear();
  }
}

}  // namespace tributary
