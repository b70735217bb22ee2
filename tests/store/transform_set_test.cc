#include "store/transform_set.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "store/model.h"

namespace tributary {
namespace {

const Transform kIdentity{"DIRECT", "IDENTITY", "", false};
const Transform kSum{"DIRECT", "AGGREGATION", "sum", false};
const Transform kMasked{"INDIRECT", "FILTER", "where", true};

std::string Encode(const std::vector<Transform>& ts) {
  std::string out;
  PutVarint64(&out, ts.size());
  for (const auto& t : ts) PutTransform(&out, t.type, t.subtype, t.description, t.masking);
  return out;
}

TEST(TransformSetTest, EqualSetsAreOneInstance) {
  TransformSet a = TransformSet::Of({kSum, kIdentity});
  TransformSet b = TransformSet::Of({kIdentity, kSum, kIdentity});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.identity(), b.identity());
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], kSum);  // sorted: AGGREGATION before IDENTITY
  EXPECT_EQ(a[1], kIdentity);
  EXPECT_NE(a, TransformSet::Of({kIdentity}));
  EXPECT_NE(a, TransformSet::Of({kSum, kIdentity, kMasked}));
}

TEST(TransformSetTest, TheEmptySetHasNoInstance) {
  TransformSet none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.begin(), none.end());
  EXPECT_EQ(TransformSet::Of({}), none);
  EXPECT_FALSE(TransformSet::Of({kIdentity}).empty());
}

TEST(TransformSetTest, UnionHoldsBoth) {
  TransformSet a = TransformSet::Of({kIdentity});
  TransformSet b = TransformSet::Of({kMasked, kIdentity});
  EXPECT_EQ(TransformSet::Union(a, b), b);
  EXPECT_EQ(TransformSet::Union(b, a), b);
  EXPECT_EQ(TransformSet::Union(a, TransformSet()), a);
  EXPECT_EQ(TransformSet::Union(TransformSet(), a), a);
  EXPECT_EQ(TransformSet::Union(a, TransformSet::Of({kSum})), TransformSet::Of({kIdentity, kSum}));
}

TEST(TransformSetTest, EncodingsInAnyOrderGiveTheSameSet) {
  TransformSet want = TransformSet::Of({kIdentity, kMasked});
  for (const auto& order : std::vector<std::vector<Transform>>{
           {kIdentity, kMasked}, {kMasked, kIdentity}, {kMasked, kIdentity, kMasked}}) {
    Result<TransformSet> got = TransformsOfEncoding(Encode(order));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want);
  }
  // A set's own encoding lists its transformations in order.
  EXPECT_EQ(want.encoded(), Encode(want.items()));
  EXPECT_EQ(TransformSet().encoded(), Encode({}));
  Result<TransformSet> none = TransformsOfEncoding(Encode({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(TransformSetTest, BrokenEncodingsAreRejected) {
  std::string good = Encode({kSum});
  EXPECT_FALSE(TransformsOfEncoding(good.substr(0, good.size() - 1)).ok());  // no masking byte
  EXPECT_FALSE(TransformsOfEncoding(good + "x").ok());                       // trailing bytes
  std::string too_many = good;
  too_many[0] = 2;  // claims two
  EXPECT_FALSE(TransformsOfEncoding(too_many).ok());
  EXPECT_FALSE(TransformsOfEncoding("").ok());
}

TEST(TransformSetTest, MoreDistinctSetsThanTheThreadCacheHolds) {
  // The per-thread cache of encodings starts over past a few thousand sets: every set still
  // decodes to itself, before and after.
  std::vector<TransformSet> sets;
  for (int i = 0; i < 10'000; ++i) {
    Result<TransformSet> s =
        TransformsOfEncoding(Encode({{"DIRECT", "TRANSFORMATION", std::to_string(i), i % 2 == 1}}));
    ASSERT_TRUE(s.ok());
    sets.push_back(*s);
  }
  for (int i = 0; i < 10'000; i += 997) {
    ASSERT_EQ(sets[i].size(), 1u);
    EXPECT_EQ(sets[i][0].description, std::to_string(i));
    EXPECT_EQ(sets[i][0].masking, i % 2 == 1);
    EXPECT_EQ(*TransformsOfEncoding(Encode(sets[i].items())), sets[i]);
  }
}

TEST(TransformSetTest, ThreadsInterningTheSameSetsAgree) {
  std::vector<std::vector<TransformSet>> seen(4);
  std::vector<std::thread> threads;
  for (auto& mine : seen) {
    threads.emplace_back([&mine] {
      for (int i = 0; i < 500; ++i) {
        mine.push_back(TransformSet::Of({{"DIRECT", "IDENTITY", "t" + std::to_string(i), false}}));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], seen[0]);
}

}  // namespace
}  // namespace tributary
