#include "store/graph_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <thread>

#include "common/coding.h"
#include "store/store_writer.h"
#include "store/text_codec.h"

namespace tributary {
namespace {

class GraphStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("trib_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Opens the closed store with RocksDB itself, as an older version or damage would leave
  // it: fn gets the database and the column families by name.
  void EditRaw(
      const std::function<void(rocksdb::DB*, std::map<std::string, rocksdb::ColumnFamilyHandle*>&)>&
          fn) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, dir_.string(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open({}, dir_.string(), cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
    for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = handles[i];
    fn(db.get(), by_name);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }

  std::unique_ptr<GraphStore> Open(size_t writer_cache_entries = 4'000'000) {
    StoreOptions o;
    o.path = dir_.string();
    o.sync = false;
    o.writer_cache_entries = writer_cache_entries;
    auto s = GraphStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  std::filesystem::path dir_;
};

NodeRecord Dataset(NodeId id, const std::string& name) {
  NodeRecord n;
  n.id = id;
  n.kind = NodeKind::kDataset;
  n.ns = "ns";
  n.name = name;
  n.facets = {{"schema", "{\"fields\":[]}", 5}};
  n.aliases = {"other\nalias"};
  return n;
}

TEST_F(GraphStoreTest, WriterReadsItsOwnPendingWrites) {
  auto store = Open();
  auto w = store->NewWriter();
  NodeId id = w->AllocateId();
  EXPECT_EQ(id, 1u);
  w->PutName(DatasetNameKey("ns", "a"), id);
  w->PutNode(Dataset(id, "a"));
  auto found = w->FindName(DatasetNameKey("ns", "a"));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, id);
  // Not committed: invisible to committed reads.
  EXPECT_FALSE(store->FindName(DatasetNameKey("ns", "a"))->has_value());
  GraphDelta delta;
  ASSERT_TRUE(store->Commit(*w, &delta).ok());
  EXPECT_EQ(delta.nodes.size(), 1u);
  auto node = store->GetNode(id);
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->name, "a");
  EXPECT_EQ((*node)->facets.size(), 1u);
  EXPECT_EQ((*node)->aliases, std::vector<std::string>{"other\nalias"});
}

// Batches are written in key order (GraphStore sorts them for the memtables): what a batch
// writes to one key several times, in any order of keys, must end as its last write, both
// straight after the commit and after the write-ahead log is replayed at the next open.
TEST_F(GraphStoreTest, TheLastWriteOfAKeyInABatchWins) {
  std::vector<NodeId> ids;
  {
    auto store = Open();
    auto w = store->NewWriter();
    for (int i = 0; i < 5; ++i) ids.push_back(w->AllocateId());
    // Descending keys, each written three times, the name twice to another id.
    for (int round = 0; round < 3; ++round) {
      for (int i = 4; i >= 0; --i) {
        const std::string name = "d" + std::to_string(i);
        w->PutName(DatasetNameKey("ns", name), ids[(i + round) % 5]);
        w->PutNode(Dataset(ids[i], name + "-" + std::to_string(round)));
      }
    }
    ASSERT_TRUE(store->Commit(*w).ok());
    for (int i = 0; i < 5; ++i) {
      const std::string name = "d" + std::to_string(i);
      EXPECT_EQ(store->FindName(DatasetNameKey("ns", name))->value(), ids[(i + 2) % 5]);
      EXPECT_EQ((*store->GetNode(ids[i]))->name, name + "-2");
    }
  }
  auto reopened = Open();  // nothing was flushed: the log is replayed
  for (int i = 0; i < 5; ++i) {
    const std::string name = "d" + std::to_string(i);
    EXPECT_EQ(reopened->FindName(DatasetNameKey("ns", name))->value(), ids[(i + 2) % 5]);
    EXPECT_EQ((*reopened->GetNode(ids[i]))->name, name + "-2");
  }
}

TEST_F(GraphStoreTest, RollbackUndoesOnlyWritesSinceTheSavePoint) {
  auto store = Open();
  auto w = store->NewWriter();
  w->SetSavePoint();
  uint64_t seq1 = w->AppendEvent("first");
  w->PopSavePoint();
  w->SetSavePoint();
  uint64_t seq2 = w->AppendEvent("second");
  NodeId id = w->AllocateId();
  w->PutNode(Dataset(id, "x"));
  ASSERT_TRUE(w->RollbackToSavePoint().ok());
  EXPECT_TRUE(w->delta().nodes.empty());
  ASSERT_TRUE(store->Commit(*w).ok());
  EXPECT_EQ(seq1, 1u);
  EXPECT_EQ(seq2, 2u);
  EXPECT_EQ(store->event_count(), 1u);
  EXPECT_EQ(**store->GetEvent(1), "first");
  EXPECT_FALSE(store->GetEvent(2)->has_value());
  EXPECT_FALSE(store->GetNode(id)->has_value());
}

EdgeRecord Derive(NodeId from, NodeId to, Micros first_seen) {
  EdgeRecord e;
  e.from = from;
  e.kind = EdgeKind::kDerive;
  e.to = to;
  e.job = 5;
  e.first_seen = first_seen;
  return e;
}

// Without delta recording (ingest that keeps no graph), writes reach the store and the
// writer's reads as before, and the delta stays empty.
TEST_F(GraphStoreTest, AWriterThatRecordsNoDeltaWritesTheSame) {
  auto store = Open();
  auto w = store->NewWriter();
  w->set_record_delta(false);
  NodeId ds = w->AllocateId();
  w->PutName(DatasetNameKey("ns", "x"), ds);
  w->PutNode(Dataset(ds, "x"));
  w->PutEdge(Derive(100, ds, 10));
  RunRecord run;
  run.id = w->AllocateId();
  run.run_id = "r1";
  w->PutRun(run);
  EXPECT_TRUE(w->delta().empty());
  EXPECT_EQ((*w->GetNode(ds))->name, "x");
  EXPECT_EQ((*w->PeekRun(run.id))->run_id, "r1");
  ASSERT_EQ(w->Edges(ds, EdgeKind::kDerive)->size(), 1u);
  GraphDelta delta;
  ASSERT_TRUE(store->Commit(*w, &delta).ok());
  EXPECT_TRUE(delta.empty());
  EXPECT_EQ(**store->FindName(DatasetNameKey("ns", "x")), ds);
  EXPECT_EQ((*store->GetNode(ds))->name, "x");
  EXPECT_EQ((*store->GetRun(run.id))->run_id, "r1");
}

// A second writer on a store starts with an empty cache, so every list it writes into before
// reading is one it has not loaded: the reads after must merge the store and the pending writes.
TEST_F(GraphStoreTest, PendingWritesMergeWithUncachedCommittedRecords) {
  auto store = Open();
  NodeId ds;
  {
    auto w = store->NewWriter();
    ds = w->AllocateId();
    w->PutName(FieldNameKey(ds, "a"), w->AllocateId());
    w->PutEdge(Derive(100, 200, 10));
    w->PutSchema(ds, 10, {{"a", "int", ""}});
    w->PutDigest("digest-1", 1);
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  auto w = store->NewWriter();
  NodeId b = w->AllocateId();
  w->PutName(FieldNameKey(ds, "b"), b);
  w->PutEdge(Derive(100, 300, 20));  // a new edge out of 100 and into 300
  EdgeRecord retired = Derive(100, 200, 10);
  retired.retired = 30;
  w->PutEdge(retired);  // rewrites the committed edge
  w->PutSchema(ds, 20, {{"a", "int", ""}, {"b", "text", ""}});
  w->PutDigest("digest-2", 2);

  auto fields = w->FieldsOf(ds);
  ASSERT_TRUE(fields.ok());
  ASSERT_EQ(fields->size(), 2u);
  EXPECT_EQ((*fields)[1].second, b);
  auto in = w->Edges(200, EdgeKind::kDerive);
  ASSERT_TRUE(in.ok());
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].retired, 30);
  in = w->Edges(300, EdgeKind::kDerive);
  ASSERT_TRUE(in.ok());
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].from, 100u);
  auto between = w->EdgesBetween(100, EdgeKind::kDerive, 200);
  ASSERT_TRUE(between.ok());
  ASSERT_EQ(between->size(), 1u);
  EXPECT_EQ((*between)[0].retired, 30);
  Micros t = 0;
  auto schema = w->LatestSchema(ds, &t);
  ASSERT_TRUE(schema.ok() && schema->has_value());
  EXPECT_EQ(t, 20);
  EXPECT_EQ((*schema)->size(), 2u);
  EXPECT_EQ(**w->FindDigest("digest-1"), 1u);
  EXPECT_EQ(**w->FindDigest("digest-2"), 2u);
}

