#include "balance/maglev_table.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>

namespace fulcrum::balance {
namespace {

constexpr uint64_t kOffsetSeed = 0x6d61676c65766f66ULL;  // fixed forever: changing them remaps keys
constexpr uint64_t kSkipSeed = 0x6d61676c6576736bULL;
constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

bool isPrime(uint64_t n) {
  if (n < 2) {
    return false;
  }
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

struct Entry {
  uint64_t offset;
  uint64_t skip;
  uint64_t next = 0;    // index into this host's preference list
  uint64_t target = 0;  // weighted fill: take a slot once iteration x weight reaches this
  uint64_t weight;
};

}  // namespace

uint64_t maglevTableSize(size_t hosts, uint32_t requested) {
  uint64_t size = std::max<uint64_t>(requested == 0 ? 65537 : requested, uint64_t{100} * hosts);
  while (!isPrime(size)) {
    ++size;
  }
  return size;
}

std::vector<uint32_t> buildMaglevTable(const HostGroup& group, const std::vector<HostSpec>& hosts,
                                       uint64_t size) {
  std::vector<uint32_t> table(size, kEmpty);
  if (group.empty()) {
    return table;
  }
  std::vector<Entry> entries;
  uint64_t max_weight = 0;
  for (size_t g = 0; g < group.size(); ++g) {
    const std::string& id = hosts[group.hosts[g]].id;
    entries.push_back(Entry{XXH64(id.data(), id.size(), kOffsetSeed) % size,
                            XXH64(id.data(), id.size(), kSkipSeed) % (size - 1) + 1, 0, 0, group.weights[g]});
    max_weight = std::max<uint64_t>(max_weight, group.weights[g]);
  }
  // Each round every host may claim its next preferred free slot; a host of weight w claims in
  // w / max_weight of the rounds, so slot counts follow weights.
  uint64_t filled = 0;
  for (uint64_t iteration = 0; filled < size; ++iteration) {
    for (size_t g = 0; g < entries.size() && filled < size; ++g) {
      Entry& e = entries[g];
      if (iteration * e.weight < e.target) {
        continue;
      }
      e.target += max_weight;
      uint64_t slot = (e.offset + e.next * e.skip) % size;
      while (table[slot] != kEmpty) {
        ++e.next;
        slot = (e.offset + e.next * e.skip) % size;
      }
      table[slot] = static_cast<uint32_t>(g);
      ++e.next;
      ++filled;
    }
  }
  return table;
}

}  // namespace fulcrum::balance
