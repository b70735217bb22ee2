// EventParser: turns the bytes of one OpenLineage 2-0-2 event into a ParsedEvent.
//
// The kind is decided by keys, not by schemaURL: "run" and "job" make a RunEvent,
// "dataset" a DatasetEvent, "job" without "run" a JobEvent. Required fields and their types
// are checked against ../shared/openlineage/spec; a rejection is InvalidArgument whose
// path() is the JSON pointer of the problem ("" for the document itself, e.g. bad JSON).
//
// Limits guard against hostile input: nesting depth and string length (the caller limits the
// total size). Any
// input, however malformed (invalid UTF-8, wrong types, empty body), yields a Status and
// never throws or crashes.
//
// Thread safety: stateless; Parse may be called from many threads at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/parsed_event.h"

namespace tributary {

struct ParserOptions {
  // Deepest nesting of arrays and objects accepted.
  int max_depth = 64;
  // Longest string value or key accepted, in bytes.
  size_t max_string_bytes = 4 << 20;
};

class EventParser {
 public:
  explicit EventParser(ParserOptions options = {}) : options_(options) {}

  // Parses and validates one event. On success also returns the canonical form of the
  // event in `canonical` (compact JSON with sorted keys), used to detect exact duplicates.
  Result<ParsedEvent> Parse(std::string_view bytes, std::string* canonical = nullptr) const;

  // Splits a batch body into the raw text of its events: a JSON array, or NDJSON (one event
  // per non-blank line) when `ndjson` is set. A body that is neither is InvalidArgument.
  // Each element comes back as compact JSON text, to be given to Parse.
  Result<std::vector<std::string>> SplitBatch(std::string_view body, bool ndjson) const;

 private:
  ParserOptions options_;
};

}  // namespace tributary
