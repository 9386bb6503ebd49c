#include "config/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <tuple>
#include <utility>

#include "config/duration.h"
#include "config/address.h"
#include "config/admin_loader.h"
#include "config/http_loader.h"
#include "config/yaml_reader.h"

namespace fulcrum::config {

std::string Diagnostic::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + message;
}

namespace {

using namespace std::chrono_literals;
using namespace detail;

const std::vector<std::string_view> kTopKeys = {"workers",   "log_level", "timeouts",  "listeners",
                                                "pools",     "admin",     "access_log"};
const std::vector<std::string_view> kTimeoutKeys = {"connect",      "idle",         "queue",    "drain",
                                                    "handshake",    "request_head", "request_body",
                                                    "response",     "keepalive"};
const std::vector<std::string_view> kListenerKeys = {
    "name", "bind", "protocol", "pool", "proxy_protocol", "trusted_proxies", "backlog", "udp", "http"};
const std::vector<std::string_view> kUdpKeys = {"flow_idle", "max_flows"};
const std::vector<std::string_view> kPoolKeys = {
    "name",     "algorithm", "retries",    "queue_size",      "send_proxy_protocol", "servers",
    "hash_key", "vnodes",    "slow_start", "panic_threshold", "health_check",        "outlier_detection",
    "http"};
const std::vector<std::string_view> kServerKeys = {"address", "weight",   "max_connections", "backup",
                                                   "drain",   "disabled", "agent"};
const std::vector<std::string_view> kAgentKeys = {"port", "interval", "timeout"};
const std::vector<std::string_view> kHealthCheckKeys = {"type", "interval", "jitter", "timeout",
                                                        "rise", "fall",     "port",   "http"};
const std::vector<std::string_view> kHttpCheckKeys = {"method", "path", "host", "expect_status", "body_contains"};
const std::vector<std::string_view> kOutlierKeys = {"enabled", "max_fails",
                                                    "fail_timeout",
                                                    "ejection_time",
                                                    "max_ejection_time",
                                                    "max_ejection_percent",
                                                    "error_rate",
                                                    "error_rate_window",
                                                    "error_rate_min_requests"};
// In the order of config::CheckType.
const std::vector<std::string_view> kCheckTypes = {"none", "tcp", "http"};
const std::vector<std::string_view> kCheckMethods = {"GET", "HEAD", "OPTIONS", "POST"};
const std::vector<std::string_view> kLogLevels = {"debug", "info", "warn", "error"};
constexpr Millis kMinCheckInterval = 100ms;
constexpr Millis kMaxCheckDuration = 1h;
constexpr size_t kMaxBodyContains = 1024;

std::string hashKeyText(const HashKey& key) {
  switch (key.source) {
    case HashKeySource::ClientAddress:
      return "client_address";
    case HashKeySource::Header:
      return "header:" + key.name;
    case HashKeySource::Cookie:
      return "cookie:" + key.name;
    case HashKeySource::Path:
      return "path";
  }
  return "?";
}

// The schema: reads the top level, listeners and pools into a Config. The HTTP parts
// (listeners[].http, pools[].http) are in http_loader.cc.
class Loader : public YamlReader {
 public:
  Loader(std::string_view text, std::string source) : YamlReader(text, std::move(source)) {}

  LoadResult run() {
    try {
      YAML::Node root;
      if (readDocument(root)) {
        readTop(root);
      }
    } catch (const std::exception& e) {
      // The readers do not throw by design; this is a last guard so nothing escapes the loader.
      error({1, 1}, std::string("internal error while reading the config: ") + e.what());
    }
    return finish();
  }

 private:
  // --- the schema ---

  void readTop(const YAML::Node& root) {
    Pos rootPos = toPos(root.Mark());
    auto top = readMap(root, rootPos.line == 0 ? Pos{1, 1} : rootPos, "", kTopKeys);
    if (!top) {
      return;
    }
    if (const Entry* e = top->find("workers")) {
      readUint(*e, 0, 1024, config_.workers);
    }
    if (const Entry* e = top->find("log_level")) {
      if (auto i = readChoice(*e, kLogLevels)) {
        config_.log_level = std::string(kLogLevels[*i]);
      }
    }
    if (const Entry* e = top->find("timeouts")) {
      readTimeouts(*e);
    }
    readAdmin(*this, top->find("admin"), config_.admin);
    if (const Entry* e = top->find("access_log")) {
      readAccessLog(*this, *e, config_.access_log);
    }
    if (requireKey(*top, "pools", "at least one pool of servers")) {
      readPools(*top->find("pools"));
    }
    if (requireKey(*top, "listeners", "at least one listener")) {
      readListeners(*top->find("listeners"));
    }
    checkPoolReferences();
    checkHashKeys();
    checkAdminBind(top->find("admin"));
  }

