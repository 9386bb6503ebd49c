// The HTTP parts of the schema: listeners[].http (limits, forwarded headers, rate limit, routes)
// and pools[].http (keep-alive pool, retries, sticky sessions). See docs/config.md.
#include "config/http_loader.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/ascii.h"

namespace fulcrum::config::detail {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string_view> kHttpListenerKeys = {
    "max_request_line",           "max_header_bytes", "max_headers", "max_body_size",
    "max_connections_per_client", "forwarded",        "rate_limit",  "routes",
    "path_dot_segments"};
const std::vector<std::string_view> kDotSegments = {"reject", "normalize", "forward"};
const std::vector<std::string_view> kForwardedKeys = {"x_forwarded_for", "x_forwarded_proto", "x_forwarded_host",
                                                      "x_real_ip", "trusted"};
const std::vector<std::string_view> kRateLimitKeys = {"key", "rate", "burst", "nodelay", "max_keys"};
const std::vector<std::string_view> kRouteKeys = {
    "name", "match", "pool", "pools", "respond", "redirect", "request_headers", "response_headers", "host_rewrite"};
const std::vector<std::string_view> kActionKeys = {"pool", "pools", "respond", "redirect"};
const std::vector<std::string_view> kMatchKeys = {"host",   "path",    "path_prefix", "path_regex",
                                                  "method", "headers", "query",       "cookies"};
const std::vector<std::string_view> kPathKeys = {"path", "path_prefix", "path_regex"};
const std::vector<std::string_view> kValueMatchKeys = {"name", "present", "exact", "regex", "absent"};
const std::vector<std::string_view> kWeightedPoolKeys = {"pool", "weight"};
const std::vector<std::string_view> kRespondKeys = {"status", "body", "content_type"};
const std::vector<std::string_view> kRedirectKeys = {"status", "location"};
const std::vector<std::string_view> kHeaderEditKeys = {"add", "set", "remove"};
const std::vector<std::string_view> kPoolHttpKeys = {"idle_connections", "idle_timeout", "retry_on", "retry_budget",
                                                     "retry_budget_min", "max_requests", "sticky"};
const std::vector<std::string_view> kStickyKeys = {"mode",      "cookie", "path",     "max_age",
                                                   "http_only", "secure", "same_site"};
const std::vector<std::string_view> kCookieOnlyKeys = {"cookie", "path", "max_age", "http_only", "secure", "same_site"};
// Bit i is 1u << i: the order of config::RetryOn.
const std::vector<std::string_view> kRetryOn = {"connect_failure", "reset", "timeout", "502", "503", "504"};
// In the order of config::StickyMode.
const std::vector<std::string_view> kStickyModes = {"none", "cookie", "client_address"};
const std::vector<std::string_view> kSameSite = {"Strict", "Lax", "None"};
// Framing and hop-by-hop headers: only Fulcrum itself writes them (lower case).
const std::vector<std::string_view> kReservedHeaders = {
    "connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"};

constexpr uint32_t kMiB = 1024 * 1024;
constexpr uint64_t kMaxBodySize = uint64_t{1} << 62;
constexpr size_t kMaxRespondBody = 64 * 1024;
constexpr double kMaxRatePerSecond = 1e6;
constexpr Millis kMaxCookieAge = 8760h;  // a year

const char* const kTokenChars = "letters, digits and !#$%&'*+-.^_`|~";

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lowerAscii);
  return out;
}

// Dot-separated labels of 1..63 letters, digits and '-'; 253 characters at most.
bool isHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    bool ok = !label.empty() && label.size() <= 63 && std::all_of(label.begin(), label.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!ok) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// Printable ASCII other than space.
bool isVisible(char c) { return c > ' ' && c < 0x7f; }

// A control character that cannot be in a header value: anything below 0x20 but tab, and DEL.
bool hasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// "type/subtype" optionally followed by "; parameters".
bool isMediaType(std::string_view text) {
  std::string_view main = text.substr(0, text.find(';'));
  while (!main.empty() && main.back() == ' ') {
    main.remove_suffix(1);
  }
  size_t slash = main.find('/');
  return slash != std::string_view::npos && isToken(main.substr(0, slash)) && isToken(main.substr(slash + 1)) &&
         !hasControl(text);
}

// "host", "host:port", "[v6]" or "[v6]:port".
bool isHostAndPort(std::string_view text) {
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      port = rest.substr(1);
    }
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(text.substr(1, close - 1)).c_str(), &address) != 1) {
      return false;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    if (!isHostName(host)) {
      return false;
    }
  }
  if (port) {
    if (!isDigits(*port) || port->size() > 5) {
      return false;
    }
    int number = std::stoi(std::string(*port));
    return number >= 1 && number <= 65535;
  }
  return true;
}

