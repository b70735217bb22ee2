#include "store/edge_list_map.h"

#include <utility>

namespace tributary {

std::vector<EdgeRecord>* EdgeListMap::find(const Key& key) {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(key);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.node == kNoNode) return nullptr;
    if (s.node == key.node && s.kind == key.kind) return &s.list;
  }
}

std::vector<EdgeRecord>* EdgeListMap::emplace(const Key& key, std::vector<EdgeRecord> list) {
  // At most 5/8 full: linear probing's runs stay short.
  if ((size_ + 1) * 8 > slots_.size() * 5) Grow();
  const size_t mask = slots_.size() - 1;
  size_t i = Home(key);
  while (slots_[i].node != kNoNode) i = (i + 1) & mask;
  Slot& s = slots_[i];
  s.node = key.node;
  s.kind = key.kind;
  s.list = std::move(list);
  ++size_;
  return &s.list;
}

void EdgeListMap::clear() {
  if (size_ == 0) return;
  for (Slot& s : slots_) {
    if (s.node == kNoNode) continue;
    s.node = kNoNode;
    std::vector<EdgeRecord>().swap(s.list);  // frees its elements now
  }
  size_ = 0;
}

void EdgeListMap::Grow() {
  std::vector<Slot> old = std::move(slots_);
  const size_t n = old.empty() ? 64 : old.size() * 2;
  slots_ = std::vector<Slot>(n);
  shift_ = 64;
  for (size_t s = n; s > 1; s >>= 1) --shift_;
  size_ = 0;
  for (Slot& s : old) {
    if (s.node != kNoNode) emplace({s.node, s.kind}, std::move(s.list));
  }
}

}  // namespace tributary