  // The admin listener is a TCP socket of its own: it cannot share an address (or a wildcard
  // of its port) with a tcp or http listener.
  void checkAdminBind(const Entry* admin) {
    if (!config_.admin.enabled) {
      return;
    }
    std::optional<Pos> adminPos;
    if (admin != nullptr && admin->value.IsMap() && admin->value["bind"]) {
      adminPos = toPos(admin->value["bind"].Mark());
    }
    for (const Bound& b : binds_) {
      if (isUdp(b.protocol) || !bindsOverlap(b.address, config_.admin.bind)) {
        continue;
      }
      if (adminPos) {
        error(*adminPos, "admin.bind: " + config_.admin.bind.text + " is also the bind of listener " +
                             quote(b.listener) + " (line " + std::to_string(b.pos.line) +
                             "); expected an address and port of its own for the admin listener");
      } else {
        error(b.pos, "listeners: " + b.address.text + " of listener " + quote(b.listener) +
                         " takes the admin listener's default address " + config_.admin.bind.text +
                         "; expected another port, or admin.bind set to one of its own");
      }
    }
  }

  void readTimeouts(const Entry& e) {
    auto map = readSection(e, kTimeoutKeys);
    if (!map) {
      return;
    }
    Timeouts& t = config_.timeouts;
    std::pair<std::string_view, Millis*> fields[] = {{"connect", &t.connect},
                                                     {"idle", &t.idle},
                                                     {"queue", &t.queue},
                                                     {"drain", &t.drain},
                                                     {"handshake", &t.handshake},
                                                     {"request_head", &t.request_head},
                                                     {"request_body", &t.request_body},
                                                     {"response", &t.response},
                                                     {"keepalive", &t.keepalive}};
    for (auto& [key, target] : fields) {
      if (const Entry* field = map->find(key)) {
        readDuration(*field, *target);
      }
    }
  }

  // Where each listener's cross-checked values came from, for dangling-reference errors.
  struct ListenerRefs {
    std::string path;
    Pos poolPos;
    bool poolRead = false;
    bool protocolRead = false;
    std::vector<PoolRef> routePools;  // pools named by http routes
  };

  // A pool whose hash key needs an L7 listener, checked against the listeners that use it.
  struct HashKeyRef {
    size_t pool;  // index into config_.pools
    std::string path;
    Pos pos;
  };

  struct Named {
    std::string name;
    Pos pos;
  };