class HttpReader {
 public:
  explicit HttpReader(YamlReader& reader) : r_(reader) {}

  HttpListenerRefs readListener(const Entry& e, HttpListener& out) {
    HttpListenerRefs refs;
    auto map = r_.readSection(e, kHttpListenerKeys);
    if (!map) {
      refs.hasRoutes = true;  // unknown: do not also ask for a default pool
      return refs;
    }
    if (const Entry* p = map->find("max_request_line")) {
      r_.readUint(*p, 64, kMiB, out.max_request_line);
    }
    if (const Entry* p = map->find("max_header_bytes")) {
      r_.readUint(*p, 256, kMiB, out.max_header_bytes);
    }
    if (const Entry* p = map->find("max_headers")) {
      r_.readUint(*p, 1, 10'000, out.max_headers);
    }
    if (const Entry* p = map->find("max_body_size")) {
      r_.readUint64(*p, 0, kMaxBodySize, out.max_body_size);
    }
    if (const Entry* p = map->find("max_connections_per_client")) {
      r_.readUint(*p, 0, 1'000'000, out.max_connections_per_client);
    }
    if (const Entry* p = map->find("path_dot_segments")) {
      if (auto i = r_.readChoice(*p, kDotSegments)) {
        out.path_dot_segments = static_cast<DotSegments>(*i);
      }
    }
    if (const Entry* p = map->find("forwarded")) {
      readForwarded(*p, out.forwarded);
    }
    if (const Entry* p = map->find("rate_limit")) {
      readRateLimit(*p, out.rate_limit);
    }
    if (const Entry* p = map->find("routes")) {
      readRoutes(*p, out.routes, refs);
    }
    return refs;
  }

  void readPool(const Entry& e, PoolHttp& out) {
    auto map = r_.readSection(e, kPoolHttpKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("idle_connections")) {
      r_.readUint(*p, 0, 10'000, out.idle_connections);
    }
    if (const Entry* p = map->find("idle_timeout")) {
      r_.readDuration(*p, out.idle_timeout);
    }
    if (const Entry* p = map->find("retry_on")) {
      readRetryOn(*p, out.retry_on);
    }
    if (const Entry* p = map->find("retry_budget")) {
      r_.readUint(*p, 0, 100, out.retry_budget_percent);
    }
    if (const Entry* p = map->find("retry_budget_min")) {
      r_.readUint(*p, 0, 100'000, out.retry_budget_min);
    }
    if (const Entry* p = map->find("max_requests")) {
      r_.readUint(*p, 0, 1'000'000, out.max_requests);
    }
    if (const Entry* p = map->find("sticky")) {
      readSticky(*p, out.sticky);
    }
  }

 private:
  // --- listeners[].http ---

  void readForwarded(const Entry& e, Forwarded& out) {
    auto map = r_.readSection(e, kForwardedKeys);
    if (!map) {
      return;
    }
    std::pair<std::string_view, bool*> flags[] = {{"x_forwarded_for", &out.x_forwarded_for},
                                                  {"x_forwarded_proto", &out.x_forwarded_proto},
                                                  {"x_forwarded_host", &out.x_forwarded_host},
                                                  {"x_real_ip", &out.x_real_ip}};
    for (auto& [key, target] : flags) {
      if (const Entry* p = map->find(key)) {
        r_.readBool(*p, *target);
      }
    }
    if (const Entry* p = map->find("trusted")) {
      r_.readCidrList(*p, out.trusted);
    }
  }

  void readRateLimit(const Entry& e, RateLimit& out) {
    auto map = r_.readSection(e, kRateLimitKeys);
    if (!map) {
      return;
    }
    out.enabled = true;
    if (const Entry* p = map->find("key")) {
      readRateLimitKey(*p, out);
    }
    if (r_.requireKey(*map, "rate", "requests per second or per minute per key, e.g. 10/s or 600/m")) {
      readRate(*map->find("rate"), out.rate);
    }
    if (const Entry* p = map->find("burst")) {
      r_.readUint(*p, 0, 100'000, out.burst);
    }
    if (const Entry* p = map->find("nodelay")) {
      r_.readBool(*p, out.nodelay);
    }
    if (const Entry* p = map->find("max_keys")) {
      r_.readUint(*p, 1, 10'000'000, out.max_keys);
    }
  }

  // "client_address" or "header:NAME".
  void readRateLimitKey(const Entry& e, RateLimit& out) {
    const std::string expected = "client_address or header:NAME";
    if (e.value.IsMap() && e.value.size() == 1 && e.value.begin()->first.IsScalar() &&
        e.value.begin()->first.Scalar() == "header") {
      // "header: X-Api-Key" (a space after the colon) is a YAML map.
      r_.error(e.pos, e.path +
                          ": expected header:NAME without a space after the colon, e.g. header:X-Api-Key, "
                          "got a map");
      return;
    }
    std::string text;
    if (!r_.readScalar(e, expected, text)) {
      return;
    }
    if (text == "client_address") {
      out.key = RateLimitKey::ClientAddress;
      out.header.clear();
      return;
    }
    if (text.rfind("header:", 0) == 0) {
      std::string name = text.substr(7);
      if (!isToken(name)) {
        r_.error(e.pos, e.path + ": invalid header name " + quote(name) + " in " + quote(text) +
                            "; expected a name of " + kTokenChars + " such as header:X-Api-Key");
        return;
      }
      out.key = RateLimitKey::Header;
      out.header = std::move(name);
      return;
    }
    r_.error(e.pos, e.path + ": unknown rate limit key " + quote(text) + "; expected " + expected);
  }

  // "N/s" or "N/m", stored per second.
  void readRate(const Entry& e, double& out) {
    const std::string expected = "a rate such as 10/s or 600/m (requests per second or per minute)";
    std::string text;
    if (!r_.readScalar(e, expected, text)) {
      return;
    }
    size_t slash = text.find('/');
    std::string_view number = std::string_view(text).substr(0, slash);
    std::string_view unit = slash == std::string::npos ? "" : std::string_view(text).substr(slash + 1);
    bool numeric = !number.empty() && number.front() >= '0' && number.front() <= '9' && number.back() != '.' &&
                   number.find_first_not_of("0123456789.") == std::string_view::npos &&
                   std::count(number.begin(), number.end(), '.') <= 1;
    if (numeric && slash == std::string::npos) {
      r_.error(e.pos, e.path + ": a unit is required, e.g. \"" + text + "/s\" (per second) or \"" + text +
                          "/m\" (per minute)");
      return;
    }
    if (!numeric || (unit != "s" && unit != "m")) {
      r_.error(e.pos, e.path + ": expected " + expected + ", got " + quote(text));
      return;
    }
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec == std::errc::result_out_of_range) {
      // Too large, or so small that it rounds to 0.
      bool large = number.substr(0, number.find('.')).find_first_not_of('0') != std::string_view::npos;
      value = large ? kMaxRatePerSecond * 3600 : 0;
    } else if (ec != std::errc{} || end != number.data() + number.size()) {
      r_.error(e.pos, e.path + ": expected " + expected + ", got " + quote(text));
      return;
    }
    double perSecond = unit == "m" ? value / 60 : value;
    if (!(perSecond > 0)) {
      r_.error(e.pos, e.path + ": must be more than 0 requests, got " + quote(text) +
                          "; expected e.g. 10/s (remove the rate_limit section to switch limiting off)");
      return;
    }
    if (perSecond > kMaxRatePerSecond) {
      r_.error(e.pos, e.path + ": must be at most 1000000/s (60000000/m), got " + quote(text));
      return;
    }
    out = perSecond;
  }

  struct Named {
    std::string name;
    Pos pos;
  };

  void readRoutes(const Entry& e, std::vector<Route>& out, HttpListenerRefs& refs) {
    auto items = r_.readList(e, "routes", true);
    if (!items) {
      refs.hasRoutes = true;  // already reported; do not also ask for a default pool
      return;
    }
    refs.hasRoutes = !items->empty();
    std::vector<Named> names;
    for (size_t i = 0; i < items->size(); ++i) {
      const Item& item = (*items)[i];
      auto map = r_.readMap(item.node, item.pos, item.path, kRouteKeys);
      if (!map) {
        continue;
      }
      Route route;
      route.name = "routes[" + std::to_string(i) + "]";
      if (const Entry* p = map->find("name")) {
        std::string name;
        if (r_.readName(*p, name)) {
          auto dup = std::find_if(names.begin(), names.end(), [&](const Named& n) { return n.name == name; });
          if (dup != names.end()) {
            r_.error(p->pos, p->path + ": duplicate route name " + quote(name) + " (first used at line " +
                                 std::to_string(dup->pos.line) + "); expected unique names within a listener");
          } else {
            names.push_back({name, p->pos});
          }
          route.name = std::move(name);
        }
      }
      if (const Entry* p = map->find("match")) {
        readMatch(*p, route.match);
      }
      std::optional<RouteAction> action = readAction(*map, route, refs.pools);
      if (action && *action != RouteAction::Forward) {
        const char* kind = *action == RouteAction::Respond ? "respond" : "redirect";
        for (std::string_view key : {"request_headers", "host_rewrite"}) {
          if (const Entry* p = map->find(key)) {
            r_.error(p->keyPos, p->path + ": only valid on a route with pool or pools (a " + kind +
                                    " route sends nothing to a server); expected no " + std::string(key) + " with " +
                                    kind);
          }
        }
      }
      if (const Entry* p = map->find("request_headers")) {
        readHeaderEdits(*p, route.request_headers, true);
      }
      if (const Entry* p = map->find("response_headers")) {
        readHeaderEdits(*p, route.response_headers, false);
      }
      if (const Entry* p = map->find("host_rewrite")) {
        readHostRewrite(*p, route.host_rewrite);
      }
      out.push_back(std::move(route));
    }
  }

  // Exactly one of pool, pools, respond and redirect. nullopt when none is given.
  std::optional<RouteAction> readAction(const MapView& map, Route& route, std::vector<PoolRef>& refs) {
    const Entry* action = nullptr;
    for (const Entry& entry : map.entries) {
      if (std::find(kActionKeys.begin(), kActionKeys.end(), entry.key) == kActionKeys.end()) {
        continue;
      }
      if (action != nullptr) {
        r_.error(entry.keyPos, entry.path + ": a route has one action and this one already has " + action->key +
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
      r_.error(map.pos, map.path +
                            ": missing the route's action; expected one of pool, pools, respond or "
                            "redirect");
      return std::nullopt;
    }
    if (action->key == "pool") {
      route.action = RouteAction::Forward;
      std::string name;
      if (r_.readString(*action, name)) {
        route.pools = {WeightedPool{name, 1}};
        refs.push_back({std::move(name), action->path, action->pos});
      }
    } else if (action->key == "pools") {
      route.action = RouteAction::Forward;
      readWeightedPools(*action, route.pools, refs);
    } else if (action->key == "respond") {
      route.action = RouteAction::Respond;
      readRespond(*action, route);
    } else {
      route.action = RouteAction::Redirect;
      route.status = 302;
      readRedirect(*action, route);
    }
    return route.action;
  }

  void readWeightedPools(const Entry& e, std::vector<WeightedPool>& out, std::vector<PoolRef>& refs) {
    auto items = r_.readList(e, "pools with weights such as {pool: v1, weight: 90}", false);
    if (!items) {
      return;
    }
    bool complete = true;  // every weight is known
    uint64_t sum = 0;
    std::vector<Named> seen;
    for (const Item& item : *items) {
      auto map = r_.readMap(item.node, item.pos, item.path, kWeightedPoolKeys);
      if (!map) {
        complete = false;
        continue;
      }
      WeightedPool wp;
      if (const Entry* w = map->find("weight")) {
        complete = r_.readUint(*w, 0, 1000, wp.weight) && complete;
      }
      if (!r_.requireKey(*map, "pool", "the name of a pool") || !r_.readString(*map->find("pool"), wp.pool)) {
        complete = false;
        continue;
      }
      const Entry* p = map->find("pool");
      auto dup = std::find_if(seen.begin(), seen.end(), [&](const Named& n) { return n.name == wp.pool; });
      if (dup != seen.end()) {
        r_.error(p->pos, p->path + ": pool " + quote(wp.pool) + " is already in this list (line " +
                             std::to_string(dup->pos.line) + "); expected each pool once");
        continue;
      }
      seen.push_back({wp.pool, p->pos});
      refs.push_back({wp.pool, p->path, p->pos});
      sum += wp.weight;
      out.push_back(std::move(wp));
    }
    if (complete && sum == 0 && !out.empty()) {
      r_.error(e.pos, e.path + ": every weight is 0; expected at least one pool with a weight above 0");
    }
  }

  void readRespond(const Entry& e, Route& route) {
    auto map = r_.readSection(e, kRespondKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("status")) {
      uint32_t status = 0;
      if (r_.readUint(*p, 200, 599, status)) {
        route.status = static_cast<uint16_t>(status);
      }
    }
    if (const Entry* p = map->find("body")) {
      std::string body;
      if (r_.readString(*p, body)) {
        if (body.size() > kMaxRespondBody) {
          r_.error(p->pos, p->path + ": " + std::to_string(body.size()) + " bytes is too long; expected at most " +
                               std::to_string(kMaxRespondBody) + " bytes (64 KiB)");
        } else {
          route.body = std::move(body);
        }
      }
    }
    if (const Entry* p = map->find("content_type")) {
      std::string type;
      if (r_.readScalar(*p, "a media type such as text/plain or application/json", type)) {
        if (!isMediaType(type)) {
          r_.error(p->pos, p->path + ": invalid content type " + quote(type) +
                               "; expected a media type such as text/plain, application/json or "
                               "\"text/html; charset=utf-8\"");
        } else {
          route.content_type = std::move(type);
        }
      }
    }
  }

  void readRedirect(const Entry& e, Route& route) {
    auto map = r_.readSection(e, kRedirectKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("status")) {
      uint32_t status = 0;
      if (r_.readUint(*p, 100, 599, status)) {
        if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
          r_.error(p->pos,
                   p->path + ": a redirect status must be 301, 302, 303, 307 or 308, got " + std::to_string(status));
        } else {
          route.status = static_cast<uint16_t>(status);
        }
      }
    }
    if (r_.requireKey(*map, "location", "where the client is sent, e.g. https://{host}{uri}")) {
      readLocation(*map->find("location"), route.location);
    }
  }

  void readLocation(const Entry& e, std::string& out) {
    const std::string expected = "a URL or path such as https://{host}{uri} or /new/place";
    std::string text;
    if (!r_.readScalar(e, expected, text)) {
      return;
    }
    if (text.empty()) {
      r_.error(e.pos, e.path + ": expected " + expected + ", got an empty string");
      return;
    }
    if (!std::all_of(text.begin(), text.end(), isVisible)) {
      r_.error(e.pos, e.path + ": invalid character in " + quote(text) +
                          "; expected printable ASCII without spaces, CR or LF (percent-encode others, e.g. %20)");
      return;
    }
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '}') {
        r_.error(e.pos, e.path + ": unmatched '}' in " + quote(text) +
                            "; expected only the placeholders {host} and {uri} (write a literal '}' as %7D)");
        return;
      }
      if (text[i] != '{') {
        continue;
      }
      size_t close = text.find('}', i);
      if (close == std::string::npos) {
        r_.error(e.pos, e.path + ": unclosed '{' in " + quote(text) +
                            "; expected only the placeholders {host} and {uri} (write a literal '{' as %7B)");
        return;
      }
      std::string_view name = std::string_view(text).substr(i, close - i + 1);
      if (name != "{host}" && name != "{uri}") {
        r_.error(e.pos, e.path + ": unknown placeholder " + quote(name) + " in " + quote(text) +
                            "; expected only {host} and {uri}");
        return;
      }
      i = close;
    }
    out = std::move(text);
  }

  void readHeaderEdits(const Entry& e, HeaderEdits& out, bool request) {
    auto map = r_.readSection(e, kHeaderEditKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("add")) {
      readHeaderValues(*p, out.add, request, false);
    }
    if (const Entry* p = map->find("set")) {
      readHeaderValues(*p, out.set, request, true);
    }
    if (const Entry* p = map->find("remove")) {
      auto items = r_.readList(*p, "header names", true);
      if (!items) {
        return;
      }
      for (const Item& item : *items) {
        if (!item.node.IsScalar()) {
          r_.error(item.pos, item.path + ": expected a header name such as X-Debug, got " + describe(item.node));
          continue;
        }
        std::string name = item.node.Scalar();
        if (checkHeaderName(item.pos, item.path, name, request)) {
          out.remove.push_back(std::move(name));
        }
      }
    }
  }

  // NAME: VALUE pairs. `unique`: a name only once, ignoring case (set replaces, so twice is a conflict).
  void readHeaderValues(const Entry& e, std::vector<HeaderValue>& out, bool request, bool unique) {
    auto map = r_.readFreeMap(e);
    if (!map) {
      return;
    }
    std::vector<Named> seen;
    for (const Entry& h : map->entries) {
      if (!checkHeaderName(h.keyPos, e.path, h.key, request)) {
        continue;
      }
      if (unique) {
        auto dup =
            std::find_if(seen.begin(), seen.end(), [&](const Named& n) { return equalsIgnoreCase(n.name, h.key); });
        if (dup != seen.end()) {
          r_.error(h.keyPos, e.path + ": header " + quote(h.key) + " is already set as " + quote(dup->name) +
                                 " at line " + std::to_string(dup->pos.line) +
                                 " (header names ignore case); expected each header once");
          continue;
        }
        seen.push_back({h.key, h.keyPos});
      }
      std::string value;
      if (!r_.readScalar(h, "a header value (write \"\" for an empty one)", value)) {
        continue;
      }
      if (hasControl(value)) {
        r_.error(h.pos, h.path + ": control character in " + quote(value) +
                            "; expected a header value without CR, LF, NUL or other control characters");
        continue;
      }
      out.push_back({h.key, std::move(value)});
    }
  }

  bool checkHeaderName(Pos pos, const std::string& path, const std::string& name, bool request) {
    if (!isToken(name)) {
      r_.error(pos, path + ": invalid header name " + quote(name) + "; expected " + kTokenChars);
      return false;
    }
    std::string lower = lowered(name);
    if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) != kReservedHeaders.end()) {
      r_.error(pos, path + ": " + name +
                        " is a framing or hop-by-hop header that Fulcrum manages itself; expected another "
                        "header name");
      return false;
    }
    if (request && lower == "host") {
      r_.error(pos, path +
                        ": the Host header cannot be edited here; expected host_rewrite on the route to "
                        "change the Host sent to the server");
      return false;
    }
    return true;
  }