TEST_F(GraphStoreTest, RollbackKeepsTheWritesBeforeTheSavePointVisible) {
  auto store = Open();
  auto w = store->NewWriter();
  w->SetSavePoint();
  NodeId a = w->AllocateId();
  w->PutName(DatasetNameKey("ns", "a"), a);
  w->PutNode(Dataset(a, "a"));
  w->PutEdge(Derive(50, a, 10));
  w->PopSavePoint();
  w->SetSavePoint();
  NodeId b = w->AllocateId();
  w->PutName(DatasetNameKey("ns", "b"), b);
  w->PutEdge(Derive(60, a, 10));
  ASSERT_TRUE(w->RollbackToSavePoint().ok());

  EXPECT_EQ(**w->FindName(DatasetNameKey("ns", "a")), a);
  EXPECT_FALSE(w->FindName(DatasetNameKey("ns", "b"))->has_value());
  auto in = w->Edges(a, EdgeKind::kDerive);
  ASSERT_TRUE(in.ok());
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].from, 50u);
  EXPECT_EQ(w->AllocateId(), b);  // the undone id is handed out again
  GraphDelta delta;
  ASSERT_TRUE(store->Commit(*w, &delta).ok());
  // The writes before the save point are reported once, by the commit after the rollback.
  ASSERT_EQ(delta.nodes.size(), 1u);
  EXPECT_EQ(delta.nodes[0].id, a);
  ASSERT_EQ(delta.edges.size(), 1u);
  EXPECT_EQ(delta.edges[0].from, 50u);
  EXPECT_TRUE(store->GetNode(a)->has_value());
}