  void readListeners(const Entry& e) {
    auto items = readList(e, "listeners", false);
    if (!items) {
      return;
    }
    std::vector<Named> names;
    for (const Item& item : *items) {
      auto map = readMap(item.node, item.pos, item.path, kListenerKeys);
      if (!map) {
        continue;
      }
      Listener l;
      ListenerRefs refs;
      bool haveName =
          requireKey(*map, "name", "a unique listener name") && readName(*map->find("name"), l.name);
      if (haveName) {
        const Entry* nameEntry = map->find("name");
        auto dup = std::find_if(names.begin(), names.end(), [&](const Named& n) { return n.name == l.name; });
        if (dup != names.end()) {
          error(nameEntry->pos, nameEntry->path + ": duplicate listener name " + quote(l.name) +
                                    " (first used at line " + std::to_string(dup->pos.line) +
                                    "); expected unique names");
        } else {
          names.push_back({l.name, nameEntry->pos});
        }
      }
      bool haveBind = requireKey(*map, "bind", "host:port to listen on, e.g. 127.0.0.1:8080") &&
                      readAddress(*map->find("bind"), l.bind);
      bool haveProtocol = true;
      if (const Entry* p = map->find("protocol")) {
        haveProtocol = readProtocol(*p, l.protocol);
      }
      refs.protocolRead = haveProtocol;
      bool isHttp = haveProtocol && l.protocol == Protocol::Http;
      if (const Entry* p = map->find("pool")) {
        refs.path = p->path;
        refs.poolPos = p->pos;
        refs.poolRead = readString(*p, l.pool);
      } else if (haveProtocol && !isHttp) {
        // Optional on http listeners (checked with their routes below); not blamed on a protocol
        // that could not be read.
        requireKey(*map, "pool", "the name of the pool that serves this listener");
      }
      bool proxyKnown = true;
      if (const Entry* p = map->find("proxy_protocol")) {
        proxyKnown = readBool(*p, l.accept_proxy);
        if (proxyKnown && l.accept_proxy && haveProtocol && l.protocol == Protocol::Udp) {
          error(p->pos, p->path +
                            ": PROXY protocol is only supported on tcp listeners and http listeners; expected "
                            "false (or no proxy_protocol key) for protocol udp");
        }
      }
      if (const Entry* p = map->find("trusted_proxies")) {
        readCidrList(*p, l.trusted_proxies);
        if (proxyKnown && !l.accept_proxy && p->value.IsSequence() && p->value.size() > 0) {
          error(p->keyPos, p->path +
                               ": only meaningful with proxy_protocol: true; expected proxy_protocol: "
                               "true on this listener, or no trusted_proxies");
        }
      }
      if (const Entry* p = map->find("backlog")) {
        readUint(*p, 1, 65535, l.backlog);
      }
      if (const Entry* p = map->find("udp")) {
        if (haveProtocol && l.protocol != Protocol::Udp) {
          error(p->keyPos, p->path + ": only valid with protocol: udp; expected no udp section on " +
                               withArticle(l.protocol) + " listener");
        }
        readUdp(*p, l);
      }
      HttpListenerRefs http;
      if (const Entry* p = map->find("http")) {
        if (haveProtocol && !isHttp) {
          error(p->keyPos, p->path + ": only valid with protocol: http; expected no http section on " +
                               withArticle(l.protocol) + " listener");
        }
        http = readHttpListener(*this, *p, l.http);
        refs.routePools = std::move(http.pools);
      }
      if (isHttp && map->find("pool") == nullptr && !http.hasRoutes) {
        requireKey(*map, "pool",
                   "an http listener needs a pool (used when no route matches), http.routes, or both");
      }
      if (haveBind && haveProtocol) {
        // http listens on tcp: an http and a tcp listener cannot share an address.
        auto dup = std::find_if(binds_.begin(), binds_.end(), [&](const Bound& b) {
          return isUdp(b.protocol) == isUdp(l.protocol) && sameEndpoint(b.address, l.bind);
        });
        const Entry* bindEntry = map->find("bind");
        auto overlap = std::find_if(binds_.begin(), binds_.end(), [&](const Bound& b) {
          return isUdp(b.protocol) == isUdp(l.protocol) && bindsOverlap(b.address, l.bind);
        });
        if (dup != binds_.end()) {
          std::string both = dup->protocol == l.protocol
                                 ? ""
                                 : " (" + protocolName(dup->protocol) + " and " + protocolName(l.protocol) +
                                       " listeners both listen on tcp)";
          error(bindEntry->pos, bindEntry->path + ": duplicate bind " + l.bind.text + "/" +
                                    (isUdp(l.protocol) ? "udp" : "tcp") + ", already used by listener " +
                                    quote(dup->listener) + " at line " + std::to_string(dup->pos.line) + both +
                                    "; expected each address and protocol once");
        } else if (overlap != binds_.end()) {
          error(bindEntry->pos, bindEntry->path + ": " + l.bind.text + " overlaps " + overlap->address.text +
                                    "/" + (isUdp(l.protocol) ? "udp" : "tcp") + " of listener " +
                                    quote(overlap->listener) + " at line " + std::to_string(overlap->pos.line) +
                                    " (a wildcard address takes its port on every address); expected either "
                                    "the wildcard or specific addresses on one port, not both");
        } else {
          binds_.push_back({l.bind, l.protocol, l.name, bindEntry->pos});
        }
      }
      config_.listeners.push_back(std::move(l));
      listenerRefs_.push_back(refs);
    }
  }

  static bool isUdp(Protocol p) { return p == Protocol::Udp; }

  static std::string protocolName(Protocol p) {
    return p == Protocol::Udp ? "udp" : p == Protocol::Http ? "http" : "tcp";
  }

  static std::string withArticle(Protocol p) { return (p == Protocol::Http ? "an " : "a ") + protocolName(p); }

  bool readProtocol(const Entry& e, Protocol& out) {
    std::string text;
    if (!readScalar(e, "tcp, udp or http", text)) {
      return false;
    }
    for (Protocol p : {Protocol::Tcp, Protocol::Udp, Protocol::Http}) {
      if (text == protocolName(p)) {
        out = p;
        return true;
      }
    }
    error(e.pos, e.path + ": unknown protocol " + quote(text) + "; expected tcp, udp or http");
    return false;
  }

  void readUdp(const Entry& e, Listener& l) {
    auto map = readSection(e, kUdpKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("flow_idle")) {
      readDuration(*p, l.udp_flow_idle);
    }
    if (const Entry* p = map->find("max_flows")) {
      readUint(*p, 1, 1'000'000, l.udp_max_flows);
    }
  }