  void readHostRewrite(const Entry& e, std::string& out) {
    std::string text;
    if (!r_.readScalar(e, "a host such as backend.internal or backend.internal:8080", text)) {
      return;
    }
    if (!isHostAndPort(text)) {
      r_.error(e.pos, e.path + ": invalid host " + quote(text) +
                          "; expected a host name or address with an optional port, such as backend.internal, "
                          "10.0.0.5:8080 or \"[::1]:8080\"");
      return;
    }
    out = std::move(text);
  }

  // --- routes[].match ---

  void readMatch(const Entry& e, RouteMatch& out) {
    auto map = r_.readSection(e, kMatchKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("host")) {
      readHosts(*p, out.hosts);
    }
    const Entry* path = nullptr;
    for (const Entry& entry : map->entries) {
      if (std::find(kPathKeys.begin(), kPathKeys.end(), entry.key) == kPathKeys.end()) {
        continue;
      }
      if (path != nullptr) {
        r_.error(entry.keyPos, entry.path + ": this match already has " + path->key + " (line " +
                                   std::to_string(path->keyPos.line) +
                                   "); expected at most one of path, path_prefix and path_regex");
        continue;
      }
      path = &entry;
      readPathMatch(entry, out);
    }
    if (const Entry* p = map->find("method")) {
      readMethods(*p, out.methods);
    }
    if (const Entry* p = map->find("headers")) {
      readValueMatches(*p, out.headers, "header", "{name: X-Canary, exact: \"1\"}");
    }
    if (const Entry* p = map->find("query")) {
      readValueMatches(*p, out.query, "query parameter", "{name: debug, present: true}");
    }
    if (const Entry* p = map->find("cookies")) {
      readValueMatches(*p, out.cookies, "cookie", "{name: session, regex: \"^a\"}");
    }
  }

