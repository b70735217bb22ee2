// Internal to store/: the RocksDB handles shared by GraphStore and StoreWriter.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <vector>

#include "common/status.h"
#include "store/model.h"

namespace tributary {

enum ColumnFamily : int {
  kCfDefault = 0,
  kCfEvents,
  kCfEventDigests,
  kCfNodes,
  kCfNames,
  kCfOutEdges,
  kCfInEdges,
  kCfSchemas,
  kCfRuns,
  kCfMeta,
  kCfFacets,
  kCfCount,
};

struct StoreHandles {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;          // owned; destroyed before db
  std::vector<rocksdb::ColumnFamilyOptions> cf_options;  // by column family

  ~StoreHandles() {
    for (auto* h : cf) {
      if (h && db) db->DestroyColumnFamilyHandle(h);
    }
    cf.clear();
    if (db) db->Close();
  }
};

// Completes `e`, read from an in_edges entry without a value (written before in_edges
// carried values), with the value of its out_edges record, which such stores always have.
Status ReadOutEdgeValue(StoreHandles& h, EdgeRecord* e);

// The pending writes of a StoreWriter. `reserve` bytes are allocated up front: a batch that
// grows by doubling copies itself over and over (4% of the writer's time at 5×10^5 events).
struct WriterState {
  explicit WriterState(size_t reserve = 0) : batch(reserve) {}
  rocksdb::WriteBatch batch;
};

}  // namespace tributary
