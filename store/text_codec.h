// How the store keeps the JSON texts it holds whole, events and facets: as they are, or
// LZ4-compressed when that makes them smaller.
//
// An event is encoded where it is parsed, on the caller's thread; a facet's text as its
// batch is committed (GraphStore::Write), on the commit thread. Either way the writer thread
// does not pay for compressing, the write-ahead log's CRC32C (in software in Debian's
// RocksDB) and the memtables see about a sixth of the bytes (a generator event's 6.8 KB
// become 1.1 KB), and the flush does not compress them again: the `events` and `facets`
// column families are written without block compression.
//
// A stored text is either the text itself, which as JSON starts with '{' or whitespace, or
// the byte 0x01, the varint length of the text, and its LZ4 block
// (docs/storage-format.md).
//
// Thread safety: free functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tributary {

std::string EncodeStoredText(std::string_view text);
// The text of a value EncodeStoredText wrote, or of a value stored before texts were
// compressed (format_version 3 and before).
Status DecodeStoredText(std::string_view stored, std::string* text);

}  // namespace tributary
