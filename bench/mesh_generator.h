// MeshGenerator: a synthetic data mesh as OpenLineage events, deterministic by seed.
//
// Datasets sit in domains and layers (source -> staging -> mart -> dashboard). Every dataset
// past the first layer is written by one job that reads `fan_in` datasets of the layer before,
// mostly of its own domain. Each output column derives from one to `column_inputs` (3) input
// columns with every transformation subtype; key columns (ids, timestamps) are reused far more
// than others, as in real meshes, and one job in four also sends dataset-wide (INDIRECT
// JOIN/FILTER) inputs. Each job runs `runs` times (a START and a COMPLETE each; every tenth run of
// a job fails instead), and its column lineage is the same in every run.
//
// Column edges come to about jobs * columns * 1.9 (+ dataset-wide ones): with the defaults a
// job's COMPLETE event is about 12 KB and carries about 80 column edges.
//
// Thread safety: a generator is used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace tributary {

struct MeshOptions {
  uint64_t seed = 1;
  uint64_t datasets = 1000;  // all layers together
  int columns = 30;          // per dataset
  int domains = 8;
  int layers = 4;
  int fan_in = 3;
  int runs = 2;           // runs per job
  int column_inputs = 3;  // an output column derives from 1 to this many input columns
};

class MeshGenerator {
 public:
  explicit MeshGenerator(MeshOptions options) : options_(options) {}

  // Calls `emit` with each event (compact JSON), in event-time order.
  void Generate(const std::function<void(const std::string&)>& emit) const;

  // Datasets and columns are named "d<index>" and "c<index>" (keys: "id", "customer_id",
  // "order_id", "event_ts", "updated_at"). Namespace of dataset i:
  static std::string DatasetNamespace(uint64_t dataset, int domains);
  static std::string DatasetName(uint64_t dataset);
  static std::string ColumnName(int column);

 private:
  MeshOptions options_;
};

}  // namespace tributary
