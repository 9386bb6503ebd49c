#pragma once
// Canary split: a route that names several pools sends each request to one of them, at random
// in proportion to their weights.
#include "http/filters/filter.h"

namespace fulcrum::http {

class SplitFilter final : public RequestFilter {
 public:
  FilterStatus onRequestHead(RequestState& state) const override;
};

}  // namespace fulcrum::http
