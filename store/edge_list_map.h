// EdgeListMap: the store writer's cached edge lists, by node and edge kind, in one
// open-addressing table (linear probing).
//
// The writer looks up an edge list for nearly every column edge of every event, among
// millions: std::unordered_map reads a bucket, then the node before the one it wants, then
// that node, each a likely cache miss; this table reads one slot, where the key and the
// list's header sit together.
//
// Lists move when the table grows, but their elements do not: a pointer to a list is valid
// until the next emplace or clear, a pointer into a list until that list changes.
//
// Thread safety: none; the writer's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "store/model.h"

namespace tributary {

class EdgeListMap {
 public:
  struct Key {
    NodeId node;  // never kNoNode
    EdgeKind kind;
    bool operator==(const Key&) const = default;
  };

  EdgeListMap() = default;
  // A map moved from is empty and usable.
  EdgeListMap(EdgeListMap&& other) noexcept { *this = std::move(other); }
  EdgeListMap& operator=(EdgeListMap&& other) noexcept {
    slots_ = std::move(other.slots_);
    other.slots_.clear();
    size_ = std::exchange(other.size_, 0);
    shift_ = std::exchange(other.shift_, 64);
    return *this;
  }

  // The list of `key`, or null when there is none.
  std::vector<EdgeRecord>* find(const Key& key);
  bool contains(const Key& key) { return find(key) != nullptr; }
  // Starts loading the slot where a lookup of `key` begins, for lookups soon after: a table
  // of millions of lists misses the cache on nearly every first lookup of a key, and misses
  // started together overlap.
  void Prefetch(const Key& key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Home(key)]);
  }
  // Adds `list` as the list of `key`, which must have none; returns where it now is.
  std::vector<EdgeRecord>* emplace(const Key& key, std::vector<EdgeRecord> list);
  size_t size() const { return size_; }
  // Empties the table; keeps its slots for what comes next.
  void clear();

 private:
  struct Slot {
    NodeId node = kNoNode;  // kNoNode: empty
    EdgeKind kind = EdgeKind::kRead;
    std::vector<EdgeRecord> list;
  };

  // The first slot to probe for `key` (Fibonacci hashing: the product's high bits).
  size_t Home(const Key& key) const {
    const uint64_t h = (key.node * 4 + static_cast<uint64_t>(key.kind)) * 0x9e3779b97f4a7c15ULL;
    return static_cast<size_t>(h >> shift_);
  }
  // Doubles the slots (or makes the first ones) and places every list again.
  void Grow();

  std::vector<Slot> slots_;  // a power of two of them, or none
  size_t size_ = 0;
  int shift_ = 64;  // 64 - log2(slots)
};

}  // namespace tributary
