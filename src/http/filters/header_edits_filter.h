#pragma once
// Header edits of the matched route: its request_headers (remove, set, add) and host_rewrite
// go with the request to the server; its response_headers with the response to the client.
// Runs after routing (it reads the route the route filter chose).
#include "http/filters/filter.h"

namespace fulcrum::http {

// The request side of a route's edits (pure); `route` may be null (no edits).
void routeEdits(const config::Route* route, FieldEdits& edits);

class HeaderEditsFilter final : public RequestFilter {
 public:
  FilterStatus onRequestHead(RequestState& state) const override;
};

}  // namespace fulcrum::http
