#include "api/json_output.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "common/time.h"
#include "tests/test_util.h"

namespace tributary {
namespace {

TEST(JsonOutputTest, StringsRoundTripThroughTheDirectWriter) {
  for (std::string s :
       {std::string("plain"), std::string("quote \" and backslash \\"),
        std::string("tab\tnewline\ncontrol\x01"), std::string("emoji 🦀 ünïcode 数据"),
        std::string("\\N\\l"), std::string(), std::string("\"starts and ends\""),
        std::string("\x01\x02\"\\"), std::string("a\"b\\c\nd")}) {
    std::string out;
    AppendJsonString(&out, s);
    auto parsed = nlohmann::json::parse(out);
    EXPECT_EQ(parsed.get<std::string>(), s) << out;
  }
}

// The writer looks for characters to escape eight bytes at a time: one at every position of
// strings longer than that, next to multi-byte UTF-8 and to bytes just above the limits.
TEST(JsonOutputTest, EscapesAreFoundAtEveryPosition) {
  for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\0'}) {
    for (size_t at = 2; at < 40; ++at) {
      std::string s = "ü" + std::string(38, '!') + "数";  // '!' is one above the space
      s[at] = special;
      std::string out;
      AppendJsonString(&out, s);
      EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), s) << out;
      // Quotes, then \" or \\ for the two, \u00XX for a control character.
      const size_t escaped = special == '"' || special == '\\' ? 2 : 6;
      EXPECT_EQ(out.size(), s.size() - 1 + escaped + 2) << at;
    }
  }
  std::string clean(64, '!');  // '#' and ']' sit one above '"' and '\\'
  clean[9] = '#';
  clean[30] = ']';
  std::string out;
  AppendJsonString(&out, clean);
  EXPECT_EQ(out, "\"" + clean + "\"");
}

// Node ids are written in place, escaped piece by piece: they must read back as the ids
// GraphNodeId builds, for every kind of node and every end of every edge.
TEST(JsonOutputTest, NodeIdsWrittenInPlaceReadBackAsTheGraphsIds) {
  testing::TestStore s;
  testing::Ds out{.name = "out \"quoted\" \\ path"};
  out.lineage = {{"col\ttab \"q\"", {{.ns = "db", .name = "in:put", .field = "a\\b\x01"}}}};
  s.MustIngest(testing::RunEvent("job \"j\"", "01890000-0000-7000-8000-000000000001", "COMPLETE",
                                 "2024-01-01T00:00:00Z", {{.name = "in:put"}}, {out}));
  auto graph = LineageGraph::Load(s.store());
  ASSERT_TRUE(graph.ok());
  GraphReader g = (*graph)->Read();
  int nodes = 0;
  for (NodeId id = 0; id < g.node_capacity(); ++id) {
    if (!g.node(id).present) continue;
    ++nodes;
    EXPECT_EQ(NodeJson(g, id)["id"], GraphNodeId(g, id));
  }
  EXPECT_EQ(nodes, 5);  // two datasets, a job, two fields
  ASSERT_GT(g.counts().edges, 0u);
  for (uint32_t i = 0; i < g.counts().edges; ++i) {
    const GraphEdge& e = g.edge(i);
    nlohmann::json j = EdgeJson(g, e);
    EXPECT_EQ(j["from"], GraphNodeId(g, e.from));
    EXPECT_EQ(j["to"], GraphNodeId(g, e.to));
    if (e.job != kNoNode) {
      EXPECT_EQ(j["job"], GraphNodeId(g, e.job));
    }
  }
}