// A sealed batch is written on another thread while the writer goes on: until it lands, the
// writer's reads that go to the store must merge the sealed writes in.
TEST_F(GraphStoreTest, SealedWritesStayVisibleUntilTheyLand) {
  auto store = Open();
  {
    auto w = store->NewWriter();
    while (w->AllocateId() < 400) {
    }
    w->PutEdge(Derive(100, 200, 10));
    w->PutDigest("digest-1", 1);
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  // An empty cache, and nodes from before it: every list below is read from the store.
  auto w = store->NewWriter();
  w->PutEdge(Derive(100, 300, 20));
  EdgeRecord retired = Derive(100, 200, 10);
  retired.retired = 30;
  w->PutEdge(retired);
  w->PutDigest("digest-2", 2);
  std::promise<Status> written;
  std::shared_ptr<StoreWriter::Sealed> sealed = w->Seal(written.get_future().share());
  EXPECT_TRUE(w->empty());
  EXPECT_EQ(sealed->delta().edges.size(), 2u);

  auto check = [&] {
    auto in = w->Edges(300, EdgeKind::kDerive);
    ASSERT_TRUE(in.ok());
    ASSERT_EQ(in->size(), 1u);
    EXPECT_EQ((*in)[0].from, 100u);
    in = w->Edges(200, EdgeKind::kDerive);
    ASSERT_TRUE(in.ok());
    ASSERT_EQ(in->size(), 1u);
    EXPECT_EQ((*in)[0].retired, 30);
    EXPECT_EQ(**w->FindDigest("digest-2"), 2u);
  };
  auto stored = [&] {
    int n = 0;
    EXPECT_TRUE(store
                    ->ForEachEdge([&](const EdgeRecord&) {
                      ++n;
                      return Status::Ok();
                    })
                    .ok());
    return n;
  };
  check();  // in flight, not in the store yet
  EXPECT_EQ(stored(), 1);

  written.set_value(store->Write(*sealed));
  ASSERT_TRUE(w->WaitInFlight().ok());
  check();  // landed
  EXPECT_EQ(stored(), 2);
}

TEST_F(GraphStoreTest, AFailedSealedBatchDropsWhatWasBuiltOnIt) {
  auto store = Open();
  auto w = store->NewWriter();
  NodeId a = w->AllocateId();
  w->PutName(DatasetNameKey("ns", "a"), a);
  w->PutNode(Dataset(a, "a"));
  std::promise<Status> written;
  auto sealed = w->Seal(written.get_future().share());
  NodeId b = w->AllocateId();  // applied on top of the batch in flight
  w->PutName(DatasetNameKey("ns", "b"), b);
  w->PutNode(Dataset(b, "b"));
  EXPECT_EQ(**w->FindName(DatasetNameKey("ns", "a")), a);

  written.set_value(Status::Unavailable("disk full"));  // the write failed
  Status landed = w->WaitInFlight();
  EXPECT_EQ(landed.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(w->empty());
  EXPECT_TRUE(w->delta().nodes.empty());
  EXPECT_FALSE(w->FindName(DatasetNameKey("ns", "a"))->has_value());
  EXPECT_FALSE(w->FindName(DatasetNameKey("ns", "b"))->has_value());
  EXPECT_EQ(w->AllocateId(), a);  // the counters are the store's again
  ASSERT_TRUE(store->Commit(*w).ok());
  EXPECT_FALSE(store->GetNode(a)->has_value());
  EXPECT_FALSE(store->GetNode(b)->has_value());
}

// A rollback commits the writes before its save point: after the batch in flight, in order.
TEST_F(GraphStoreTest, RollbackWaitsForTheBatchInFlight) {
  auto store = Open();
  auto w = store->NewWriter();
  w->AppendEvent("first");
  std::promise<Status> written;
  auto sealed = w->Seal(written.get_future().share());
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    written.set_value(store->Write(*sealed));
  });
  w->SetSavePoint();
  w->AppendEvent("second");
  w->PopSavePoint();
  w->SetSavePoint();
  w->AppendEvent("third");
  Status undone = w->RollbackToSavePoint();
  committer.join();
  ASSERT_TRUE(undone.ok()) << undone.ToString();
  ASSERT_TRUE(store->Commit(*w).ok());
  EXPECT_EQ(store->event_count(), 2u);
  EXPECT_EQ(**store->GetEvent(1), "first");
  EXPECT_EQ(**store->GetEvent(2), "second");
}

