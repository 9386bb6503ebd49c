// buildRuntime(): a republish reuses the listener's compiled router (RE2) unless a route's
// match conditions changed.
#include "http/runtime.h"

#include <gtest/gtest.h>

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

std::shared_ptr<config::Config> configWith(const std::string& pathRegex) {
  auto c = std::make_shared<config::Config>();
  config::Listener l;
  l.name = "front";
  l.protocol = config::Protocol::Http;
  config::Route r;
  r.name = "api";
  r.match.path_kind = config::PathMatchKind::Regex;
  r.match.path = pathRegex;
  r.pools = {{"web", 1}};
  l.http.routes.push_back(r);
  c->listeners.push_back(l);
  return c;
}

std::shared_ptr<ListenerRuntime> build(const std::shared_ptr<config::Config>& c, const ListenerRuntime* previous) {
  static const std::unordered_map<std::string, std::shared_ptr<const upstream::Cluster>> kNoClusters;
  return buildRuntime(c, c->listeners[0], kNoClusters, nullptr, previous);
}

}  // namespace

TEST(Runtime, RouterIsReusedWhileRouteMatchesAreTheSame) {
  auto first = build(configWith("^/api/v[0-9]+/"), nullptr);
  // A republish (weights, slow start) or a reload that changes other things: same router.
  auto c = configWith("^/api/v[0-9]+/");
  c->listeners[0].http.routes[0].pools = {{"web", 2}};
  auto second = build(c, first.get());
  EXPECT_EQ(second->router.get(), first->router.get());
  // Another pattern: compiled anew.
  auto third = build(configWith("^/api/"), second.get());
  EXPECT_NE(third->router.get(), second->router.get());
  EXPECT_FALSE(sameMatches(first->listener->http.routes, third->listener->http.routes));
}
