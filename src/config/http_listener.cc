// listeners[].http: parser limits, dot segments, X-Forwarded-* headers and the rate limit; the
// routes are read in routes.cc. See docs/config.md.
#include "config/schema.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <system_error>
#include <utility>

#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kHttpListenerKeys = {
    "max_request_line", "max_header_bytes", "max_headers", "max_body_size",    "max_connections_per_client",
    "forwarded",        "rate_limit",       "routes",      "path_dot_segments"};
const std::vector<std::string_view> kDotSegments = {"reject", "normalize", "forward"};
const std::vector<std::string_view> kForwardedKeys = {"x_forwarded_for", "x_forwarded_proto", "x_forwarded_host",
                                                      "x_real_ip", "trusted"};
const std::vector<std::string_view> kRateLimitKeys = {"key", "rate", "burst", "nodelay", "max_keys", "shared"};
constexpr uint32_t kMiB = 1024 * 1024;
constexpr uint64_t kMaxBodySize = uint64_t{1} << 62;
constexpr double kMaxRatePerSecond = 1e6;

void readForwarded(YamlReader& r, const Entry& e, Forwarded& out) {
  auto map = r.readSection(e, kForwardedKeys);
  if (!map) {
    return;
  }
  std::pair<std::string_view, bool*> flags[] = {{"x_forwarded_for", &out.x_forwarded_for},
                                                {"x_forwarded_proto", &out.x_forwarded_proto},
                                                {"x_forwarded_host", &out.x_forwarded_host},
                                                {"x_real_ip", &out.x_real_ip}};
  for (auto& [key, target] : flags) {
    if (const Entry* p = map->find(key)) {
      r.readBool(*p, *target);
    }
  }
  if (const Entry* p = map->find("trusted")) {
    r.readCidrList(*p, out.trusted);
  }
}

// "client_address" or "header:NAME".
void readRateLimitKey(YamlReader& r, const Entry& e, RateLimit& out) {
  const std::string expected = "client_address or header:NAME";
  if (e.value.IsMap() && e.value.size() == 1 && e.value.begin()->first.IsScalar() &&
      e.value.begin()->first.Scalar() == "header") {
    // "header: X-Api-Key" (a space after the colon) is a YAML map.
    r.error(e.pos, e.path +
                       ": expected header:NAME without a space after the colon, e.g. header:X-Api-Key, "
                       "got a map");
    return;
  }
  std::string text;
  if (!r.readScalar(e, expected, text)) {
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
      r.error(e.pos, e.path + ": invalid header name " + quote(name) + " in " + quote(text) + "; expected a name of " +
                         kTokenChars + " such as header:X-Api-Key");
      return;
    }
    out.key = RateLimitKey::Header;
    out.header = std::move(name);
    return;
  }
  r.error(e.pos, e.path + ": unknown rate limit key " + quote(text) + "; expected " + expected);
}

// "N/s" or "N/m", stored per second.
void readRate(YamlReader& r, const Entry& e, double& out) {
  const std::string expected = "a rate such as 10/s or 600/m (requests per second or per minute)";
  std::string text;
  if (!r.readScalar(e, expected, text)) {
    return;
  }
  size_t slash = text.find('/');
  std::string_view number = std::string_view(text).substr(0, slash);
  std::string_view unit = slash == std::string::npos ? "" : std::string_view(text).substr(slash + 1);
  bool numeric = !number.empty() && number.front() >= '0' && number.front() <= '9' && number.back() != '.' &&
                 number.find_first_not_of("0123456789.") == std::string_view::npos &&
                 std::count(number.begin(), number.end(), '.') <= 1;
  if (numeric && slash == std::string::npos) {
    r.error(e.pos,
            e.path + ": a unit is required, e.g. \"" + text + "/s\" (per second) or \"" + text + "/m\" (per minute)");
    return;
  }
  if (!numeric || (unit != "s" && unit != "m")) {
    r.error(e.pos, e.path + ": expected " + expected + ", got " + quote(text));
    return;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // Too large, or so small that it rounds to 0.
    bool large = number.substr(0, number.find('.')).find_first_not_of('0') != std::string_view::npos;
    value = large ? kMaxRatePerSecond * 3600 : 0;
  } else if (ec != std::errc{} || end != number.data() + number.size()) {
    r.error(e.pos, e.path + ": expected " + expected + ", got " + quote(text));
    return;
  }
  double perSecond = unit == "m" ? value / 60 : value;
  if (!(perSecond > 0)) {
    r.error(e.pos, e.path + ": must be more than 0 requests, got " + quote(text) +
                       "; expected e.g. 10/s (remove the rate_limit section to switch limiting off)");
    return;
  }
  if (perSecond > kMaxRatePerSecond) {
    r.error(e.pos, e.path + ": must be at most 1000000/s (60000000/m), got " + quote(text));
    return;
  }
  out = perSecond;
}

void readRateLimit(YamlReader& r, const Entry& e, RateLimit& out, std::vector<SharedRef>& shared) {
  auto map = r.readSection(e, kRateLimitKeys);
  if (!map) {
    return;
  }
  out.enabled = true;
  if (const Entry* p = map->find("key")) {
    readRateLimitKey(r, *p, out);
  }
  if (r.requireKey(*map, "rate", "requests per second or per minute per key, e.g. 10/s or 600/m")) {
    readRate(r, *map->find("rate"), out.rate);
  }
  if (const Entry* p = map->find("burst")) {
    r.readUint(*p, 0, 100'000, out.burst);
  }
  if (const Entry* p = map->find("nodelay")) {
    r.readBool(*p, out.nodelay);
  }
  if (const Entry* p = map->find("max_keys")) {
    r.readUint(*p, 1, 10'000'000, out.max_keys);
  }
  if (const Entry* p = map->find("shared")) {
    if (r.readBool(*p, out.shared) && out.shared) {
      shared.push_back({p->path, p->keyPos});
    }
  }
}

}  // namespace

HttpListenerRefs readHttpListener(YamlReader& r, const Entry& e, HttpListener& out) {
  HttpListenerRefs refs;
  auto map = r.readSection(e, kHttpListenerKeys);
  if (!map) {
    refs.hasRoutes = true;  // unknown: do not also ask for a default pool
    return refs;
  }
  if (const Entry* p = map->find("max_request_line")) {
    r.readUint(*p, 64, kMiB, out.max_request_line);
  }
  if (const Entry* p = map->find("max_header_bytes")) {
    r.readUint(*p, 256, kMiB, out.max_header_bytes);
  }
  if (const Entry* p = map->find("max_headers")) {
    r.readUint(*p, 1, 10'000, out.max_headers);
  }
  if (const Entry* p = map->find("max_body_size")) {
    r.readUint64(*p, 0, kMaxBodySize, out.max_body_size);
  }
  if (const Entry* p = map->find("max_connections_per_client")) {
    r.readUint(*p, 0, 1'000'000, out.max_connections_per_client);
  }
  if (const Entry* p = map->find("path_dot_segments")) {
    if (auto i = r.readChoice(*p, kDotSegments)) {
      out.path_dot_segments = static_cast<DotSegments>(*i);
    }
  }
  if (const Entry* p = map->find("forwarded")) {
    readForwarded(r, *p, out.forwarded);
  }
  if (const Entry* p = map->find("rate_limit")) {
    readRateLimit(r, *p, out.rate_limit, refs.shared);
  }
  if (const Entry* p = map->find("routes")) {
    readRoutes(r, *p, out.routes, refs);
  }
  return refs;
}

}  // namespace fulcrum::config::detail