// Prefetching reads runs of nearby ids in one pass: what it caches must be what a lookup per
// id reads, with the writes of the batch in flight and the pending ones merged in.
TEST_F(GraphStoreTest, PrefetchReadsWhatLookupsRead) {
  auto store = Open();
  auto field = [](NodeId id, const std::string& type) {
    NodeRecord n;
    n.id = id;
    n.kind = NodeKind::kField;
    n.dataset = 1;
    n.field = "f" + std::to_string(id);
    n.field_type = type;
    return n;
  };
  {
    auto w = store->NewWriter();
    while (w->AllocateId() < 400) {
    }
    for (NodeId id : {10, 12, 14, 16, 300}) w->PutNode(field(id, "int"));
    w->PutEdge(Derive(100, 10, 1));
    w->PutEdge(Derive(101, 10, 2));
    w->PutEdge(Derive(100, 12, 3));
    w->PutEdge(Derive(100, 300, 4));
    EdgeRecord read = Derive(11, 13, 5);  // another kind, into a node in the same run
    read.kind = EdgeKind::kRead;
    w->PutEdge(read);
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  // An empty cache; one batch in flight and pending writes on top of it.
  auto w = store->NewWriter();
  w->PutEdge(Derive(102, 10, 6));
  w->PutNode(field(14, "text"));
  std::promise<Status> written;
  std::shared_ptr<StoreWriter::Sealed> sealed = w->Seal(written.get_future().share());
  w->PutEdge(Derive(103, 12, 7));
  EdgeRecord retired = Derive(100, 12, 3);
  retired.retired = 8;
  w->PutEdge(retired);

  ASSERT_TRUE(w->PrefetchNodes({16, 10, 12, 14, 15, 300, 12}).ok());
  ASSERT_TRUE(w->PrefetchLists({10, 11, 12, 13, 300, 350}, EdgeKind::kDerive).ok());
  auto check = [&] {
    auto n14 = w->GetNode(14);
    ASSERT_TRUE(n14.ok() && n14->has_value());
    EXPECT_EQ((*n14)->field_type, "text");
    auto n300 = w->GetNode(300);
    ASSERT_TRUE(n300.ok() && n300->has_value());
    EXPECT_EQ((*n300)->field, "f300");
    auto n15 = w->GetNode(15);
    ASSERT_TRUE(n15.ok());
    EXPECT_FALSE(n15->has_value());
    auto froms = [&](NodeId to) {
      std::vector<std::pair<NodeId, Micros>> out;
      auto in = w->Edges(to, EdgeKind::kDerive);
      EXPECT_TRUE(in.ok());
      if (in.ok()) {
        for (const auto& e : *in) out.emplace_back(e.from, e.retired);
      }
      return out;
    };
    using V = std::vector<std::pair<NodeId, Micros>>;
    EXPECT_EQ(froms(10), (V{{100, kForever}, {101, kForever}, {102, kForever}}));
    EXPECT_EQ(froms(12), (V{{100, 8}, {103, kForever}}));
    EXPECT_EQ(froms(13), V{});  // its edge is of another kind
    EXPECT_EQ(froms(300), (V{{100, kForever}}));
  };
  check();
  written.set_value(store->Write(*sealed));
  ASSERT_TRUE(w->WaitInFlight().ok());
  ASSERT_TRUE(store->Commit(*w).ok());
  check();
  // And a cold writer that reads the same one lookup at a time agrees.
  w.reset();
  w = store->NewWriter();
  check();
}

// Past its budget the cache starts over but keeps dataset, job and run names and the records
// of datasets and jobs, which must stay exact: a name or a record first looked up as absent,
// then written, is found before and after the trim.
TEST_F(GraphStoreTest, TheCacheStartsOverKeepingExactNames) {
  auto store = Open(/*writer_cache_entries=*/8);
  auto w = store->NewWriter();
  const std::string x = DatasetNameKey("ns", "x");
  EXPECT_FALSE(w->FindName(x)->has_value());
  NodeId ds = w->AllocateId();
  EXPECT_FALSE(w->GetNode(ds)->has_value());  // looked up as absent first
  w->PutName(x, ds);
  w->PutNode(Dataset(ds, "x"));
  ASSERT_TRUE(w->GetNode(ds)->has_value());
  EXPECT_EQ((*w->GetNode(ds))->name, "x");
  NodeId f = w->AllocateId();
  w->PutName(FieldNameKey(ds, "a"), f);
  for (int i = 0; i < 10; ++i) w->PutEdge(Derive(100 + i, f, 1));  // past the budget
  ASSERT_TRUE(w->over_budget());
  ASSERT_TRUE(store->Commit(*w).ok());
  EXPECT_FALSE(w->over_budget());
  EXPECT_EQ(**w->FindName(x), ds);
  ASSERT_TRUE(w->GetNode(ds)->has_value());  // a dataset's record is kept, and exact
  EXPECT_EQ((*w->GetNode(ds))->name, "x");
  EXPECT_EQ(**w->FindName(FieldNameKey(ds, "a")), f);
  auto in = w->Edges(f, EdgeKind::kDerive);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->size(), 10u);
  // A rollback still forgets the names it undoes.
  w->SetSavePoint();
  w->PutName(DatasetNameKey("ns", "y"), w->AllocateId());
  ASSERT_TRUE(w->RollbackToSavePoint().ok());
  EXPECT_FALSE(w->FindName(DatasetNameKey("ns", "y"))->has_value());
  EXPECT_EQ(**w->FindName(x), ds);
}

TEST_F(GraphStoreTest, AfterTheCacheIsAbandonedEverythingIsReadFromTheStore) {
  auto store = Open();
  auto w = store->NewWriter();
  const std::string x = DatasetNameKey("ns", "x");
  NodeId ds = w->AllocateId();
  w->PutName(x, ds);
  w->PutNode(Dataset(ds, "x"));
  NodeId f = w->AllocateId();
  w->PutName(FieldNameKey(ds, "a"), f);
  for (int i = 0; i < 3; ++i) w->PutEdge(Derive(100 + i, f, 1));
  ASSERT_TRUE(store->Commit(*w).ok());
  ASSERT_EQ(w->Edges(f, EdgeKind::kDerive)->size(), 3u);  // cached
  w->AbandonCache();
  EXPECT_EQ(**w->FindName(x), ds);
  ASSERT_TRUE(w->GetNode(ds)->has_value());
  EXPECT_EQ((*w->GetNode(ds))->name, "x");
  ASSERT_EQ(w->FieldsOf(ds)->size(), 1u);
  // The field existed before: its list is read from the store, then written on.
  w->PutEdge(Derive(200, f, 1));
  auto in = w->Edges(f, EdgeKind::kDerive);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->size(), 4u);
  ASSERT_TRUE(store->Commit(*w).ok());
  auto again = store->NewWriter()->Edges(f, EdgeKind::kDerive);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 4u);
}

