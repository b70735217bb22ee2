#include "store/transform_set.h"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <string_view>
#include <unordered_set>

#include "common/coding.h"

namespace tributary {
namespace {

size_t HashOf(const std::vector<Transform>& ts) {
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

// Instances are found by their transformations.
struct ItemsHash {
  using is_transparent = void;
  size_t operator()(const InternedTransforms& s) const { return HashOf(s.items); }
  size_t operator()(const std::vector<Transform>& ts) const { return HashOf(ts); }
};
struct ItemsEqual {
  using is_transparent = void;
  static const std::vector<Transform>& Items(const InternedTransforms& s) { return s.items; }
  static const std::vector<Transform>& Items(const std::vector<Transform>& ts) { return ts; }
  bool operator()(const auto& a, const auto& b) const { return Items(a) == Items(b); }
};

// Every set interned so far. Never destroyed: sets held by static objects stay valid to the
// end of the process.
struct Table {
  std::mutex mu;
  std::unordered_set<InternedTransforms, ItemsHash, ItemsEqual> sets;  // nodes: addresses stay
};

Table& Interned() {
  static auto* table = new Table();
  return *table;
}

std::string Encode(const std::vector<Transform>& ts) {
  std::string out;
  PutVarint64(&out, ts.size());
  for (const Transform& t : ts) PutTransform(&out, t.type, t.subtype, t.description, t.masking);
  return out;
}

}  // namespace

const InternedTransforms& TransformSet::Empty() {
  static const auto* empty = new InternedTransforms{{}, Encode({})};
  return *empty;
}

TransformSet TransformSet::OfSorted(const std::vector<Transform>& ts) {
  if (ts.empty()) return TransformSet();
  Table& table = Interned();
  std::lock_guard lock(table.mu);
  auto it = table.sets.find(ts);
  if (it == table.sets.end()) it = table.sets.insert({ts, Encode(ts)}).first;
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

void PutTransform(std::string* dst, std::string_view type, std::string_view subtype,
                  std::string_view description, bool masking) {
  PutLengthPrefixed(dst, type);
  PutLengthPrefixed(dst, subtype);
  PutLengthPrefixed(dst, description);
  dst->push_back(masking ? 1 : 0);
}

}  // namespace tributary
