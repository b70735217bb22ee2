#include "store/transform_set.h"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <string_view>
#include <unordered_set>

namespace tributary {
namespace {

struct SetHash {
  size_t operator()(const std::vector<Transform>& ts) const {
    std::hash<std::string_view> text;
    size_t h = ts.size();
    for (const Transform& t : ts) {
      for (size_t part :
           {text(t.type), text(t.subtype), text(t.description), static_cast<size_t>(t.masking)}) {
        h = (h ^ part) * 0x9e3779b97f4a7c15ULL;
      }
    }
    return h;
  }
};

// Every set interned so far. Never destroyed: sets held by static objects stay valid to
// the end of the process.
struct Table {
  std::mutex mu;
  std::unordered_set<std::vector<Transform>, SetHash> sets;  // nodes: addresses stay
};

Table& Interned() {
  static auto* table = new Table();
  return *table;
}

}  // namespace

const std::vector<Transform>& TransformSet::Empty() {
  static const auto* empty = new std::vector<Transform>();
  return *empty;
}

TransformSet TransformSet::OfSorted(const std::vector<Transform>& ts) {
  if (ts.empty()) return TransformSet();
  Table& table = Interned();
  std::lock_guard lock(table.mu);
  auto it = table.sets.find(ts);
  if (it == table.sets.end()) it = table.sets.insert(ts).first;
  return TransformSet(&*it);
}

TransformSet TransformSet::Of(std::vector<Transform> ts) {
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
  return OfSorted(ts);
}

TransformSet TransformSet::Union(TransformSet a, TransformSet b) {
  if (a == b || b.empty()) return a;
  if (a.empty()) return b;
  std::vector<Transform> both;
  both.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return OfSorted(both);
}

}  // namespace tributary
