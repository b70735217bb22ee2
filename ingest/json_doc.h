// JsonDoc: a read-only JSON document, as the event parser reads one.
//
// nlohmann's SAX parser checks the text (strict RFC 8259 and UTF-8) and JsonDoc keeps what it
// reports in three flat arrays: the values, each container's children, and the bytes of every
// string and key. An nlohmann document costs a heap allocation per object, member and string
// of more than 15 bytes, and as many frees; ingest builds one per event and reads it once.
//
// Objects read as nlohmann's std::map-based document reads them: members in key order (bytes
// compared unsigned), and of repeated keys the last one wins.
//
// Parse enforces a nesting depth and a string length limit, and every failure is
// InvalidArgument whose path() is the JSON pointer of the offending value ("" for the text
// itself: bad JSON, an empty body). It never throws.
//
// Thread safety: a JsonDoc is built by one thread; once built, any number may read it. Values
// are valid while their document lives and is not parsed into again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tributary {

class JsonDoc;

// A value of a JsonDoc, or no value at all (false in a condition): what a lookup of an absent
// member returns. Only the conversion to bool may be called on no value.
class JsonValue {
 public:
  enum class Type : uint8_t {
    kNull,
    kBoolean,
    kInteger,
    kUnsigned,
    kFloat,
    kString,
    kArray,
    kObject
  };

  JsonValue() = default;
  explicit operator bool() const { return doc_ != nullptr; }

  inline Type type() const;
  bool is_null() const { return type() == Type::kNull; }
  bool is_boolean() const { return type() == Type::kBoolean; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }
  // The name nlohmann gives the type ("object", "number", ...), for error messages.
  const char* type_name() const;

  // The value of a string, boolean or number; the type must match.
  inline std::string_view string() const;
  inline bool boolean() const;
  inline int64_t integer() const;
  inline uint64_t unsigned_integer() const;
  inline double floating() const;

  // Containers: the number of elements or members, element or member `i` (members in key
  // order), and a member's key.
  inline size_t size() const;
  inline JsonValue operator[](size_t i) const;
  inline std::string_view key(size_t i) const;
  // The member `key` of an object, or no value when it has none (also when this is not an
  // object). A scan of an object of a few members, a binary search of a larger one.
  JsonValue find(std::string_view key) const;

  // Identifies the value within its document.
  uint32_t id() const { return index_; }

 private:
  friend class JsonDoc;
  JsonValue(const JsonDoc* doc, uint32_t index) : doc_(doc), index_(index) {}

  const JsonDoc* doc_ = nullptr;  // null for no value
  uint32_t index_ = 0;
};

class JsonDoc {
 public:
  struct Limits {
    int max_depth = 64;                 // deepest nesting of arrays and objects
    size_t max_string_bytes = 4 << 20;  // longest string or key
  };

  // Parses `text` into this document, replacing what it held. On failure the document holds
  // nothing usable.
  Status Parse(std::string_view text, const Limits& limits);

  // The top-level value; only after a successful Parse.
  JsonValue root() const { return JsonValue(this, 0); }

 private:
  friend class JsonValue;
  class Builder;

  struct Node {
    JsonValue::Type type;
    bool boolean;
    // Strings: offset and size in chars_. Containers: the first child in children_ and the
    // number of children.
    uint32_t a, b;
    union {
      int64_t integer;
      uint64_t unsigned_integer;
      double floating;
    };
  };
  // A child of a container: an element (no key) or a member.
  struct Child {
    uint32_t key_offset, key_size;  // in chars_
    uint32_t value;                 // in nodes_
  };

  std::string_view Chars(uint32_t offset, uint32_t size) const {
    return std::string_view(chars_.data() + offset, size);
  }

  std::vector<Node> nodes_;  // the root first
  std::vector<Child> children_;
  std::string chars_;
};

// Accessors are inline: the parser calls them for every value of every event.

JsonValue::Type JsonValue::type() const { return doc_->nodes_[index_].type; }

std::string_view JsonValue::string() const {
  const JsonDoc::Node& n = doc_->nodes_[index_];
  return doc_->Chars(n.a, n.b);
}

bool JsonValue::boolean() const { return doc_->nodes_[index_].boolean; }
int64_t JsonValue::integer() const { return doc_->nodes_[index_].integer; }
uint64_t JsonValue::unsigned_integer() const { return doc_->nodes_[index_].unsigned_integer; }
double JsonValue::floating() const { return doc_->nodes_[index_].floating; }

size_t JsonValue::size() const {
  const JsonDoc::Node& n = doc_->nodes_[index_];
  return n.type == Type::kArray || n.type == Type::kObject ? n.b : 0;
}

JsonValue JsonValue::operator[](size_t i) const {
  return JsonValue(doc_, doc_->children_[doc_->nodes_[index_].a + i].value);
}

std::string_view JsonValue::key(size_t i) const {
  const JsonDoc::Child& c = doc_->children_[doc_->nodes_[index_].a + i];
  return doc_->Chars(c.key_offset, c.key_size);
}

}  // namespace tributary
