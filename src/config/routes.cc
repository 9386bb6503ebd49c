// listeners[].http.routes: each route's name and action (a pool, pools split by weight, a fixed
// response or a redirect) and its host rewrite; match and header edits have files of their own.
#include "config/schema.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kRouteKeys = {
    "name", "match", "pool", "pools", "respond", "redirect", "request_headers", "response_headers", "host_rewrite"};
const std::vector<std::string_view> kActionKeys = {"pool", "pools", "respond", "redirect"};
const std::vector<std::string_view> kWeightedPoolKeys = {"pool", "weight"};
const std::vector<std::string_view> kRespondKeys = {"status", "body", "content_type"};
const std::vector<std::string_view> kRedirectKeys = {"status", "location"};
constexpr size_t kMaxRespondBody = 64 * 1024;

void readWeightedPools(YamlReader& r, const Entry& e, std::vector<WeightedPool>& out, std::vector<PoolRef>& refs) {
  auto items = r.readList(e, "pools with weights such as {pool: v1, weight: 90}", false);
  if (!items) {
    return;
  }
  bool complete = true;  // every weight is known
  uint64_t sum = 0;
  std::vector<Named> seen;
  for (const Item& item : *items) {
    auto map = r.readMap(item.node, item.pos, item.path, kWeightedPoolKeys);
    if (!map) {
      complete = false;
      continue;
    }
    WeightedPool wp;
    if (const Entry* w = map->find("weight")) {
      complete = r.readUint(*w, 0, 1000, wp.weight) && complete;
    }
    if (!r.requireKey(*map, "pool", "the name of a pool") || !r.readString(*map->find("pool"), wp.pool)) {
      complete = false;
      continue;
    }
    const Entry* p = map->find("pool");
    auto dup = std::find_if(seen.begin(), seen.end(), [&](const Named& n) { return n.name == wp.pool; });
    if (dup != seen.end()) {
      r.error(p->pos, p->path + ": pool " + quote(wp.pool) + " is already in this list (line " +
                          std::to_string(dup->pos.line) + "); expected each pool once");
      continue;
    }
    seen.push_back({wp.pool, p->pos});
    refs.push_back({wp.pool, p->path, p->pos});
    sum += wp.weight;
    out.push_back(std::move(wp));
  }
  if (complete && sum == 0 && !out.empty()) {
    r.error(e.pos, e.path + ": every weight is 0; expected at least one pool with a weight above 0");
  }
}

void readRespond(YamlReader& r, const Entry& e, Route& route) {
  auto map = r.readSection(e, kRespondKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("status")) {
    uint32_t status = 0;
    if (r.readUint(*p, 200, 599, status)) {
      route.status = static_cast<uint16_t>(status);
    }
  }
  if (const Entry* p = map->find("body")) {
    std::string body;
    if (r.readString(*p, body)) {
      if (body.size() > kMaxRespondBody) {
        r.error(p->pos, p->path + ": " + std::to_string(body.size()) + " bytes is too long; expected at most " +
                            std::to_string(kMaxRespondBody) + " bytes (64 KiB)");
      } else {
        route.body = std::move(body);
      }
    }
  }
  if (const Entry* p = map->find("content_type")) {
    std::string type;
    if (r.readScalar(*p, "a media type such as text/plain or application/json", type)) {
      if (!isMediaType(type)) {
        r.error(p->pos, p->path + ": invalid content type " + quote(type) +
                            "; expected a media type such as text/plain, application/json or "
                            "\"text/html; charset=utf-8\"");
      } else {
        route.content_type = std::move(type);
      }
    }
  }
}

void readLocation(YamlReader& r, const Entry& e, std::string& out) {
  const std::string expected = "a URL or path such as https://{host}{uri} or /new/place";
  std::string text;
  if (!r.readScalar(e, expected, text)) {
    return;
  }
  if (text.empty()) {
    r.error(e.pos, e.path + ": expected " + expected + ", got an empty string");
    return;
  }
  if (!std::all_of(text.begin(), text.end(), isVisible)) {
    r.error(e.pos, e.path + ": invalid character in " + quote(text) +
                       "; expected printable ASCII without spaces, CR or LF (percent-encode others, e.g. %20)");
    return;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') {
      r.error(e.pos, e.path + ": unmatched '}' in " + quote(text) +
                         "; expected only the placeholders {host} and {uri} (write a literal '}' as %7D)");
      return;
    }
    if (text[i] != '{') {
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos) {
      r.error(e.pos, e.path + ": unclosed '{' in " + quote(text) +
                         "; expected only the placeholders {host} and {uri} (write a literal '{' as %7B)");
      return;
    }
    std::string_view name = std::string_view(text).substr(i, close - i + 1);
    if (name != "{host}" && name != "{uri}") {
      r.error(e.pos, e.path + ": unknown placeholder " + quote(name) + " in " + quote(text) +
                         "; expected only {host} and {uri}");
      return;
    }
    i = close;
  }
  out = std::move(text);
}

