#pragma once
// Routing: the first route whose conditions hold either answers itself (a fixed response, a
// redirect) or names the pools that serve the request; no route: the listener's pool, else
// 404; a route whose pools all have weight 0: 503.
#include <vector>

#include "http/filters/filter.h"
#include "http/router.h"

namespace fulcrum::http {

class RouteFilter final : public RequestFilter {
 public:
  // Everything is the listener runtime's (which owns the filter).
  RouteFilter(const Router& router, const std::vector<config::Route>& routes, const std::vector<RouteTarget>& targets,
              const RouteTarget& fallback)
      : router_(router), routes_(routes), targets_(targets), fallback_(fallback) {}
  FilterStatus onRequestHead(RequestState& state) const override;

 private:
  const Router& router_;
  const std::vector<config::Route>& routes_;
  const std::vector<RouteTarget>& targets_;  // parallel to routes_
  const RouteTarget& fallback_;
};

// A redirect's Location: "{host}" and "{uri}" replaced from the request, in one pass (request
// text that looks like a placeholder is never expanded again).
std::string expandLocation(std::string_view pattern, const Request& info);

}  // namespace fulcrum::http
