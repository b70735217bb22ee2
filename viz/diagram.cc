#include "viz/diagram.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "common/text.h"

namespace tributary {

Result<DiagramFormat> ParseDiagramFormat(const std::string& text) {
  if (text == "dot") return DiagramFormat::kDot;
  if (text == "svg") return DiagramFormat::kSvg;
  if (text == "png") return DiagramFormat::kPng;
  if (text == "pdf") return DiagramFormat::kPdf;
  return Status::InvalidArgument("unknown diagram format; expected dot, svg, png or pdf", "format");
}

const char* DiagramMimeType(DiagramFormat format) {
  switch (format) {
    case DiagramFormat::kDot:
      return "text/vnd.graphviz";
    case DiagramFormat::kSvg:
      return "image/svg+xml";
    case DiagramFormat::kPng:
      return "image/png";
    case DiagramFormat::kPdf:
      return "application/pdf";
  }
  return "application/octet-stream";
}

Status AssignDomainClusters(Diagram* diagram, const GraphStore& store, const DomainMap& domains) {
  std::map<std::string, std::string> cache;  // name key -> domain
  for (auto& n : diagram->nodes) {
    std::string key =
        n.kind == NodeKind::kJob ? JobNameKey(n.ns, n.name) : DatasetNameKey(n.ns, n.name);
    auto it = cache.find(key);
    if (it == cache.end()) {
      std::string domain = DomainMap::kUnassigned;
      TRIB_ASSIGN_OR_RETURN(std::optional<NodeId> id, store.FindName(key));
      if (id) {
        TRIB_ASSIGN_OR_RETURN(std::optional<NodeRecord> rec, store.GetNodeRecord(*id));
        if (rec) domain = domains.DomainOf(*rec);
      }
      it = cache.emplace(key, domain).first;
    }
    if (it->second != DomainMap::kUnassigned) n.cluster = it->second;
  }
  return Status::Ok();
}

namespace {

// ---------------------------------------------------------------------------------------
// Building the diagram from a closure.

DiagramNode NodeOf(const GraphReader& graph, NodeId id, int distance) {
  const GraphNode& g = graph.node(id);
  DiagramNode n;
  n.kind = g.kind;
  if (g.kind == NodeKind::kField) {
    const GraphNode& d = graph.node(g.dataset);
    n.ns = graph.ns(d);
    n.name = graph.name(d);
    n.field = graph.field(g);
  } else {
    n.ns = graph.ns(g);
    n.name = graph.name(g);
  }
  n.key = MarquezNodeId(n.kind, n.ns, n.name, n.field);
  n.cluster = n.ns;
  n.distance = distance;
  n.root = distance == 0;
  n.unseen = (g.flags & kFlagUnseen) != 0;
  return n;
}

std::string RootLabel(const DiagramNode& n) {
  switch (n.kind) {
    case NodeKind::kField:
      return "column " + n.ns + ":" + n.name + "." + n.field;
    case NodeKind::kJob:
      return "job " + n.ns + ":" + n.name;
    default:
      return "dataset " + n.ns + ":" + n.name;
  }
}

}  // namespace

Diagram BuildDiagram(const GraphReader& graph, const ClosureQuery& query,
                     const ClosureResult& closure) {
  Diagram d;
  d.level = query.level == Level::kColumn ? DiagramLevel::kColumn : DiagramLevel::kDataset;
  std::unordered_map<NodeId, size_t> index;
  for (const ClosureNode& c : closure.nodes) {
    if (index.count(c.id)) continue;
    index.emplace(c.id, d.nodes.size());
    d.nodes.push_back(NodeOf(graph, c.id, c.distance));
  }
  // An edge whose far end lies outside the closure brings that end in as a greyed neighbour.
  auto key_of = [&](NodeId id) -> const std::string& {
    auto it = index.find(id);
    if (it == index.end()) {
      it = index.emplace(id, d.nodes.size()).first;
      d.nodes.push_back(NodeOf(graph, id, -1));
    }
    return d.nodes[it->second].key;
  };
  for (uint32_t ei : closure.edges) {
    const GraphEdge& e = graph.edge(ei);
    DiagramEdge de;
    de.from = key_of(e.from);
    de.to = key_of(e.to);
    de.kind = e.kind;
    if (e.kind == EdgeKind::kDerive) {
      if (e.job != kNoNode) de.job = graph.name(graph.node(e.job));
      de.direct = false;
      for (const Transform& t : graph.transforms(e.transforms)) {
        if (t.type == "DIRECT") de.direct = true;
        if (t.masking) de.masking = true;
      }
    }
    d.edges.push_back(std::move(de));
  }

  const char* direction = query.direction == Direction::kUpstream     ? "Upstream"
                          : query.direction == Direction::kDownstream ? "Downstream"
                                                                      : "Up- and downstream";
  d.title = std::string(direction) + " lineage";
  if (!d.nodes.empty()) d.title += " of " + RootLabel(d.nodes.front());
  d.subtitle.push_back(query.as_of ? "as of " + FormatTime(*query.as_of) : "current lineage");
  if (query.depth >= 0) d.subtitle.push_back("depth " + std::to_string(query.depth));
  if (query.direct_only) d.subtitle.push_back("DIRECT edges only");
  return d;
}

namespace {

// ---------------------------------------------------------------------------------------
// Text. Every name that reaches Graphviz goes through here: labels are HTML-like, with the
// markup characters escaped, and Graphviz's own backslash escapes are neutralised too.

constexpr size_t kMaxDisplayChars = 80;
constexpr size_t kMaxTitleChars = 200;  // a title holds a namespace and a name

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// Valid UTF-8: invalid bytes become U+FFFD and control characters a space (Graphviz
// rejects the former and would break lines or fail on the latter).
std::string Clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8Length(s, i);
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      n = 1;
    } else if (n == 1 && (c < 0x20 || c == 0x7F)) {
      out += ' ';
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

// Long names keep their start and end around an ellipsis; the tooltip has the whole name.
// Counts code points, so a cut never splits a character.
std::string Shorten(std::string_view raw, size_t max_chars) {
  std::string s = Clean(raw);
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (starts.size() <= max_chars) return s;
  size_t head = (max_chars - 1) / 2;
  size_t tail = max_chars - 1 - head;
  return s.substr(0, starts[head]) + "\xE2\x80\xA6" + s.substr(starts[starts.size() - tail]);
}

// Graphviz expands `\N`, `\G`, `\E`, `\T`, `\H` and `\L`, with `\\` standing for `\`, in the
// text of HTML-like labels (once) and in tooltips (twice, in 2.42: a first pass also turns
// `\n` into a line break). Each backslash of a name is repeated to survive those passes.
std::string RepeatBackslashes(std::string_view s, int times) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    out.append(c == '\\' ? times : 1, c);
  }
  return out;
}

// Text to show inside an HTML-like label.
std::string Text(std::string_view raw, size_t max_chars = kMaxDisplayChars) {
  return HtmlEscape(RepeatBackslashes(Shorten(raw, max_chars), 2));
}

// A tooltip: the whole text, never shortened.
std::string Tooltip(std::string_view raw) { return RepeatBackslashes(Clean(raw), 4); }

// Joins tooltips into a multi-line one.
constexpr const char* kTooltipNewline = "\\n";

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// ---------------------------------------------------------------------------------------
// Style.

