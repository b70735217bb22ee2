// ParsedEvent: an OpenLineage event after parsing and validation, in our own types.
//
// The parser (ingest/event_parser.h) fills it; the applier (ingest/event_applier.h) turns it
// into graph mutations. Facets the graph interprets (schema, columnLineage, symlinks,
// lifecycleStateChange, parent, errorMessage) are extracted into typed fields; every facet,
// interpreted or not, is also kept as compact JSON text in `facets`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/time.h"

namespace tributary {

enum class EventKind { kRun, kDataset, kJob };

// eventType of a RunEvent. kNone: the field was absent (allowed by the spec).
enum class EventType { kNone, kStart, kRunning, kComplete, kAbort, kFail, kOther };

// One facet as sent: its key in the facets map and its value as compact JSON.
// `deleted` is set when the facet carried "_deleted": true (null counts as false).
struct Facet {
  std::string name;
  std::string json;
  bool deleted = false;
  ShortDigest digest{};  // of json, computed while parsing (on the caller's thread)
};

struct Transformation {
  std::string type;     // "DIRECT", "INDIRECT", or "" when unknown (dbt sends none)
  std::string subtype;  // IDENTITY, TRANSFORMATION, AGGREGATION, JOIN, FILTER, ... or ""
  std::string description;
  bool masking = false;

  bool operator==(const Transformation&) const = default;
};

// A source column in column lineage.
struct InputFieldRef {
  std::string ns;
  std::string name;
  std::string field;
  // Empty when the producer gave none; the legacy per-field transformationType is mapped
  // here (IDENTITY -> DIRECT/IDENTITY, MASKED -> DIRECT with masking, other -> type "").
  std::vector<Transformation> transformations;
};

struct ColumnLineageField {
  std::string output_field;  // key in columnLineage.fields
  std::vector<InputFieldRef> inputs;
};

struct ColumnLineage {
  std::vector<ColumnLineageField> fields;
  // columnLineage.dataset[]: inputs that affect every output column of the dataset.
  std::vector<InputFieldRef> dataset_wide;
};

// One column of a schema facet. Nested fields are flattened to dotted paths
// ("address.city"); the parent itself is listed before its children.
struct SchemaField {
  std::string path;
  std::string type;
  std::string description;
};

struct DatasetIdentifier {
  std::string ns;
  std::string name;
  std::string type;  // symlink type, e.g. TABLE or LOCATION; empty for previousIdentifier
};

struct LifecycleChange {
  std::string state;                          // ALTER, CREATE, DROP, OVERWRITE, RENAME, TRUNCATE
  std::optional<DatasetIdentifier> previous;  // set for RENAME when sent
};

struct DatasetRef {
  std::string ns;
  std::string name;
  std::vector<Facet> facets;  // the dataset facets ("facets")
  // inputFacets or outputFacets as one compact JSON object; empty when absent.
  std::string io_facets_json;
  std::optional<std::vector<SchemaField>> schema;  // set when a schema facet was sent
  std::optional<ColumnLineage> column_lineage;
  std::vector<DatasetIdentifier> symlinks;
  std::optional<LifecycleChange> lifecycle;
};

struct ParentRef {
  std::string run_id;
  std::string job_ns;
  std::string job_name;
  std::optional<std::string> root_run_id;
  std::optional<std::string> root_job_ns;
  std::optional<std::string> root_job_name;
};

struct ParsedEvent {
  EventKind kind = EventKind::kRun;
  Micros event_time = 0;
  std::string event_time_text;  // as sent
  EventType event_type = EventType::kNone;
  std::string producer;

  // RunEvent: run and job. JobEvent: job only. DatasetEvent: neither.
  std::string run_id;
  std::vector<Facet> run_facets;
  std::string job_ns;
  std::string job_name;
  std::vector<Facet> job_facets;
  std::optional<ParentRef> parent;
  std::optional<std::string> error_message;  // errorMessage.message

  std::vector<DatasetRef> inputs;
  std::vector<DatasetRef> outputs;
  std::optional<DatasetRef> dataset;  // DatasetEvent only
};

}  // namespace tributary