void readRedirect(YamlReader& r, const Entry& e, Route& route) {
  auto map = r.readSection(e, kRedirectKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("status")) {
    uint32_t status = 0;
    if (r.readUint(*p, 100, 599, status)) {
      if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
        r.error(p->pos,
                p->path + ": a redirect status must be 301, 302, 303, 307 or 308, got " + std::to_string(status));
      } else {
        route.status = static_cast<uint16_t>(status);
      }
    }
  }
  if (r.requireKey(*map, "location", "where the client is sent, e.g. https://{host}{uri}")) {
    readLocation(r, *map->find("location"), route.location);
  }
}

// Exactly one of pool, pools, respond and redirect. nullopt when none is given.
std::optional<RouteAction> readAction(YamlReader& r, const MapView& map, Route& route, std::vector<PoolRef>& refs) {
  const Entry* action = nullptr;
  for (const Entry& entry : map.entries) {
    if (std::find(kActionKeys.begin(), kActionKeys.end(), entry.key) == kActionKeys.end()) {
      continue;
    }
    if (action != nullptr) {
      r.error(entry.keyPos, entry.path + ": a route has one action and this one already has " + action->key +
                                " (line " + std::to_string(action->keyPos.line) +
                                "); expected exactly one of pool, pools, respond or redirect");
      continue;
    }
    action = &entry;
  }
  if (action == nullptr) {
    if (map.rejected != 0) {
      return std::nullopt;  // a rejected key (already reported) may have been meant as the action
    }
    r.error(map.pos, map.path +
                         ": missing the route's action; expected one of pool, pools, respond or "
                         "redirect");
    return std::nullopt;
  }
  if (action->key == "pool") {
    route.action = RouteAction::Forward;
    std::string name;
    if (r.readString(*action, name)) {
      route.pools = {WeightedPool{name, 1}};
      refs.push_back({std::move(name), action->path, action->pos});
    }
  } else if (action->key == "pools") {
    route.action = RouteAction::Forward;
    readWeightedPools(r, *action, route.pools, refs);
  } else if (action->key == "respond") {
    route.action = RouteAction::Respond;
    readRespond(r, *action, route);
  } else {
    route.action = RouteAction::Redirect;
    route.status = 302;
    readRedirect(r, *action, route);
  }
  return route.action;
}

void readHostRewrite(YamlReader& r, const Entry& e, std::string& out) {
  std::string text;
  if (!r.readScalar(e, "a host such as backend.internal or backend.internal:8080", text)) {
    return;
  }
  if (!isHostAndPort(text)) {
    r.error(e.pos, e.path + ": invalid host " + quote(text) +
                       "; expected a host name or address with an optional port, such as backend.internal, "
                       "10.0.0.5:8080 or \"[::1]:8080\"");
    return;
  }
  out = std::move(text);
}

}  // namespace

void readRoutes(YamlReader& r, const Entry& e, std::vector<Route>& out, HttpListenerRefs& refs) {
  auto items = r.readList(e, "routes", true);
  if (!items) {
    refs.hasRoutes = true;  // already reported; do not also ask for a default pool
    return;
  }
  refs.hasRoutes = !items->empty();
  std::vector<Named> names;
  for (size_t i = 0; i < items->size(); ++i) {
    const Item& item = (*items)[i];
    auto map = r.readMap(item.node, item.pos, item.path, kRouteKeys);
    if (!map) {
      continue;
    }
    Route route;
    route.name = "routes[" + std::to_string(i) + "]";
    if (const Entry* p = map->find("name")) {
      std::string name;
      if (r.readName(*p, name)) {
        auto dup = std::find_if(names.begin(), names.end(), [&](const Named& n) { return n.name == name; });
        if (dup != names.end()) {
          r.error(p->pos, p->path + ": duplicate route name " + quote(name) + " (first used at line " +
                              std::to_string(dup->pos.line) + "); expected unique names within a listener");
        } else {
          names.push_back({name, p->pos});
        }
        route.name = std::move(name);
      }
    }
    if (const Entry* p = map->find("match")) {
      readMatch(r, *p, route.match);
    }
    std::optional<RouteAction> action = readAction(r, *map, route, refs.pools);
    if (action && *action != RouteAction::Forward) {
      const char* kind = *action == RouteAction::Respond ? "respond" : "redirect";
      for (std::string_view key : {"request_headers", "host_rewrite"}) {
        if (const Entry* p = map->find(key)) {
          r.error(p->keyPos, p->path + ": only valid on a route with pool or pools (a " + kind +
                                 " route sends nothing to a server); expected no " + std::string(key) + " with " +
                                 kind);
        }
      }
    }
    if (const Entry* p = map->find("request_headers")) {
      readHeaderEdits(r, *p, route.request_headers, true);
    }
    if (const Entry* p = map->find("response_headers")) {
      readHeaderEdits(r, *p, route.response_headers, false);
    }
    if (const Entry* p = map->find("host_rewrite")) {
      readHostRewrite(r, *p, route.host_rewrite);
    }
    out.push_back(std::move(route));
  }
}

}  // namespace fulcrum::config::detail
