#include "ingest/event_parser.h"

#include <algorithm>
#include <array>
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

#include "common/text.h"
#include "ingest/json_doc.h"

namespace tributary {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Text helpers for error messages and JSON pointers.

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

std::string Child(const std::string& path, std::string_view key) {
  std::string out = path;
  AppendPointerToken(&out, key);
  return out;
}

std::string Child(const std::string& path, size_t index) {
  return path + "/" + std::to_string(index);
}

// ---------------------------------------------------------------------------------------------
// Typed access to members, with JSON pointers in every error.

Status Expected(std::string_view what, JsonValue got, const std::string& path) {
  return Status::InvalidArgument("expected " + std::string(what) + ", got " + got.type_name(),
                                 path);
}

Status Missing(const std::string& path) {
  return Status::InvalidArgument("missing required field", path);
}

// The member `key` of the object `obj`, or no value when absent or null. Optional fields read
// null as absent: some producers serialize unset fields as null.
JsonValue Member(JsonValue obj, std::string_view key) {
  JsonValue v = obj.find(key);
  if (!v || v.is_null()) return JsonValue();
  return v;
}

// Whether an empty string is acceptable. Strings that name a graph node (run, job, dataset,
// column) must not be empty: an empty name would merge unrelated things into one node.
enum class Empty { kAllowed, kRejected };

Result<std::string> RequiredString(JsonValue obj, std::string_view key, const std::string& path,
                                   Empty empty = Empty::kAllowed) {
  // Paths are built only for errors: most strings are fine, and ingest reads many.
  JsonValue v = obj.find(key);
  if (!v) return Missing(Child(path, key));
  if (!v.is_string()) return Expected("string", v, Child(path, key));
  std::string_view s = v.string();
  if (empty == Empty::kRejected && s.empty()) {
    return Status::InvalidArgument("expected a non-empty string", Child(path, key));
  }
  return std::string(s);
}

// An optional string member: nullopt when absent or null.
Result<std::optional<std::string>> OptionalString(JsonValue obj, std::string_view key,
                                                  const std::string& path) {
  JsonValue v = Member(obj, key);
  if (!v) return std::optional<std::string>();
  if (!v.is_string()) return Expected("string", v, Child(path, key));
  return std::optional<std::string>(v.string());
}

Result<bool> OptionalBool(JsonValue obj, std::string_view key, const std::string& path) {
  JsonValue v = Member(obj, key);
  if (!v) return false;
  if (!v.is_boolean()) return Expected("boolean", v, Child(path, key));
  return v.boolean();
}

// The member `key` of `obj`, which must be present and of `type` (`what` in messages).
Result<JsonValue> RequiredOfType(JsonValue obj, std::string_view key, const std::string& path,
                                 JsonValue::Type type, std::string_view what) {
  JsonValue v = obj.find(key);
  if (!v) return Missing(Child(path, key));
  if (v.type() != type) return Expected(what, v, Child(path, key));
  return v;
}

// The member `key` of `obj` if of `type`; no value when absent or null.
Result<JsonValue> OptionalOfType(JsonValue obj, std::string_view key, const std::string& path,
                                 JsonValue::Type type, std::string_view what) {
  JsonValue v = Member(obj, key);
  if (v && v.type() != type) return Expected(what, v, Child(path, key));
  return v;
}

Result<JsonValue> RequiredObject(JsonValue obj, std::string_view key, const std::string& path) {
  return RequiredOfType(obj, key, path, JsonValue::Type::kObject, "object");
}
Result<JsonValue> OptionalObject(JsonValue obj, std::string_view key, const std::string& path) {
  return OptionalOfType(obj, key, path, JsonValue::Type::kObject, "object");
}
Result<JsonValue> RequiredArray(JsonValue obj, std::string_view key, const std::string& path) {
  return RequiredOfType(obj, key, path, JsonValue::Type::kArray, "array");
}
Result<JsonValue> OptionalArray(JsonValue obj, std::string_view key, const std::string& path) {
  return OptionalOfType(obj, key, path, JsonValue::Type::kArray, "array");
}

// ---------------------------------------------------------------------------------------------
// The canonical text: what nlohmann's json::dump() writes of the document (compact, object
// keys in std::map order), built once per event. Facets are stored as their own text, which
// is a slice of it.

bool IsFacetMapKey(std::string_view key) {
  return key == "facets" || key == "inputFacets" || key == "outputFacets";
}

// The canonical text of a document, and where in it each facet (a member of a facets map)
// and each facets map was written.
class CanonicalText {
 public:
  // `size_hint`: the size of the text the document was parsed from, which the canonical
  // text is close to (both are compact for most producers).
  CanonicalText(JsonValue doc, size_t size_hint) {
    text_.reserve(size_hint + size_hint / 8);
    Write(doc, false);
  }

