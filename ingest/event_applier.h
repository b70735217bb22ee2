// EventApplier: turns one parsed OpenLineage event into graph mutations in a StoreWriter.
//
// The rules (docs/ingest.md has the long form):
//  - Events of one run accumulate: inputs, outputs and column edges are unions over the
//    run's events; an empty list removes nothing.
//  - Every reported edge is current from the event time on. When a run completes and it is
//    the job's newest completion by event time, the job's current edges that this run did
//    not report are retired at the completion time. A failed or aborted run records its
//    state but retires nothing. A completed run that reported no dataset at all carries no
//    lineage information and retires nothing either.
//  - An event older than the job's newest completion never changes current lineage; what
//    it reports that is not current is recorded as history ending at that completion.
//  - Run state follows event time, not arrival order; a terminal state is never replaced
//    by a non-terminal one.
//  - Facets replace facets of the same name sent at an earlier or equal event time;
//    `_deleted` removes them.
//  - Exact duplicates (same canonical JSON) are acknowledged and stored once.
//
// Thread safety: stateless apart from its options; one call per writer at a time.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "ingest/parsed_event.h"
#include "store/store_writer.h"

namespace tributary {

struct ApplyOutcome {
  uint64_t seq = 0;        // sequence number of the event in the log
  bool duplicate = false;  // an exact duplicate of an event already stored
};

class EventApplier {
 public:
  // Applies `event` to `writer`. When `seq` is 0, `stored` (EncodeStoredText of the event's
  // text) is appended to the event log and its sequence number returned; a replay (rebuild)
  // passes the event's existing sequence number instead and nothing is appended. `digest`
  // (EventDigest) identifies exact duplicates. On error the writer may hold partial writes:
  // callers wrap the call in a save point.
  Result<ApplyOutcome> Apply(const ParsedEvent& event, std::string_view stored,
                             const std::string& digest, StoreWriter& writer,
                             uint64_t seq = 0) const;
};

// The digest of an event's canonical form (EventParser::Parse): computed where the event is
// parsed, off the writer thread.
std::string EventDigest(const std::string& canonical);

}  // namespace tributary
