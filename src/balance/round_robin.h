#pragma once
// Round robin: each pick takes the next eligible host after the previous pick.
// Pure: the caller says which hosts are eligible (healthy, not full, not already tried)
// and which are backups. Backups are picked only when no primary is eligible.
// One instance per worker and pool: the cursor is never shared between threads.
#include <cstddef>
#include <optional>

namespace fulcrum::balance {

class RoundRobin {
 public:
  // Workers start at different offsets so that, together, they do not all send their
  // first connections to the first server.
  explicit RoundRobin(size_t start = 0) : primary_cursor_(start), backup_cursor_(start) {}

  template <class Eligible, class IsBackup>
  std::optional<size_t> pick(size_t n, Eligible&& eligible, IsBackup&& isBackup) {
    if (auto i = scan(n, primary_cursor_, eligible, [&](size_t k) { return !isBackup(k); })) {
      return i;
    }
    return scan(n, backup_cursor_, eligible, isBackup);
  }

 private:
  template <class Eligible, class InGroup>
  static std::optional<size_t> scan(size_t n, size_t& cursor, Eligible& eligible, InGroup&& inGroup) {
    for (size_t step = 0; step < n; ++step) {
      size_t i = (cursor + step) % n;
      if (inGroup(i) && eligible(i)) {
        cursor = i + 1;
        return i;
      }
    }
    return std::nullopt;
  }

  size_t primary_cursor_ = 0;
  size_t backup_cursor_ = 0;
};

}  // namespace fulcrum::balance