  void readHosts(const Entry& e, std::vector<std::string>& out) {
    auto items = r_.readOneOrList(e, "host names");
    if (!items) {
      return;
    }
    for (const Item& item : *items) {
      if (!item.node.IsScalar()) {
        r_.error(item.pos, item.path + ": expected a host name such as api.example.com, got " + describe(item.node));
        continue;
      }
      std::string host = lowered(item.node.Scalar());
      std::string_view name = host;
      if (name.substr(0, 2) == "*.") {
        name.remove_prefix(2);
      }
      if (host.find(':') != std::string::npos && host.front() != '[') {
        r_.error(item.pos, item.path + ": " + quote(item.node.Scalar()) +
                               " has a port; expected a host without one, such as api.example.com (the "
                               "request's port is ignored)");
      } else if (name.find('*') != std::string_view::npos) {
        r_.error(item.pos, item.path + ": invalid wildcard in " + quote(item.node.Scalar()) +
                               "; expected an exact host or a leading \"*.\", such as *.example.com");
      } else if (!isHostName(name)) {
        r_.error(item.pos, item.path + ": invalid host " + quote(item.node.Scalar()) +
                               "; expected a host name of letters, digits, '-' and '.' such as api.example.com, "
                               "or *.example.com for its subdomains");
      } else {
        out.push_back(std::move(host));
      }
    }
  }

