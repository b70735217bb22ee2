#include "ingest/event_parser.h"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tributary {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Text helpers for error messages and JSON pointers.

// Replaces every byte that is not part of a well-formed UTF-8 sequence with '?', so that a
// message can always be embedded in a JSON error response (nlohmann's dump() throws on
// invalid UTF-8).
std::string ScrubUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // no overlong forms
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

// A value echoed in a message: quoted, cut to a bounded length at a character boundary.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxEcho = 64;
  if (s.size() > kMaxEcho) {
    size_t n = kMaxEcho;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return "'" + ScrubUtf8(s.substr(0, n)) + "...'";
  }
  return "'" + ScrubUtf8(s) + "'";
}

// Escapes one JSON pointer reference token (RFC 6901).
std::string EscapeToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Child(const std::string& path, std::string_view key) {
  return path + "/" + EscapeToken(key);
}

std::string Child(const std::string& path, size_t index) {
  return path + "/" + std::to_string(index);
}

// ---------------------------------------------------------------------------------------------
// Parsing with limits.

// A SAX handler for json::sax_parse that builds the document while enforcing the nesting depth
// and string length limits. nlohmann's own parser loop is iterative, but a document must
// never get deeper than the limit: destroying, dumping and walking it may recurse. On a
// violation it stops the parse at once and records the JSON pointer of the offending value.
class LimitedDomBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  LimitedDomBuilder(int max_depth, size_t max_string_bytes, json* root)
      : max_depth_(max_depth), max_string_bytes_(max_string_bytes), root_(*root) {}

  bool null() { return Add(json(nullptr)) != nullptr; }
  bool boolean(bool v) { return Add(json(v)) != nullptr; }
  bool number_integer(number_integer_t v) { return Add(json(v)) != nullptr; }
  bool number_unsigned(number_unsigned_t v) { return Add(json(v)) != nullptr; }
  bool number_float(number_float_t v, const string_t& /*text*/) { return Add(json(v)) != nullptr; }
  bool string(string_t& v) {
    if (v.size() > max_string_bytes_) {
      return Fail("string longer than " + std::to_string(max_string_bytes_) + " bytes", NextPath());
    }
    return Add(json(std::move(v))) != nullptr;
  }
  // JSON text has no binary values; kept for the SAX interface.
  bool binary(binary_t& v) { return Add(json::binary(std::move(v))) != nullptr; }

  bool start_object(std::size_t /*elements*/) { return Open(json::object()); }
  bool start_array(std::size_t /*elements*/) { return Open(json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(string_t& k) {
    if (k.size() > max_string_bytes_) {
      return Fail("object key longer than " + std::to_string(max_string_bytes_) + " bytes",
                  ContainerPath(stack_.size()));
    }
    pending_key_ = std::move(k);
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
  // Strips nlohmann's "[json.exception...] parse error at line L, column C: " prefix and the
  // "; last read: '...'" suffix (the suffix may hold the very bytes that were invalid).
  static std::string Describe(std::string_view what) {
    const size_t column = what.find("column ");
    if (column != std::string_view::npos) {
      const size_t colon = what.find(": ", column);
      if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
    }
    const size_t last_read = what.find("; last read");
    if (last_read != std::string_view::npos) what = what.substr(0, last_read);
    return ScrubUtf8(what);
  }

  bool Fail(std::string message, std::string path) {
    error_ = Status::InvalidArgument(std::move(message), std::move(path));
    return false;
  }

  bool Open(json&& container) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      return Fail("nesting deeper than " + std::to_string(max_depth_) + " levels", NextPath());
    }
    json* slot = Add(std::move(container));
    stack_.push_back(slot);
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  // Stores `value` in the current container (or as the root) and returns where it now lives.
  // Pointers stay valid while the value is open: std::map nodes never move, and an array gets
  // no new element before its open last element is closed.
  json* Add(json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      auto& array = top.get_ref<json::array_t&>();
      array.push_back(std::move(value));
      return &array.back();
    }
    json& slot = top.get_ref<json::object_t&>()[std::move(pending_key_)];
    slot = std::move(value);
    pending_key_.clear();
    return &slot;
  }

  // JSON pointer of the container stack_[depth - 1] (the root for depth 0 or 1). Only used
  // for error messages, so it searches objects for the key rather than tracking one.
  std::string ContainerPath(size_t depth) const {
    std::string path;
    for (size_t i = 1; i < depth; ++i) {
      const json& parent = *stack_[i - 1];
      if (parent.is_array()) {
        path = Child(path, parent.size() - 1);
        continue;
      }
      for (const auto& [k, v] : parent.items()) {
        if (&v == stack_[i]) {
          path = Child(path, k);
          break;
        }
      }
    }
    return path;
  }

  // JSON pointer of the value about to be added.
  std::string NextPath() const {
    if (stack_.empty()) return "";
    const std::string base = ContainerPath(stack_.size());
    const json& top = *stack_.back();
    return top.is_array() ? Child(base, top.size()) : Child(base, pending_key_);
  }

  const int max_depth_;
  const size_t max_string_bytes_;
  json& root_;
  std::vector<json*> stack_;  // open containers, outermost first; not owned
  std::string pending_key_;
  Status error_;
};

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