  void readPools(const Entry& e) {
    auto items = readList(e, "pools", false);
    if (!items) {
      return;
    }
    poolsComplete_ = true;
    for (const Item& item : *items) {
      auto map = readMap(item.node, item.pos, item.path, kPoolKeys);
      if (!map) {
        poolsComplete_ = false;
        continue;
      }
      Pool pool;
      if (requireKey(*map, "name", "a unique pool name") && readName(*map->find("name"), pool.name)) {
        const Entry* nameEntry = map->find("name");
        auto dup = std::find_if(poolNames_.begin(), poolNames_.end(),
                                [&](const Named& n) { return n.name == pool.name; });
        if (dup != poolNames_.end()) {
          error(nameEntry->pos, nameEntry->path + ": duplicate pool name " + quote(pool.name) +
                                    " (first used at line " + std::to_string(dup->pos.line) +
                                    "); expected unique names");
        } else {
          poolNames_.push_back({pool.name, nameEntry->pos});
        }
      } else {
        poolsComplete_ = false;
      }
      bool algorithmKnown = true;
      if (const Entry* p = map->find("algorithm")) {
        auto i = readChoice(*p, algorithmNames(), true);
        algorithmKnown = i.has_value();
        if (i) {
          pool.algorithm = static_cast<Algorithm>(*i);
        }
      }
      readBalancing(*map, pool, algorithmKnown);
      if (const Entry* p = map->find("retries")) {
        readUint(*p, 0, 10, pool.retries);
      }
      if (const Entry* p = map->find("queue_size")) {
        readUint(*p, 0, 100'000, pool.queue_size);
      }
      if (const Entry* p = map->find("send_proxy_protocol")) {
        if (auto i = readChoice(*p, {"none", "v1", "v2"})) {
          const ProxyProtocolVersion versions[] = {ProxyProtocolVersion::None, ProxyProtocolVersion::V1,
                                                   ProxyProtocolVersion::V2};
          pool.send_proxy = versions[*i];
        }
      }
      if (const Entry* p = map->find("health_check")) {
        readHealthCheck(*p, pool.health_check);
      } else {
        HealthCheck& h = pool.health_check;
        h.jitter = h.interval / 10;
      }
      if (const Entry* p = map->find("outlier_detection")) {
        readOutlierDetection(*p, pool.outlier_detection);
      }
      if (const Entry* p = map->find("http")) {
        readPoolHttp(*this, *p, pool.http);
      }
      if (requireKey(*map, "servers", "at least one server address")) {
        readServers(*map->find("servers"), pool);
      }
      config_.pools.push_back(std::move(pool));
    }
  }

  // hash_key, vnodes, slow_start and panic_threshold. `algorithmKnown` is false when the pool's
  // algorithm could not be read: the algorithm-specific keys are then not blamed on it.
  void readBalancing(const MapView& map, Pool& pool, bool algorithmKnown) {
    std::string algorithm(algorithmName(pool.algorithm));
    if (const Entry* p = map.find("hash_key")) {
      if (readHashKey(*p, pool.hash_key) && algorithmKnown) {
        if (!hashesOnKey(pool.algorithm)) {
          error(p->keyPos, p->path + ": only meaningful with algorithm ip_hash, consistent_hash or maglev; "
                                     "expected no hash_key with algorithm " + algorithm);
        } else if (pool.algorithm == Algorithm::IpHash &&
                   pool.hash_key.source != HashKeySource::ClientAddress) {
          error(p->pos, p->path + ": ip_hash hashes the client address only; expected client_address, got " +
                            hashKeyText(pool.hash_key) + " (use consistent_hash or maglev for other keys)");
        } else if (pool.hash_key.source != HashKeySource::ClientAddress) {
          hashKeyRefs_.push_back({config_.pools.size(), p->path, p->pos});
        }
      }
    }
    if (const Entry* p = map.find("vnodes")) {
      if (readUint(*p, 1, 10'000, pool.vnodes) && algorithmKnown && pool.algorithm != Algorithm::ConsistentHash) {
        error(p->keyPos, p->path + ": only meaningful with algorithm consistent_hash; expected no vnodes "
                                   "with algorithm " + algorithm);
      }
    }
    if (const Entry* p = map.find("slow_start")) {
      readDuration(*p, 0ms, kMaxCheckDuration, pool.slow_start);
    }
    if (const Entry* p = map.find("panic_threshold")) {
      readUint(*p, 0, 100, pool.panic_threshold);
    }
  }

  // "client_address", "path", "header:NAME" or "cookie:NAME".
  bool readHashKey(const Entry& e, HashKey& out) {
    const std::string expected = "client_address, path, header:NAME or cookie:NAME";
    std::string text;
    if (e.value.IsMap() && e.value.size() == 1 && e.value.begin()->first.IsScalar()) {
      std::string kind = e.value.begin()->first.Scalar();
      if (kind == "header" || kind == "cookie") {
        // "header: X-User" (a space after the colon) is a YAML map.
        error(e.pos, e.path + ": expected " + kind + ":NAME without a space after the colon, e.g. " +
                         (kind == "header" ? "header:X-User" : "cookie:session") + ", got a map");
        return false;
      }
    }
    if (!readScalar(e, expected, text)) {
      return false;
    }
    if (text == "client_address") {
      out = HashKey{HashKeySource::ClientAddress, ""};
      return true;
    }
    if (text == "path") {
      out = HashKey{HashKeySource::Path, ""};
      return true;
    }
    size_t colon = text.find(':');
    std::string_view kind = std::string_view(text).substr(0, colon);
    if (colon != std::string::npos && (kind == "header" || kind == "cookie")) {
      std::string name = text.substr(colon + 1);
      if (!isToken(name)) {
        error(e.pos, e.path + ": invalid " + std::string(kind) + " name " + quote(name) + " in " + quote(text) +
                         "; expected a name of letters, digits and !#$%&'*+-.^_`|~ such as " +
                         (kind == "header" ? "header:X-User" : "cookie:session"));
        return false;
      }
      out = HashKey{kind == "header" ? HashKeySource::Header : HashKeySource::Cookie, std::move(name)};
      return true;
    }
    error(e.pos, e.path + ": unknown hash key " + quote(text) + "; expected " + expected);
    return false;
  }

  // The interval/timeout pair shared by health and agent checks: timeout must fit in the interval.
  void checkTimeoutFits(const Entry* timeoutEntry, const Entry* intervalEntry, bool intervalRead,
                        Millis timeout, Millis interval) {
    if (timeout <= interval || !intervalRead) {
      return;
    }
    if (timeoutEntry != nullptr) {
      error(timeoutEntry->pos, timeoutEntry->path + ": " + formatDuration(timeout) + " is longer than interval " +
                                   formatDuration(interval) + "; expected a timeout <= interval");
    } else {
      error(intervalEntry->pos, intervalEntry->path + ": " + formatDuration(interval) +
                                    " is shorter than the default timeout " + formatDuration(timeout) +
                                    "; expected an interval >= timeout, or set a shorter timeout");
    }
  }

  void readHealthCheck(const Entry& e, HealthCheck& h) {
    auto map = readSection(e, kHealthCheckKeys);
    if (!map) {
      return;
    }
    const Entry* http = map->find("http");
    bool typeKnown = true;
    if (const Entry* p = map->find("type")) {
      auto i = readChoice(*p, kCheckTypes);
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
        interval == nullptr || readDuration(*interval, kMinCheckInterval, kMaxCheckDuration, h.interval);
    const Entry* timeout = map->find("timeout");
    bool timeoutRead = timeout == nullptr || readDuration(*timeout, kMinTimeout, kMaxCheckDuration, h.timeout);
    if (timeoutRead) {
      checkTimeoutFits(timeout, interval, intervalRead, h.timeout, h.interval);
    }
    h.jitter = h.interval / 10;
    if (const Entry* p = map->find("jitter")) {
      if (readDuration(*p, 0ms, kMaxCheckDuration, h.jitter) && intervalRead && h.jitter > h.interval) {
        error(p->pos, p->path + ": " + formatDuration(h.jitter) + " is longer than interval " +
                          formatDuration(h.interval) + "; expected a jitter between 0ms and the interval");
      }
    }
    if (const Entry* p = map->find("rise")) {
      readUint(*p, 1, 100, h.rise);
    }
    if (const Entry* p = map->find("fall")) {
      readUint(*p, 1, 100, h.fall);
    }
    if (const Entry* p = map->find("port")) {
      readPort(*p, 0, h.port);
    }
    if (http != nullptr) {
      if (typeKnown && h.type == CheckType::Tcp) {
        error(http->keyPos, http->path + ": only valid with type: http; expected no http section with type tcp");
      }
      readHttpCheck(*http, h);
    }
  }

  void readHttpCheck(const Entry& e, HealthCheck& h) {
    auto map = readSection(e, kHttpCheckKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("method")) {
      if (auto i = readChoice(*p, kCheckMethods, true)) {
        h.method = std::string(kCheckMethods[*i]);
      }
    }
    if (const Entry* p = map->find("path")) {
      std::string text;
      if (readScalar(*p, "a request path such as /healthz", text)) {
        auto bad = std::find_if(text.begin(), text.end(), [](char c) { return c <= ' ' || c >= 0x7f; });
        if (text.empty() || text.front() != '/') {
          error(p->pos, p->path + ": expected a path starting with '/', such as /healthz, got " + quote(text));
        } else if (bad != text.end()) {
          error(p->pos, p->path + ": invalid character in " + quote(text) +
                            "; expected printable ASCII without spaces (percent-encode others, e.g. %20)");
        } else {
          h.path = std::move(text);
        }
      }
    }
    if (const Entry* p = map->find("host")) {
      std::string text;
      if (readScalar(*p, "a Host header value such as example.com", text)) {
        bool ok = !text.empty() && text.size() <= 255 && std::all_of(text.begin(), text.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("-._:[]").find(c) != std::string_view::npos;
        });
        if (!ok) {
          error(p->pos, p->path + ": invalid Host header " + quote(text) +
                            "; expected a host name or address with an optional port, such as example.com or "
                            "example.com:8080");
        } else {
          h.host = std::move(text);
        }
      }
    }
    if (const Entry* p = map->find("expect_status")) {
      readExpectStatus(*p, h.expect_status);
    }
    if (const Entry* p = map->find("body_contains")) {
      std::string text;
      if (readString(*p, text)) {
        if (text.size() > kMaxBodyContains) {
          error(p->pos, p->path + ": " + std::to_string(text.size()) + " bytes is too long; expected at most " +
                            std::to_string(kMaxBodyContains) + " bytes");
        } else {
          h.body_contains = std::move(text);
        }
      }
    }
  }

  // One status code or range: 204, "200-399".
  bool parseStatusRange(const YAML::Node& node, Pos pos, const std::string& path, std::pair<int, int>& out) {
    const std::string expected = "a status code or range within 100..599, such as 200 or \"200-399\"";
    if (!node.IsScalar()) {
      error(pos, path + ": expected " + expected + ", got " + describe(node));
      return false;
    }
    std::string_view text = node.Scalar();
    size_t dash = text.find('-');
    std::string_view lo = text.substr(0, dash);
    std::string_view hi = dash == std::string_view::npos ? lo : text.substr(dash + 1);
    if (!isDigits(lo) || !isDigits(hi) || lo.size() > 3 || hi.size() > 3) {
      error(pos, path + ": expected " + expected + ", got " + describe(node));
      return false;
    }
    int low = std::stoi(std::string(lo));
    int high = std::stoi(std::string(hi));
    if (low < 100 || high > 599 || low > 599 || high < 100) {
      error(pos, path + ": status codes must be between 100 and 599, got " + quote(text));
      return false;
    }
    if (low > high) {
      error(pos, path + ": empty status range " + quote(text) + "; expected low-high with low <= high");
      return false;
    }
    out = {low, high};
    return true;
  }

  void readExpectStatus(const Entry& e, std::vector<std::pair<int, int>>& out) {
    std::vector<std::pair<int, int>> ranges;
    bool ok = true;
    if (e.value.IsSequence()) {
      auto items = readList(e, "status codes or ranges", false);
      if (!items) {
        return;
      }
      for (const Item& item : *items) {
        std::pair<int, int> range;
        if (parseStatusRange(item.node, item.pos, item.path, range)) {
          ranges.push_back(range);
        } else {
          ok = false;
        }
      }
    } else {
      std::pair<int, int> range;
      ok = parseStatusRange(e.value, e.pos, e.path, range);
      ranges.push_back(range);
    }
    if (ok) {
      out = std::move(ranges);
    }
  }

  void readOutlierDetection(const Entry& e, OutlierDetection& o) {
    auto map = readSection(e, kOutlierKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("enabled")) {
      readBool(*p, o.enabled);
    }
    if (const Entry* p = map->find("max_fails")) {
      readUint(*p, 1, 1000, o.max_fails);
    }
    if (const Entry* p = map->find("fail_timeout")) {
      readDuration(*p, kMinTimeout, kMaxCheckDuration, o.fail_timeout);
    }
    const Entry* ejection = map->find("ejection_time");
    bool ejectionRead = ejection == nullptr || readDuration(*ejection, o.ejection_time);
    const Entry* maxEjection = map->find("max_ejection_time");
    bool maxRead = maxEjection == nullptr || readDuration(*maxEjection, o.max_ejection_time);
    if (ejectionRead && maxRead && o.max_ejection_time < o.ejection_time) {
      if (maxEjection != nullptr) {
        error(maxEjection->pos, maxEjection->path + ": " + formatDuration(o.max_ejection_time) +
                                    " is shorter than ejection_time " + formatDuration(o.ejection_time) +
                                    "; expected max_ejection_time >= ejection_time");
      } else {
        error(ejection->pos, ejection->path + ": " + formatDuration(o.ejection_time) +
                                 " is longer than max_ejection_time (" + formatDuration(o.max_ejection_time) +
                                 " by default); expected ejection_time <= max_ejection_time, or set a larger "
                                 "max_ejection_time");
      }
    }
    if (const Entry* p = map->find("max_ejection_percent")) {
      readUint(*p, 0, 100, o.max_ejection_percent);
    }
    if (const Entry* p = map->find("error_rate")) {
      readUint(*p, 0, 100, o.error_rate_percent);
    }
    if (const Entry* p = map->find("error_rate_window")) {
      readDuration(*p, kMinTimeout, kMaxCheckDuration, o.error_rate_window);
    }
    if (const Entry* p = map->find("error_rate_min_requests")) {
      readUint(*p, 1, 1'000'000, o.error_rate_min_requests);
    }
  }

  void readWeight(const Entry& e, uint32_t& out) {
    if (e.value.IsScalar()) {
      std::string_view text = e.value.Scalar();
      std::string_view digits = text.substr(!text.empty() && text.front() == '-' ? 1 : 0);
      if (isDigits(digits) && (text.front() == '-' || digits.find_first_not_of('0') == std::string_view::npos)) {
        error(e.pos, e.path + ": expected a weight between 1 and 256; use drain: true to stop new connections "
                              "(got " + std::string(text) + ")");
        return;
      }
    }
    readUint(e, 1, 256, out);
  }

  void readAgent(const Entry& e, AgentCheck& a) {
    auto map = readSection(e, kAgentKeys);
    if (!map) {
      return;
    }
    if (requireKey(*map, "port", "the agent's TCP port, 1..65535")) {
      readPort(*map->find("port"), 1, a.port);
    }
    const Entry* interval = map->find("interval");
    bool intervalRead =
        interval == nullptr || readDuration(*interval, kMinCheckInterval, kMaxCheckDuration, a.interval);
    const Entry* timeout = map->find("timeout");
    if (timeout == nullptr || readDuration(*timeout, kMinTimeout, kMaxCheckDuration, a.timeout)) {
      checkTimeoutFits(timeout, interval, intervalRead, a.timeout, a.interval);
    }
  }

  void readServers(const Entry& e, Pool& pool) {
    auto items = readList(e, "servers", false);
    if (!items) {
      return;
    }
    std::vector<Pos> addressPos;  // parallel to pool.servers
    for (const Item& item : *items) {
      auto map = readMap(item.node, item.pos, item.path, kServerKeys);
      if (!map) {
        continue;
      }
      Server server;
      bool haveAddress = requireKey(*map, "address", "host:port of the server, e.g. 127.0.0.1:9001") &&
                         readAddress(*map->find("address"), server.address);
      if (const Entry* p = map->find("weight")) {
        readWeight(*p, server.weight);
      }
      if (const Entry* p = map->find("max_connections")) {
        readUint(*p, 0, 1'000'000, server.max_connections);
      }
      if (const Entry* p = map->find("backup")) {
        readBool(*p, server.backup);
      }
      if (const Entry* p = map->find("drain")) {
        readBool(*p, server.drain);
      }
      if (const Entry* p = map->find("disabled")) {
        readBool(*p, server.disabled);
      }
      if (const Entry* p = map->find("agent")) {
        readAgent(*p, server.agent);
      }
      if (!haveAddress) {
        continue;
      }
      const Entry* a = map->find("address");
      bool duplicate = false;
      for (size_t i = 0; i < pool.servers.size(); ++i) {
        if (sameEndpoint(pool.servers[i].address, server.address)) {
          error(a->pos, a->path + ": duplicate server " + server.address.text +
                            " in this pool (first at line " + std::to_string(addressPos[i].line) +
                            "); expected each address once per pool");
          duplicate = true;
          break;
        }
      }
      if (!duplicate) {
        pool.servers.push_back(std::move(server));
        addressPos.push_back(a->pos);
      }
    }
  }

  void checkPoolReferences() {
    // When a pool entry is broken its name may be unknown; a "dangling" report would then be noise.
    if (!poolsComplete_) {
      return;
    }
    std::vector<std::string_view> defined;
    for (const auto& n : poolNames_) {
      defined.push_back(n.name);
    }
    auto check = [&](const std::string& name, const std::string& path, Pos pos) {
      if (config_.findPool(name) != nullptr) {
        return;
      }
      std::string message = path + ": pool " + quote(name) + " is not defined";
      if (auto guess = suggest(name, defined)) {
        message += " (did you mean " + quote(*guess) + "?)";
      }
      error(pos, message + "; expected one of the pools: " + joined(defined));
    };
    for (size_t i = 0; i < config_.listeners.size(); ++i) {
      const ListenerRefs& refs = listenerRefs_[i];
      if (refs.poolRead) {
        check(config_.listeners[i].pool, refs.path, refs.poolPos);
      }
      for (const PoolRef& ref : refs.routePools) {
        check(ref.name, ref.path, ref.pos);
      }
    }
  }

  // Header, cookie and path keys need an HTTP listener: a tcp or udp listener must not use a pool
  // that hashes on them. http listeners may, directly or through their routes.
  void checkHashKeys() {
    for (const HashKeyRef& ref : hashKeyRefs_) {
      const Pool& pool = config_.pools[ref.pool];
      for (size_t i = 0; i < config_.listeners.size(); ++i) {
        const Listener& l = config_.listeners[i];
        if (!listenerRefs_[i].poolRead || !listenerRefs_[i].protocolRead || l.protocol == Protocol::Http ||
            l.pool != pool.name) {
          continue;
        }
        std::string who = l.name.empty() ? "listeners[" + std::to_string(i) + "]" : l.name;
        error(ref.pos, ref.path + ": listener " + who + " (" + protocolName(l.protocol) +
                           ") cannot provide " + hashKeyText(pool.hash_key) +
                           "; L4 listeners hash on client_address (expected hash_key: client_address)");
      }
    }
  }

  LoadResult finish() {
    LoadResult result;
    std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    result.errors = std::move(errors_);
    if (result.errors.empty()) {
      config_.source = source_;
      result.config = std::make_shared<const Config>(std::move(config_));
    }
    return result;
  }

  Config config_;
  // Listener binds read so far, to find duplicates and overlaps (and the admin's).
  struct Bound {
    SocketAddress address;
    Protocol protocol;
    std::string listener;
    Pos pos;
  };
  std::vector<Bound> binds_;
  std::vector<ListenerRefs> listenerRefs_;  // parallel to config_.listeners
  std::vector<Named> poolNames_;
  std::vector<HashKeyRef> hashKeyRefs_;
  bool poolsComplete_ = false;  // every pool entry was a map with a valid name
};

// Only the top-level admin section, for `fulcrum ctl -c`.
class AdminLoader : public YamlReader {
 public:
  AdminLoader(std::string_view text, std::string source) : YamlReader(text, std::move(source)) {}

  AdminLoadResult run() {
    AdminLoadResult result;
    try {
      YAML::Node root;
      const Entry* admin = nullptr;
      Entry entry;
      if (readDocument(root) && root.IsMap() && root["admin"]) {
        entry.key = "admin";
        entry.path = "admin";
        entry.value = root["admin"];
        entry.pos = entry.keyPos = toPos(entry.value.Mark());
        admin = &entry;
      }
      readAdmin(*this, admin, result.admin);
    } catch (const std::exception& e) {
      error({1, 1}, std::string("internal error while reading the config: ") + e.what());
    }
    result.errors = std::move(errors_);
    return result;
  }
};

// The whole file, or an error that says why not.
std::optional<std::string> readText(const std::string& path, std::string& error) {
  std::string text;
  int savedErrno = 0;
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    savedErrno = errno;
  } else {
    char buffer[16384];
    size_t n;
    errno = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
      text.append(buffer, n);
    }
    if (std::ferror(file)) {
      savedErrno = errno != 0 ? errno : EIO;  // e.g. EISDIR when the path is a directory
    }
    std::fclose(file);
  }
  if (savedErrno != 0) {
    error = std::string("cannot read config file: ") + std::strerror(savedErrno);
    return std::nullopt;
  }
  return text;
}

}  // namespace

AdminLoadResult loadAdminSection(const std::string& path) {
  std::string why;
  auto text = readText(path, why);
  if (!text) {
    AdminLoadResult result;
    std::string ignored;
    parseSocketAddress("127.0.0.1:9900", result.admin.bind, ignored);
    result.errors.push_back(Diagnostic{path, 0, 0, why});
    return result;
  }
  return AdminLoader(*text, path).run();
}

LoadResult loadString(std::string_view yaml, const std::string& sourceName) {
  return Loader(yaml, sourceName).run();
}

LoadResult loadFile(const std::string& path) {
  std::string why;
  auto text = readText(path, why);
  if (!text) {
    LoadResult result;
    result.errors.push_back(Diagnostic{path, 0, 0, why});
    return result;
  }
  return loadString(*text, path);
}

}  // namespace fulcrum::config
