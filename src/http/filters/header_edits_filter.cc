#include "http/filters/header_edits_filter.h"

namespace fulcrum::http {

void routeEdits(const config::Route* route, FieldEdits& edits) {
  if (route == nullptr) {
    return;
  }
  if (!route->request_headers.empty()) {
    edits.edits = &route->request_headers;
  }
  if (!route->host_rewrite.empty()) {
    edits.authority = route->host_rewrite;
  }
}

FilterStatus HeaderEditsFilter::onRequestHead(RequestState& s) const {
  routeEdits(s.route, s.edits);
  if (s.route != nullptr && !s.route->response_headers.empty()) {
    s.response_edits = &s.route->response_headers;
  }
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
