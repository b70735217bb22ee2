// store_digest: one line per column family of a Tributary store: its key count, the bytes of
// its keys and values, and a hash of every key and value in key order. Two builds that should
// derive the same store from the same events can be compared with it (docs/benchmarks.md):
//
//   build/store_digest /tmp/a > a.txt; build/store_digest /tmp/b > b.txt; diff a.txt b.txt
//
// Opens the store read-only, so it may run next to nothing else that writes it.
#include <rocksdb/db.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

// FNV-1a, 64 bits: enough to tell two stores apart, not a cryptographic digest.
class Fnv64 {
 public:
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= 1099511628211ULL;
    }
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: store_digest DATA_DIR\n");
    return 2;
  }
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), argv[1], &names);
  if (!s.ok()) {
    std::fprintf(stderr, "store_digest: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), argv[1], families, &handles, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "store_digest: %s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  int status = 0;
  for (size_t i = 0; i < handles.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    uint64_t count = 0;
    uint64_t bytes = 0;
    Fnv64 hash;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++count;
      bytes += it->key().size() + it->value().size();
      hash.Add(it->key().ToStringView());
      hash.Add(std::string_view("\x00", 1));  // keeps key and value apart
      hash.Add(it->value().ToStringView());
    }
    if (!it->status().ok()) {
      std::fprintf(stderr, "store_digest: %s: %s\n", names[i].c_str(),
                   it->status().ToString().c_str());
      status = 1;
    }
    std::printf("%-14s %10llu %12llu %016llx\n", names[i].c_str(),
                static_cast<unsigned long long>(count), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(hash.value()));
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return status;
}