Status ParseJson(std::string_view bytes, int max_depth, size_t max_string_bytes, json* out) {
  if (IsBlank(bytes)) return Status::InvalidArgument("empty body", "");
  LimitedDomBuilder builder(max_depth, max_string_bytes, out);
  const bool ok = json::sax_parse(bytes.begin(), bytes.end(), &builder, json::input_format_t::json,
                                  /*strict=*/true);
  if (ok) return Status::Ok();
  if (!builder.error().ok()) return builder.error();
  return Status::InvalidArgument("invalid JSON", "");
}

// ---------------------------------------------------------------------------------------------
// Typed access to members, with JSON pointers in every error.

Status Expected(std::string_view what, const json& got, const std::string& path) {
  return Status::InvalidArgument("expected " + std::string(what) + ", got " + got.type_name(),
                                 path);
}

Status Missing(const std::string& path) {
  return Status::InvalidArgument("missing required field", path);
}

// The member `key` of the object `obj`, or nullptr when absent or null. Optional fields read
// null as absent: some producers serialize unset fields as null.
const json* Member(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// Whether an empty string is acceptable. Strings that name a graph node (run, job, dataset,
// column) must not be empty: an empty name would merge unrelated things into one node.
enum class Empty { kAllowed, kRejected };

Result<std::string> RequiredString(const json& obj, std::string_view key, const std::string& path,
                                   Empty empty = Empty::kAllowed) {
  // Paths are built only for errors: most strings are fine, and ingest reads many.
  auto it = obj.find(key);
  if (it == obj.end()) return Missing(Child(path, key));
  if (!it->is_string()) return Expected("string", *it, Child(path, key));
  const auto& s = it->get_ref<const std::string&>();
  if (empty == Empty::kRejected && s.empty()) {
    return Status::InvalidArgument("expected a non-empty string", Child(path, key));
  }
  return s;
}

// An optional string member: nullopt when absent or null.
Result<std::optional<std::string>> OptionalString(const json& obj, std::string_view key,
                                                  const std::string& path) {
  const json* v = Member(obj, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return Expected("string", *v, Child(path, key));
  return std::optional<std::string>(v->get_ref<const std::string&>());
}

Result<bool> OptionalBool(const json& obj, std::string_view key, const std::string& path) {
  const json* v = Member(obj, key);
  if (v == nullptr) return false;
  if (!v->is_boolean()) return Expected("boolean", *v, Child(path, key));
  return v->get<bool>();
}

Result<const json*> RequiredObject(const json& obj, std::string_view key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) return Missing(Child(path, key));
  if (!it->is_object()) return Expected("object", *it, Child(path, key));
  return &*it;
}

// An optional object member: nullptr when absent or null.
Result<const json*> OptionalObject(const json& obj, std::string_view key, const std::string& path) {
  const json* v = Member(obj, key);
  if (v != nullptr && !v->is_object()) return Expected("object", *v, Child(path, key));
  return v;
}

Result<const json*> RequiredArray(const json& obj, std::string_view key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) return Missing(Child(path, key));
  if (!it->is_array()) return Expected("array", *it, Child(path, key));
  return &*it;
}

