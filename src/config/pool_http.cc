// pools[].http: how HTTP listeners use a pool (idle keep-alive connections, retries and their
// budget, the request limit, sticky sessions).
#include "config/schema.h"

#include <algorithm>
#include <string>
#include <utility>

#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string_view> kPoolHttpKeys = {"idle_connections", "idle_timeout", "retry_on", "retry_budget",
                                                     "retry_budget_min", "max_requests", "sticky"};
const std::vector<std::string_view> kStickyKeys = {"mode",   "cookie",    "path",   "max_age", "http_only",
                                                   "secure", "same_site", "shared", "ttl"};
const std::vector<std::string_view> kCookieOnlyKeys = {"cookie", "path", "max_age", "http_only", "secure", "same_site"};
// Bit i is 1u << i: the order of config::RetryOn.
const std::vector<std::string_view> kRetryOn = {"connect_failure", "reset", "timeout", "502", "503", "504"};
// In the order of config::StickyMode.
const std::vector<std::string_view> kStickyModes = {"none", "cookie", "client_address"};
const std::vector<std::string_view> kSameSite = {"Strict", "Lax", "None"};
constexpr Millis kMaxCookieAge = 8760h;  // a year

void readRetryOn(YamlReader& r, const Entry& e, uint32_t& out) {
  auto items = r.readList(e, "retry conditions such as [connect_failure, reset, 503]", true);
  if (!items) {
    return;
  }
  uint32_t bits = 0;
  bool ok = true;
  for (const Item& item : *items) {
    if (auto i = r.readChoice(asEntry(item), kRetryOn, true)) {
      bits |= 1u << *i;
    } else {
      ok = false;
    }
  }
  if (ok) {
    out = bits;
  }
}

void readSticky(YamlReader& r, const Entry& e, Sticky& out, std::vector<SharedRef>& shared) {
  auto map = r.readSection(e, kStickyKeys);
  if (!map) {
    return;
  }
  out.mode = StickyMode::Cookie;
  bool modeKnown = true;
  if (const Entry* p = map->find("mode")) {
    auto i = r.readChoice(*p, kStickyModes);
    modeKnown = i.has_value();
    if (i) {
      out.mode = static_cast<StickyMode>(*i);
    }
  }
  if (modeKnown && out.mode == StickyMode::ClientAddress) {
    for (std::string_view key : kCookieOnlyKeys) {
      if (const Entry* p = map->find(key)) {
        r.error(p->keyPos, p->path + ": only meaningful with mode: cookie; expected no " + std::string(key) +
                               " with mode client_address");
      }
    }
  }
  for (std::string_view key : {"shared", "ttl"}) {
    const Entry* p = map->find(key);
    if (p != nullptr && modeKnown && out.mode != StickyMode::ClientAddress) {
      // A cookie already travels with the client to every instance.
      r.error(p->keyPos, p->path + ": only meaningful with mode: client_address; expected no " + std::string(key) +
                             " with mode " + std::string(kStickyModes[static_cast<size_t>(out.mode)]));
    }
  }
  if (const Entry* p = map->find("shared")) {
    if (r.readBool(*p, out.shared) && out.shared) {
      shared.push_back({p->path, p->keyPos});
    }
  }
  if (const Entry* p = map->find("ttl")) {
    r.readDuration(*p, 1s, 24h, out.ttl);
  }
  if (const Entry* p = map->find("cookie")) {
    std::string name;
    if (r.readScalar(*p, "a cookie name such as FULCRUM_SRV", name)) {
      if (!isToken(name)) {
        r.error(p->pos, p->path + ": invalid cookie name " + quote(name) + "; expected " + kTokenChars);
      } else {
        out.cookie_name = std::move(name);
      }
    }
  }
  if (const Entry* p = map->find("path")) {
    std::string path;
    if (r.readScalar(*p, "a cookie path such as /", path)) {
      if (path.empty() || path.front() != '/') {
        r.error(p->pos, p->path + ": expected a path starting with '/', such as /, got " + quote(path));
      } else if (!std::all_of(path.begin(), path.end(), [](char c) { return isVisible(c) && c != ';' && c != ','; })) {
        r.error(p->pos, p->path + ": invalid character in " + quote(path) +
                            "; expected printable ASCII without spaces, ';' or ','");
      } else {
        out.path = std::move(path);
      }
    }
  }
  if (const Entry* p = map->find("max_age")) {
    r.readDuration(*p, 0ms, kMaxCookieAge, out.max_age);
  }
  if (const Entry* p = map->find("http_only")) {
    r.readBool(*p, out.http_only);
  }
  bool secureKnown = true;
  if (const Entry* p = map->find("secure")) {
    secureKnown = r.readBool(*p, out.secure);
  }
  if (const Entry* p = map->find("same_site")) {
    if (auto i = r.readChoice(*p, kSameSite, true)) {
      out.same_site = std::string(kSameSite[*i]);
      if (out.same_site == "None" && secureKnown && !out.secure) {
        r.error(p->pos, p->path +
                            ": SameSite=None needs secure: true (browsers drop the cookie otherwise); "
                            "expected secure: true, or same_site Lax or Strict");
      }
    }
  }
}

}  // namespace

void readPoolHttp(YamlReader& r, const Entry& e, PoolHttp& out, std::vector<SharedRef>& shared) {
  auto map = r.readSection(e, kPoolHttpKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("idle_connections")) {
    r.readUint(*p, 0, 10'000, out.idle_connections);
  }
  if (const Entry* p = map->find("idle_timeout")) {
    r.readDuration(*p, out.idle_timeout);
  }
  if (const Entry* p = map->find("retry_on")) {
    readRetryOn(r, *p, out.retry_on);
  }
  if (const Entry* p = map->find("retry_budget")) {
    r.readUint(*p, 0, 100, out.retry_budget_percent);
  }
  if (const Entry* p = map->find("retry_budget_min")) {
    r.readUint(*p, 0, 100'000, out.retry_budget_min);
  }
  if (const Entry* p = map->find("max_requests")) {
    r.readUint(*p, 0, 1'000'000, out.max_requests);
  }
  if (const Entry* p = map->find("sticky")) {
    readSticky(r, *p, out.sticky, shared);
  }
}

}  // namespace fulcrum::config::detail