constexpr const char* kFont = "DejaVu Sans";
constexpr const char* kInk = "#1f2933";
constexpr const char* kMutedInk = "#52606d";
constexpr const char* kDatasetFill = "#e4eefa";
constexpr const char* kDatasetLine = "#3e6fa8";
constexpr const char* kJobFill = "#ece6f6";
constexpr const char* kJobLine = "#6b52a3";
constexpr const char* kClusterFill = "#f7f9fb";
constexpr const char* kClusterLine = "#c3ccd6";
constexpr const char* kEdgeColour = "#4f5d70";
constexpr const char* kIndirectColour = "#8795a8";
constexpr const char* kMaskColour = "#c62828";
constexpr const char* kRootLine = "#c62828";
constexpr const char* kRootFill = "#ffe3c2";
constexpr const char* kGreyFill = "#f3f3f3";
constexpr const char* kGreyLine = "#b4b4b4";
constexpr const char* kGreyInk = "#9a9a9a";
// Sequential palette by distance from the root (ColorBrewer Oranges): farther is lighter.
constexpr const char* kDistanceFill[] = {"#fd8d3c", "#fdae6b", "#fdd0a2", "#fee6ce", "#fff5eb"};
constexpr int kDistanceSteps = 5;

// ---------------------------------------------------------------------------------------
// What is drawn: the diagram after merging parallel edges and collapsing.

struct ViewNode {
  DiagramNode node;
  size_t columns = 0;   // dataset collapsed from columns: how many
  size_t datasets = 0;  // cluster: members
  size_t jobs = 0;
};

struct ViewEdge {
  size_t from = 0;
  size_t to = 0;
  EdgeKind kind = EdgeKind::kRead;
  std::vector<std::string> jobs;  // distinct, in order of appearance
  bool direct = false;            // some merged edge is direct
  bool masking = false;           // some merged edge masks
  size_t count = 0;               // diagram edges merged into this one
};

struct View {
  DiagramLevel level = DiagramLevel::kDataset;
  bool highlight = false;
  std::vector<ViewNode> nodes;
  std::vector<ViewEdge> edges;
  size_t collapsed_columns = 0;   // > 0: column level drawn at dataset level
  size_t collapsed_datasets = 0;  // > 0: drawn by cluster
  size_t collapsed_jobs = 0;
};

// Merges edges with the same ends (and kind, unless `any_kind`).
class EdgeMerger {
 public:
  EdgeMerger(std::vector<ViewEdge>* out, bool any_kind) : out_(out), any_kind_(any_kind) {}

  void Add(size_t from, size_t to, EdgeKind kind, const std::vector<std::string>& jobs, bool direct,
           bool masking, size_t count) {
    auto key = std::make_tuple(from, to, any_kind_ ? EdgeKind::kRead : kind);
    auto [it, inserted] = index_.emplace(key, out_->size());
    if (inserted) out_->push_back({from, to, kind, {}, false, false, 0});
    ViewEdge& e = (*out_)[it->second];
    for (const auto& j : jobs) {
      if (!j.empty() && std::find(e.jobs.begin(), e.jobs.end(), j) == e.jobs.end()) {
        e.jobs.push_back(j);
      }
    }
    e.direct |= direct;
    e.masking |= masking;
    e.count += count;
  }

 private:
  std::vector<ViewEdge>* out_;
  bool any_kind_;
  std::map<std::tuple<size_t, size_t, EdgeKind>, size_t> index_;
};

// A node merged into a group keeps the shortest distance and the root flag.
void MergeInto(DiagramNode& group, const DiagramNode& n) {
  if (n.distance >= 0 && (group.distance < 0 || n.distance < group.distance)) {
    group.distance = n.distance;
  }
  group.root |= n.root;
}

View MakeView(const Diagram& d) {
  View v;
  v.level = d.level;
  v.highlight = d.highlight;
  std::unordered_map<std::string, size_t> index;
  for (const DiagramNode& n : d.nodes) {
    if (!index.emplace(n.key, v.nodes.size()).second) continue;  // first one wins
    v.nodes.push_back({n});
  }
  EdgeMerger merger(&v.edges, /*any_kind=*/false);
  for (const DiagramEdge& e : d.edges) {
    auto from = index.find(e.from);
    auto to = index.find(e.to);
    if (from == index.end() || to == index.end()) continue;  // dangling: nothing to draw
    merger.Add(from->second, to->second, e.kind, {e.job}, e.direct, e.masking, 1);
  }
  return v;
}

size_t CountKind(const View& v, NodeKind kind) {
  return std::count_if(v.nodes.begin(), v.nodes.end(),
                       [&](const ViewNode& n) { return n.node.kind == kind; });
}

// Column level to dataset level: fields join their dataset; column edges between two
// datasets become one edge, labelled with the jobs; edges inside a dataset vanish.
View CollapseColumns(const View& in) {
  View out;
  out.level = DiagramLevel::kDataset;
  out.highlight = in.highlight;
  out.collapsed_columns = CountKind(in, NodeKind::kField);
  std::map<std::pair<std::string, std::string>, size_t> datasets;
  std::vector<size_t> target(in.nodes.size());
  for (size_t i = 0; i < in.nodes.size(); ++i) {
    const DiagramNode& n = in.nodes[i].node;
    if (n.kind != NodeKind::kField && n.kind != NodeKind::kDataset) {
      target[i] = out.nodes.size();
      out.nodes.push_back(in.nodes[i]);
      continue;
    }
    auto [it, inserted] = datasets.emplace(std::make_pair(n.ns, n.name), out.nodes.size());
    target[i] = it->second;
    if (inserted) {
      ViewNode g;
      g.node = n;
      g.node.kind = NodeKind::kDataset;
      g.node.field.clear();
      g.node.key = MarquezNodeId(NodeKind::kDataset, n.ns, n.name);
      g.node.unseen = n.unseen && n.kind == NodeKind::kDataset;
      out.nodes.push_back(std::move(g));
    } else {
      MergeInto(out.nodes[it->second].node, n);
      if (n.kind == NodeKind::kDataset) out.nodes[it->second].node.unseen = n.unseen;
    }
    if (n.kind == NodeKind::kField) ++out.nodes[it->second].columns;
  }
  EdgeMerger merger(&out.edges, /*any_kind=*/false);
  for (const ViewEdge& e : in.edges) {
    size_t from = target[e.from], to = target[e.to];
    if (from == to) continue;
    merger.Add(from, to, e.kind, e.jobs, e.direct, e.masking, e.count);
  }
  return out;
}

// Where a job belongs: the cluster of the datasets it reads and writes when they all share
// one, "" when they span clusters, nothing when it has none.
std::vector<std::optional<std::string>> JobHomes(const View& v) {
  std::vector<std::optional<std::string>> home(v.nodes.size());
  auto note = [&](size_t job, size_t other) {
    if (v.nodes[job].node.kind != NodeKind::kJob) return;
    if (v.nodes[other].node.kind == NodeKind::kJob) return;
    const std::string& c = v.nodes[other].node.cluster;
    if (!home[job]) {
      home[job] = c;
    } else if (*home[job] != c) {
      home[job] = std::string();
    }
  };
  for (const ViewEdge& e : v.edges) {
    note(e.from, e.to);
    note(e.to, e.from);
  }
  return home;
}

