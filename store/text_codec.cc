#include "store/text_codec.h"

#include <lz4.h>

#include "common/coding.h"

namespace tributary {
namespace {

constexpr char kCompressed = '\x01';
// Below this a text is kept as it is: the LZ4 header and a call cost more than they save.
constexpr size_t kMinCompressed = 128;

}  // namespace

std::string EncodeStoredText(std::string_view text) {
  if (text.size() < kMinCompressed || text.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return std::string(text);
  }
  const int n = static_cast<int>(text.size());
  std::string out;
  out.push_back(kCompressed);
  PutVarint64(&out, text.size());
  const size_t header = out.size();
  out.resize(header + static_cast<size_t>(LZ4_compressBound(n)));
  const int packed =
      LZ4_compress_default(text.data(), out.data() + header, n, LZ4_compressBound(n));
  if (packed <= 0 || header + static_cast<size_t>(packed) >= text.size()) {
    return std::string(text);
  }
  out.resize(header + static_cast<size_t>(packed));
  return out;
}

Status DecodeStoredText(std::string_view stored, std::string* text) {
  if (stored.empty() || stored.front() != kCompressed) {
    text->assign(stored.data(), stored.size());
    return Status::Ok();
  }
  Decoder d(stored.substr(1));
  uint64_t size = 0;
  if (!d.GetVarint64(&size) || size > static_cast<uint64_t>(LZ4_MAX_INPUT_SIZE)) {
    return Status::DataLoss("corrupt compressed text: bad length");
  }
  const std::string_view packed = d.rest();
  if (packed.size() > static_cast<size_t>(LZ4_compressBound(LZ4_MAX_INPUT_SIZE))) {
    return Status::DataLoss("corrupt compressed text: too long");
  }
  text->resize(size);
  const int got = LZ4_decompress_safe(packed.data(), text->data(), static_cast<int>(packed.size()),
                                      static_cast<int>(size));
  if (got < 0 || static_cast<uint64_t>(got) != size) {
    text->clear();
    return Status::DataLoss("corrupt compressed text: its LZ4 block does not decode");
  }
  return Status::Ok();
}

}  // namespace tributary
