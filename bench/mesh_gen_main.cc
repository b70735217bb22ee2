// mesh_gen: writes a synthetic data mesh as NDJSON (bench/mesh_generator.h).
//   mesh_gen [--seed N] [--datasets N] [--columns N] [--domains N] [--layers N]
//            [--fan-in N] [--runs N] [--column-inputs N] > mesh.ndjson
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/mesh_generator.h"

int main(int argc, char** argv) {
  tributary::MeshOptions o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    long long v = std::atoll(argv[i + 1]);
    if (v <= 0) {
      std::fprintf(stderr, "mesh_gen: %s needs a positive number\n", k.c_str());
      return 2;
    }
    if (k == "--seed")
      o.seed = v;
    else if (k == "--datasets")
      o.datasets = v;
    else if (k == "--columns")
      o.columns = static_cast<int>(v);
    else if (k == "--domains")
      o.domains = static_cast<int>(v);
    else if (k == "--layers")
      o.layers = static_cast<int>(v);
    else if (k == "--fan-in")
      o.fan_in = static_cast<int>(v);
    else if (k == "--runs")
      o.runs = static_cast<int>(v);
    else if (k == "--column-inputs")
      o.column_inputs = static_cast<int>(v);
    else {
      std::fprintf(stderr, "mesh_gen: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (o.columns < 6 || o.layers < 2) {
    std::fprintf(stderr, "mesh_gen: --columns must be at least 6 and --layers at least 2\n");
    return 2;
  }
  tributary::MeshGenerator(o).Generate([](const std::string& ev) {
    std::fwrite(ev.data(), 1, ev.size(), stdout);
    std::fputc('\n', stdout);
  });
  return 0;
}