// The writers of long node and edge lists keep text from one item for the next (a field's
// dataset, a job, a transformation set, a time): one writer for a whole list writes what a
// writer for each item does, in every order, as datasets and jobs change, come back, and
// need escapes.
TEST(JsonOutputTest, ListWritersEqualTheSingleItemWriters) {
  testing::TestStore s;
  testing::Ds a{.name = "a \"quoted\" \\ name"};
  a.lineage = {{"x\ty", {{.ns = "db", .name = "in:put", .field = "p\\q\x01"}}},
               {"plain", {{.ns = "db", .name = "in:put", .field = "r"}}}};
  testing::Ds b{.name = "b"};
  b.lineage = {{"k", {{.ns = "db", .name = "in:put", .field = "r"}}}};
  s.MustIngest(testing::RunEvent("job \"j\"", "01890000-0000-7000-8000-000000000001", "COMPLETE",
                                 "2024-01-01T00:00:00Z", {{.name = "in:put"}}, {a, b}));
  // A second job, a day later, with other transformations.
  testing::Ds c{.name = "c"};
  c.lineage = {
      {"x\ty", {{.ns = "db", .name = "b", .field = "k", .type = "INDIRECT", .subtype = "FILTER"}}}};
  s.MustIngest(testing::RunEvent("k", "01890000-0000-7000-8000-000000000002", "COMPLETE",
                                 "2024-01-02T00:00:00Z", {{.name = "b"}}, {c}));
  auto graph = LineageGraph::Load(s.store());
  ASSERT_TRUE(graph.ok());
  GraphReader g = (*graph)->Read();
  std::vector<NodeId> ids;
  for (NodeId id = 0; id < g.node_capacity(); ++id) {
    if (g.node(id).present) ids.push_back(id);
  }
  ASSERT_EQ(ids.size(), 12u);  // four datasets, two jobs, six fields
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    std::vector<NodeId> order = ids;
    if (round > 0) std::shuffle(order.begin(), order.end(), rng);
    order.insert(order.end(), order.begin(), order.begin() + 4);  // some twice
    std::string want = "[", got = "[";
    NodeJsonWriter writer(&got, g);
    for (size_t i = 0; i < order.size(); ++i) {
      const int distance = static_cast<int>(i % 3);
      const int* d = i % 4 == 3 ? nullptr : &distance;
      const char* direction = i % 2 ? "upstream" : nullptr;
      AppendNodeJson(&want, g, order[i], d, direction);
      writer.Write(order[i], d, direction);
      want.push_back(',');
      got.push_back(',');
    }
    EXPECT_EQ(got, want);
  }
  // Edges likewise: one writer for all of them, in any order, against one for each.
  ASSERT_GT(g.counts().edges, 4u);
  for (int round = 0; round < 20; ++round) {
    std::vector<uint32_t> order(g.counts().edges);
    std::iota(order.begin(), order.end(), 0);
    if (round > 0) std::shuffle(order.begin(), order.end(), rng);
    std::string want, got;
    EdgeJsonWriter writer(&got, g);
    for (uint32_t i : order) {
      AppendEdgeJson(&want, g, g.edge(i));
      writer.Write(g.edge(i));
    }
    EXPECT_EQ(got, want);
  }
  // The array of every edge parses, and each edge names its ends, job, transformations and
  // first-seen time as the graph holds them.
  std::vector<uint32_t> all(g.counts().edges);
  std::iota(all.begin(), all.end(), 0);
  std::string array;
  EdgeJsonWriter(&array, g).WriteArray(all);
  nlohmann::json edges = nlohmann::json::parse(array);
  ASSERT_EQ(edges.size(), all.size());
  int with_transforms = 0;
  for (uint32_t i : all) {
    const GraphEdge& e = g.edge(i);
    const nlohmann::json& j = edges[i];
    EXPECT_EQ(j["from"], GraphNodeId(g, e.from));
    EXPECT_EQ(j["to"], GraphNodeId(g, e.to));
    EXPECT_EQ(j["job"],
              e.job == kNoNode ? nlohmann::json() : nlohmann::json(GraphNodeId(g, e.job)));
    EXPECT_EQ(j["transformations"], TransformsJson(g.transforms(e.transforms)));
    EXPECT_EQ(j["firstSeen"], FormatTime(e.first_seen));
    with_transforms += !g.transforms(e.transforms).empty();
  }
  EXPECT_GE(with_transforms, 4);
  // Each node object parses, and names the right node.
  std::string one;
  NodeJsonWriter writer(&one, g);
  for (NodeId id : ids) {
    one.clear();
    writer.Write(id, nullptr, nullptr);
    EXPECT_EQ(nlohmann::json::parse(one)["id"], GraphNodeId(g, id)) << one;
  }
}

}  // namespace
}  // namespace tributary
