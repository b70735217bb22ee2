// NodeBits: the nodes a walk has reached, one bit per node id.
//
// A walk starts from an empty set and inserts each node it reaches; Clear() then zeroes only
// the words the walk touched, so that a small walk costs nothing per node of the graph. One
// bit a node keeps the set small enough for the processor's caches (1 MB at 8 million ids,
// where a 32-bit mark per node took 32 MB): a walk that starts with cold caches, as a
// server's do, waits on fewer misses.
//
// Thread safety: one walk at a time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tributary {

class NodeBits {
 public:
  // Makes room for ids below `nodes`; the set stays as it is.
  void Reserve(size_t nodes) {
    const size_t words = (nodes + 63) / 64;
    if (words_.size() < words) words_.resize(words, 0);
  }

  // Adds `id` (below the reserved size); false when it was in the set already.
  bool Insert(uint32_t id) {
    uint64_t& word = words_[id >> 6];
    const uint64_t bit = uint64_t{1} << (id & 63);
    if (word & bit) return false;
    if (word == 0) touched_.push_back(id >> 6);
    word |= bit;
    return true;
  }

  bool Contains(uint32_t id) const { return (words_[id >> 6] >> (id & 63)) & 1; }

  // Empties the set: the words it touched, or all of them when it touched more than an
  // eighth (one pass over the array is then the cheaper).
  void Clear() {
    if (touched_.size() > words_.size() / 8) {
      std::fill(words_.begin(), words_.end(), 0);
    } else {
      for (uint32_t w : touched_) words_[w] = 0;
    }
    touched_.clear();
  }

  // Empties the set, and lets go of the list of touched words when a large walk grew it
  // past `keep` entries.
  void Trim(size_t keep) {
    Clear();
    if (touched_.capacity() > keep) std::vector<uint32_t>().swap(touched_);
  }

 private:
  std::vector<uint64_t> words_;
  std::vector<uint32_t> touched_;  // indices of the nonzero words
};

}  // namespace tributary