// One node per cluster. A job whose datasets share a cluster joins it; a job between
// clusters becomes edges from each cluster it reads to each it writes (the root stays a
// node). Edges are counted: column edges, and jobs for the edges that stand for jobs.
// Edges inside a cluster are dropped.
View CollapseClusters(const View& in) {
  View out;
  out.level = DiagramLevel::kCluster;
  out.highlight = in.highlight;
  out.collapsed_columns = in.collapsed_columns;
  auto home = JobHomes(in);
  std::map<std::string, size_t> clusters;
  constexpr size_t kContracted = SIZE_MAX;
  std::vector<size_t> target(in.nodes.size(), kContracted);
  for (size_t i = 0; i < in.nodes.size(); ++i) {
    const ViewNode& n = in.nodes[i];
    bool job = n.node.kind == NodeKind::kJob;
    if (job) ++out.collapsed_jobs;
    if (!job) ++out.collapsed_datasets;
    std::string cluster = n.node.cluster;
    if (job && home[i] && !home[i]->empty()) {
      cluster = *home[i];
    } else if (job && !n.node.root) {
      continue;  // drawn as the edges it carries
    }
    auto [it, inserted] = clusters.emplace(cluster, out.nodes.size());
    target[i] = it->second;
    if (inserted) {
      ViewNode g;
      g.node.kind = NodeKind::kDataset;
      g.node.name = cluster;
      g.node.cluster = cluster;
      g.node.key = "cluster:" + cluster;
      g.node.distance = n.node.distance;
      g.node.root = n.node.root;
      out.nodes.push_back(std::move(g));
    } else {
      MergeInto(out.nodes[it->second].node, n.node);
    }
    ViewNode& g = out.nodes[it->second];
    ++(job ? g.jobs : g.datasets);
    g.columns += n.columns;
  }
  EdgeMerger merger(&out.edges, /*any_kind=*/true);
  std::vector<std::vector<size_t>> job_in(in.nodes.size()), job_out(in.nodes.size());
  for (const ViewEdge& e : in.edges) {
    size_t from = target[e.from], to = target[e.to];
    if (from == kContracted) {
      job_out[e.from].push_back(to);
    } else if (to == kContracted) {
      job_in[e.to].push_back(from);
    } else if (from != to) {
      merger.Add(from, to, e.kind, {}, e.direct, e.masking, e.count);
    }
  }
  for (size_t j = 0; j < in.nodes.size(); ++j) {
    if (target[j] != kContracted) continue;
    std::set<std::pair<size_t, size_t>> pairs;
    for (size_t a : job_in[j]) {
      for (size_t b : job_out[j]) {
        if (a != b && pairs.emplace(a, b).second) {
          merger.Add(a, b, EdgeKind::kWrite, {in.nodes[j].node.name}, true, false, 1);
        }
      }
    }
  }
  return out;
}

View Collapse(const Diagram& d, const DiagramOptions& options) {
  View v = MakeView(d);
  if (v.level == DiagramLevel::kColumn &&
      CountKind(v, NodeKind::kField) > options.max_column_nodes) {
    v = CollapseColumns(v);
  }
  if (v.level == DiagramLevel::kCluster ||
      (v.level == DiagramLevel::kDataset && v.nodes.size() > options.max_dataset_nodes)) {
    v = CollapseClusters(v);
  }
  return v;
}

// Palette step: column edges count one step each; at dataset and cluster level a dataset
// one job away is one step (distance 2).
int Step(const View& v, int distance) {
  int step = v.level == DiagramLevel::kColumn ? distance : (distance + 1) / 2;
  return std::min(step, kDistanceSteps - 1);
}

// ---------------------------------------------------------------------------------------
// The graph handed to Graphviz, in our own types. Written out as DOT text for the dot
// format, built with cgraph for the others: the same attributes in the same order.

struct DotAttr {
  std::string name;
  std::string value;
  bool html = false;  // an HTML-like label: `<...>` in DOT, agstrdup_html in cgraph
};
using DotAttrs = std::vector<DotAttr>;

struct DotCluster {
  std::string id;
  DotAttrs attrs;
};

struct DotNode {
  std::string id;
  int cluster = -1;  // index into DotGraph::clusters, or -1
  DotAttrs attrs;
};

struct DotEdge {
  size_t tail = 0;
  size_t head = 0;
  DotAttrs attrs;
};

struct DotGraph {
  DotAttrs graph;
  DotAttrs node_defaults;
  DotAttrs edge_defaults;
  std::vector<DotCluster> clusters;
  std::vector<DotNode> nodes;
  std::vector<DotEdge> edges;
};

DotAttr Plain(std::string name, std::string value) { return {std::move(name), std::move(value)}; }
DotAttr Html(std::string name, std::string value) {
  return {std::move(name), std::move(value), true};
}

// A DOT identifier or quoted string. DOT's scanner turns `\"` into `"` and keeps every other
// backslash; our plain values never end in one or put one before a quote (a name's
// backslashes are repeated, see Tooltip), so escaping the quotes is enough.
std::string DotQuote(const std::string& s) {
  bool bare = !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0]));
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') bare = false;
  }
  if (bare) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string DotAttrList(const DotAttrs& attrs) {
  std::string out;
  for (const DotAttr& a : attrs) {
    if (!out.empty()) out += ", ";
    out += a.name + "=" + (a.html ? "<" + a.value + ">" : DotQuote(a.value));
  }
  return out;
}

std::string WriteDot(const DotGraph& g) {
  std::string out = "digraph lineage {\n";
  out += "  graph [" + DotAttrList(g.graph) + "];\n";
  out += "  node [" + DotAttrList(g.node_defaults) + "];\n";
  out += "  edge [" + DotAttrList(g.edge_defaults) + "];\n";
  // Nodes first, in order (dot's initial ordering follows it), then the clusters by id.
  for (const DotNode& n : g.nodes) out += "  " + n.id + " [" + DotAttrList(n.attrs) + "];\n";
  for (size_t c = 0; c < g.clusters.size(); ++c) {
    out += "  subgraph " + g.clusters[c].id + " {\n";
    out += "    graph [" + DotAttrList(g.clusters[c].attrs) + "];\n";
    for (const DotNode& n : g.nodes) {
      if (n.cluster == static_cast<int>(c)) out += "    " + n.id + ";\n";
    }
    out += "  }\n";
  }
  for (const DotEdge& e : g.edges) {
    out += "  " + g.nodes[e.tail].id + " -> " + g.nodes[e.head].id;
    out += e.attrs.empty() ? ";\n" : " [" + DotAttrList(e.attrs) + "];\n";
  }
  out += "}\n";
  return out;
}

// ---------------------------------------------------------------------------------------
// Drawing a view.

class DotBuilder {
 public:
  DotBuilder(const View& view, const Diagram& diagram, const DiagramOptions& options)
      : v_(view), d_(diagram), options_(options) {}

  DotGraph Build() {
    boxes_ = v_.level != DiagramLevel::kCluster && DrawnNodes() <= kMaxBoxedNodes;
    GraphAttributes();
    // The legend goes first: as an unconnected node first in order, dot puts it at the
    // bottom of the first rank, below the start of the flow, where it does not push the
    // drawing down. Its content depends on what is drawn, so it is filled in at the end.
    size_t legend = AddNode("legend", -1, {});
    switch (v_.level) {
      case DiagramLevel::kColumn:
        ColumnLevel();
        break;
      case DiagramLevel::kDataset:
        DatasetLevel();
        break;
      case DiagramLevel::kCluster:
        ClusterLevel();
        break;
    }
    g_.nodes[legend].attrs = Legend();
    LayoutBudget();
    return std::move(g_);
  }

