// Diagrams: the DOT handed to Graphviz (golden files under tests/golden/diagrams), the
// rendered formats, escaping of hostile names, collapsing of large diagrams, and
// BuildDiagram on a real closure. TRIB_UPDATE_GOLDEN=1 rewrites the golden files (review
// the diff, and look at a rendering, before committing them).
#include "viz/diagram.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "tests/test_util.h"

namespace tributary {
namespace {

namespace fs = std::filesystem;
using testing::Ds;
using testing::RunEvent;
using testing::TestStore;

DiagramNode Dataset(const std::string& ns, const std::string& name, int distance) {
  DiagramNode n;
  n.kind = NodeKind::kDataset;
  n.key = "dataset:" + ns + ":" + name;
  n.ns = ns;
  n.name = name;
  n.cluster = ns;
  n.distance = distance;
  n.root = distance == 0;
  return n;
}

DiagramNode Job(const std::string& ns, const std::string& name, int distance) {
  DiagramNode n = Dataset(ns, name, distance);
  n.kind = NodeKind::kJob;
  n.key = "job:" + ns + ":" + name;
  return n;
}

DiagramNode Field(const std::string& ns, const std::string& name, const std::string& field,
                  int distance) {
  DiagramNode n = Dataset(ns, name, distance);
  n.kind = NodeKind::kField;
  n.field = field;
  n.key = "datasetField:" + ns + ":" + name + ":" + field;
  return n;
}

DiagramEdge Edge(const DiagramNode& from, const DiagramNode& to, EdgeKind kind,
                 const std::string& job = "", bool direct = true, bool masking = false) {
  return {from.key, to.key, kind, job, direct, masking};
}

// raw:orders -> split -> mart:eu_orders, mart:us_orders -> merge -> report:global_orders,
// with raw:fx_rates, outside the closure, also read by merge. Highlighted.
Diagram DatasetDiamond() {
  Diagram d;
  d.title = "Downstream lineage of dataset raw:orders";
  d.subtitle = {"current lineage"};
  d.level = DiagramLevel::kDataset;
  d.highlight = true;
  DiagramNode orders = Dataset("raw", "orders", 0), split = Job("etl", "split", 1),
              eu = Dataset("mart", "eu_orders", 2), us = Dataset("mart", "us_orders", 2),
              merge = Job("etl", "merge", 3), global = Dataset("report", "global_orders", 4),
              fx = Dataset("raw", "fx_rates", -1);
  d.nodes = {orders, split, eu, us, merge, global, fx};
  d.edges = {Edge(orders, split, EdgeKind::kRead), Edge(split, eu, EdgeKind::kWrite),
             Edge(split, us, EdgeKind::kWrite),    Edge(eu, merge, EdgeKind::kRead),
             Edge(us, merge, EdgeKind::kRead),     Edge(fx, merge, EdgeKind::kRead),
             Edge(merge, global, EdgeKind::kWrite)};
  return d;
}

// Upstream of mart:order_facts at column level: DIRECT, INDIRECT and masked edges.
Diagram ColumnTwoDatasets() {
  Diagram d;
  d.title = "Upstream lineage of dataset mart:order_facts";
  d.subtitle = {"as of 2024-05-01T10:00:00Z", "depth 1"};
  d.level = DiagramLevel::kColumn;
  DiagramNode facts = Dataset("mart", "order_facts", 0);
  DiagramNode order_id = Field("mart", "order_facts", "order_id", 0),
              amount_eur = Field("mart", "order_facts", "amount_eur", 0),
              email_hash = Field("mart", "order_facts", "email_hash", 0);
  DiagramNode id = Field("raw", "orders", "id", 1), amount = Field("raw", "orders", "amount", 1),
              currency = Field("raw", "orders", "currency", 1),
              email = Field("raw", "orders", "email", 1);
  d.nodes = {facts, order_id, amount_eur, email_hash, id, amount, currency, email};
  d.edges = {Edge(id, order_id, EdgeKind::kDerive, "build_facts"),
             Edge(amount, amount_eur, EdgeKind::kDerive, "build_facts"),
             Edge(currency, amount_eur, EdgeKind::kDerive, "build_facts", /*direct=*/false),
             Edge(email, email_hash, EdgeKind::kDerive, "build_facts", true, /*masking=*/true)};
  return d;
}

std::string Render(const Diagram& d, DiagramFormat format, const DiagramOptions& options = {}) {
  Result<std::string> r = RenderDiagram(d, format, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

size_t CountMatches(const std::string& text, const std::string& pattern) {
  std::regex re(pattern, std::regex::multiline);
  return std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator());
}

void ExpectGolden(const std::string& name, const std::string& got) {
  fs::path path = fs::path(TRIB_SOURCE_DIR) / "tests/golden/diagrams" / name;
  if (std::getenv("TRIB_UPDATE_GOLDEN") != nullptr) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << got;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run with TRIB_UPDATE_GOLDEN=1";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << path.filename() << " differs; got:\n" << got;
}

TEST(DiagramFormatTest, ParsesTheFourFormats) {
  struct Case {
    const char* text;
    DiagramFormat format;
    const char* mime;
  };
  for (const Case& c : {Case{"dot", DiagramFormat::kDot, "text/vnd.graphviz"},
                        Case{"svg", DiagramFormat::kSvg, "image/svg+xml"},
                        Case{"png", DiagramFormat::kPng, "image/png"},
                        Case{"pdf", DiagramFormat::kPdf, "application/pdf"}}) {
    Result<DiagramFormat> f = ParseDiagramFormat(c.text);
    ASSERT_TRUE(f.ok()) << c.text;
    EXPECT_EQ(*f, c.format);
    EXPECT_STREQ(DiagramMimeType(c.format), c.mime);
  }
}

TEST(DiagramFormatTest, UnknownFormatIsInvalidArgumentAtFormat) {
  for (const char* text : {"", "jpeg", "SVG", "svg ", "dot:canon"}) {
    Result<DiagramFormat> f = ParseDiagramFormat(text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(f.status().path(), "format");
    EXPECT_NE(f.status().message().find("dot, svg, png or pdf"), std::string::npos);
  }
}

TEST(DiagramDotTest, DatasetDiamondMatchesGolden) {
  ExpectGolden("dataset_diamond.dot", Render(DatasetDiamond(), DiagramFormat::kDot));
}

TEST(DiagramDotTest, ColumnTwoDatasetsMatchesGolden) {
  ExpectGolden("column_two_datasets.dot", Render(ColumnTwoDatasets(), DiagramFormat::kDot));
}

TEST(DiagramDotTest, IsDeterministicAndKeepsTheDiagramOrder) {
  Diagram d = DatasetDiamond();
  std::string dot = Render(d, DiagramFormat::kDot);
  EXPECT_EQ(dot, Render(d, DiagramFormat::kDot));
  // Node statements n<i> follow the diagram's order; the legend comes first.
  size_t last = dot.find("  legend [");
  ASSERT_NE(last, std::string::npos);
  for (size_t i = 0; i < d.nodes.size(); ++i) {
    size_t at = dot.find("\n  n" + std::to_string(i) + " [");
    ASSERT_NE(at, std::string::npos) << i;
    EXPECT_GT(at, last) << i;
    last = at;
  }
  EXPECT_EQ(Count(dot, " -> "), d.edges.size());
}

TEST(DiagramDotTest, ColumnLevelDrawsOneTablePerDatasetWithPorts) {
  std::string dot = Render(ColumnTwoDatasets(), DiagramFormat::kDot);
  EXPECT_EQ(CountMatches(dot, "^  t[0-9]+ \\["), 2u);
  for (int i = 1; i <= 7; ++i) {
    EXPECT_NE(dot.find("PORT=\"p" + std::to_string(i) + "\""), std::string::npos) << i;
  }
  EXPECT_NE(dot.find("tailport=\"p4:e\", headport=\"p1:w\""), std::string::npos);
  EXPECT_NE(dot.find("style=dashed"), std::string::npos);   // INDIRECT
  EXPECT_NE(dot.find("arrowhead=tee"), std::string::npos);  // masking
  EXPECT_EQ(Count(dot, "label=<build_facts>"), 1u);         // the job, named once
  EXPECT_NE(dot.find("rankdir=LR"), std::string::npos);
  EXPECT_NE(dot.find("charset=\"UTF-8\""), std::string::npos);
  EXPECT_NE(dot.find("fontname=\"DejaVu Sans\""), std::string::npos);
}

TEST(DiagramDotTest, ParallelEdgesAreMergedAndDanglingOnesDropped) {
  Diagram d = DatasetDiamond();
  d.edges.push_back(d.edges[0]);
  d.edges.push_back({"dataset:raw:orders", "dataset:nowhere:x", EdgeKind::kRead});
  std::string dot = Render(d, DiagramFormat::kDot);
  EXPECT_EQ(Count(dot, " -> "), DatasetDiamond().edges.size());
}

TEST(DiagramDotTest, LayoutLimitsShrinkWithTheBudget) {
  auto mclimit = [](const std::string& dot) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(dot, m, std::regex("mclimit=\"([0-9.]+)\"")));
    return m.empty() ? 0.0 : std::stod(m[1]);
  };
  DiagramOptions fast;
  fast.layout_seconds = 0.5;
  std::string normal = Render(DatasetDiamond(), DiagramFormat::kDot);
  std::string quick = Render(DatasetDiamond(), DiagramFormat::kDot, fast);
  EXPECT_LT(mclimit(quick), mclimit(normal));
  EXPECT_NE(normal.find("nslimit="), std::string::npos);
  EXPECT_NE(normal.find("nslimit1="), std::string::npos);
}

TEST(DiagramRenderTest, SvgPngAndPdf) {
  for (const Diagram& d : {DatasetDiamond(), ColumnTwoDatasets()}) {
    std::string svg = Render(d, DiagramFormat::kSvg);
    EXPECT_TRUE(svg.rfind("<?xml", 0) == 0 || svg.find("<svg") != std::string::npos);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);

    std::string png = Render(d, DiagramFormat::kPng);
    ASSERT_GE(png.size(), 8u);
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));

