#pragma once
// Affinity to a server within the chosen pool: the balancing key of hashing algorithms
// (ip_hash, consistent_hash, maglev: the client address, a header, a cookie or the path), and
// the server a sticky cookie names. The pick itself happens later (upstream::takeHost).
#include "http/filters/filter.h"

namespace fulcrum::http {

class AffinityFilter final : public RequestFilter {
 public:
  FilterStatus onRequestHead(RequestState& state) const override;
};

}  // namespace fulcrum::http