 private:
  void GraphAttributes() {
    std::string title =
        "<FONT POINT-SIZE=\"16\"><B>" + Text(d_.title, kMaxTitleChars) + "</B></FONT>";
    for (const auto& line : d_.subtitle) {
      title += "<BR ALIGN=\"LEFT\"/><FONT POINT-SIZE=\"11\" COLOR=\"" + std::string(kMutedInk) +
               "\">" + Text(line, kMaxTitleChars) + "</FONT>";
    }
    title += "<BR ALIGN=\"LEFT\"/>";
    g_.graph = {Html("label", title),
                Plain("labelloc", "t"),
                Plain("labeljust", "l"),
                Plain("rankdir", "LR"),
                Plain("charset", "UTF-8"),
                Plain("fontname", kFont),
                Plain("fontcolor", kInk),
                Plain("bgcolor", "white"),
                Plain("pad", "0.3"),
                Plain("nodesep", v_.level == DiagramLevel::kColumn ? "0.25" : "0.3"),
                Plain("ranksep", v_.level == DiagramLevel::kColumn ? "1.1" : "0.5"),
                Plain("newrank", "true"),
                Plain("outputorder", "edgesfirst"),
                Plain("tooltip", Tooltip(d_.title))};
    g_.node_defaults = {Plain("fontname", kFont), Plain("fontsize", "11"), Plain("fontcolor", kInk),
                        Plain("penwidth", "1.2")};
    g_.edge_defaults = {Plain("fontname", kFont),      Plain("fontsize", "9"),
                        Plain("fontcolor", kMutedInk), Plain("color", kEdgeColour),
                        Plain("arrowsize", "0.7"),     Plain("penwidth", "1.2")};
  }

  // Nodes (tables at column level) the drawing will have.
  size_t DrawnNodes() const {
    if (v_.level != DiagramLevel::kColumn) return v_.nodes.size();
    std::set<std::pair<std::string, std::string>> tables;
    size_t others = 0;
    for (const ViewNode& n : v_.nodes) {
      if (n.node.kind == NodeKind::kField || n.node.kind == NodeKind::kDataset) {
        tables.emplace(n.node.ns, n.node.name);
      } else {
        ++others;
      }
    }
    return tables.size() + others;
  }

  // The cluster subgraph for a cluster name, made on first use.
  int ClusterOf(const std::string& name) {
    if (name.empty()) return -1;
    if (!boxes_) {
      unboxed_clusters_ = true;
      return -1;
    }
    auto [it, inserted] = clusters_.emplace(name, static_cast<int>(g_.clusters.size()));
    if (inserted) {
      g_.clusters.push_back(
          {"cluster_" + std::to_string(g_.clusters.size()),
           {Html("label", "<B>" + Text(name) + "</B>"), Plain("tooltip", Tooltip(name)),
            Plain("style", "rounded,filled"), Plain("fillcolor", kClusterFill),
            Plain("color", kClusterLine), Plain("fontsize", "11"), Plain("fontcolor", kMutedInk),
            Plain("labeljust", "l"), Plain("margin", "12")}});
    }
    return it->second;
  }

  size_t AddNode(std::string id, int cluster, DotAttrs attrs) {
    g_.nodes.push_back({std::move(id), cluster, std::move(attrs)});
    return g_.nodes.size() - 1;
  }

  // Fill, line colour, pen width and font colour of a node by its role.
  struct Look {
    std::string fill, line, ink;
    std::string penwidth = "1.2";
    bool bold = false;
  };

  Look LookOf(const DiagramNode& n, const char* fill, const char* line) const {
    Look l{fill, line, kInk};
    if (n.distance < 0) return {kGreyFill, kGreyLine, kGreyInk};
    if (v_.highlight) l.fill = kDistanceFill[Step(v_, n.distance)];
    if (n.root) {
      if (!v_.highlight) l.fill = kRootFill;
      l.line = kRootLine;
      l.penwidth = "2.5";
      l.bold = true;
    }
    return l;
  }

  static std::string Bold(const std::string& html, bool bold) {
    return bold ? "<B>" + html + "</B>" : html;
  }

  std::string Small(const std::string& html, const std::string& colour) const {
    return "<FONT POINT-SIZE=\"9\" COLOR=\"" + colour + "\">" + html + "</FONT>";
  }

  DotAttrs NodeAttrs(const ViewNode& vn, const std::string& label, const Look& look,
                     const std::string& tooltip) {
    const DiagramNode& n = vn.node;
    bool job = n.kind == NodeKind::kJob;
    bool cluster = v_.level == DiagramLevel::kCluster;
    std::string style = job || cluster ? "filled" : "rounded,filled";
    if (n.unseen) {
      style += ",dashed";
      any_unseen_ = true;
    }
    if (n.distance < 0) any_outside_ = true;
    return {Html("label", label),
            Plain("shape", cluster ? "box3d"
                           : job   ? "cds"
                                   : "box"),
            Plain("style", style),
            Plain("fillcolor", look.fill),
            Plain("color", look.line),
            Plain("penwidth", look.penwidth),
            Plain("fontcolor", look.ink),
            Plain("margin", job ? "0.12,0.04" : "0.14,0.06"),
            Plain("tooltip", Tooltip(tooltip))};
  }

  // A dataset or job box: name, and the namespace when the cluster does not say it.
  size_t DatasetOrJobNode(size_t i) {
    const ViewNode& vn = v_.nodes[i];
    const DiagramNode& n = vn.node;
    bool job = n.kind == NodeKind::kJob;
    if (job) any_job_ = true;
    Look look = job ? LookOf(n, kJobFill, kJobLine) : LookOf(n, kDatasetFill, kDatasetLine);
    std::string label = Bold(Text(n.name), look.bold);
    std::string muted = n.distance < 0 ? kGreyInk : kMutedInk;
    if (!job && (!boxes_ || n.ns != n.cluster)) label += "<BR/>" + Small(Text(n.ns), muted);
    if (vn.columns > 0) {
      label +=
          "<BR/>" +
          Small(std::to_string(vn.columns) + (vn.columns == 1 ? " column" : " columns"), muted);
    }
    return AddNode("n" + std::to_string(i), ClusterOf(job ? JobCluster(i) : n.cluster),
                   NodeAttrs(vn, label, look, n.key));
  }

  // A job is drawn inside the cluster of the datasets it reads and writes when they all
  // share one, and between clusters otherwise. (A cluster of the jobs' own namespace
  // would stretch across the whole diagram and pull every job out of the flow.)
  std::string JobCluster(size_t job) {
    if (job_homes_.empty()) job_homes_ = JobHomes(v_);
    return job_homes_[job].value_or(std::string());
  }

