#include "http/filters/route_filter.h"

#include "http/runtime.h"

namespace fulcrum::http {

std::string expandLocation(std::string_view tmpl, const Request& info) {
  std::string location;
  while (!tmpl.empty()) {
    if (tmpl.substr(0, 6) == "{host}") {
      location.append(info.authority);
      tmpl.remove_prefix(6);
    } else if (tmpl.substr(0, 5) == "{uri}") {
      location.append(info.uri);
      tmpl.remove_prefix(5);
    } else {
      location.push_back(tmpl.front());
      tmpl.remove_prefix(1);
    }
  }
  return location;
}

FilterStatus RouteFilter::onRequestHead(RequestState& s) const {
  int index = router_.match(s.request);
  s.route_index = index;
  if (index < 0) {
    s.target = fallback_.empty() ? nullptr : &fallback_;
    if (!s.target) {
      s.answer.status = 404;
      s.answer.standard_body = true;
      return FilterStatus::Answer;
    }
  } else {
    const config::Route& route = routes_[static_cast<size_t>(index)];
    s.route = &route;
    if (route.action == config::RouteAction::Respond) {
      s.answer.status = route.status;
      s.answer.body = route.body;
      s.answer.edits = &route.response_headers;
      s.answer.content_type = route.content_type;
      return FilterStatus::Answer;
    }
    if (route.action == config::RouteAction::Redirect) {
      s.answer.status = route.status;
      s.answer.extra = "Location: " + expandLocation(route.location, s.request) + "\r\n";
      s.answer.edits = &route.response_headers;
      return FilterStatus::Answer;
    }
    s.target = &targets_[static_cast<size_t>(index)];
  }
  if (s.target->empty()) {
    s.answer.status = 503;  // every pool of the route is weighted 0 (or gone)
    s.answer.standard_body = true;
    s.answer.edits = s.route ? &s.route->response_headers : nullptr;
    return FilterStatus::Answer;
  }
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
