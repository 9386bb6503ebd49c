#pragma once
// Affinity to a server within the chosen pool: the balancing key of hashing algorithms
// (ip_hash, consistent_hash, maglev: the client address, a header, a cookie or the path), and
// the server a sticky cookie names. The pick itself happens later (upstream::takeHost).
// With client_address stickiness shared (sticky.shared), the server every instance keeps for
// the client (shared_state/sticky_cache.h): the stored one while it is usable, else the
// rendezvous choice, which is then stored for every instance.
#include <string>

#include "http/filters/filter.h"

namespace fulcrum::http {

class AffinityFilter final : public RequestFilter {
 public:
  // `keyPrefix`: shared_state.key_prefix (used by pools with sticky.shared).
  explicit AffinityFilter(std::string keyPrefix = {}) : key_prefix_(std::move(keyPrefix)) {}
  FilterStatus onRequestHead(RequestState& state) const override;

 private:
  void sharedClientAddress(RequestState& s) const;
  std::string key_prefix_;
};

}  // namespace fulcrum::http