  void DatasetLevel() {
    std::vector<size_t> dot(v_.nodes.size());
    for (size_t i = 0; i < v_.nodes.size(); ++i) dot[i] = DatasetOrJobNode(i);
    for (const ViewEdge& e : v_.edges) {
      DotAttrs attrs;
      if (e.kind == EdgeKind::kDerive) {
        // Column edges drawn between datasets (collapsed): the jobs that derive them.
        any_derive_ = true;
        std::string label = Text(JobList(e.jobs, 2));
        any_job_label_ |= !e.jobs.empty();
        if (e.count > 1) {
          label += (label.empty() ? "" : "<BR/>") + std::to_string(e.count) + " column edges";
        }
        if (!label.empty()) attrs.push_back(Html("label", label));
        DerivedStyle(e, &attrs);
        attrs.push_back(Plain("tooltip", Tooltip(EdgeTooltip(e))));
      } else {
        attrs.push_back(Plain("tooltip", Tooltip(v_.nodes[e.from].node.key + " \xE2\x86\x92 " +
                                                 v_.nodes[e.to].node.key)));
      }
      AddEdge(dot[e.from], dot[e.to], std::move(attrs));
    }
  }

  // "a, b +3 more".
  static std::string JobList(const std::vector<std::string>& jobs, size_t shown) {
    std::string out;
    for (size_t i = 0; i < jobs.size() && i < shown; ++i) out += (i ? ", " : "") + jobs[i];
    if (jobs.size() > shown) out += " +" + std::to_string(jobs.size() - shown) + " more";
    return out;
  }

  std::string EdgeTooltip(const ViewEdge& e) const {
    const DiagramNode& from = v_.nodes[e.from].node;
    const DiagramNode& to = v_.nodes[e.to].node;
    std::string t = from.key + " \xE2\x86\x92 " + to.key;
    if (!e.jobs.empty()) t += " via " + JobList(e.jobs, 10);
    t += e.direct ? " (DIRECT" : " (INDIRECT";
    t += e.masking ? ", masking)" : ")";
    if (e.count > 1) t += ", " + std::to_string(e.count) + " edges";
    return t;
  }

  void DerivedStyle(const ViewEdge& e, DotAttrs* attrs) {
    if (!e.direct) {
      any_indirect_ = true;
      attrs->push_back(Plain("style", "dashed"));
    } else {
      any_direct_ = true;
    }
    if (e.masking) {
      any_masking_ = true;
      attrs->push_back(Plain("color", kMaskColour));
      attrs->push_back(Plain("arrowhead", "tee"));
    } else if (!e.direct) {
      attrs->push_back(Plain("color", kIndirectColour));
    }
  }

  void AddEdge(size_t tail, size_t head, DotAttrs attrs) {
    g_.edges.push_back({tail, head, std::move(attrs)});
  }

  // Column level: one table per dataset, a row (and port) per column in the diagram.
  void ColumnLevel() {
    std::map<std::pair<std::string, std::string>, size_t> tables;  // (ns, name) -> table
    struct Table {
      size_t first;  // view node that introduced it
      std::vector<size_t> rows;
      int dataset = -1;  // view node of the dataset itself, if in the diagram
    };
    std::vector<Table> table_list;
    std::vector<size_t> table_of(v_.nodes.size(), SIZE_MAX);
    std::vector<size_t> dot(v_.nodes.size(), SIZE_MAX);
    std::vector<size_t> others;
    for (size_t i = 0; i < v_.nodes.size(); ++i) {
      const DiagramNode& n = v_.nodes[i].node;
      if (n.kind != NodeKind::kField && n.kind != NodeKind::kDataset) {
        others.push_back(i);
        continue;
      }
      auto [it, inserted] = tables.emplace(std::make_pair(n.ns, n.name), table_list.size());
      if (inserted) table_list.push_back({i, {}, -1});
      Table& t = table_list[it->second];
      if (n.kind == NodeKind::kField) {
        t.rows.push_back(i);
      } else {
        t.dataset = static_cast<int>(i);
      }
      table_of[i] = it->second;
    }
    // Nodes in the order their first member appears, tables and other nodes interleaved.
    std::vector<size_t> table_dot(table_list.size());
    size_t next_other = 0;
    for (size_t k = 0; k < table_list.size(); ++k) {
      while (next_other < others.size() && others[next_other] < table_list[k].first) {
        size_t i = others[next_other++];
        dot[i] = DatasetOrJobNode(i);
      }
      table_dot[k] = TableNode(k, table_list[k].first, table_list[k].rows, table_list[k].dataset);
    }
    while (next_other < others.size()) {
      size_t i = others[next_other++];
      dot[i] = DatasetOrJobNode(i);
    }
    for (size_t i = 0; i < v_.nodes.size(); ++i) {
      if (table_of[i] != SIZE_MAX) dot[i] = table_dot[table_of[i]];
    }

    // The job is named once per (table, table, job); the tooltip of every edge names it.
    // Edge labels become nodes of their own in dot's layout, and with many edges they crowd
    // it into loops, so a larger diagram leaves them to the tooltips (and masking to the
    // colour and arrowhead).
    std::set<std::tuple<size_t, size_t, std::string>> labelled;
    bool labels = v_.edges.size() <= kMaxLabelledEdges;
    for (const ViewEdge& e : v_.edges) {
      DotAttrs attrs;
      const DiagramNode& from = v_.nodes[e.from].node;
      const DiagramNode& to = v_.nodes[e.to].node;
      if (from.kind == NodeKind::kField) {
        attrs.push_back(Plain("tailport", "p" + std::to_string(e.from) + ":e"));
      }
      if (to.kind == NodeKind::kField) {
        attrs.push_back(Plain("headport", "p" + std::to_string(e.to) + ":w"));
      }
      std::string label;
      if (labels) {
        std::vector<std::string> fresh;
        for (const auto& j : e.jobs) {
          if (labelled.emplace(dot[e.from], dot[e.to], j).second) fresh.push_back(j);
        }
        label = Text(JobList(fresh, 2));
        any_job_label_ |= !fresh.empty();
      }
      if (labels && e.masking) {
        label += (label.empty() ? "" : "<BR/>") + std::string("<FONT COLOR=\"") + kMaskColour +
                 "\">masked</FONT>";
      }
      if (!label.empty()) {
        attrs.push_back(Html("label", label));
        // Many edges run in parallel between two tables: a line ties the label to its edge.
        attrs.push_back(Plain("decorate", "true"));
      }
      if (e.kind == EdgeKind::kDerive) {
        any_derive_ = true;
        DerivedStyle(e, &attrs);
      }
      attrs.push_back(Plain("tooltip", Tooltip(EdgeTooltip(e))));
      AddEdge(dot[e.from], dot[e.to], std::move(attrs));
    }
  }

