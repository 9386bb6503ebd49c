// Server health: the active health check of a pool (tcp or http, with its expected status and
// body), the agent check of a server, and passive outlier detection.
#include "config/schema.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "config/duration.h"

namespace fulcrum::config::detail {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string_view> kAgentKeys = {"port", "interval", "timeout"};
const std::vector<std::string_view> kHealthCheckKeys = {"type", "interval", "jitter", "timeout",
                                                        "rise", "fall",     "port",   "http"};
const std::vector<std::string_view> kHttpCheckKeys = {"method", "path", "host", "expect_status", "body_contains"};
const std::vector<std::string_view> kOutlierKeys = {"enabled",       "max_fails",         "fail_timeout",
                                                    "ejection_time", "max_ejection_time", "max_ejection_percent",
                                                    "error_rate",    "error_rate_window", "error_rate_min_requests"};
// In the order of config::CheckType.
const std::vector<std::string_view> kCheckTypes = {"none", "tcp", "http"};
const std::vector<std::string_view> kCheckMethods = {"GET", "HEAD", "OPTIONS", "POST"};
constexpr Millis kMinCheckInterval = 100ms;
constexpr size_t kMaxBodyContains = 1024;

// The interval/timeout pair shared by health and agent checks: timeout must fit in the interval.
void checkTimeoutFits(YamlReader& r, const Entry* timeoutEntry, const Entry* intervalEntry, bool intervalRead,
                      Millis timeout, Millis interval) {
  if (timeout <= interval || !intervalRead) {
    return;
  }
  if (timeoutEntry != nullptr) {
    r.error(timeoutEntry->pos, timeoutEntry->path + ": " + formatDuration(timeout) + " is longer than interval " +
                                   formatDuration(interval) + "; expected a timeout <= interval");
  } else {
    r.error(intervalEntry->pos, intervalEntry->path + ": " + formatDuration(interval) +
                                    " is shorter than the default timeout " + formatDuration(timeout) +
                                    "; expected an interval >= timeout, or set a shorter timeout");
  }
}

// One status code or range: 204, "200-399".
bool parseStatusRange(YamlReader& r, const YAML::Node& node, Pos pos, const std::string& path,
                      std::pair<int, int>& out) {
  const std::string expected = "a status code or range within 100..599, such as 200 or \"200-399\"";
  if (!node.IsScalar()) {
    r.error(pos, path + ": expected " + expected + ", got " + describe(node));
    return false;
  }
  std::string_view text = node.Scalar();
  size_t dash = text.find('-');
  std::string_view lo = text.substr(0, dash);
  std::string_view hi = dash == std::string_view::npos ? lo : text.substr(dash + 1);
  if (!isDigits(lo) || !isDigits(hi) || lo.size() > 3 || hi.size() > 3) {
    r.error(pos, path + ": expected " + expected + ", got " + describe(node));
    return false;
  }
  int low = std::stoi(std::string(lo));
  int high = std::stoi(std::string(hi));
  if (low < 100 || high > 599 || low > 599 || high < 100) {
    r.error(pos, path + ": status codes must be between 100 and 599, got " + quote(text));
    return false;
  }
  if (low > high) {
    r.error(pos, path + ": empty status range " + quote(text) + "; expected low-high with low <= high");
    return false;
  }
  out = {low, high};
  return true;
}

void readExpectStatus(YamlReader& r, const Entry& e, std::vector<std::pair<int, int>>& out) {
  std::vector<std::pair<int, int>> ranges;
  bool ok = true;
  if (e.value.IsSequence()) {
    auto items = r.readList(e, "status codes or ranges", false);
    if (!items) {
      return;
    }
    for (const Item& item : *items) {
      std::pair<int, int> range;
      if (parseStatusRange(r, item.node, item.pos, item.path, range)) {
        ranges.push_back(range);
      } else {
        ok = false;
      }
    }
  } else {
    std::pair<int, int> range;
    ok = parseStatusRange(r, e.value, e.pos, e.path, range);
    ranges.push_back(range);
  }
  if (ok) {
    out = std::move(ranges);
  }
}

void readHttpCheck(YamlReader& r, const Entry& e, HealthCheck& h) {
  auto map = r.readSection(e, kHttpCheckKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("method")) {
    if (auto i = r.readChoice(*p, kCheckMethods, true)) {
      h.method = std::string(kCheckMethods[*i]);
    }
  }
  if (const Entry* p = map->find("path")) {
    std::string text;
    if (r.readScalar(*p, "a request path such as /healthz", text)) {
      auto bad = std::find_if(text.begin(), text.end(), [](char c) { return c <= ' ' || c >= 0x7f; });
      if (text.empty() || text.front() != '/') {
        r.error(p->pos, p->path + ": expected a path starting with '/', such as /healthz, got " + quote(text));
      } else if (bad != text.end()) {
        r.error(p->pos, p->path + ": invalid character in " + quote(text) +
                            "; expected printable ASCII without spaces (percent-encode others, e.g. %20)");
      } else {
        h.path = std::move(text);
      }
    }
  }
  if (const Entry* p = map->find("host")) {
    std::string text;
    if (r.readScalar(*p, "a Host header value such as example.com", text)) {
      bool ok = !text.empty() && text.size() <= 255 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("-._:[]").find(c) != std::string_view::npos;
      });
      if (!ok) {
        r.error(p->pos, p->path + ": invalid Host header " + quote(text) +
                            "; expected a host name or address with an optional port, such as example.com or "
                            "example.com:8080");
      } else {
        h.host = std::move(text);
      }
    }
  }
  if (const Entry* p = map->find("expect_status")) {
    readExpectStatus(r, *p, h.expect_status);
  }
  if (const Entry* p = map->find("body_contains")) {
    std::string text;
    if (r.readString(*p, text)) {
      if (text.size() > kMaxBodyContains) {
        r.error(p->pos, p->path + ": " + std::to_string(text.size()) + " bytes is too long; expected at most " +
                            std::to_string(kMaxBodyContains) + " bytes");
      } else {
        h.body_contains = std::move(text);
      }
    }
  }
}

}  // namespace