// An optional array member: nullptr when absent or null.
Result<const json*> OptionalArray(const json& obj, std::string_view key, const std::string& path) {
  const json* v = Member(obj, key);
  if (v != nullptr && !v->is_array()) return Expected("array", *v, Child(path, key));
  return v;
}

// ---------------------------------------------------------------------------------------------
// The canonical text: what json::dump() writes (compact, object keys in std::map order), built
// once per event. Facets are stored as their own text, which is a slice of it.

bool IsFacetMapKey(std::string_view key) {
  return key == "facets" || key == "inputFacets" || key == "outputFacets";
}

// The canonical text of a document, and where in it each facet (a member of a facets map)
// and each facets map was written.
class CanonicalText {
 public:
  // `size_hint`: the size of the text the document was parsed from, which the canonical
  // text is close to (both are compact for most producers).
  CanonicalText(const json& doc, size_t size_hint) {
    text_.reserve(size_hint + size_hint / 8);
    Write(doc, false);
  }

  std::string& text() { return text_; }
  // The canonical text of `v`: a slice of the document's when `v` is a facet or a facets
  // map of it, else written anew.
  std::string Of(const json& v) const {
    for (const Span& s : spans_) {
      if (s.value == &v) return text_.substr(s.begin, s.end - s.begin);
    }
    return v.dump();
  }

 private:
  struct Span {
    const json* value;
    size_t begin, end;
  };

  // As json::dump() writes a string (with ensure_ascii off): strings without a quote, a
  // backslash or a control character are copied (the parser has checked their UTF-8).
  void WriteString(const std::string& s) {
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
        text_ += json(s).dump();
        return;
      }
    }
    text_ += '"';
    text_ += s;
    text_ += '"';
  }

  template <typename Int>
  void WriteInteger(Int i) {
    char buf[24];
    text_.append(buf, std::to_chars(buf, buf + sizeof buf, i).ptr);
  }

  // `facets`: `v` is a facets map, whose members are facets.
  void Write(const json& v, bool facets) {
    switch (v.type()) {
      case json::value_t::object: {
        text_ += '{';
        bool first = true;
        for (auto it = v.begin(); it != v.end(); ++it) {
          if (!first) text_ += ',';
          first = false;
          WriteString(it.key());
          text_ += ':';
          const json& member = it.value();
          const size_t begin = text_.size();
          const bool facet_map = !facets && member.is_object() && IsFacetMapKey(it.key());
          Write(member, facet_map);
          if (facets || facet_map) spans_.push_back({&member, begin, text_.size()});
        }
        text_ += '}';
        return;
      }
      case json::value_t::array: {
        text_ += '[';
        for (size_t i = 0; i < v.size(); ++i) {
          if (i) text_ += ',';
          Write(v[i], false);
        }
        text_ += ']';
        return;
      }
      case json::value_t::string:
        WriteString(v.get_ref<const std::string&>());
        return;
      case json::value_t::number_integer:
        WriteInteger(v.get<int64_t>());
        return;
      case json::value_t::number_unsigned:
        WriteInteger(v.get<uint64_t>());
        return;
      case json::value_t::boolean:
        text_ += v.get<bool>() ? "true" : "false";
        return;
      case json::value_t::null:
        text_ += "null";
        return;
      default:
        text_ += v.dump();  // floating point, in nlohmann's shortest form
        return;
    }
  }

  std::string text_;
  std::vector<Span> spans_;
};

// ---------------------------------------------------------------------------------------------
// Facets.