  size_t TableNode(size_t k, size_t first, const std::vector<size_t>& rows, int dataset) {
    const DiagramNode& head = v_.nodes[dataset >= 0 ? static_cast<size_t>(dataset) : first].node;
    bool root = dataset >= 0 && v_.nodes[dataset].node.root;
    bool outside = true;
    for (size_t r : rows) outside &= v_.nodes[r].node.distance < 0;
    if (dataset >= 0) outside = v_.nodes[dataset].node.distance < 0;
    if (outside) any_outside_ = true;
    const char* line = outside ? kGreyLine : root ? kRootLine : kDatasetLine;
    std::string muted = outside ? kGreyInk : kMutedInk;
    std::string header_ink = outside ? kGreyInk : kInk;

    // Cell tooltips need an HREF in Graphviz; the node's tooltip names the dataset and its
    // columns in full instead.
    std::string tooltip = Tooltip(MarquezNodeId(NodeKind::kDataset, head.ns, head.name));
    for (size_t i = 0; i < rows.size() && i < kMaxTooltipLines; ++i) {
      tooltip += kTooltipNewline + Tooltip(v_.nodes[rows[i]].node.field);
    }
    if (rows.size() > kMaxTooltipLines) {
      tooltip += kTooltipNewline + std::to_string(rows.size() - kMaxTooltipLines) + " more";
    }
    // Square corners: a filled last row would show past rounded ones.
    std::string t = "<TABLE BORDER=\"" + std::string(root ? "2" : "1") +
                    "\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"5\" COLOR=\"" + line +
                    "\" BGCOLOR=\"white\">";
    t += "<TR><TD BGCOLOR=\"" + std::string(outside ? kGreyFill : kDatasetFill) +
         "\" ALIGN=\"LEFT\"><FONT COLOR=\"" + header_ink + "\"><B>" + Text(head.name) +
         "</B></FONT>";
    if (!boxes_ || head.ns != head.cluster) {
      t += "<BR ALIGN=\"LEFT\"/>" + Small(Text(head.ns), muted);
    }
    t += "</TD></TR>";
    for (size_t r : rows) {
      const DiagramNode& f = v_.nodes[r].node;
      Look look = LookOf(f, "white", kDatasetLine);
      if (f.root) any_root_column_ = true;
      t += "<HR/><TR><TD PORT=\"p" + std::to_string(r) + "\" ALIGN=\"LEFT\" BGCOLOR=\"" +
           look.fill + "\"><FONT COLOR=\"" + look.ink + "\">" + Bold(Text(f.field), look.bold) +
           (f.unseen ? " <I>(only referenced)</I>" : "") + "</FONT></TD></TR>";
    }
    if (rows.empty()) {
      t += "<HR/><TR><TD ALIGN=\"LEFT\">" + Small("no columns in this lineage", muted) +
           "</TD></TR>";
    }
    t += "</TABLE>";
    return AddNode("t" + std::to_string(k), ClusterOf(head.cluster),
                   {Html("label", t), Plain("shape", "plain"), Plain("tooltip", tooltip)});
  }

  void ClusterLevel() {
    std::vector<size_t> dot(v_.nodes.size());
    for (size_t i = 0; i < v_.nodes.size(); ++i) {
      const ViewNode& vn = v_.nodes[i];
      Look look = LookOf(vn.node, kDatasetFill, kDatasetLine);
      std::string muted = vn.node.distance < 0 ? kGreyInk : kMutedInk;
      std::string counts =
          std::to_string(vn.datasets) + (vn.datasets == 1 ? " dataset" : " datasets");
      if (vn.jobs > 0) counts += ", " + std::to_string(vn.jobs) + (vn.jobs == 1 ? " job" : " jobs");
      if (vn.columns > 0) counts += ", " + std::to_string(vn.columns) + " columns";
      std::string label = Bold(Text(vn.node.name.empty() ? "(no cluster)" : vn.node.name), true) +
                          "<BR/>" + Small(counts, muted);
      dot[i] = AddNode("c" + std::to_string(i), -1,
                       NodeAttrs(vn, label, look, vn.node.name + ": " + counts));
    }
    for (const ViewEdge& e : v_.edges) {
      // Wider for more edges, gently: a 1000-edge bundle should not hide its neighbours.
      double width = 1.2 + std::min(2.3, 1.2 * std::log10(static_cast<double>(e.count)));
      AddEdge(dot[e.from], dot[e.to],
              {Html("label", std::to_string(e.count)), Plain("penwidth", Fixed(width)),
               Plain("arrowsize", "0.6"), Plain("tooltip", Tooltip(ClusterEdgeTooltip(e)))});
    }
  }

  std::string ClusterEdgeTooltip(const ViewEdge& e) const {
    std::string t = v_.nodes[e.from].node.name + " \xE2\x86\x92 " + v_.nodes[e.to].node.name +
                    ": " + std::to_string(e.count);
    t += e.jobs.empty() ? " edges" : " via " + JobList(e.jobs, 10);
    return t;
  }

  // The legend: a table explaining what is drawn.
  DotAttrs Legend() {
    std::string rows;
    auto row = [&](const std::string& sample, const std::string& text) {
      rows += "<TR>" + sample + "<TD ALIGN=\"LEFT\">" + text + "</TD></TR>";
    };
    auto swatch = [](const std::string& fill, const std::string& line, int border = 1,
                     const std::string& style = "", const std::string& content = "") {
      return "<TD BGCOLOR=\"" + fill + "\" COLOR=\"" + line + "\" BORDER=\"" +
             std::to_string(border) + "\"" + (style.empty() ? "" : " STYLE=\"" + style + "\"") +
             " WIDTH=\"28\" HEIGHT=\"14\">" + content + "</TD>";
    };
    auto arrow = [](const char* colour, const char* glyphs) {
      return "<TD><FONT COLOR=\"" + std::string(colour) + "\">" + glyphs + "</FONT></TD>";
    };
    const char* solid = "\xE2\x94\x81\xE2\x94\x81\xE2\x94\x81\xE2\x96\xB6";   // ━━━▶
    const char* dashed = "\xE2\x95\x8D\xE2\x95\x8D\xE2\x95\x8D\xE2\x96\xB6";  // ╍╍╍▶
    const char* tee = "\xE2\x94\x81\xE2\x94\x81\xE2\x94\x81\xE2\x94\xAB";     // ━━━┫
    // With highlighting the fill says the distance, so kinds are told by their outline.
    std::string dataset_fill = v_.highlight ? "white" : kDatasetFill;
    std::string job_fill = v_.highlight ? "white" : kJobFill;

    switch (v_.level) {
      case DiagramLevel::kColumn:
        row(swatch(dataset_fill, kDatasetLine), "dataset, with its columns in this lineage");
        if (any_root_column_ && !v_.highlight) {
          row(swatch(kRootFill, kRootLine, 2), "root column");
        }
        break;
      case DiagramLevel::kDataset:
        row(swatch(dataset_fill, kDatasetLine), "dataset");
        if (any_job_) row(swatch(job_fill, kJobLine), "job");
        if (!v_.highlight) row(swatch(kRootFill, kRootLine, 2), "root");
        if (!any_derive_) row(arrow(kEdgeColour, solid), "data flow (read, write)");
        break;
      case DiagramLevel::kCluster:
        row(swatch(dataset_fill, kDatasetLine), "cluster of datasets and jobs");
        row(arrow(kEdgeColour, solid), "data flow between clusters: jobs or column edges");
        break;
    }
    if (any_derive_) {
      bool all = v_.level == DiagramLevel::kColumn;
      if (any_direct_ || all) row(arrow(kEdgeColour, solid), "DIRECT: derived from the input");
      if (any_indirect_ || all) {
        row(arrow(kIndirectColour, dashed), "INDIRECT: depends on it (filter, join, ...)");
      }
      if (any_masking_ || all) row(arrow(kMaskColour, tee), "masked: the value is masked");
      if (any_job_label_) {
        row(arrow(kMutedInk, "job"), "the job that derives it");
      } else {
        row("<TD></TD>", "the deriving jobs are in the edges&#39; tooltips");
      }
    }
    if (v_.highlight) {
      // The palette in one row: root, then 1, 2, 3 and 4 or more steps away.
      std::string cells;
      for (int s = 1; s < kDistanceSteps; ++s) {
        cells += swatch(kDistanceFill[s], kDatasetLine, 1, "",
                        std::to_string(s) + (s == kDistanceSteps - 1 ? "+" : ""));
      }
      row(swatch(kDistanceFill[0], kRootLine, 2, "", "<B>root</B>"),
          "<TABLE BORDER=\"0\" CELLSPACING=\"2\" CELLPADDING=\"1\"><TR>" + cells +
              "<TD ALIGN=\"LEFT\">steps from the root</TD></TR></TABLE>");
    }
    if (any_outside_) row(swatch(kGreyFill, kGreyLine), "outside the closure");
    if (any_unseen_) {
      row(swatch("white", kDatasetLine, 1, "dashed"), "only referenced, never reported");
    }
    // Notes sit in the text column: a row spanning both would widen the samples.
    auto note = [&](const std::string& text) { row("<TD></TD>", "<I>" + text + "</I>"); };
    if (v_.collapsed_columns > 0) {
      note("collapsed to dataset level: " + std::to_string(v_.collapsed_columns) + " columns");
    }
    if (v_.collapsed_datasets > 0 || v_.collapsed_jobs > 0) {
      std::string what = std::to_string(v_.collapsed_datasets) + " datasets";
      if (v_.collapsed_jobs > 0) what += ", " + std::to_string(v_.collapsed_jobs) + " jobs";
      note("collapsed to clusters: " + what);
    }
    if (unboxed_clusters_) note("namespaces: under each name (too many nodes for boxes)");
    if (v_.nodes.empty()) note("no lineage");
    std::string label =
        "<TABLE BORDER=\"1\" CELLBORDER=\"0\" CELLSPACING=\"3\" CELLPADDING=\"2\" "
        "COLOR=\"" +
        std::string(kClusterLine) + "\" BGCOLOR=\"white\" STYLE=\"rounded\">" +
        "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\"><B>Legend</B></TD></TR>" + rows + "</TABLE>";
    return {Html("label", label), Plain("shape", "plain"), Plain("fontsize", "9"),
            Plain("tooltip", "legend")};
  }