void readHealthCheck(YamlReader& r, const Entry& e, HealthCheck& h) {
  auto map = r.readSection(e, kHealthCheckKeys);
  if (!map) {
    return;
  }
  const Entry* http = map->find("http");
  bool typeKnown = true;
  if (const Entry* p = map->find("type")) {
    auto i = r.readChoice(*p, kCheckTypes);
    typeKnown = i.has_value();
    if (i) {
      h.type = static_cast<CheckType>(*i);
    }
  } else {
    // A health_check section without a type means a check is wanted: http if configured, else tcp.
    h.type = http != nullptr ? CheckType::Http : CheckType::Tcp;
  }
  const Entry* interval = map->find("interval");
  bool intervalRead =
      interval == nullptr || r.readDuration(*interval, kMinCheckInterval, kMaxCheckDuration, h.interval);
  const Entry* timeout = map->find("timeout");
  bool timeoutRead = timeout == nullptr || r.readDuration(*timeout, kMinTimeout, kMaxCheckDuration, h.timeout);
  if (timeoutRead) {
    checkTimeoutFits(r, timeout, interval, intervalRead, h.timeout, h.interval);
  }
  h.jitter = h.interval / 10;
  if (const Entry* p = map->find("jitter")) {
    if (r.readDuration(*p, 0ms, kMaxCheckDuration, h.jitter) && intervalRead && h.jitter > h.interval) {
      r.error(p->pos, p->path + ": " + formatDuration(h.jitter) + " is longer than interval " +
                          formatDuration(h.interval) + "; expected a jitter between 0ms and the interval");
    }
  }
  if (const Entry* p = map->find("rise")) {
    r.readUint(*p, 1, 100, h.rise);
  }
  if (const Entry* p = map->find("fall")) {
    r.readUint(*p, 1, 100, h.fall);
  }
  if (const Entry* p = map->find("port")) {
    r.readPort(*p, 0, h.port);
  }
  if (http != nullptr) {
    if (typeKnown && h.type == CheckType::Tcp) {
      r.error(http->keyPos, http->path + ": only valid with type: http; expected no http section with type tcp");
    }
    readHttpCheck(r, *http, h);
  }
}

void readAgent(YamlReader& r, const Entry& e, AgentCheck& a) {
  auto map = r.readSection(e, kAgentKeys);
  if (!map) {
    return;
  }
  if (r.requireKey(*map, "port", "the agent's TCP port, 1..65535")) {
    r.readPort(*map->find("port"), 1, a.port);
  }
  const Entry* interval = map->find("interval");
  bool intervalRead =
      interval == nullptr || r.readDuration(*interval, kMinCheckInterval, kMaxCheckDuration, a.interval);
  const Entry* timeout = map->find("timeout");
  if (timeout == nullptr || r.readDuration(*timeout, kMinTimeout, kMaxCheckDuration, a.timeout)) {
    checkTimeoutFits(r, timeout, interval, intervalRead, a.timeout, a.interval);
  }
}

void readOutlierDetection(YamlReader& r, const Entry& e, OutlierDetection& o) {
  auto map = r.readSection(e, kOutlierKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("enabled")) {
    r.readBool(*p, o.enabled);
  }
  if (const Entry* p = map->find("max_fails")) {
    r.readUint(*p, 1, 1000, o.max_fails);
  }
  if (const Entry* p = map->find("fail_timeout")) {
    r.readDuration(*p, kMinTimeout, kMaxCheckDuration, o.fail_timeout);
  }
  const Entry* ejection = map->find("ejection_time");
  bool ejectionRead = ejection == nullptr || r.readDuration(*ejection, o.ejection_time);
  const Entry* maxEjection = map->find("max_ejection_time");
  bool maxRead = maxEjection == nullptr || r.readDuration(*maxEjection, o.max_ejection_time);
  if (ejectionRead && maxRead && o.max_ejection_time < o.ejection_time) {
    if (maxEjection != nullptr) {
      r.error(maxEjection->pos, maxEjection->path + ": " + formatDuration(o.max_ejection_time) +
                                    " is shorter than ejection_time " + formatDuration(o.ejection_time) +
                                    "; expected max_ejection_time >= ejection_time");
    } else {
      r.error(ejection->pos, ejection->path + ": " + formatDuration(o.ejection_time) +
                                 " is longer than max_ejection_time (" + formatDuration(o.max_ejection_time) +
                                 " by default); expected ejection_time <= max_ejection_time, or set a larger "
                                 "max_ejection_time");
    }
  }
  if (const Entry* p = map->find("max_ejection_percent")) {
    r.readUint(*p, 0, 100, o.max_ejection_percent);
  }
  if (const Entry* p = map->find("error_rate")) {
    r.readUint(*p, 0, 100, o.error_rate_percent);
  }
  if (const Entry* p = map->find("error_rate_window")) {
    r.readDuration(*p, kMinTimeout, kMaxCheckDuration, o.error_rate_window);
  }
  if (const Entry* p = map->find("error_rate_min_requests")) {
    r.readUint(*p, 1, 1'000'000, o.error_rate_min_requests);
  }
}

}  // namespace fulcrum::config::detail