// Each edge is stored once, where ingest reads it: read and derive edges by their target,
// write edges by their source.
TEST_F(GraphStoreTest, EachEdgeIsStoredOnceInTheDirectionIngestReadsIt) {
  auto store = Open();
  auto w = store->NewWriter();
  EdgeRecord e;
  e.from = 10;
  e.kind = EdgeKind::kDerive;
  e.to = 20;
  e.job = 5;
  e.first_seen = 100;
  e.transforms = TransformSet::Of({{"DIRECT", "IDENTITY", "", false}});
  w->PutEdge(e);
  EdgeRecord write{.from = 5, .kind = EdgeKind::kWrite, .to = 7, .job = 5, .first_seen = 100};
  EdgeRecord read{.from = 7, .kind = EdgeKind::kRead, .to = 6, .job = 6, .first_seen = 100};
  w->PutEdge(write);
  w->PutEdge(read);
  ASSERT_TRUE(store->Commit(*w).ok());
  auto dump = store->DumpDerived();
  ASSERT_TRUE(dump.ok());
  auto entries = [&](const std::string& cf) {
    size_t at = dump->find("[" + cf + "]\n");
    size_t end = dump->find("[", at + 1);
    return std::count(dump->begin() + at, dump->begin() + end, '\n') - 1;
  };
  EXPECT_EQ(entries("out_edges"), 1);
  EXPECT_EQ(entries("in_edges"), 2);
  std::vector<EdgeKind> kinds;
  ASSERT_TRUE(store
                  ->ForEachEdge([&](const EdgeRecord& x) {
                    kinds.push_back(x.kind);
                    return Status::Ok();
                  })
                  .ok());
  std::sort(kinds.begin(), kinds.end());
  EXPECT_EQ(kinds, (std::vector<EdgeKind>{EdgeKind::kRead, EdgeKind::kWrite, EdgeKind::kDerive}));
  auto out = w->Edges(5, EdgeKind::kWrite);
  auto in = w->Edges(20, EdgeKind::kDerive);
  ASSERT_TRUE(out.ok() && in.ok());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].to, 7u);
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].from, 10u);
  EXPECT_EQ((*in)[0].transforms, e.transforms);
  EXPECT_TRUE((*in)[0].current());
  e.retired = 200;
  w->PutEdge(e);
  ASSERT_TRUE(store->Commit(*w).ok());
  auto between = w->EdgesBetween(10, EdgeKind::kDerive, 20);
  ASSERT_TRUE(between.ok());
  ASSERT_EQ(between->size(), 1u);
  EXPECT_EQ((*between)[0].retired, 200);
}

// Stores written before in_edges carried values hold empty ones, and every edge in out_edges
// too: a list read through them takes each value from out_edges, and the graph's load reads
// each edge once.
TEST_F(GraphStoreTest, InEdgesWithoutValuesStillRead) {
  EdgeRecord e = Derive(10, 20, 100);
  e.transforms = TransformSet::Of({{"DIRECT", "AGGREGATION", "sum", true}});
  {
    auto store = Open();
    auto w = store->NewWriter();
    while (w->AllocateId() < 30) {
    }
    w->PutEdge(e);
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  // Empty the in_edges value and copy the edge to out_edges, as an older version wrote it.
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    std::string value;
    ASSERT_TRUE(db->Get({}, cf.at("in_edges"), InEdgeKey(e), &value).ok());
    EXPECT_FALSE(value.empty());  // this version writes it
    EXPECT_TRUE(db->Get({}, cf.at("out_edges"), OutEdgeKey(e), &value).IsNotFound());
    ASSERT_TRUE(db->Put({}, cf.at("in_edges"), InEdgeKey(e), "").ok());
    ASSERT_TRUE(db->Put({}, cf.at("out_edges"), OutEdgeKey(e), EncodeEdgeValue(e)).ok());
  });
  auto store = Open();
  std::vector<EdgeRecord> loaded;
  ASSERT_TRUE(store
                  ->ForEachEdge([&](const EdgeRecord& x) {
                    loaded.push_back(x);
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].transforms, e.transforms);
  auto w = store->NewWriter();  // an empty cache: the list is read from the store
  auto in = w->Edges(20, EdgeKind::kDerive);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].from, 10u);
  EXPECT_EQ((*in)[0].transforms, e.transforms);
  EXPECT_EQ((*in)[0].first_seen, 100);
}

// A node record holds its facets' digests; the texts are written apart, and only when they
// change.
TEST_F(GraphStoreTest, FacetTextsLiveApartFromTheirNode) {
  auto store = Open();
  NodeId id;
  {
    auto w = store->NewWriter();
    id = w->AllocateId();
    NodeRecord n = Dataset(id, "a");
    n.facets.push_back({"sql", "{\"query\":\"select 1\"}", 6});
    w->PutNode(n);
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  auto texts = [&] {
    std::vector<std::string> out;
    auto n = store->GetNode(id);
    EXPECT_TRUE(n.ok() && n->has_value()) << n.status().ToString();
    if (!n.ok() || !n->has_value()) return out;
    for (const auto& f : (*n)->facets) {
      EXPECT_TRUE(f.has_text);
      out.push_back(f.name + "=" + f.json);
    }
    return out;
  };
  const std::vector<std::string> both = {"schema={\"fields\":[]}", "sql={\"query\":\"select 1\"}"};
  EXPECT_EQ(texts(), both);
  ASSERT_TRUE(store
                  ->ForEachNode([](const NodeRecord& n) {
                    EXPECT_EQ(n.facets.size(), 2u);
                    for (const auto& f : n.facets) EXPECT_FALSE(f.has_text);
                    return Status::Ok();
                  })
                  .ok());
  // The record alone: everything GetNode gives but the texts.
  {
    auto record = store->GetNodeRecord(id);
    ASSERT_TRUE(record.ok() && record->has_value()) << record.status().ToString();
    auto full = store->GetNode(id);
    ASSERT_TRUE(full.ok() && full->has_value());
    EXPECT_EQ((*record)->name, "a");
    EXPECT_EQ((*record)->aliases, (*full)->aliases);
    ASSERT_EQ((*record)->facets.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ((*record)->facets[i].name, (*full)->facets[i].name);
      EXPECT_EQ((*record)->facets[i].digest, (*full)->facets[i].digest);
      EXPECT_FALSE((*record)->facets[i].has_text);
    }
    auto absent = store->GetNodeRecord(id + 100);
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value());
  }
  {
    // Written again without its texts: they stay as they were.
    auto w = store->NewWriter();
    auto peeked = w->PeekNode(id);
    ASSERT_TRUE(peeked.ok() && *peeked);
    NodeRecord n = **peeked;
    for (const auto& f : n.facets) EXPECT_FALSE(f.has_text || f.text_changed);
    n.updated = 9;
    w->PutNode(n);
    ASSERT_TRUE(store->Commit(*w).ok());
    EXPECT_EQ(texts(), both);
    // A tombstone's text is removed.
    n.facets[1].json.clear();
    n.facets[1].has_text = true;
    n.facets[1].text_changed = true;
    w->PutNode(n);
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  EXPECT_EQ(texts(), (std::vector<std::string>{"schema={\"fields\":[]}", "sql="}));
  auto dump = store->DumpDerived();
  ASSERT_TRUE(dump.ok());
  size_t at = dump->find("[facets]\n");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(std::count(dump->begin() + at, dump->end(), '\n'), 2);  // the header, one text
  store.reset();
  // A facet whose text is missing is reported, not served empty.
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    ASSERT_TRUE(db->Delete({}, cf.at("facets"), FacetKey(id, "schema")).ok());
  });
  store = Open();
  auto n = store->GetNode(id);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(n.status().message().find("schema"), std::string::npos);
}

