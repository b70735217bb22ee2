// How the events column family keeps each event: its text as received, LZ4-compressed when
// that makes it smaller.
//
// Ingest encodes an event where it parses it, on the caller's thread, so that the writer and
// commit threads copy, checksum (the write-ahead log's CRC32C) and hold in the memtable a
// fifth of the bytes, and the flush does not compress them again: the column family is
// written without block compression.
//
// A stored value is either the event's text itself, which as JSON starts with '{' or
// whitespace, or the byte 0x01, the varint length of the text, and its LZ4 block
// (docs/storage-format.md).
//
// Thread safety: free functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tributary {

std::string EncodeStoredEvent(std::string_view text);
// The text of a value EncodeStoredEvent wrote, or of a value stored before events were
// compressed (format_version 3 and before).
Status DecodeStoredEvent(std::string_view stored, std::string* text);

}  // namespace tributary