  void readPathMatch(const Entry& e, RouteMatch& out) {
    std::string text;
    if (e.key == "path_regex") {
      if (r_.readScalar(e, "an RE2 regular expression such as ^/v[0-9]+/", text) && checkRegex(e, text)) {
        out.path_kind = PathMatchKind::Regex;
        out.path = std::move(text);
      }
      return;
    }
    if (!r_.readScalar(e, "a path starting with '/', such as /api/", text)) {
      return;
    }
    if (text.empty() || text.front() != '/') {
      r_.error(e.pos, e.path + ": expected a path starting with '/', such as /api/, got " + quote(text));
    } else if (!std::all_of(text.begin(), text.end(), isVisible)) {
      r_.error(e.pos, e.path + ": invalid character in " + quote(text) +
                          "; expected printable ASCII without spaces (percent-encode others, e.g. %20)");
    } else if (text.find_first_of("?#") != std::string::npos) {
      r_.error(e.pos, e.path + ": " + quote(text) +
                          " has a query or fragment; expected a path only (the query is matched with query:)");
    } else {
      out.path_kind = e.key == "path" ? PathMatchKind::Exact : PathMatchKind::Prefix;
      out.path = std::move(text);
    }
  }

  void readMethods(const Entry& e, std::vector<std::string>& out) {
    auto items = r_.readOneOrList(e, "methods such as GET");
    if (!items) {
      return;
    }
    for (const Item& item : *items) {
      if (!item.node.IsScalar()) {
        r_.error(item.pos, item.path + ": expected a method such as GET, got " + describe(item.node));
        continue;
      }
      const std::string& text = item.node.Scalar();
      if (!isToken(text)) {
        r_.error(item.pos, item.path + ": invalid method " + quote(text) + "; expected a method such as GET or POST");
      } else if (std::any_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        std::string upper = text;
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
        r_.error(item.pos, item.path + ": methods are case-sensitive; expected upper case " + quote(upper) + ", got " +
                               quote(text));
      } else {
        out.push_back(text);
      }
    }
  }

