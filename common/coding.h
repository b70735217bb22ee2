// Byte encodings for keys and values, and content hashes.
//
// Keys use big-endian fixed-width integers so that RocksDB's bytewise order is numeric
// order; signed times are stored with the sign bit flipped for the same reason. Values use
// varints and length-prefixed strings (as LevelDB's util/coding.h). The encodings are a
// persistent format: docs/storage-format.md describes every use of them.
//
// Thread safety: free functions; a Decoder is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tributary {

void PutFixed64BE(std::string* dst, uint64_t v);
void PutTimeKey(std::string* dst, int64_t t);  // sign-flipped big-endian
// Inline, as records are encoded a varint at a time: lengths, counts and flags fit in one byte.
inline void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}
inline void PutVarsint64(std::string* dst, int64_t v) {  // zig-zag
  PutVarint64(dst, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s.data(), s.size());
}

uint64_t DecodeFixed64BE(const char* p);
int64_t DecodeTimeKey(const char* p);

// Reads what the Put functions wrote, in order. Each Get returns false (and leaves the
// decoder failed) when the input is short or malformed; callers turn that into DataLoss.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool GetVarint64(uint64_t* v);
  bool GetVarsint64(int64_t* v);
  bool GetLengthPrefixed(std::string_view* s);
  bool GetLengthPrefixed(std::string* s);
  bool GetFixed64BE(uint64_t* v);
  bool GetByte(uint8_t* b);
  bool GetBytes(size_t n, std::string_view* s);  // the next n bytes

  bool done() const { return in_.empty(); }
  std::string_view rest() const { return in_; }

 private:
  std::string_view in_;
};

// SHA-256 over data given piece by piece.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // Lower-case hexadecimal digest; the hasher is spent afterwards.
  std::string HexDigest();

 private:
  void* ctx_;  // EVP_MD_CTX, owned
};

// Lower-case hexadecimal SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// The 32 raw bytes of SHA-256 of `data`.
std::string Sha256Raw(std::string_view data);

// The first 16 bytes of SHA-256 of `data`: tells whether a text changed without keeping the
// text (a node keeps its facets' digests; docs/storage-format.md).
using ShortDigest = std::array<uint8_t, 16>;
ShortDigest ShortDigestOf(std::string_view data);

}  // namespace tributary