// A node record as the first format wrote it, with its facets' texts inline.
std::string NodeRecordOfFormatOne(NodeId id, const std::vector<FacetRecord>& facets) {
  std::string v;
  v.push_back(1);  // record version
  v.push_back(static_cast<char>(NodeKind::kDataset));
  PutVarint64(&v, id);
  PutLengthPrefixed(&v, "ns");
  PutLengthPrefixed(&v, "old");
  PutLengthPrefixed(&v, "");                        // field
  PutVarint64(&v, 0);                               // dataset
  PutVarint64(&v, 0);                               // flags
  for (int i = 0; i < 3; ++i) PutVarsint64(&v, 0);  // first_seen, updated, dropped_at
  PutLengthPrefixed(&v, "");                        // field_type
  PutVarint64(&v, facets.size());
  for (const auto& f : facets) {
    PutLengthPrefixed(&v, f.name);
    PutLengthPrefixed(&v, f.json);
    PutVarsint64(&v, f.time);
  }
  PutVarint64(&v, 0);                              // aliases
  for (int i = 0; i < 3; ++i) PutVarint64(&v, 0);  // parent_job, latest_run, lineage_run
  PutVarsint64(&v, 0);                             // lineage_time
  return v;
}

TEST(ModelTest, NodeRecordsOfFormatOneDecodeWithTheirTexts) {
  const std::vector<FacetRecord> inline_facets = {{"doc", "{\"d\":1}", 5}, {"gone", "", 6}};
  NodeRecord n;
  ASSERT_TRUE(DecodeNode(NodeRecordOfFormatOne(4, inline_facets), &n).ok());
  ASSERT_EQ(n.facets.size(), 2u);
  EXPECT_EQ(n.facets[0].json, "{\"d\":1}");
  EXPECT_TRUE(n.facets[0].has_text && n.facets[0].text_changed);  // to be moved out
  EXPECT_EQ(n.facets[0].digest, ShortDigestOf("{\"d\":1}"));
  EXPECT_TRUE(n.facets[1].deleted());
  // The current form keeps names, times and digests.
  NodeRecord back;
  ASSERT_TRUE(DecodeNode(EncodeNode(n), &back).ok());
  ASSERT_EQ(back.facets.size(), 2u);
  EXPECT_EQ(back.facets[0].name, "doc");
  EXPECT_EQ(back.facets[0].time, 5);
  EXPECT_EQ(back.facets[0].digest, n.facets[0].digest);
  EXPECT_FALSE(back.facets[0].has_text || back.facets[0].text_changed);
  EXPECT_TRUE(back.facets[1].deleted());
  EXPECT_EQ(back.facets[1].time, 6);
}

// Every cut of a node record with facet digests, and every stray byte in its facet list,
// decodes cleanly or is reported as corrupt.
TEST(ModelTest, DamagedFacetDigestsAreReportedNotRead) {
  NodeRecord n = Dataset(3, "cut");
  n.facets[0].digest = ShortDigestOf(n.facets[0].json);
  n.facets.push_back({.name = "gone", .json = "", .time = 6});
  n.owners = {"team:x"};
  const std::string v = EncodeNode(n);
  for (size_t len = 0; len < v.size(); ++len) {
    NodeRecord back;
    Status s = DecodeNode(v.substr(0, len), &back);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kDataLoss) << len;
    }
  }
  NodeRecord back;
  ASSERT_TRUE(DecodeNode(v, &back).ok());
  EXPECT_EQ(back.facets[0].digest, n.facets[0].digest);
  EXPECT_TRUE(back.facets[1].deleted());
  // The byte that says whether a facet is live is 0 or 1: anything else is damage.
  std::string bad = v;
  size_t at = bad.find("schema") + std::string("schema").size() + 1;  // past name and time
  ASSERT_EQ(bad[at], 1);
  bad[at] = 7;
  EXPECT_EQ(DecodeNode(bad, &back).code(), StatusCode::kDataLoss);
}

