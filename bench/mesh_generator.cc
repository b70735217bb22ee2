#include "bench/mesh_generator.h"

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "common/time.h"

namespace tributary {
namespace {

using nlohmann::json;

const char* const kKeys[] = {"id", "customer_id", "order_id", "event_ts", "updated_at"};
constexpr int kNumKeys = 5;
const char* const kDirect[] = {"IDENTITY", "TRANSFORMATION", "AGGREGATION"};
const char* const kIndirect[] = {"JOIN", "GROUP_BY", "FILTER", "SORT", "WINDOW", "CONDITIONAL"};
const char* kProducer = "https://github.com/tributary/bench/mesh-generator";

json Facet(const char* schema) {
  return {{"_producer", kProducer},
          {"_schemaURL", std::string("https://openlineage.io/spec/facets/") + schema}};
}

std::string RunId(uint64_t seed, uint64_t job, int run) {
  // A UUID-shaped id, unique per (seed, job, run).
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04x-7%03x-8%03x-%012llx",
                static_cast<unsigned long long>(seed & 0xffffffff), run & 0xffff,
                static_cast<unsigned>((job >> 48) & 0xfff),
                static_cast<unsigned>(run >> 16 & 0xfff),
                static_cast<unsigned long long>(job & 0xffffffffffffULL));
  return buf;
}

}  // namespace

std::string MeshGenerator::DatasetNamespace(uint64_t dataset, int domains) {
  return "postgres://domain" + std::to_string(dataset % domains) + ".mesh:5432";
}

std::string MeshGenerator::ColumnName(int column) {
  return column < kNumKeys ? kKeys[column] : "c" + std::to_string(column);
}

std::string MeshGenerator::DatasetName(uint64_t dataset) {
  return "warehouse.public.d" + std::to_string(dataset);
}

void MeshGenerator::Generate(const std::function<void(const std::string&)>& emit) const {
  const MeshOptions& o = options_;
  std::mt19937_64 rng(o.seed);
  const uint64_t per_layer = std::max<uint64_t>(1, o.datasets / o.layers);
  auto layer_of = [&](uint64_t d) { return std::min<uint64_t>(d / per_layer, o.layers - 1); };
  auto dataset_json = [&](uint64_t d) {
    return json{{"namespace", DatasetNamespace(d, o.domains)}, {"name", DatasetName(d)}};
  };
  // Key columns are chosen as inputs far more often than the others.
  auto pick_column = [&](int out_col) -> int {
    if (out_col < kNumKeys) return out_col;
    if (rng() % 3 == 0) return static_cast<int>(rng() % kNumKeys);
    return static_cast<int>(kNumKeys + rng() % (o.columns - kNumKeys));
  };

  // Jobs: one per dataset past the first layer, with its inputs chosen once.
  struct Job {
    uint64_t output;
    std::vector<uint64_t> inputs;
    json lineage;  // the output's columnLineage facet
    json schema;
  };
  const Micros start = 1709251200000000;  // 2024-03-01T00:00:00Z
  for (int run = 0; run < o.runs; ++run) {
    for (uint64_t d = per_layer; d < o.datasets; ++d) {
      rng.seed(o.seed ^ (d * 0x9E3779B97F4A7C15ULL));  // the same lineage in every run
      uint64_t layer = layer_of(d);
      uint64_t prev_begin = (layer - 1) * per_layer;
      std::vector<uint64_t> inputs;
      for (int k = 0; k < o.fan_in; ++k) {
        // Mostly the same domain: step through the previous layer by the domain count.
        uint64_t pick = prev_begin + rng() % per_layer;
        if (rng() % 5 != 0) pick -= (pick % o.domains + o.domains - d % o.domains) % o.domains;
        if (pick < prev_begin) pick += o.domains;
        if (pick >= prev_begin + per_layer) pick = prev_begin + (d % per_layer);
        if (std::find(inputs.begin(), inputs.end(), pick) == inputs.end()) inputs.push_back(pick);
      }
      json fields = json::object();
      json schema_fields = json::array();
      for (int c = 0; c < o.columns; ++c) {
        schema_fields.push_back(
            {{"name", MeshGenerator::ColumnName(c)}, {"type", c < kNumKeys ? "bigint" : "text"}});
        json in = json::array();
        int n = 1 + static_cast<int>(rng() % o.column_inputs);
        for (int k = 0; k < n; ++k) {
          uint64_t src = inputs[rng() % inputs.size()];
          bool direct = k == 0 || rng() % 2 == 0;
          json t = {{"type", direct ? "DIRECT" : "INDIRECT"},
                    {"subtype", direct ? kDirect[rng() % 3] : kIndirect[rng() % 6]},
                    {"masking", direct && rng() % 50 == 0}};
          in.push_back({{"namespace", DatasetNamespace(src, o.domains)},
                        {"name", DatasetName(src)},
                        {"field", MeshGenerator::ColumnName(pick_column(c))},
                        {"transformations", json::array({t})}});
        }
        fields[MeshGenerator::ColumnName(c)] = {{"inputFields", in}};
      }
      json cl = Facet("1-2-0/ColumnLineageDatasetFacet.json");
      cl["fields"] = std::move(fields);
      if (d % 4 == 0) {
        json wide = json::array();
        for (uint64_t src : inputs) {
          wide.push_back(
              {{"namespace", DatasetNamespace(src, o.domains)},
               {"name", DatasetName(src)},
               {"field", "id"},
               {"transformations", json::array({{{"type", "INDIRECT"}, {"subtype", "JOIN"}}})}});
        }
        cl["dataset"] = std::move(wide);
      }
      json schema = Facet("1-2-0/SchemaDatasetFacet.json");
      schema["fields"] = std::move(schema_fields);

      json job = {{"namespace", "mesh-jobs"}, {"name", "build_d" + std::to_string(d)}};
      json ins = json::array();
      for (uint64_t src : inputs) ins.push_back(dataset_json(src));
      Micros t0 = start + static_cast<Micros>(run) * 86400000000LL +
                  static_cast<Micros>(layer) * 3600000000LL +
                  static_cast<Micros>(d % 3600) * 1000000LL;
      std::string run_id = RunId(o.seed, d, run);
      json ev = {
          {"eventType", "START"},
          {"eventTime", FormatTime(t0)},
          {"producer", kProducer},
          {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"},
          {"run", {{"runId", run_id}}},
          {"job", job},
          {"inputs", ins},
          {"outputs", json::array({dataset_json(d)})}};
      emit(ev.dump());
      bool fails = run % 10 == 9;
      ev["eventType"] = fails ? "FAIL" : "COMPLETE";
      ev["eventTime"] = FormatTime(t0 + 60000000);
      json out = dataset_json(d);
      out["facets"] = {{"schema", schema}, {"columnLineage", cl}};
      ev["outputs"] = json::array({out});
      if (fails) {
        json err = Facet("1-0-1/ErrorMessageRunFacet.json");
        err["message"] = "generated failure";
        err["programmingLanguage"] = "SQL";
        ev["run"]["facets"] = {{"errorMessage", err}};
      }
      emit(ev.dump());
    }
  }
}

}  // namespace tributary
