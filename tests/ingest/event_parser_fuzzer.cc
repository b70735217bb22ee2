// libFuzzer entry point for the OpenLineage parser and applier, where untrusted input
// enters. Built only with clang: cmake -DTRIB_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++, then
// run e.g. `build-fuzz/event_parser_fuzzer -max_total_time=60 ../shared/openlineage/examples`.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ingest/event_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tributary::EventParser parser;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string canonical;
  auto ev = parser.Parse(input, &canonical);
  if (!ev.ok() && ev.status().code() != tributary::StatusCode::kInvalidArgument) __builtin_trap();
  auto batch = parser.SplitBatch(input, size % 2 == 0);
  (void)batch;
  return 0;
}