  // dot's iteration limits, scaled down as the graph grows so a layout stays near the budget.
  void LayoutBudget() {
    double size = static_cast<double>(g_.nodes.size() + g_.edges.size());
    double scale = std::max(0.0, options_.layout_seconds) / 5.0;
    double mclimit = std::clamp(scale * 200.0 / std::max(size, 200.0), 0.05, 2.0);
    double nslimit = std::clamp(scale * 5000.0 / std::max(size, 100.0), 1.0, 50.0);
    g_.graph.push_back(Plain("mclimit", Fixed(mclimit)));
    g_.graph.push_back(Plain("nslimit", Fixed(nslimit)));
    g_.graph.push_back(Plain("nslimit1", Fixed(nslimit)));
    if (size > 500) g_.graph.push_back(Plain("remincross", "false"));
  }

  static constexpr size_t kMaxLabelledEdges = 60;
  // Cluster boxes help a small diagram and wreck a large one: a namespace whose datasets
  // lie many ranks apart becomes a wide band that the other edges have to go around.
  static constexpr size_t kMaxBoxedNodes = 80;
  static constexpr size_t kMaxTooltipLines = 40;

  const View& v_;
  const Diagram& d_;
  const DiagramOptions& options_;
  DotGraph g_;
  std::map<std::string, int> clusters_;
  std::vector<std::optional<std::string>> job_homes_;  // JobHomes(v_), made on first use
  bool boxes_ = true;                                  // clusters drawn as boxes
  bool unboxed_clusters_ = false;                      // ... and some were not
  bool any_job_ = false;
  bool any_derive_ = false;
  bool any_direct_ = false;
  bool any_indirect_ = false;
  bool any_masking_ = false;
  bool any_outside_ = false;
  bool any_unseen_ = false;
  bool any_root_column_ = false;
  bool any_job_label_ = false;
};

// ---------------------------------------------------------------------------------------
// Graphviz.

struct GraphCloser {
  void operator()(Agraph_t* g) const { agclose(g); }
};
using GraphPtr = std::unique_ptr<Agraph_t, GraphCloser>;

struct ContextFreer {
  void operator()(GVC_t* gvc) const { gvFreeContext(gvc); }
};
using ContextPtr = std::unique_ptr<GVC_t, ContextFreer>;

struct RenderDataFreer {
  void operator()(char* data) const { gvFreeRenderData(data); }
};
using RenderDataPtr = std::unique_ptr<char, RenderDataFreer>;

constexpr double kPngDpi = 96;  // Graphviz's default for bitmaps
constexpr double kMinPngDpi = 48;
constexpr double kMaxPngPixels = 32e6;

// Frees a layout before its graph is closed.
class LayoutGuard {
 public:
  LayoutGuard(GVC_t* gvc, Agraph_t* g) : gvc_(gvc), g_(g) {}
  ~LayoutGuard() { gvFreeLayout(gvc_, g_); }
  LayoutGuard(const LayoutGuard&) = delete;
  LayoutGuard& operator=(const LayoutGuard&) = delete;

 private:
  GVC_t* gvc_;
  Agraph_t* g_;
};

// Graphviz keeps global state (the error handler, the text layout plugin's caches, the
// shared context below), so everything that touches it runs under this lock.
std::mutex& GraphvizMutex() {
  static std::mutex mu;
  return mu;
}

// Graphviz's messages during one call, instead of on stderr. Guarded by GraphvizMutex.
std::string* graphviz_messages = nullptr;

int CaptureGraphvizMessage(char* message) {
  if (graphviz_messages != nullptr && graphviz_messages->size() < 4096) {
    graphviz_messages->append(message);
  }
  return 0;
}

// Installs the message capture for the lifetime of the object.
class MessageCapture {
 public:
  explicit MessageCapture(std::string* sink) : previous_(agseterrf(CaptureGraphvizMessage)) {
    graphviz_messages = sink;
  }
  ~MessageCapture() {
    agseterrf(previous_);
    graphviz_messages = nullptr;
  }
  MessageCapture(const MessageCapture&) = delete;
  MessageCapture& operator=(const MessageCapture&) = delete;

 private:
  agusererrf previous_;
};

Status GraphvizError(const std::string& what, const std::string& messages) {
  std::string m = "graphviz: " + what;
  if (!messages.empty()) {
    std::string trimmed = messages;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) {
      trimmed.pop_back();
    }
    m += ": " + trimmed;
  }
  return Status::Internal(m);
}

// Object ids in creation order. cgraph's default discipline makes a name's id the address
// of its interned string, and 2.42 walks subgraphs in id order, so clusters would be laid
// out and written in an order that changes from run to run. Here a name's id is its
// number (even), anonymous objects get odd ones, and the names live until the graph closes.
struct OrderedIds {
  std::vector<std::string> names;  // id 2k+2 is names[k]
  std::unordered_map<std::string, IDTYPE> ids;
  IDTYPE anonymous = 1;
};

void* OrderedIdsOpen(Agraph_t*, Agdisc_t*) { return std::make_unique<OrderedIds>().release(); }

long OrderedIdsMap(void* state, int, char* name, IDTYPE* id, int create) {
  auto* s = static_cast<OrderedIds*>(state);
  if (name == nullptr) {
    *id = s->anonymous;
    s->anonymous += 2;
    return 1;
  }
  auto it = s->ids.find(name);
  if (it != s->ids.end()) {
    *id = it->second;
    return 1;
  }
  if (!create) return 0;
  s->names.emplace_back(name);
  *id = 2 * s->names.size();
  s->ids.emplace(name, *id);
  return 1;
}

