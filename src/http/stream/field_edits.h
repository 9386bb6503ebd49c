#pragma once
// FieldEdits: what the request sent to a server gets besides the client's own fields, decided
// by filters (forwarded headers, header edits) and applied by whichever codec encodes the
// request. A fixed size, no allocation: values are views (of the request, the config, or
// strings that live as long as the request).
#include <array>
#include <cstddef>
#include <string_view>

#include "config/model.h"

namespace fulcrum::http {

struct FieldEdits {
  // Forwarded headers remove 5 and add 4, client certificate headers remove and add 3 each.
  static constexpr size_t kMax = 12;

  // A field to add, written "prefix, value" (or "value" when prefix is empty): an appended list.
  struct Added {
    std::string_view name;
    std::string_view value;
    std::string_view prefix;
  };

  // Removes every client field named `name` (case-insensitive). False when full.
  bool remove(std::string_view name) {
    if (removed_count == kMax) {
      return false;
    }
    removed[removed_count++] = name;
    return true;
  }
  // Adds a field after the client's. False when full.
  bool add(std::string_view name, std::string_view value, std::string_view prefix = {}) {
    if (added_count == kMax) {
      return false;
    }
    added[added_count++] = Added{name, value, prefix};
    return true;
  }
  bool removes(std::string_view name) const;

  std::array<std::string_view, kMax> removed{};
  size_t removed_count = 0;
  std::array<Added, kMax> added{};
  size_t added_count = 0;
  // The route's header edits (remove, set, add), applied after the fields above; null = none.
  const config::HeaderEdits* edits = nullptr;
  // The authority the server is told (a route's host_rewrite); empty = the request's.
  std::string_view authority;
};

}  // namespace fulcrum::http
