#include "common/coding.h"

#include <openssl/evp.h>

#include <cstring>

namespace tributary {

void PutFixed64BE(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

void PutTimeKey(std::string* dst, int64_t t) {
  PutFixed64BE(dst, static_cast<uint64_t>(t) ^ (uint64_t{1} << 63));
}

uint64_t DecodeFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

int64_t DecodeTimeKey(const char* p) {
  return static_cast<int64_t>(DecodeFixed64BE(p) ^ (uint64_t{1} << 63));
}

bool Decoder::GetVarint64(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in_.empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in_.front());
    in_.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  in_ = {};
  return false;
}

bool Decoder::GetVarsint64(int64_t* v) {
  uint64_t u;
  if (!GetVarint64(&u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool Decoder::GetLengthPrefixed(std::string_view* s) {
  uint64_t n;
  if (!GetVarint64(&n) || n > in_.size()) {
    in_ = {};
    return false;
  }
  *s = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool Decoder::GetLengthPrefixed(std::string* s) {
  std::string_view v;
  if (!GetLengthPrefixed(&v)) return false;
  s->assign(v.data(), v.size());
  return true;
}

bool Decoder::GetFixed64BE(uint64_t* v) {
  if (in_.size() < 8) {
    in_ = {};
    return false;
  }
  *v = DecodeFixed64BE(in_.data());
  in_.remove_prefix(8);
  return true;
}

bool Decoder::GetByte(uint8_t* b) {
  if (in_.empty()) return false;
  *b = static_cast<uint8_t>(in_.front());
  in_.remove_prefix(1);
  return true;
}

bool Decoder::GetBytes(size_t n, std::string_view* s) {
  if (in_.size() < n) {
    in_ = {};
    return false;
  }
  *s = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

namespace {

// The SHA-256 implementation, looked up once: EVP_sha256() makes OpenSSL 3 look it up again
// in its provider tables at every use, and ingest hashes every event and facet.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

// SHA-256 of `data` into `md` (32 bytes), with a context kept per thread.
void Sha256Into(std::string_view data, unsigned char* md) {
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  unsigned int len = 0;
  EVP_DigestInit_ex(context.ctx, Sha256Md(), nullptr);
  EVP_DigestUpdate(context.ctx, data.data(), data.size());
  EVP_DigestFinal_ex(context.ctx, md, &len);
}

}  // namespace

std::string Sha256Raw(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  Sha256Into(data, md);
  return std::string(reinterpret_cast<char*>(md), 32);
}

ShortDigest ShortDigestOf(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  Sha256Into(data, md);
  ShortDigest out;
  std::memcpy(out.data(), md, out.size());
  return out;
}

namespace {

std::string ToHex(const std::string& raw) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) { return ToHex(Sha256Raw(data)); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  return ToHex(std::string(reinterpret_cast<char*>(md), len));
}

}  // namespace tributary