  // headers, query and cookies: a list of {name, and one of present/exact/regex/absent}.
  void readValueMatches(const Entry& e, std::vector<ValueMatch>& out, const std::string& what,
                        const std::string& example) {
    auto items = r_.readList(e, "conditions such as " + example, true);
    if (!items) {
      return;
    }
    for (const Item& item : *items) {
      auto map = r_.readMap(item.node, item.pos, item.path, kValueMatchKeys);
      if (!map) {
        continue;
      }
      ValueMatch match;
      if (r_.requireKey(*map, "name", "the " + what + " name")) {
        const Entry* p = map->find("name");
        if (r_.readScalar(*p, "a " + what + " name", match.name)) {
          checkMatchName(*p, what, match.name);
        }
      }
      const Entry* condition = nullptr;
      for (const Entry& entry : map->entries) {
        if (entry.key == "name") {
          continue;
        }
        if (condition != nullptr) {
          r_.error(entry.keyPos, entry.path + ": this condition already has " + condition->key + " (line " +
                                     std::to_string(condition->keyPos.line) +
                                     "); expected only one of present, exact, regex and absent");
          continue;
        }
        condition = &entry;
      }
      if (condition == nullptr) {
        if (map->rejected == 0) {  // else a rejected key may have been meant as the condition
          r_.error(map->pos, map->path +
                                 ": missing the condition; expected one of present: true, exact: VALUE, "
                                 "regex: PATTERN or absent: true");
        }
      } else {
        readCondition(*condition, match);
      }
      out.push_back(std::move(match));
    }
  }

