// Event times: parsing RFC 3339 as producers really send it, and formatting it back.
//
// Times are int64 microseconds since the Unix epoch, UTC. Sub-microsecond digits are
// accepted and truncated.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tributary {

using Micros = int64_t;

// An edge or state that has not ended yet ends at kForever.
inline constexpr Micros kForever = std::numeric_limits<Micros>::max();

// Parses "YYYY-MM-DDTHH:MM:SS[.f{0,9}][Z|+HH:MM|-HH:MM]". A time without an offset is
// read as UTC (as OpenLineage producers send it). A space instead of 'T' and a lower-case
// 't'/'z' are accepted. Also accepts a bare date "YYYY-MM-DD" (midnight UTC) when
// `allow_date_only` is set, for query parameters. Returns InvalidArgument otherwise.
Result<Micros> ParseTime(std::string_view text, bool allow_date_only = false);

// "2024-05-01T10:00:00.123456Z"; fractional digits are omitted when zero.
std::string FormatTime(Micros t);

// Wall-clock now, in microseconds since the epoch.
Micros NowMicros();

}  // namespace tributary