    std::string pdf = Render(d, DiagramFormat::kPdf);
    EXPECT_EQ(pdf.rfind("%PDF", 0), 0u);
    // One page: "/Type /Page" once besides "/Type /Pages".
    EXPECT_EQ(Count(pdf, "/Type /Page") - Count(pdf, "/Type /Pages"), 1u);
  }
}

TEST(DiagramRenderTest, SvgShowsTitleLegendAndNames) {
  std::string svg = Render(ColumnTwoDatasets(), DiagramFormat::kSvg);
  for (const char* text : {"Upstream lineage of dataset mart:order_facts",
                           "as of 2024&#45;05&#45;01T10:00:00Z", "Legend", "order_facts",
                           "amount_eur", "build_facts", "masked", "font-family=\"DejaVu Sans\""}) {
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  }
}

TEST(DiagramRenderTest, EmptyDiagramRenders) {
  Diagram d;
  d.title = "Nothing";
  EXPECT_NE(Render(d, DiagramFormat::kDot).find("no lineage"), std::string::npos);
  EXPECT_NE(Render(d, DiagramFormat::kSvg).find("<svg"), std::string::npos);
}

TEST(DiagramRenderTest, ConcurrentRendersAgree) {
  Diagram d = ColumnTwoDatasets();
  std::string want = Render(d, DiagramFormat::kSvg);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      Result<std::string> r = RenderDiagram(d, DiagramFormat::kSvg);
      if (r.ok()) got[t] = *r;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

// A dataset named a<b>&"c'd with a column \N\l, an emoji/CJK dataset, a job named \G.
Diagram Hostile() {
  Diagram d;
  d.title = "Lineage of a<b>&\"c'd \\N";
  d.level = DiagramLevel::kColumn;
  DiagramNode a = Field("ns&<>", "a<b>&\"c'd", "\\N\\l", 0);
  DiagramNode b = Field("名前空間", "🚀 launches 数据", "列 ✓", 1);
  d.nodes = {a, b};
  d.edges = {Edge(a, b, EdgeKind::kDerive, "job \\G")};
  return d;
}

TEST(DiagramEscapingTest, DotHasEscapedLabels) {
  std::string dot = Render(Hostile(), DiagramFormat::kDot);
  EXPECT_NE(dot.find("a&lt;b&gt;&amp;&quot;c&#39;d"), std::string::npos);
  EXPECT_NE(dot.find("ns&amp;&lt;&gt;"), std::string::npos);
  // Graphviz expands \N, \G, ... inside HTML-like labels too: backslashes are doubled.
  EXPECT_NE(dot.find(">\\\\N\\\\l<"), std::string::npos);
  EXPECT_NE(dot.find("job \\\\G"), std::string::npos);
  EXPECT_NE(dot.find("🚀 launches 数据"), std::string::npos);
  // Quotes inside quoted (tooltip) values are escaped for DOT.
  EXPECT_NE(dot.find("a<b>&\\\"c'd"), std::string::npos);
  EXPECT_EQ(dot.find("label=<a<b>"), std::string::npos);
}

TEST(DiagramEscapingTest, SvgShowsTheNamesAsWritten) {
  std::string svg = Render(Hostile(), DiagramFormat::kSvg);
  EXPECT_NE(svg.find("a&lt;b&gt;&amp;"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_NE(svg.find(">\\N\\l</text>"), std::string::npos);   // not the node's name
  EXPECT_NE(svg.find(">job \\G</text>"), std::string::npos);  // not the graph's name
  EXPECT_NE(svg.find("Lineage of a&lt;b&gt;&amp;&quot;c&#39;d \\N"), std::string::npos);
  EXPECT_NE(svg.find("🚀 launches 数据"), std::string::npos);
  EXPECT_NE(svg.find("列 ✓"), std::string::npos);
  // Tooltips keep backslashes too.
  EXPECT_NE(svg.find("xlink:title=\"datasetField:ns&amp;&lt;&gt;:a&lt;b&gt;&amp;&quot;c&#39;d:"
                     "\\N\\l"),
            std::string::npos);
  EXPECT_NE(svg.find("via job \\G"), std::string::npos);
}

TEST(DiagramEscapingTest, PngAndPdfRender) {
  EXPECT_EQ(Render(Hostile(), DiagramFormat::kPng).substr(0, 4), "\x89PNG");
  EXPECT_EQ(Render(Hostile(), DiagramFormat::kPdf).substr(0, 4), "%PDF");
}

TEST(DiagramEscapingTest, LongNamesAreShortenedButTooltipsKeepThem) {
  std::string name = std::string(60, 'a') + "_middle_" + std::string(60, 'z');
  Diagram d;
  d.title = "long";
  d.nodes = {Dataset("db", name, 0)};
  std::string svg = Render(d, DiagramFormat::kSvg);
  std::string shown = std::string(39, 'a') + "\xE2\x80\xA6" + std::string(40, 'z');
  EXPECT_NE(svg.find(">" + shown + "</text>"), std::string::npos);
  EXPECT_NE(svg.find("xlink:title=\"dataset:db:" + name + "\""), std::string::npos);
  EXPECT_EQ(svg.find(">" + name + "</text>"), std::string::npos);
}

TEST(DiagramEscapingTest, ShorteningNeverSplitsACharacter) {
  std::string name;
  for (int i = 0; i < 100; ++i) name += "数";
  Diagram d;
  d.nodes = {Dataset("db", name, 0)};
  std::string dot = Render(d, DiagramFormat::kDot);
  std::string shown;
  for (int i = 0; i < 39; ++i) shown += "数";
  shown += "\xE2\x80\xA6";
  for (int i = 0; i < 40; ++i) shown += "数";
  EXPECT_NE(dot.find(">" + shown + "<"), std::string::npos);
}

TEST(DiagramEscapingTest, InvalidUtf8AndControlCharactersAreReplaced) {
  Diagram d;
  d.nodes = {Dataset("db", "bad\xff\xfe name\twith\nbreaks", 0)};
  std::string dot = Render(d, DiagramFormat::kDot);
  EXPECT_NE(dot.find("bad\xEF\xBF\xBD\xEF\xBF\xBD name with breaks"), std::string::npos);
  EXPECT_NE(Render(d, DiagramFormat::kSvg).find("<svg"), std::string::npos);
}

// 400 fields across 20 datasets, in a chain: each field derives the next dataset's field.
Diagram ManyColumns() {
  Diagram d;
  d.title = "many columns";
  d.level = DiagramLevel::kColumn;
  for (int ds = 0; ds < 20; ++ds) {
    for (int f = 0; f < 20; ++f) {
      d.nodes.push_back(
          Field(ds < 10 ? "raw" : "mart", "ds" + std::to_string(ds), "f" + std::to_string(f), ds));
    }
  }
  for (int ds = 1; ds < 20; ++ds) {
    for (int f = 0; f < 20; ++f) {
      d.edges.push_back(Edge(d.nodes[(ds - 1) * 20 + f], d.nodes[ds * 20 + f], EdgeKind::kDerive,
                             "job" + std::to_string(ds % 3)));
    }
  }
  return d;
}

TEST(DiagramCollapseTest, ManyColumnsAreDrawnAtDatasetLevel) {
  Diagram d = ManyColumns();
  std::string dot = Render(d, DiagramFormat::kDot);
  EXPECT_NE(dot.find("collapsed to dataset level: 400 columns"), std::string::npos);
  EXPECT_EQ(dot.find("PORT="), std::string::npos);
  EXPECT_EQ(CountMatches(dot, "^  n[0-9]+ \\["), 20u);
  EXPECT_EQ(Count(dot, " -> "), 19u);  // 20 column edges between each pair become one
  EXPECT_NE(dot.find("20 column edges"), std::string::npos);
  EXPECT_NE(dot.find("20 columns"), std::string::npos);
  EXPECT_NE(Render(d, DiagramFormat::kSvg).find("collapsed to dataset level: 400 columns"),
            std::string::npos);
}

TEST(DiagramCollapseTest, ColumnLimitIsAnOption) {
  Diagram d = ColumnTwoDatasets();
  EXPECT_EQ(Render(d, DiagramFormat::kDot).find("collapsed"), std::string::npos);
  DiagramOptions o;
  o.max_column_nodes = 3;
  std::string dot = Render(d, DiagramFormat::kDot, o);
  EXPECT_NE(dot.find("collapsed to dataset level: 7 columns"), std::string::npos);
  // The masked and INDIRECT edges collapse into one edge that still shows masking.
  EXPECT_EQ(Count(dot, " -> "), 1u);
  EXPECT_NE(dot.find("arrowhead=tee"), std::string::npos);
}

TEST(DiagramCollapseTest, ManyDatasetsAreDrawnByCluster) {
  Diagram d;
  d.title = "many datasets";
  d.highlight = true;
  for (int i = 0; i < 600; ++i) {
    d.nodes.push_back(
        Dataset("ns" + std::to_string(i % 6), "d" + std::to_string(i), i == 0 ? 0 : 1 + i % 9));
  }
  for (int i = 1; i < 600; ++i) {
    d.edges.push_back(Edge(d.nodes[(i - 1) / 2], d.nodes[i], EdgeKind::kWrite));
  }
  std::string dot = Render(d, DiagramFormat::kDot);
  EXPECT_NE(dot.find("collapsed to clusters: 600 datasets"), std::string::npos);
  EXPECT_EQ(CountMatches(dot, "^  c[0-9]+ \\["), 6u);
  EXPECT_NE(dot.find("100 datasets"), std::string::npos);
  std::string svg = Render(d, DiagramFormat::kSvg);
  EXPECT_NE(svg.find("collapsed to clusters: 600 datasets"), std::string::npos);
}

TEST(DiagramCollapseTest, LargeDiagramsNameNamespacesInsteadOfBoxingThem) {
  Diagram d;
  for (int i = 0; i < 100; ++i) {
    d.nodes.push_back(Dataset("ns" + std::to_string(i % 4), "d" + std::to_string(i), i));
  }
  std::string dot = Render(d, DiagramFormat::kDot);
  EXPECT_EQ(dot.find("subgraph cluster_"), std::string::npos);
  EXPECT_NE(dot.find("namespaces: under each name"), std::string::npos);
  EXPECT_NE(dot.find(">ns3</FONT>"), std::string::npos);
  d.nodes.resize(10);
  dot = Render(d, DiagramFormat::kDot);
  EXPECT_EQ(Count(dot, "subgraph cluster_"), 4u);
  EXPECT_EQ(dot.find("namespaces: under each name"), std::string::npos);
}

TEST(DiagramCollapseTest, JobsBetweenClustersBecomeEdges) {
  Diagram d = DatasetDiamond();
  DiagramOptions o;
  o.max_dataset_nodes = 3;
  std::string dot = Render(d, DiagramFormat::kDot, o);
  EXPECT_NE(dot.find("collapsed to clusters: 5 datasets, 2 jobs"), std::string::npos);
  // raw, mart and report; split (raw -> mart) and merge (mart, raw -> report) are edges.
  EXPECT_EQ(CountMatches(dot, "^  c[0-9]+ \\["), 3u);
  EXPECT_EQ(Count(dot, " -> "), 3u);
  EXPECT_NE(dot.find("via split"), std::string::npos);
}

TEST(DiagramCollapseTest, ClusterLevelCanBeAskedFor) {
  Diagram d = DatasetDiamond();
  d.level = DiagramLevel::kCluster;
  std::string dot = Render(d, DiagramFormat::kDot);
  EXPECT_EQ(CountMatches(dot, "^  c[0-9]+ \\["), 3u);
}

const char* kRun1 = "01890000-0000-7000-8000-000000000001";
const char* kRun2 = "01890000-0000-7000-8000-000000000002";

class BuildDiagramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // a -> j1 -> b -> j2 -> c; column lineage b.x <- a.x (DIRECT), b.y <- a.x (INDIRECT,
    // masking).
    Ds b{.name = "b", .columns = {"x", "y"}};
    b.lineage = {{"x", {{.ns = "db", .name = "a", .field = "x"}}},
                 {"y",
                  {{.ns = "db",
                    .name = "a",
                    .field = "x",
                    .type = "INDIRECT",
                    .subtype = "FILTER",
                    .masking = true}}}};
    s_.MustIngest(RunEvent("j1", kRun1, "COMPLETE", "2024-01-01T00:00:00Z",
                           {{.name = "a", .columns = {"x"}}}, {b}));
    s_.MustIngest(RunEvent("j2", kRun2, "COMPLETE", "2024-01-02T00:00:00Z", {{.name = "b"}},
                           {{.name = "c"}}));
    auto g = LineageGraph::Load(s_.store());
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    graph_ = std::move(g).value();
  }

  Diagram Build(const ClosureQuery& q) {
    GraphReader reader = graph_->Read();
    auto r = ComputeClosure(reader, q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? BuildDiagram(reader, q, *r) : Diagram{};
  }

  TestStore s_;
  std::unique_ptr<LineageGraph> graph_;
};

TEST_F(BuildDiagramTest, DatasetLevel) {
  Diagram d = Build({.root = s_.Dataset("a")});
  EXPECT_EQ(d.level, DiagramLevel::kDataset);
  EXPECT_EQ(d.title, "Downstream lineage of dataset db:a");
  EXPECT_EQ(d.subtitle, std::vector<std::string>{"current lineage"});
  ASSERT_EQ(d.nodes.size(), 5u);
  EXPECT_EQ(d.nodes[0].key, "dataset:db:a");
  EXPECT_TRUE(d.nodes[0].root);
  EXPECT_EQ(d.nodes[0].distance, 0);
  EXPECT_EQ(d.nodes[0].cluster, "db");
  EXPECT_EQ(d.nodes[1].key, "job:jobs:j1");
  EXPECT_EQ(d.nodes[1].kind, NodeKind::kJob);
  EXPECT_EQ(d.nodes[1].cluster, "jobs");
  EXPECT_EQ(d.nodes[1].distance, 1);
  EXPECT_FALSE(d.nodes[1].root);
  EXPECT_EQ(d.nodes[2].key, "dataset:db:b");
  EXPECT_EQ(d.nodes[3].key, "job:jobs:j2");
  EXPECT_EQ(d.nodes[4].key, "dataset:db:c");
  EXPECT_EQ(d.nodes[4].distance, 4);
  ASSERT_EQ(d.edges.size(), 4u);
  std::set<std::tuple<std::string, std::string, EdgeKind>> edges;
  for (const auto& e : d.edges) edges.emplace(e.from, e.to, e.kind);
  EXPECT_TRUE(edges.count({"dataset:db:a", "job:jobs:j1", EdgeKind::kRead}));
  EXPECT_TRUE(edges.count({"job:jobs:j1", "dataset:db:b", EdgeKind::kWrite}));
  EXPECT_TRUE(edges.count({"dataset:db:b", "job:jobs:j2", EdgeKind::kRead}));
  EXPECT_TRUE(edges.count({"job:jobs:j2", "dataset:db:c", EdgeKind::kWrite}));
  EXPECT_NE(Render(d, DiagramFormat::kSvg).find("<svg"), std::string::npos);
}

TEST_F(BuildDiagramTest, ColumnLevel) {
  Diagram d = Build({.root = s_.Field("a", "x"), .level = Level::kColumn});
  EXPECT_EQ(d.level, DiagramLevel::kColumn);
  EXPECT_EQ(d.title, "Downstream lineage of column db:a.x");
  ASSERT_EQ(d.nodes.size(), 3u);
  EXPECT_EQ(d.nodes[0].key, "datasetField:db:a:x");
  EXPECT_EQ(d.nodes[0].kind, NodeKind::kField);
  EXPECT_EQ(d.nodes[0].ns, "db");
  EXPECT_EQ(d.nodes[0].name, "a");
  EXPECT_EQ(d.nodes[0].field, "x");
  EXPECT_TRUE(d.nodes[0].root);
  ASSERT_EQ(d.edges.size(), 2u);
  for (const auto& e : d.edges) {
    EXPECT_EQ(e.kind, EdgeKind::kDerive);
    EXPECT_EQ(e.job, "j1");
    EXPECT_EQ(e.from, "datasetField:db:a:x");
    if (e.to == "datasetField:db:b:x") {
      EXPECT_TRUE(e.direct);
      EXPECT_FALSE(e.masking);
    } else {
      EXPECT_EQ(e.to, "datasetField:db:b:y");
      EXPECT_FALSE(e.direct);
      EXPECT_TRUE(e.masking);
    }
  }
  EXPECT_EQ(Render(d, DiagramFormat::kPng).substr(0, 4), "\x89PNG");
}

TEST_F(BuildDiagramTest, SubtitleSaysAsOfDepthAndDirectOnly) {
  Diagram d = Build({.root = s_.Dataset("c"),
                     .direction = Direction::kUpstream,
                     .depth = 2,
                     .as_of = Micros{1704153600000000}});
  EXPECT_EQ(d.title, "Upstream lineage of dataset db:c");
  EXPECT_EQ(d.subtitle, (std::vector<std::string>{"as of 2024-01-02T00:00:00Z", "depth 2"}));
  Diagram both = Build({.root = s_.Field("b", "x"),
                        .direction = Direction::kBoth,
                        .level = Level::kColumn,
                        .direct_only = true});
  EXPECT_EQ(both.title, "Up- and downstream lineage of column db:b.x");
  EXPECT_EQ(both.subtitle, (std::vector<std::string>{"current lineage", "DIRECT edges only"}));
}

}  // namespace
}  // namespace tributary
