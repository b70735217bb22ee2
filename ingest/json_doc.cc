#include "ingest/json_doc.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/text.h"

namespace tributary {
namespace {

using nlohmann::json;

// Strips nlohmann's "[json.exception...] parse error at line L, column C: " prefix and the
// "; last read: '...'" suffix (the suffix may hold the very bytes that were invalid).
std::string Describe(std::string_view what) {
  const size_t column = what.find("column ");
  if (column != std::string_view::npos) {
    const size_t colon = what.find(": ", column);
    if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
  }
  const size_t last_read = what.find("; last read");
  if (last_read != std::string_view::npos) what = what.substr(0, last_read);
  return ScrubUtf8(what);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// JsonValue

const char* JsonValue::type_name() const {
  switch (type()) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return "boolean";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
    default:
      return "number";
  }
}

JsonValue JsonValue::find(std::string_view k) const {
  const JsonDoc::Node& n = doc_->nodes_[index_];
  if (n.type != Type::kObject) return JsonValue();
  const JsonDoc::Child* first = doc_->children_.data() + n.a;
  const JsonDoc::Child* last = first + n.b;
  const JsonDoc* doc = doc_;
  // Most objects of an event have a few members: comparing sizes first passes most of them.
  constexpr uint32_t kScanBelow = 8;
  if (n.b < kScanBelow) {
    for (const JsonDoc::Child* c = first; c != last; ++c) {
      if (c->key_size == k.size() && doc->Chars(c->key_offset, c->key_size) == k) {
        return JsonValue(doc_, c->value);
      }
    }
    return JsonValue();
  }
  const JsonDoc::Child* it =
      std::lower_bound(first, last, k, [doc](const JsonDoc::Child& c, std::string_view key) {
        return doc->Chars(c.key_offset, c.key_size) < key;
      });
  if (it == last || doc_->Chars(it->key_offset, it->key_size) != k) return JsonValue();
  return JsonValue(doc_, it->value);
}

// ---------------------------------------------------------------------------------------------
// Building a document from nlohmann's SAX events.

class JsonDoc::Builder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  Builder(JsonDoc* doc, const Limits& limits) : doc_(*doc), limits_(limits) {}

  bool null() { return Add(Leaf(JsonValue::Type::kNull)); }
  bool boolean(bool v) {
    Node n = Leaf(JsonValue::Type::kBoolean);
    n.boolean = v;
    return Add(n);
  }
  bool number_integer(number_integer_t v) {
    Node n = Leaf(JsonValue::Type::kInteger);
    n.integer = v;
    return Add(n);
  }
  bool number_unsigned(number_unsigned_t v) {
    Node n = Leaf(JsonValue::Type::kUnsigned);
    n.unsigned_integer = v;
    return Add(n);
  }
  bool number_float(number_float_t v, const string_t& /*text*/) {
    Node n = Leaf(JsonValue::Type::kFloat);
    n.floating = v;
    return Add(n);
  }
  bool string(string_t& v) {
    if (v.size() > limits_.max_string_bytes) {
      return Fail("string longer than " + std::to_string(limits_.max_string_bytes) + " bytes",
                  NextPath());
    }
    Node n = Leaf(JsonValue::Type::kString);
    n.a = Store(v);
    n.b = static_cast<uint32_t>(v.size());
    return Add(n);
  }
  // JSON text has no binary values; the SAX interface asks for a handler all the same.
  bool binary(binary_t& /*v*/) { return Fail("unexpected binary value", NextPath()); }

  bool start_object(std::size_t /*elements*/) { return Open(JsonValue::Type::kObject); }
  bool start_array(std::size_t /*elements*/) { return Open(JsonValue::Type::kArray); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(string_t& k) {
    if (k.size() > limits_.max_string_bytes) {
      return Fail("object key longer than " + std::to_string(limits_.max_string_bytes) + " bytes",
                  ContainerPath());
    }
    key_offset_ = Store(k);
    key_size_ = static_cast<uint32_t>(k.size());
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const json::exception& ex) {
    // nlohmann counts the offending byte itself; report its 0-based offset.
    const size_t offset = position > 0 ? position - 1 : 0;
    return Fail("invalid JSON at byte " + std::to_string(offset) + ": " + Describe(ex.what()), "");
  }

  const Status& error() const { return error_; }

 private:
  // An open container: where its children start in scratch_, and its place in its parent.
  struct Frame {
    uint32_t node;
    size_t first_child;
    uint32_t key_offset, key_size;  // its key, when its parent is an object
    size_t index;                   // its index, when its parent is an array
  };

  static Node Leaf(JsonValue::Type type) {
    Node n{};
    n.type = type;
    return n;
  }

  bool Fail(std::string message, std::string path) {
    error_ = Status::InvalidArgument(std::move(message), std::move(path));
    return false;
  }

  uint32_t Store(std::string_view s) {
    const auto offset = static_cast<uint32_t>(doc_.chars_.size());
    doc_.chars_.append(s);
    return offset;
  }

  // Adds `n` to the document, as a child of the open container (or as the root).
  bool Add(const Node& n) {
    const auto index = static_cast<uint32_t>(doc_.nodes_.size());
    doc_.nodes_.push_back(n);
    if (!stack_.empty()) scratch_.push_back(Child{key_offset_, key_size_, index});
    return true;
  }

  bool Open(JsonValue::Type type) {
    if (stack_.size() >= static_cast<size_t>(limits_.max_depth)) {
      return Fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels",
                  NextPath());
    }
    const size_t index = stack_.empty() ? 0 : scratch_.size() - stack_.back().first_child;
    const auto node = static_cast<uint32_t>(doc_.nodes_.size());
    Add(Leaf(type));
    stack_.push_back(Frame{node, scratch_.size(), key_offset_, key_size_, index});
    return true;
  }