// Reads the facets map `key` of `owner` into `out` (when not null). Every facet must be an
// object; _producer and _schemaURL are not required (many real producers omit them).
// Returns the map, or nullptr when it is absent or null.
Result<const json*> ReadFacets(const json& owner, std::string_view key,
                               const std::string& owner_path, const CanonicalText& text,
                               std::vector<Facet>* out) {
  TRIB_ASSIGN_OR_RETURN(const json* facets, OptionalObject(owner, key, owner_path));
  if (facets == nullptr) return facets;
  const std::string path = Child(owner_path, key);
  for (const auto& [name, value] : facets->items()) {
    const std::string p = Child(path, name);
    if (!value.is_object()) return Expected("object", value, p);
    // "_deleted": null has been seen from dbt-ol; it counts as false.
    TRIB_ASSIGN_OR_RETURN(bool deleted, OptionalBool(value, "_deleted", p));
    if (out != nullptr) {
      std::string json = text.Of(value);
      ShortDigest digest = ShortDigestOf(json);
      out->push_back(Facet{name, std::move(json), deleted, digest});
    }
  }
  return facets;
}

// The facet `name` of a facets map if it is present and not marked deleted, else nullptr.
// Facet values were already checked to be objects by ReadFacets.
const json* LiveFacet(const json* facets, std::string_view name) {
  if (facets == nullptr) return nullptr;
  auto it = facets->find(name);
  if (it == facets->end()) return nullptr;
  auto deleted = it->find("_deleted");
  if (deleted != it->end() && deleted->is_boolean() && deleted->get<bool>()) return nullptr;
  return &*it;
}

