#include "store/edge_list_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace tributary {
namespace {

std::vector<EdgeRecord> ListOf(NodeId from, size_t n) {
  std::vector<EdgeRecord> out(n);
  for (size_t i = 0; i < n; ++i) out[i].from = from + i;
  return out;
}

TEST(EdgeListMapTest, FindsEveryListAcrossGrowthAndMissesTheRest) {
  EdgeListMap map;
  EXPECT_EQ(map.find({1, EdgeKind::kDerive}), nullptr);  // no slots yet
  // Consecutive ids and both kinds of each: the keys the writer sees, many times the
  // first table's size.
  constexpr NodeId kNodes = 5000;
  std::vector<const EdgeRecord*> elements;
  for (NodeId n = 1; n <= kNodes; ++n) {
    std::vector<EdgeRecord>* list = map.emplace({n, EdgeKind::kDerive}, ListOf(n, 1 + n % 3));
    elements.push_back(list->data());
    map.emplace({n, EdgeKind::kWrite}, ListOf(n * 10, 1));
  }
  EXPECT_EQ(map.size(), 2 * kNodes);
  for (NodeId n = 1; n <= kNodes; ++n) {
    std::vector<EdgeRecord>* list = map.find({n, EdgeKind::kDerive});
    ASSERT_NE(list, nullptr) << n;
    ASSERT_EQ(list->size(), 1 + n % 3);
    EXPECT_EQ(list->front().from, n);
    EXPECT_EQ(list->data(), elements[n - 1]);  // growing moved the list, not its elements
    ASSERT_NE(map.find({n, EdgeKind::kWrite}), nullptr);
    EXPECT_EQ(map.find({n, EdgeKind::kWrite})->front().from, n * 10);
    EXPECT_FALSE(map.contains({n, EdgeKind::kRead}));
  }
  EXPECT_FALSE(map.contains({kNodes + 1, EdgeKind::kDerive}));
}

TEST(EdgeListMapTest, ClearEmptiesItForReuse) {
  EdgeListMap map;
  for (NodeId n = 1; n <= 100; ++n) map.emplace({n, EdgeKind::kDerive}, ListOf(n, 2));
  map.clear();
  EXPECT_EQ(map.size(), 0u);
  for (NodeId n = 1; n <= 100; ++n) EXPECT_FALSE(map.contains({n, EdgeKind::kDerive}));
  map.emplace({7, EdgeKind::kDerive}, ListOf(70, 1));
  ASSERT_TRUE(map.contains({7, EdgeKind::kDerive}));
  EXPECT_EQ(map.find({7, EdgeKind::kDerive})->front().from, 70u);
}

TEST(EdgeListMapTest, AMapMovedFromIsEmptyAndUsable) {
  EdgeListMap map;
  for (NodeId n = 1; n <= 100; ++n) map.emplace({n, EdgeKind::kDerive}, ListOf(n, 1));
  EdgeListMap taken(std::move(map));
  EXPECT_EQ(taken.size(), 100u);
  EXPECT_TRUE(taken.contains({50, EdgeKind::kDerive}));
  EXPECT_EQ(map.size(), 0u);  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_FALSE(map.contains({50, EdgeKind::kDerive}));
  map.emplace({50, EdgeKind::kDerive}, ListOf(500, 1));
  EXPECT_EQ(map.find({50, EdgeKind::kDerive})->front().from, 500u);
}

}  // namespace
}  // namespace tributary