  // Moves the children of the innermost container to the document: an object's sorted by key,
  // of equal keys the last.
  bool Close() {
    const Frame frame = stack_.back();
    stack_.pop_back();
    auto first = scratch_.begin() + static_cast<ptrdiff_t>(frame.first_child);
    auto last = scratch_.end();
    Node& node = doc_.nodes_[frame.node];
    if (node.type == JsonValue::Type::kObject) {
      const JsonDoc& doc = doc_;
      auto key_of = [&doc](const Child& c) { return doc.Chars(c.key_offset, c.key_size); };
      // Values are added in order: the value index keeps equal keys in the order sent.
      auto less = [&key_of](const Child& x, const Child& y) {
        const int c = key_of(x).compare(key_of(y));
        return c != 0 ? c < 0 : x.value < y.value;
      };
      // Producers often send keys in order already.
      if (!std::is_sorted(first, last, less)) std::sort(first, last, less);
      // Of a run of equal keys, keep the last.
      auto out = first;
      for (auto it = first; it != last; ++it) {
        if (it + 1 != last && key_of(it[1]) == key_of(*it)) continue;
        *out++ = *it;
      }
      last = out;
    }
    node.a = static_cast<uint32_t>(doc_.children_.size());
    node.b = static_cast<uint32_t>(last - first);
    doc_.children_.insert(doc_.children_.end(), first, last);
    scratch_.resize(frame.first_child);
    return true;
  }

  // The JSON pointer of the innermost open container ("" for the root).
  std::string ContainerPath() const {
    std::string path;
    for (size_t i = 1; i < stack_.size(); ++i) {
      const Frame& parent = stack_[i - 1];
      if (doc_.nodes_[parent.node].type == JsonValue::Type::kArray) {
        AppendPointerToken(&path, std::to_string(stack_[i].index));
      } else {
        AppendPointerToken(&path, doc_.Chars(stack_[i].key_offset, stack_[i].key_size));
      }
    }
    return path;
  }

  // The JSON pointer of the value about to be added.
  std::string NextPath() const {
    if (stack_.empty()) return "";
    std::string path = ContainerPath();
    const Frame& top = stack_.back();
    if (doc_.nodes_[top.node].type == JsonValue::Type::kArray) {
      AppendPointerToken(&path, std::to_string(scratch_.size() - top.first_child));
    } else {
      AppendPointerToken(&path, doc_.Chars(key_offset_, key_size_));
    }
    return path;
  }

  JsonDoc& doc_;
  const Limits limits_;
  std::vector<Frame> stack_;                // open containers, outermost first
  std::vector<Child> scratch_;              // the children of open containers, outermost first
  uint32_t key_offset_ = 0, key_size_ = 0;  // the last key read
  Status error_;
};

Status JsonDoc::Parse(std::string_view text, const Limits& limits) {
  nodes_.clear();
  children_.clear();
  chars_.clear();
  if (IsBlank(text)) {
    return Status::InvalidArgument("empty body", "");
  }
  // Offsets are 32 bits; the text holds every string and key it stores.
  if (text.size() > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument(
        "document of " + std::to_string(text.size()) + " bytes is too large to parse", "");
  }
  // For compact events, about one value per 24 bytes, and most bytes are in strings.
  nodes_.reserve(text.size() / 24 + 4);
  chars_.reserve(text.size());
  Builder builder(this, limits);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                         /*strict=*/true);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot parse JSON: " + ScrubUtf8(e.what()), "");
  }
  if (ok) return Status::Ok();
  if (!builder.error().ok()) return builder.error();
  return Status::InvalidArgument("invalid JSON", "");
}

}  // namespace tributary