Status ReadSchemaFields(const json& fields, const std::string& path, const std::string& prefix,
                        std::vector<SchemaField>* out) {
  if (!fields.is_array()) return Expected("array", fields, path);
  for (size_t i = 0; i < fields.size(); ++i) {
    const json& f = fields[i];
    const std::string p = Child(path, i);
    if (!f.is_object()) return Expected("object", f, p);
    TRIB_ASSIGN_OR_RETURN(std::string name, RequiredString(f, "name", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(std::optional<std::string> type, OptionalString(f, "type", p));
    TRIB_ASSIGN_OR_RETURN(std::optional<std::string> description,
                          OptionalString(f, "description", p));
    std::string field_path = prefix.empty() ? std::move(name) : prefix + "." + name;
    out->push_back(SchemaField{field_path, type.value_or(""), description.value_or("")});
    // Recursion is bounded by the parser's depth limit.
    if (const json* children = Member(f, "fields")) {
      TRIB_RETURN_IF_ERROR(ReadSchemaFields(*children, Child(p, "fields"), field_path, out));
    }
  }
  return Status::Ok();
}

Result<std::vector<SchemaField>> ReadSchema(const json& facet, const std::string& path) {
  std::vector<SchemaField> out;
  if (const json* fields = Member(facet, "fields")) {
    TRIB_RETURN_IF_ERROR(ReadSchemaFields(*fields, Child(path, "fields"), "", &out));
  }
  return out;
}

// Column lineage holds most of an event's elements, and JSON pointers to them are long: they
// are read with kNoPath first, and read again with their path only to report an error.
const std::string kNoPath;

Result<Transformation> ReadTransformation(const json& t, const std::string& path) {
  if (!t.is_object()) return Expected("object", t, path);
  Transformation out;
  TRIB_ASSIGN_OR_RETURN(out.type, RequiredString(t, "type", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> subtype, OptionalString(t, "subtype", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> description,
                        OptionalString(t, "description", path));
  TRIB_ASSIGN_OR_RETURN(out.masking, OptionalBool(t, "masking", path));
  out.subtype = subtype.value_or("");
  out.description = description.value_or("");
  return out;
}

Result<InputFieldRef> ReadInputField(const json& v, const std::string& path) {
  if (!v.is_object()) return Expected("object", v, path);
  InputFieldRef ref;
  TRIB_ASSIGN_OR_RETURN(ref.ns, RequiredString(v, "namespace", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(ref.name, RequiredString(v, "name", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(ref.field, RequiredString(v, "field", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(const json* transformations, OptionalArray(v, "transformations", path));
  if (transformations == nullptr) return ref;
  for (size_t i = 0; i < transformations->size(); ++i) {
    const json& t = (*transformations)[i];
    Result<Transformation> out = ReadTransformation(t, kNoPath);
    if (!out.ok()) return ReadTransformation(t, Child(Child(path, "transformations"), i)).status();
    ref.transformations.push_back(std::move(out).value());
  }
  return ref;
}

// The deprecated per-field transformationType/transformationDescription (columnLineage before
// 1-1-0) as a transformation, or nullopt when neither was sent.
std::optional<Transformation> LegacyTransformation(const std::optional<std::string>& type,
                                                   const std::optional<std::string>& description) {
  const std::string t = type.value_or("");
  const std::string d = description.value_or("");
  if (t.empty() && d.empty()) return std::nullopt;
  Transformation out;
  out.description = d;
  if (t == "IDENTITY") {
    out.type = "DIRECT";
    out.subtype = "IDENTITY";
  } else if (t == "MASKED") {
    out.type = "DIRECT";
    out.masking = true;
  }
  // Anything else (e.g. "COPY" in a Marquez fixture) is a dependency of unknown type.
  return out;
}

// The entry of one output field of a columnLineage facet.
Result<ColumnLineageField> ReadLineageField(const std::string& output_field, const json& entry,
                                            const std::string& path) {
  if (output_field.empty()) return Status::InvalidArgument("expected a non-empty field name", path);
  if (!entry.is_object()) return Expected("object", entry, path);
  TRIB_ASSIGN_OR_RETURN(const json* inputs, RequiredArray(entry, "inputFields", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> legacy_type,
                        OptionalString(entry, "transformationType", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> legacy_description,
                        OptionalString(entry, "transformationDescription", path));
  const std::optional<Transformation> legacy =
      LegacyTransformation(legacy_type, legacy_description);
  ColumnLineageField field;
  field.output_field = output_field;
  for (size_t i = 0; i < inputs->size(); ++i) {
    Result<InputFieldRef> ref = ReadInputField((*inputs)[i], kNoPath);
    if (!ref.ok()) {
      return ReadInputField((*inputs)[i], Child(Child(path, "inputFields"), i)).status();
    }
    // The legacy field-level description only stands in for inputs that say nothing
    // themselves (Airflow sends "transformations": [] next to transformationType).
    if (legacy && ref->transformations.empty()) ref->transformations.push_back(*legacy);
    field.inputs.push_back(std::move(ref).value());
  }
  return field;
}

Result<ColumnLineage> ReadColumnLineage(const json& facet, const std::string& path) {
  ColumnLineage out;
  TRIB_ASSIGN_OR_RETURN(const json* fields, RequiredObject(facet, "fields", path));
  for (const auto& [output_field, entry] : fields->items()) {
    Result<ColumnLineageField> field = ReadLineageField(output_field, entry, kNoPath);
    if (!field.ok()) {
      return ReadLineageField(output_field, entry, Child(Child(path, "fields"), output_field))
          .status();
    }
    out.fields.push_back(std::move(field).value());
  }
  TRIB_ASSIGN_OR_RETURN(const json* dataset, OptionalArray(facet, "dataset", path));
  if (dataset != nullptr) {
    for (size_t i = 0; i < dataset->size(); ++i) {
      Result<InputFieldRef> ref = ReadInputField((*dataset)[i], kNoPath);
      if (!ref.ok())
        return ReadInputField((*dataset)[i], Child(Child(path, "dataset"), i)).status();
      out.dataset_wide.push_back(std::move(ref).value());
    }
  }
  return out;
}

Result<std::vector<DatasetIdentifier>> ReadSymlinks(const json& facet, const std::string& path) {
  std::vector<DatasetIdentifier> out;
  TRIB_ASSIGN_OR_RETURN(const json* identifiers, OptionalArray(facet, "identifiers", path));
  if (identifiers == nullptr) return out;
  const std::string ids_path = Child(path, "identifiers");
  for (size_t i = 0; i < identifiers->size(); ++i) {
    const json& id = (*identifiers)[i];
    const std::string p = Child(ids_path, i);
    if (!id.is_object()) return Expected("object", id, p);
    DatasetIdentifier link;
    TRIB_ASSIGN_OR_RETURN(link.ns, RequiredString(id, "namespace", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(link.name, RequiredString(id, "name", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(link.type, RequiredString(id, "type", p));
    out.push_back(std::move(link));
  }
  return out;
}

Result<LifecycleChange> ReadLifecycle(const json& facet, const std::string& path) {
  LifecycleChange out;
  // The state is kept as sent: a value outside the enum of 1-0-1 may come from a newer spec.
  TRIB_ASSIGN_OR_RETURN(out.state, RequiredString(facet, "lifecycleStateChange", path));
  TRIB_ASSIGN_OR_RETURN(const json* previous, OptionalObject(facet, "previousIdentifier", path));
  if (previous != nullptr) {
    const std::string p = Child(path, "previousIdentifier");
    DatasetIdentifier id;
    TRIB_ASSIGN_OR_RETURN(id.ns, RequiredString(*previous, "namespace", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(id.name, RequiredString(*previous, "name", p, Empty::kRejected));
    out.previous = std::move(id);
  }
  return out;
}

Result<ParentRef> ReadParent(const json& facet, const std::string& path) {
  ParentRef out;
  TRIB_ASSIGN_OR_RETURN(const json* run, RequiredObject(facet, "run", path));
  TRIB_ASSIGN_OR_RETURN(out.run_id,
                        RequiredString(*run, "runId", Child(path, "run"), Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(const json* job, RequiredObject(facet, "job", path));
  const std::string job_path = Child(path, "job");
  TRIB_ASSIGN_OR_RETURN(out.job_ns, RequiredString(*job, "namespace", job_path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(out.job_name, RequiredString(*job, "name", job_path, Empty::kRejected));
  // The spec requires both halves of root; each is read on its own, so a producer that sends
  // only one is not rejected.
  TRIB_ASSIGN_OR_RETURN(const json* root, OptionalObject(facet, "root", path));
  if (root == nullptr) return out;
  const std::string root_path = Child(path, "root");
  TRIB_ASSIGN_OR_RETURN(const json* root_run, OptionalObject(*root, "run", root_path));
  if (root_run != nullptr) {
    TRIB_ASSIGN_OR_RETURN(
        out.root_run_id,
        RequiredString(*root_run, "runId", Child(root_path, "run"), Empty::kRejected));
  }
  TRIB_ASSIGN_OR_RETURN(const json* root_job, OptionalObject(*root, "job", root_path));
  if (root_job != nullptr) {
    const std::string p = Child(root_path, "job");
    TRIB_ASSIGN_OR_RETURN(out.root_job_ns,
                          RequiredString(*root_job, "namespace", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(out.root_job_name,
                          RequiredString(*root_job, "name", p, Empty::kRejected));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Datasets and the event.

// Reads a dataset object. `io_key` is "inputFacets", "outputFacets", or empty for the static
// dataset of a DatasetEvent.
Result<DatasetRef> ReadDataset(const json& v, const std::string& path, std::string_view io_key,
                               const CanonicalText& text) {
  if (!v.is_object()) return Expected("object", v, path);
  DatasetRef ds;
  TRIB_ASSIGN_OR_RETURN(ds.ns, RequiredString(v, "namespace", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(ds.name, RequiredString(v, "name", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(const json* facets, ReadFacets(v, "facets", path, text, &ds.facets));
  if (!io_key.empty()) {
    TRIB_ASSIGN_OR_RETURN(const json* io_facets, ReadFacets(v, io_key, path, text, nullptr));
    if (io_facets != nullptr) ds.io_facets_json = text.Of(*io_facets);
  }
  const std::string facets_path = Child(path, "facets");
  if (const json* f = LiveFacet(facets, "schema")) {
    TRIB_ASSIGN_OR_RETURN(ds.schema, ReadSchema(*f, Child(facets_path, "schema")));
  }
  if (const json* f = LiveFacet(facets, "columnLineage")) {
    TRIB_ASSIGN_OR_RETURN(ds.column_lineage,
                          ReadColumnLineage(*f, Child(facets_path, "columnLineage")));
  }
  if (const json* f = LiveFacet(facets, "symlinks")) {
    TRIB_ASSIGN_OR_RETURN(ds.symlinks, ReadSymlinks(*f, Child(facets_path, "symlinks")));
  }
  if (const json* f = LiveFacet(facets, "lifecycleStateChange")) {
    TRIB_ASSIGN_OR_RETURN(ds.lifecycle,
                          ReadLifecycle(*f, Child(facets_path, "lifecycleStateChange")));
  }
  return ds;
}

Status ReadDatasetList(const json& event, std::string_view key, std::string_view io_key,
                       const CanonicalText& text, std::vector<DatasetRef>* out) {
  TRIB_ASSIGN_OR_RETURN(const json* list, OptionalArray(event, key, ""));
  if (list == nullptr) return Status::Ok();
  const std::string path = Child("", key);
  out->reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    TRIB_ASSIGN_OR_RETURN(DatasetRef ds, ReadDataset((*list)[i], Child(path, i), io_key, text));
    out->push_back(std::move(ds));
  }
  return Status::Ok();
}

Result<EventType> ReadEventType(const json& event) {
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> text, OptionalString(event, "eventType", ""));
  if (!text) return EventType::kNone;
  static constexpr std::pair<std::string_view, EventType> kTypes[] = {
      {"START", EventType::kStart},       {"RUNNING", EventType::kRunning},
      {"COMPLETE", EventType::kComplete}, {"ABORT", EventType::kAbort},
      {"FAIL", EventType::kFail},         {"OTHER", EventType::kOther},
  };
  for (const auto& [name, type] : kTypes) {
    if (*text == name) return type;
  }
  return Status::InvalidArgument("unknown eventType " + Quote(*text) +
                                     "; expected START, RUNNING, COMPLETE, ABORT, FAIL or OTHER",
                                 "/eventType");
}

Status ReadJob(const json& event, const CanonicalText& text, ParsedEvent* out) {
  TRIB_ASSIGN_OR_RETURN(const json* job, RequiredObject(event, "job", ""));
  TRIB_ASSIGN_OR_RETURN(out->job_ns, RequiredString(*job, "namespace", "/job", Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(out->job_name, RequiredString(*job, "name", "/job", Empty::kRejected));
  // No job facet is interpreted; they are only kept.
  return ReadFacets(*job, "facets", "/job", text, &out->job_facets).status();
}

Status ReadRun(const json& event, const CanonicalText& text, ParsedEvent* out) {
  TRIB_ASSIGN_OR_RETURN(const json* run, RequiredObject(event, "run", ""));
  // Any non-empty id is accepted, as Marquez does: the spec asks for a UUID but fixtures
  // and older producers send other ids.
  TRIB_ASSIGN_OR_RETURN(out->run_id, RequiredString(*run, "runId", "/run", Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(const json* facets,
                        ReadFacets(*run, "facets", "/run", text, &out->run_facets));
  if (const json* f = LiveFacet(facets, "parent")) {
    TRIB_ASSIGN_OR_RETURN(out->parent, ReadParent(*f, "/run/facets/parent"));
  }
  if (const json* f = LiveFacet(facets, "errorMessage")) {
    TRIB_ASSIGN_OR_RETURN(out->error_message,
                          RequiredString(*f, "message", "/run/facets/errorMessage"));
  }
  return Status::Ok();
}

Result<ParsedEvent> ReadEvent(const json& event, const CanonicalText& text) {
  if (!event.is_object()) return Expected("a JSON object", event, "");
  ParsedEvent out;
  // The kind comes from the keys present, never from schemaURL (see the header).
  const bool has_run = event.contains("run");
  const bool has_job = event.contains("job");
  if (has_run && has_job) {
    out.kind = EventKind::kRun;
  } else if (event.contains("dataset")) {
    out.kind = EventKind::kDataset;
  } else if (has_job) {
    out.kind = EventKind::kJob;
  } else {
    return Status::InvalidArgument(
        "not a RunEvent (run and job), DatasetEvent (dataset) or JobEvent (job)", "");
  }

  TRIB_ASSIGN_OR_RETURN(out.event_time_text, RequiredString(event, "eventTime", ""));
  Result<Micros> time = ParseTime(out.event_time_text);
  if (!time.ok()) {
    return Status::InvalidArgument(ScrubUtf8(time.status().message()), "/eventTime");
  }
  out.event_time = *time;
  TRIB_ASSIGN_OR_RETURN(out.producer, RequiredString(event, "producer", ""));
  // schemaURL is only checked for presence: real producers send any value.
  TRIB_RETURN_IF_ERROR(RequiredString(event, "schemaURL", "").status());
  TRIB_ASSIGN_OR_RETURN(out.event_type, ReadEventType(event));

  switch (out.kind) {
    case EventKind::kRun:
      TRIB_RETURN_IF_ERROR(ReadRun(event, text, &out));
      TRIB_RETURN_IF_ERROR(ReadJob(event, text, &out));
      break;
    case EventKind::kJob:
      TRIB_RETURN_IF_ERROR(ReadJob(event, text, &out));
      break;
    case EventKind::kDataset: {
      TRIB_ASSIGN_OR_RETURN(const json* dataset, RequiredObject(event, "dataset", ""));
      TRIB_ASSIGN_OR_RETURN(out.dataset, ReadDataset(*dataset, "/dataset", "", text));
      return out;
    }
  }
  TRIB_RETURN_IF_ERROR(ReadDatasetList(event, "inputs", "inputFacets", text, &out.inputs));
  TRIB_RETURN_IF_ERROR(ReadDatasetList(event, "outputs", "outputFacets", text, &out.outputs));
  return out;
}

}  // namespace

Result<ParsedEvent> EventParser::Parse(std::string_view bytes, std::string* canonical) const {
  // Every nlohmann call stays inside this try: exceptions never leave the parser.
  try {
    json doc;
    TRIB_RETURN_IF_ERROR(ParseJson(bytes, options_.max_depth, options_.max_string_bytes, &doc));
    CanonicalText text(doc, bytes.size());
    TRIB_ASSIGN_OR_RETURN(ParsedEvent event, ReadEvent(doc, text));
    if (canonical != nullptr) *canonical = std::move(text.text());
    return event;
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot parse event: " + ScrubUtf8(e.what()), "");
  }
}

Result<std::vector<std::string>> EventParser::SplitBatch(std::string_view body, bool ndjson) const {
  try {
    std::vector<std::string> events;
    if (ndjson) {
      // Lines go to Parse unchanged, so that an invalid line is reported on its own.
      while (!body.empty()) {
        const size_t end = body.find('\n');
        std::string_view line = body.substr(0, end);
        body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!IsBlank(line)) events.emplace_back(line);
      }
      return events;
    }
    json doc;
    // One extra level for the array that holds the events, so that an event accepted by
    // Parse is also accepted inside a batch.
    TRIB_RETURN_IF_ERROR(ParseJson(body, options_.max_depth + 1, options_.max_string_bytes, &doc));
    if (!doc.is_array()) return Expected("a JSON array", doc, "");
    events.reserve(doc.size());
    for (const json& element : doc) events.push_back(element.dump());
    return events;
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot split batch: " + ScrubUtf8(e.what()), "");
  }
}

}  // namespace tributary
