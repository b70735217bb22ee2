// Transform, one column edge's transformation, and TransformSet, an interned set of them.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tributary {

struct Transform {
  std::string type;     // DIRECT, INDIRECT, or "" (unknown)
  std::string subtype;  // IDENTITY, ..., or ""
  std::string description;
  bool masking = false;

  bool operator==(const Transform&) const = default;
  auto operator<=>(const Transform&) const = default;
};

// The one instance of a set of transformations (see TransformSet).
struct InternedTransforms {
  std::vector<Transform> items;  // sorted, distinct
  std::string encoded;           // the store's encoding: the count, then PutTransform's
};

// A set of transformations, sorted and distinct, interned: equal sets share one immutable
// instance that lives as long as the process. A record holds a pointer to it, so copying a
// set costs nothing, comparing two compares pointers, and a cache of millions of edges has
// nothing to free per edge. Distinct sets are few next to edges: one per combination of
// transformations that the jobs report, which the store and the graph hold anyway.
//
// Thread-safe: the instances are immutable, and interning takes a lock.
class TransformSet {
 public:
  TransformSet() = default;  // the empty set

  // The set of `ts`, in any order, with repeats.
  static TransformSet Of(std::vector<Transform> ts);
  // The set of `ts`, which must be sorted and distinct; copied only when new.
  static TransformSet OfSorted(const std::vector<Transform>& ts);
  static TransformSet Union(TransformSet a, TransformSet b);

  const std::vector<Transform>& items() const { return p_ ? p_->items : Empty().items; }
  // The store's encoding of the set (see PutTransform), made once when it was interned.
  std::string_view encoded() const { return p_ ? p_->encoded : Empty().encoded; }
  bool empty() const { return p_ == nullptr; }
  size_t size() const { return items().size(); }
  const Transform& operator[](size_t i) const { return items()[i]; }
  auto begin() const { return items().begin(); }
  auto end() const { return items().end(); }

  friend bool operator==(TransformSet a, TransformSet b) { return a.p_ == b.p_; }
  // Identifies the set among all others: equal exactly when the sets are.
  const void* identity() const { return p_; }

 private:
  explicit TransformSet(const InternedTransforms* p) : p_(p) {}
  static const InternedTransforms& Empty();

  const InternedTransforms* p_ = nullptr;  // null: the empty set
};

// Sets of transformations are stored as a count, then each transformation in this encoding,
// in any order, repeats allowed.
void PutTransform(std::string* dst, std::string_view type, std::string_view subtype,
                  std::string_view description, bool masking);

}  // namespace tributary

template <>
struct std::hash<tributary::TransformSet> {
  size_t operator()(tributary::TransformSet s) const {
    return std::hash<const void*>()(s.identity());
  }
};