  void checkMatchName(const Entry& e, const std::string& what, const std::string& name) {
    if (what == "query parameter") {
      bool ok = !name.empty() && std::all_of(name.begin(), name.end(),
                                             [](char c) { return isVisible(c) && c != '&' && c != '=' && c != '#'; });
      if (!ok) {
        r_.error(e.pos, e.path + ": invalid query parameter name " + quote(name) +
                            "; expected printable ASCII without spaces, '&', '=' or '#', as written in the URL");
      }
    } else if (!isToken(name)) {
      r_.error(e.pos, e.path + ": invalid " + what + " name " + quote(name) + "; expected " + kTokenChars);
    }
  }

  void readCondition(const Entry& e, ValueMatch& out) {
    if (e.key == "present" || e.key == "absent") {
      bool flag = false;
      if (!r_.readBool(e, flag)) {
        return;
      }
      if (!flag) {
        std::string other = e.key == "present" ? "absent" : "present";
        r_.error(e.pos, e.path + ": " + e.key + ": false is not a condition; expected " + e.key + ": true, or " +
                            other + ": true");
        return;
      }
      out.kind = e.key == "present" ? ValueMatchKind::Present : ValueMatchKind::Absent;
      return;
    }
    std::string text;
    if (e.key == "exact") {
      if (!r_.readString(e, text)) {
        return;
      }
      if (hasControl(text)) {
        r_.error(e.pos, e.path + ": control character in " + quote(text) +
                            "; expected a value without CR, LF, NUL or other control characters");
        return;
      }
      out.kind = ValueMatchKind::Exact;
      out.value = std::move(text);
      return;
    }
    if (r_.readScalar(e, "an RE2 regular expression", text) && checkRegex(e, text)) {
      out.kind = ValueMatchKind::Regex;
      out.value = std::move(text);
    }
  }