TEST_F(GraphStoreTest, StoresOfFormatOneOpenAndMoveFacetTextsOut) {
  Open().reset();
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    ASSERT_TRUE(db->Put({}, cf.at("meta"), "format_version", "1").ok());
    ASSERT_TRUE(db->DropColumnFamily(cf.at("facets")).ok());  // format 1 had none
    const std::vector<FacetRecord> facets = {{"doc", "{\"d\":1}", 5}};
    ASSERT_TRUE(db->Put({}, cf.at("nodes"), IdKey(1), NodeRecordOfFormatOne(1, facets)).ok());
  });
  auto store = Open();
  auto read = [&] {
    auto n = store->GetNode(1);
    EXPECT_TRUE(n.ok() && n->has_value()) << n.status().ToString();
    return n.ok() && n->has_value() ? (*n)->facets.at(0).json : "";
  };
  EXPECT_EQ(read(), "{\"d\":1}");
  {
    auto w = store->NewWriter();
    auto n = w->GetNode(1);
    ASSERT_TRUE(n.ok() && n->has_value());
    (*n)->updated = 7;
    w->PutNode(**n);
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  EXPECT_EQ(read(), "{\"d\":1}");
  store.reset();
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    std::string v;
    ASSERT_TRUE(db->Get({}, cf.at("meta"), "format_version", &v).ok());
    EXPECT_EQ(v, std::to_string(GraphStore::kFormatVersion));
    ASSERT_TRUE(db->Get({}, cf.at("facets"), FacetKey(1, "doc"), &v).ok());
    EXPECT_EQ(v, "{\"d\":1}");
    ASSERT_TRUE(db->Get({}, cf.at("nodes"), IdKey(1), &v).ok());
    EXPECT_EQ(v[0], 2);  // the record's current form
  });
}

TEST_F(GraphStoreTest, CountersAndRecordsSurviveReopen) {
  {
    auto store = Open();
    auto w = store->NewWriter();
    w->AppendEvent("e1");
    NodeId id = w->AllocateId();
    w->PutNode(Dataset(id, "kept"));
    w->PutSchema(id, 7, {{"a", "int", ""}});
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  auto store = Open();
  EXPECT_EQ(store->event_count(), 1u);
  auto w = store->NewWriter();
  EXPECT_EQ(w->AllocateId(), 2u);  // ids are never reused
  Micros t = 0;
  auto schema = w->LatestSchema(1, &t);
  ASSERT_TRUE(schema.ok() && schema->has_value());
  EXPECT_EQ(t, 7);
  EXPECT_EQ((*schema)->at(0).path, "a");
}

uint64_t LogBytes(const std::filesystem::path& dir) {
  uint64_t bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() == ".log") bytes += f.file_size();
  }
  return bytes;
}

TEST_F(GraphStoreTest, ClosingAStoreThatTookMuchLeavesLittleLog) {
  const std::string big(64 << 10, 'x');
  constexpr int kEvents = 400;  // 25 MB, above the flush-on-close threshold
  {
    auto store = Open();
    auto w = store->NewWriter();
    for (int i = 0; i < kEvents; ++i) {
      w->AppendEvent(big + std::to_string(i));
      if (i % 50 == 49) {
        ASSERT_TRUE(store->Commit(*w).ok());
      }
    }
    EXPECT_GT(LogBytes(dir_), uint64_t{kEvents} * big.size());
  }
  EXPECT_LT(LogBytes(dir_), uint64_t{kEvents} * big.size() / 4);
  auto store = Open();
  EXPECT_EQ(store->event_count(), uint64_t{kEvents});
  EXPECT_EQ(**store->GetEvent(kEvents), big + std::to_string(kEvents - 1));
}

TEST_F(GraphStoreTest, ClosingAStoreThatTookLittleLeavesItInTheLog) {
  {
    auto store = Open();
    auto w = store->NewWriter();
    w->AppendEvent("e1");
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  EXPECT_GT(LogBytes(dir_), 0u);
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    const bool table = f.path().extension() == ".sst";
    EXPECT_FALSE(table) << "flushed on close: " << f.path();
  }
  EXPECT_EQ(**Open()->GetEvent(1), "e1");
}

TEST_F(GraphStoreTest, ResetDerivedKeepsOnlyTheEventLog) {
  auto store = Open();
  auto w = store->NewWriter();
  w->AppendEvent("e1");
  w->PutNode(Dataset(w->AllocateId(), "gone"));
  ASSERT_TRUE(store->Commit(*w).ok());
  w.reset();
  ASSERT_TRUE(store->ResetDerived().ok());
  EXPECT_FALSE(store->GetNode(1)->has_value());
  EXPECT_EQ(store->event_count(), 1u);
  EXPECT_EQ(**store->GetEvent(1), "e1");
}

// Ingest appends events compressed (store/text_codec.h); stores of format 3 hold their texts
// as they came. Both read back as texts, in one store.
TEST_F(GraphStoreTest, EventsReadBackAsTextsWhetherStoredCompressedOrNot) {
  std::string text = "{\"eventType\":\"COMPLETE\",\"inputs\":[";
  for (int i = 0; i < 50; ++i)
    text += "{\"namespace\":\"ns\",\"name\":\"d" + std::to_string(i) + "\"},";
  text += "{}]}";
  {
    auto store = Open();
    auto w = store->NewWriter();
    w->AppendEvent("{\"old\":1}");
    ASSERT_TRUE(store->Commit(*w).ok());
  }
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    ASSERT_TRUE(db->Put({}, cf.at("meta"), "format_version", "3").ok());
  });
  {
    auto store = Open();
    auto w = store->NewWriter();
    w->AppendEvent(EncodeStoredText(text));
    ASSERT_TRUE(store->Commit(*w).ok());
    EXPECT_EQ(**store->GetEvent(1), "{\"old\":1}");
    EXPECT_EQ(**store->GetEvent(2), text);
    std::vector<std::string> seen;
    ASSERT_TRUE(store
                    ->ForEachEvent([&](uint64_t, std::string_view t) {
                      seen.emplace_back(t);
                      return Status::Ok();
                    })
                    .ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"{\"old\":1}", text}));
  }
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    std::string v;
    ASSERT_TRUE(db->Get({}, cf.at("meta"), "format_version", &v).ok());
    EXPECT_EQ(v, std::to_string(GraphStore::kFormatVersion));
    ASSERT_TRUE(db->Get({}, cf.at("events"), IdKey(2), &v).ok());
    EXPECT_EQ(v[0], '\x01');
    EXPECT_LT(v.size(), text.size() / 2);
    // Damage to a compressed event is reported, not returned as text.
    v.resize(v.size() / 2);
    ASSERT_TRUE(db->Put({}, cf.at("events"), IdKey(2), v).ok());
  });
  auto store = Open();
  EXPECT_EQ(store->GetEvent(2).status().code(), StatusCode::kDataLoss);
}