  std::string& text() { return text_; }
  // The canonical text of `v`: a slice of the document's when `v` is a facet or a facets
  // map of it, else written anew.
  std::string Of(JsonValue v) const {
    for (const Span& s : spans_) {
      if (s.value == v.id()) return text_.substr(s.begin, s.end - s.begin);
    }
    CanonicalText alone(v, 0);
    return std::move(alone.text_);
  }

 private:
  struct Span {
    uint32_t value;  // JsonValue::id()
    size_t begin, end;
  };

  // As json::dump() writes a string (with ensure_ascii off): strings without a quote, a
  // backslash or a control character are copied (the parser has checked their UTF-8).
  void WriteString(std::string_view s) {
    static constexpr auto kEscaped = [] {
      std::array<bool, 256> t{};
      for (int c = 0; c < 0x20; ++c) t[c] = true;
      t['"'] = t['\\'] = true;
      return t;
    }();
    if (std::any_of(s.begin(), s.end(),
                    [](char c) { return kEscaped[static_cast<unsigned char>(c)]; })) {
      text_ += json(s).dump();
      return;
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
  void Write(JsonValue v, bool facets) {
    switch (v.type()) {
      case JsonValue::Type::kObject: {
        text_ += '{';
        for (size_t i = 0; i < v.size(); ++i) {
          if (i) text_ += ',';
          const std::string_view key = v.key(i);
          WriteString(key);
          text_ += ':';
          const JsonValue member = v[i];
          const size_t begin = text_.size();
          const bool facet_map = !facets && member.is_object() && IsFacetMapKey(key);
          Write(member, facet_map);
          if (facets || facet_map) spans_.push_back({member.id(), begin, text_.size()});
        }
        text_ += '}';
        return;
      }
      case JsonValue::Type::kArray: {
        text_ += '[';
        for (size_t i = 0; i < v.size(); ++i) {
          if (i) text_ += ',';
          Write(v[i], false);
        }
        text_ += ']';
        return;
      }
      case JsonValue::Type::kString:
        WriteString(v.string());
        return;
      case JsonValue::Type::kInteger:
        WriteInteger(v.integer());
        return;
      case JsonValue::Type::kUnsigned:
        WriteInteger(v.unsigned_integer());
        return;
      case JsonValue::Type::kBoolean:
        text_ += v.boolean() ? "true" : "false";
        return;
      case JsonValue::Type::kNull:
        text_ += "null";
        return;
      case JsonValue::Type::kFloat:
        text_ += json(v.floating()).dump();  // nlohmann's shortest form
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
// Returns the map, or no value when it is absent or null.
Result<JsonValue> ReadFacets(JsonValue owner, std::string_view key, const std::string& owner_path,
                             const CanonicalText& text, std::vector<Facet>* out) {
  TRIB_ASSIGN_OR_RETURN(JsonValue facets, OptionalObject(owner, key, owner_path));
  if (!facets) return facets;
  const std::string path = Child(owner_path, key);
  for (size_t i = 0; i < facets.size(); ++i) {
    const std::string_view name = facets.key(i);
    const JsonValue value = facets[i];
    const std::string p = Child(path, name);
    if (!value.is_object()) return Expected("object", value, p);
    // "_deleted": null has been seen from dbt-ol; it counts as false.
    TRIB_ASSIGN_OR_RETURN(bool deleted, OptionalBool(value, "_deleted", p));
    if (out) {
      std::string json = text.Of(value);
      ShortDigest digest = ShortDigestOf(json);
      out->push_back(Facet{std::string(name), std::move(json), deleted, digest});
    }
  }
  return facets;
}

// The facet `name` of a facets map if it is present and not marked deleted, else no value.
// Facet values were already checked to be objects by ReadFacets.
JsonValue LiveFacet(JsonValue facets, std::string_view name) {
  if (!facets) return JsonValue();
  JsonValue facet = facets.find(name);
  if (!facet) return JsonValue();
  JsonValue deleted = facet.find("_deleted");
  if (deleted && deleted.is_boolean() && deleted.boolean()) return JsonValue();
  return facet;
}

Status ReadSchemaFields(JsonValue fields, const std::string& path, const std::string& prefix,
                        std::vector<SchemaField>* out) {
  if (!fields.is_array()) return Expected("array", fields, path);
  for (size_t i = 0; i < fields.size(); ++i) {
    JsonValue f = fields[i];
    const std::string p = Child(path, i);
    if (!f.is_object()) return Expected("object", f, p);
    TRIB_ASSIGN_OR_RETURN(std::string name, RequiredString(f, "name", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(std::optional<std::string> type, OptionalString(f, "type", p));
    TRIB_ASSIGN_OR_RETURN(std::optional<std::string> description,
                          OptionalString(f, "description", p));
    std::string field_path = prefix.empty() ? std::move(name) : prefix + "." + name;
    out->push_back(SchemaField{field_path, type.value_or(""), description.value_or("")});
    // Recursion is bounded by the parser's depth limit.
    if (JsonValue children = Member(f, "fields")) {
      TRIB_RETURN_IF_ERROR(ReadSchemaFields(children, Child(p, "fields"), field_path, out));
    }
  }
  return Status::Ok();
}

Result<std::vector<SchemaField>> ReadSchema(JsonValue facet, const std::string& path) {
  std::vector<SchemaField> out;
  if (JsonValue fields = Member(facet, "fields")) {
    TRIB_RETURN_IF_ERROR(ReadSchemaFields(fields, Child(path, "fields"), "", &out));
  }
  return out;
}

// Column lineage holds most of an event's elements, and JSON pointers to them are long: they
// are read with kNoPath first, and read again with their path only to report an error.
const std::string kNoPath;

Result<Transformation> ReadTransformation(JsonValue t, const std::string& path) {
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

Result<InputFieldRef> ReadInputField(JsonValue v, const std::string& path) {
  if (!v.is_object()) return Expected("object", v, path);
  InputFieldRef ref;
  TRIB_ASSIGN_OR_RETURN(ref.ns, RequiredString(v, "namespace", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(ref.name, RequiredString(v, "name", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(ref.field, RequiredString(v, "field", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(JsonValue transformations, OptionalArray(v, "transformations", path));
  if (!transformations) return ref;
  for (size_t i = 0; i < transformations.size(); ++i) {
    JsonValue t = transformations[i];
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
Result<ColumnLineageField> ReadLineageField(const std::string& output_field, JsonValue entry,
                                            const std::string& path) {
  if (output_field.empty()) return Status::InvalidArgument("expected a non-empty field name", path);
  if (!entry.is_object()) return Expected("object", entry, path);
  TRIB_ASSIGN_OR_RETURN(JsonValue inputs, RequiredArray(entry, "inputFields", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> legacy_type,
                        OptionalString(entry, "transformationType", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> legacy_description,
                        OptionalString(entry, "transformationDescription", path));
  const std::optional<Transformation> legacy =
      LegacyTransformation(legacy_type, legacy_description);
  ColumnLineageField field;
  field.output_field = output_field;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Result<InputFieldRef> ref = ReadInputField(inputs[i], kNoPath);
    if (!ref.ok()) {
      return ReadInputField(inputs[i], Child(Child(path, "inputFields"), i)).status();
    }
    // The legacy field-level description only stands in for inputs that say nothing
    // themselves (Airflow sends "transformations": [] next to transformationType).
    if (legacy && ref->transformations.empty()) ref->transformations.push_back(*legacy);
    field.inputs.push_back(std::move(ref).value());
  }
  return field;
}

Result<ColumnLineage> ReadColumnLineage(JsonValue facet, const std::string& path) {
  ColumnLineage out;
  TRIB_ASSIGN_OR_RETURN(JsonValue fields, RequiredObject(facet, "fields", path));
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string output_field(fields.key(i));
    const JsonValue entry = fields[i];
    Result<ColumnLineageField> field = ReadLineageField(output_field, entry, kNoPath);
    if (!field.ok()) {
      return ReadLineageField(output_field, entry, Child(Child(path, "fields"), output_field))
          .status();
    }
    out.fields.push_back(std::move(field).value());
  }
  TRIB_ASSIGN_OR_RETURN(JsonValue dataset, OptionalArray(facet, "dataset", path));
  if (dataset) {
    for (size_t i = 0; i < dataset.size(); ++i) {
      Result<InputFieldRef> ref = ReadInputField(dataset[i], kNoPath);
      if (!ref.ok()) return ReadInputField(dataset[i], Child(Child(path, "dataset"), i)).status();
      out.dataset_wide.push_back(std::move(ref).value());
    }
  }
  return out;
}

Result<std::vector<DatasetIdentifier>> ReadSymlinks(JsonValue facet, const std::string& path) {
  std::vector<DatasetIdentifier> out;
  TRIB_ASSIGN_OR_RETURN(JsonValue identifiers, OptionalArray(facet, "identifiers", path));
  if (!identifiers) return out;
  const std::string ids_path = Child(path, "identifiers");
  for (size_t i = 0; i < identifiers.size(); ++i) {
    JsonValue id = identifiers[i];
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

Result<LifecycleChange> ReadLifecycle(JsonValue facet, const std::string& path) {
  LifecycleChange out;
  // The state is kept as sent: a value outside the enum of 1-0-1 may come from a newer spec.
  TRIB_ASSIGN_OR_RETURN(out.state, RequiredString(facet, "lifecycleStateChange", path));
  TRIB_ASSIGN_OR_RETURN(JsonValue previous, OptionalObject(facet, "previousIdentifier", path));
  if (previous) {
    const std::string p = Child(path, "previousIdentifier");
    DatasetIdentifier id;
    TRIB_ASSIGN_OR_RETURN(id.ns, RequiredString(previous, "namespace", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(id.name, RequiredString(previous, "name", p, Empty::kRejected));
    out.previous = std::move(id);
  }
  return out;
}

Result<ParentRef> ReadParent(JsonValue facet, const std::string& path) {
  ParentRef out;
  TRIB_ASSIGN_OR_RETURN(JsonValue run, RequiredObject(facet, "run", path));
  TRIB_ASSIGN_OR_RETURN(out.run_id,
                        RequiredString(run, "runId", Child(path, "run"), Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(JsonValue job, RequiredObject(facet, "job", path));
  const std::string job_path = Child(path, "job");
  TRIB_ASSIGN_OR_RETURN(out.job_ns, RequiredString(job, "namespace", job_path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(out.job_name, RequiredString(job, "name", job_path, Empty::kRejected));
  // The spec requires both halves of root; each is read on its own, so a producer that sends
  // only one is not rejected.
  TRIB_ASSIGN_OR_RETURN(JsonValue root, OptionalObject(facet, "root", path));
  if (!root) return out;
  const std::string root_path = Child(path, "root");
  TRIB_ASSIGN_OR_RETURN(JsonValue root_run, OptionalObject(root, "run", root_path));
  if (root_run) {
    TRIB_ASSIGN_OR_RETURN(
        out.root_run_id,
        RequiredString(root_run, "runId", Child(root_path, "run"), Empty::kRejected));
  }
  TRIB_ASSIGN_OR_RETURN(JsonValue root_job, OptionalObject(root, "job", root_path));
  if (root_job) {
    const std::string p = Child(root_path, "job");
    TRIB_ASSIGN_OR_RETURN(out.root_job_ns,
                          RequiredString(root_job, "namespace", p, Empty::kRejected));
    TRIB_ASSIGN_OR_RETURN(out.root_job_name, RequiredString(root_job, "name", p, Empty::kRejected));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Datasets and the event.

// Reads a dataset object. `io_key` is "inputFacets", "outputFacets", or empty for the static
// dataset of a DatasetEvent.
Result<DatasetRef> ReadDataset(JsonValue v, const std::string& path, std::string_view io_key,
                               const CanonicalText& text) {
  if (!v.is_object()) return Expected("object", v, path);
  DatasetRef ds;
  TRIB_ASSIGN_OR_RETURN(ds.ns, RequiredString(v, "namespace", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(ds.name, RequiredString(v, "name", path, Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(JsonValue facets, ReadFacets(v, "facets", path, text, &ds.facets));
  if (!io_key.empty()) {
    TRIB_ASSIGN_OR_RETURN(JsonValue io_facets, ReadFacets(v, io_key, path, text, nullptr));
    if (io_facets) ds.io_facets_json = text.Of(io_facets);
  }
  const std::string facets_path = Child(path, "facets");
  if (JsonValue f = LiveFacet(facets, "schema")) {
    TRIB_ASSIGN_OR_RETURN(ds.schema, ReadSchema(f, Child(facets_path, "schema")));
  }
  if (JsonValue f = LiveFacet(facets, "columnLineage")) {
    TRIB_ASSIGN_OR_RETURN(ds.column_lineage,
                          ReadColumnLineage(f, Child(facets_path, "columnLineage")));
  }
  if (JsonValue f = LiveFacet(facets, "symlinks")) {
    TRIB_ASSIGN_OR_RETURN(ds.symlinks, ReadSymlinks(f, Child(facets_path, "symlinks")));
  }
  if (JsonValue f = LiveFacet(facets, "lifecycleStateChange")) {
    TRIB_ASSIGN_OR_RETURN(ds.lifecycle,
                          ReadLifecycle(f, Child(facets_path, "lifecycleStateChange")));
  }
  return ds;
}

Status ReadDatasetList(JsonValue event, std::string_view key, std::string_view io_key,
                       const CanonicalText& text, std::vector<DatasetRef>* out) {
  TRIB_ASSIGN_OR_RETURN(JsonValue list, OptionalArray(event, key, ""));
  if (!list) return Status::Ok();
  const std::string path = Child("", key);
  out->reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    TRIB_ASSIGN_OR_RETURN(DatasetRef ds, ReadDataset(list[i], Child(path, i), io_key, text));
    out->push_back(std::move(ds));
  }
  return Status::Ok();
}

Result<EventType> ReadEventType(JsonValue event) {
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

Status ReadJob(JsonValue event, const CanonicalText& text, ParsedEvent* out) {
  TRIB_ASSIGN_OR_RETURN(JsonValue job, RequiredObject(event, "job", ""));
  TRIB_ASSIGN_OR_RETURN(out->job_ns, RequiredString(job, "namespace", "/job", Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(out->job_name, RequiredString(job, "name", "/job", Empty::kRejected));
  // No job facet is interpreted; they are only kept.
  return ReadFacets(job, "facets", "/job", text, &out->job_facets).status();
}

Status ReadRun(JsonValue event, const CanonicalText& text, ParsedEvent* out) {
  TRIB_ASSIGN_OR_RETURN(JsonValue run, RequiredObject(event, "run", ""));
  // Any non-empty id is accepted, as Marquez does: the spec asks for a UUID but fixtures
  // and older producers send other ids.
  TRIB_ASSIGN_OR_RETURN(out->run_id, RequiredString(run, "runId", "/run", Empty::kRejected));
  TRIB_ASSIGN_OR_RETURN(JsonValue facets,
                        ReadFacets(run, "facets", "/run", text, &out->run_facets));
  if (JsonValue f = LiveFacet(facets, "parent")) {
    TRIB_ASSIGN_OR_RETURN(out->parent, ReadParent(f, "/run/facets/parent"));
  }
  if (JsonValue f = LiveFacet(facets, "errorMessage")) {
    TRIB_ASSIGN_OR_RETURN(out->error_message,
                          RequiredString(f, "message", "/run/facets/errorMessage"));
  }
  return Status::Ok();
}

Result<ParsedEvent> ReadEvent(JsonValue event, const CanonicalText& text) {
  if (!event.is_object()) return Expected("a JSON object", event, "");
  ParsedEvent out;
  // The kind comes from the keys present, never from schemaURL (see the header).
  const bool has_run = static_cast<bool>(event.find("run"));
  const bool has_job = static_cast<bool>(event.find("job"));
  if (has_run && has_job) {
    out.kind = EventKind::kRun;
  } else if (event.find("dataset")) {
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
      TRIB_ASSIGN_OR_RETURN(JsonValue dataset, RequiredObject(event, "dataset", ""));
      TRIB_ASSIGN_OR_RETURN(out.dataset, ReadDataset(dataset, "/dataset", "", text));
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
    JsonDoc doc;
    TRIB_RETURN_IF_ERROR(doc.Parse(bytes, {options_.max_depth, options_.max_string_bytes}));
    CanonicalText text(doc.root(), bytes.size());
    TRIB_ASSIGN_OR_RETURN(ParsedEvent event, ReadEvent(doc.root(), text));
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
    JsonDoc doc;
    // One extra level for the array that holds the events, so that an event accepted by
    // Parse is also accepted inside a batch.
    TRIB_RETURN_IF_ERROR(doc.Parse(body, {options_.max_depth + 1, options_.max_string_bytes}));
    const JsonValue list = doc.root();
    if (!list.is_array()) return Expected("a JSON array", list, "");
    events.reserve(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      events.push_back(std::move(CanonicalText(list[i], 0).text()));
    }
    return events;
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot split batch: " + ScrubUtf8(e.what()), "");
  }
}

}  // namespace tributary