long OrderedIdsAlloc(void*, int, IDTYPE) { return 0; }  // ids are never requested
void OrderedIdsFree(void*, int, IDTYPE) {}
char* OrderedIdsPrint(void* state, int, IDTYPE id) {
  auto* s = static_cast<OrderedIds*>(state);
  if (id % 2 != 0 || id == 0 || id / 2 > s->names.size()) return nullptr;
  return s->names[id / 2 - 1].data();
}
void OrderedIdsClose(void* state) { std::unique_ptr<OrderedIds>(static_cast<OrderedIds*>(state)); }
void OrderedIdsRegister(void*, int, void*) {}

Agiddisc_t kOrderedIdDisc = {OrderedIdsOpen,  OrderedIdsMap,   OrderedIdsAlloc,   OrderedIdsFree,
                             OrderedIdsPrint, OrderedIdsClose, OrderedIdsRegister};
Agdisc_t kGraphDisc = {&AgMemDisc, &kOrderedIdDisc, &AgIoDisc};

void SetAttr(void* obj, Agraph_t* root, const DotAttr& a) {
  std::string name = a.name;
  std::string value = a.value;
  std::string empty;
  if (a.html) {
    // agstrdup_html marks the string as HTML; agsafeset then finds that same string.
    char* html = agstrdup_html(root, value.data());
    agsafeset(obj, name.data(), html, empty.data());
    agstrfree(root, html);
  } else {
    agsafeset(obj, name.data(), value.data(), empty.data());
  }
}

Result<GraphPtr> BuildGraph(const DotGraph& d) {
  std::string name = "lineage";
  GraphPtr g(agopen(name.data(), Agdirected, &kGraphDisc));
  if (!g) return Status::Internal("graphviz: cannot create a graph");
  Agraph_t* root = g.get();
  // As in DOT, the root's `graph [...]` values are the defaults of the clusters as well
  // (the font, for one); the title label goes in with the other labels, below.
  for (int kind : {AGRAPH, AGNODE, AGEDGE}) {
    const DotAttrs& defaults = kind == AGRAPH   ? d.graph
                               : kind == AGNODE ? d.node_defaults
                                                : d.edge_defaults;
    for (const DotAttr& a : defaults) {
      if (a.html) continue;
      std::string attr = a.name, value = a.value;
      agattr(root, kind, attr.data(), value.data());
    }
  }
  // Objects in the order of the DOT text: nodes, clusters, edges.
  DotAttrs title;
  for (const DotAttr& a : d.graph) {
    if (a.html) title.push_back(a);
  }
  std::vector<std::pair<void*, const DotAttrs*>> objects{{root, &title}};
  std::vector<Agnode_t*> nodes;
  for (const DotNode& dn : d.nodes) {
    std::string id = dn.id;
    Agnode_t* n = agnode(root, id.data(), 1);
    if (!n) return Status::Internal("graphviz: cannot create a node");
    nodes.push_back(n);
    objects.emplace_back(n, &dn.attrs);
  }
  for (size_t c = 0; c < d.clusters.size(); ++c) {
    std::string id = d.clusters[c].id;
    Agraph_t* sg = agsubg(root, id.data(), 1);
    if (!sg) return Status::Internal("graphviz: cannot create a cluster");
    for (size_t i = 0; i < d.nodes.size(); ++i) {
      if (d.nodes[i].cluster == static_cast<int>(c)) agsubnode(sg, nodes[i], 1);
    }
    objects.emplace_back(sg, &d.clusters[c].attrs);
  }
  for (const DotEdge& e : d.edges) {
    Agedge_t* edge = agedge(root, nodes[e.tail], nodes[e.head], nullptr, 1);
    if (!edge) return Status::Internal("graphviz: cannot create an edge");
    objects.emplace_back(edge, &e.attrs);
  }
  // cgraph interns strings by content alone, and the first one interned decides whether a
  // value is HTML: so every HTML-like label goes in before any plain value (a tooltip
  // naming a dataset "<B>x</B>" must not turn an equal label into plain text). Object ids
  // are not interned (see OrderedIds).
  for (bool html : {true, false}) {
    for (const auto& [obj, attrs] : objects) {
      for (const DotAttr& a : *attrs) {
        if (a.html == html) SetAttr(obj, root, a);
      }
    }
  }
  return g;
}

const char* RenderFormat(DiagramFormat format) {
  switch (format) {
    case DiagramFormat::kSvg:
      return "svg";
    case DiagramFormat::kPng:
      return "png:cairo";
    case DiagramFormat::kPdf:
      return "pdf:cairo";
    case DiagramFormat::kDot:
      break;
  }
  return "dot";
}

Result<std::string> Render(const DotGraph& dot, DiagramFormat format) {
  std::lock_guard<std::mutex> lock(GraphvizMutex());
  std::string messages;
  MessageCapture capture(&messages);
  // One context for the process: the pango text layout plugin caches a pointer to the last
  // font name, which lives in the context, so freeing a context and making another would
  // leave that pointer dangling (a use after free in 2.42). Loading the plugins once is
  // cheaper too. Guarded by GraphvizMutex like everything else here.
  static ContextPtr context(gvContext());
  GVC_t* gvc = context.get();
  if (gvc == nullptr) return GraphvizError("cannot create a context", messages);
  TRIB_ASSIGN_OR_RETURN(GraphPtr g, BuildGraph(dot));
  std::optional<LayoutGuard> layout;
  auto lay_out = [&]() -> Status {
    if (gvLayout(gvc, g.get(), "dot") != 0) return GraphvizError("layout failed", messages);
    layout.emplace(gvc, g.get());
    return Status::Ok();
  };
  TRIB_RETURN_IF_ERROR(lay_out());
  if (format == DiagramFormat::kPng) {
    // The largest diagrams the collapse limits allow come to some 50 million pixels at
    // 96 dpi (200 MB of raster and seconds of cairo work); past kMaxPngPixels the
    // resolution goes down instead. The layout reads dpi, so it runs again (it is the
    // cheap part: the rasterising dominates).
    const boxf bb = GD_bb(g.get());
    double pixels = (bb.UR.x - bb.LL.x) * (bb.UR.y - bb.LL.y) * (kPngDpi / 72) * (kPngDpi / 72);
    if (pixels > kMaxPngPixels) {
      double dpi = std::max(kMinPngDpi, kPngDpi * std::sqrt(kMaxPngPixels / pixels));
      layout.reset();
      SetAttr(g.get(), g.get(), Plain("dpi", Fixed(dpi)));
      TRIB_RETURN_IF_ERROR(lay_out());
    }
  }
  char* data = nullptr;
  unsigned int length = 0;
  int rc = gvRenderData(gvc, g.get(), RenderFormat(format), &data, &length);
  RenderDataPtr owned(data);
  if (rc != 0 || data == nullptr) return GraphvizError("rendering failed", messages);
  return std::string(data, length);
}

}  // namespace

Result<std::string> RenderDiagram(const Diagram& diagram, DiagramFormat format,
                                  const DiagramOptions& options) {
  View view = Collapse(diagram, options);
  DotGraph dot = DotBuilder(view, diagram, options).Build();
  if (format == DiagramFormat::kDot) return WriteDot(dot);
  return Render(dot, format);
}

}  // namespace tributary