// A facet's text is compressed as its batch is committed; GetNode returns the text, as it
// does for texts stored before compression.
TEST_F(GraphStoreTest, FacetTextsAreStoredCompressedAndReadBackAsTexts) {
  std::string schema = "{\"fields\":[";
  for (int i = 0; i < 40; ++i)
    schema += "{\"name\":\"column_" + std::to_string(i) + "\",\"type\":\"text\"},";
  schema += "{}]}";
  const std::string old_text = "{\"owners\":[{\"name\":\"team:" + std::string(200, 'a') + "\"}]}";
  {
    auto store = Open();
    auto w = store->NewWriter();
    NodeRecord n = Dataset(w->AllocateId(), "d");
    n.facets = {{"schema", schema, 5}};
    w->PutNode(n);
    ASSERT_TRUE(store->Commit(*w).ok());
    auto back = store->GetNode(n.id);
    ASSERT_TRUE(back.ok() && back->has_value()) << back.status().ToString();
    EXPECT_EQ((*back)->facets.at(0).json, schema);
  }
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    std::string v;
    ASSERT_TRUE(db->Get({}, cf.at("facets"), FacetKey(1, "schema"), &v).ok());
    EXPECT_EQ(v[0], '\x01');
    EXPECT_LT(v.size(), schema.size() / 2);
  });
  auto store = Open();
  auto w = store->NewWriter();
  NodeRecord n = Dataset(w->AllocateId(), "e");
  n.facets = {{"ownership", old_text, 5}};
  w->PutNode(n);
  ASSERT_TRUE(store->Commit(*w).ok());
  w.reset();
  store.reset();
  // As a store of format 3 holds it: the text itself.
  EditRaw([&](rocksdb::DB* db, auto& cf) {
    ASSERT_TRUE(db->Put({}, cf.at("facets"), FacetKey(2, "ownership"), old_text).ok());
  });
  store = Open();
  auto back = store->GetNode(2);
  ASSERT_TRUE(back.ok() && back->has_value()) << back.status().ToString();
  EXPECT_EQ((*back)->facets.at(0).json, old_text);
}

TEST_F(GraphStoreTest, AnInterruptedRebuildIsNoticedAtTheNextOpen) {
  {
    auto store = Open();
    ASSERT_TRUE(store->ResetDerived().ok());
    EXPECT_TRUE(store->rebuilding());
  }
  {
    auto store = Open();
    EXPECT_TRUE(store->rebuilding());
    ASSERT_TRUE(store->FinishRebuild().ok());
  }
  EXPECT_FALSE(Open()->rebuilding());
}

TEST_F(GraphStoreTest, SecondOpenOfTheSameDirectoryIsUnavailable) {
  auto store = Open();
  StoreOptions o;
  o.path = dir_.string();
  auto again = GraphStore::Open(o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kUnavailable);
}

TEST(ModelTest, NodeRecordsWithoutOwnersAndTagsStillDecode) {
  NodeRecord n;
  n.id = 9;
  n.name = "old";
  std::string v = EncodeNode(n);
  v.resize(v.size() - 2);  // no owner and no tag count: a record from before they existed
  NodeRecord back;
  ASSERT_TRUE(DecodeNode(v, &back).ok());
  EXPECT_EQ(back.name, "old");
  EXPECT_TRUE(back.owners.empty() && back.tags.empty());
  n.owners = {"team:x"};
  n.tags = {{"pii", "email", "email"}};
  ASSERT_TRUE(DecodeNode(EncodeNode(n), &back).ok());
  EXPECT_EQ(back.tags, n.tags);
}

TEST(ModelTest, RecordsRoundTrip) {
  RunRecord r;
  r.id = 3;
  r.run_id = "abc";
  r.job = 2;
  r.state = RunState::kFailed;
  r.state_time = -4;
  r.error_message = "boom";
  r.inputs = {5, 6};
  r.column_edges = {{5, 9, TransformSet::Of({{"INDIRECT", "FILTER", "where", true}})}};
  r.lineage_datasets = {7};
  RunRecord back;
  ASSERT_TRUE(DecodeRun(EncodeRun(r), &back).ok());
  EXPECT_EQ(back.run_id, "abc");
  EXPECT_EQ(back.state, RunState::kFailed);
  EXPECT_EQ(back.state_time, -4);
  EXPECT_EQ(back.column_edges[0].transforms[0].subtype, "FILTER");
  EXPECT_EQ(back.lineage_datasets, std::vector<NodeId>{7});
  NodeRecord n;
  EXPECT_EQ(DecodeNode(EncodeRun(r).substr(0, 5), &n).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tributary