  bool checkRegex(const Entry& e, const std::string& pattern) {
    if (pattern.empty()) {
      r_.error(e.pos, e.path + ": expected a non-empty RE2 regular expression, got an empty string");
      return false;
    }
    RE2::Options options;
    options.set_log_errors(false);
    RE2 re(pattern, options);
    if (!re.ok()) {
      r_.error(e.pos,
               e.path + ": invalid regular expression " + quote(pattern) + ": " + re.error() + "; expected RE2 syntax");
      return false;
    }
    return true;
  }

  // --- pools[].http ---

  void readRetryOn(const Entry& e, uint32_t& out) {
    auto items = r_.readList(e, "retry conditions such as [connect_failure, reset, 503]", true);
    if (!items) {
      return;
    }
    uint32_t bits = 0;
    bool ok = true;
    for (const Item& item : *items) {
      if (auto i = r_.readChoice(asEntry(item), kRetryOn, true)) {
        bits |= 1u << *i;
      } else {
        ok = false;
      }
    }
    if (ok) {
      out = bits;
    }
  }

  void readSticky(const Entry& e, Sticky& out) {
    auto map = r_.readSection(e, kStickyKeys);
    if (!map) {
      return;
    }
    out.mode = StickyMode::Cookie;
    bool modeKnown = true;
    if (const Entry* p = map->find("mode")) {
      auto i = r_.readChoice(*p, kStickyModes);
      modeKnown = i.has_value();
      if (i) {
        out.mode = static_cast<StickyMode>(*i);
      }
    }
    if (modeKnown && out.mode == StickyMode::ClientAddress) {
      for (std::string_view key : kCookieOnlyKeys) {
        if (const Entry* p = map->find(key)) {
          r_.error(p->keyPos, p->path + ": only meaningful with mode: cookie; expected no " + std::string(key) +
                                  " with mode client_address");
        }
      }
    }
    if (const Entry* p = map->find("cookie")) {
      std::string name;
      if (r_.readScalar(*p, "a cookie name such as FULCRUM_SRV", name)) {
        if (!isToken(name)) {
          r_.error(p->pos, p->path + ": invalid cookie name " + quote(name) + "; expected " + kTokenChars);
        } else {
          out.cookie_name = std::move(name);
        }
      }
    }
    if (const Entry* p = map->find("path")) {
      std::string path;
      if (r_.readScalar(*p, "a cookie path such as /", path)) {
        if (path.empty() || path.front() != '/') {
          r_.error(p->pos, p->path + ": expected a path starting with '/', such as /, got " + quote(path));
        } else if (!std::all_of(path.begin(), path.end(),
                                [](char c) { return isVisible(c) && c != ';' && c != ','; })) {
          r_.error(p->pos, p->path + ": invalid character in " + quote(path) +
                               "; expected printable ASCII without spaces, ';' or ','");
        } else {
          out.path = std::move(path);
        }
      }
    }
    if (const Entry* p = map->find("max_age")) {
      r_.readDuration(*p, 0ms, kMaxCookieAge, out.max_age);
    }
    if (const Entry* p = map->find("http_only")) {
      r_.readBool(*p, out.http_only);
    }
    bool secureKnown = true;
    if (const Entry* p = map->find("secure")) {
      secureKnown = r_.readBool(*p, out.secure);
    }
    if (const Entry* p = map->find("same_site")) {
      if (auto i = r_.readChoice(*p, kSameSite, true)) {
        out.same_site = std::string(kSameSite[*i]);
        if (out.same_site == "None" && secureKnown && !out.secure) {
          r_.error(p->pos, p->path +
                               ": SameSite=None needs secure: true (browsers drop the cookie otherwise); "
                               "expected secure: true, or same_site Lax or Strict");
        }
      }
    }
  }

  YamlReader& r_;
};

}  // namespace

HttpListenerRefs readHttpListener(YamlReader& reader, const Entry& e, HttpListener& out) {
  return HttpReader(reader).readListener(e, out);
}

void readPoolHttp(YamlReader& reader, const Entry& e, PoolHttp& out) { HttpReader(reader).readPool(e, out); }

}  // namespace fulcrum::config::detail
