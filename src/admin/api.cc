#include "admin/api.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "admin/json_input.h"
#include "admin/metrics.h"
#include "config/address.h"
#include "common/log.h"

namespace fulcrum::admin {

using nlohmann::json;

Response errorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  // error_handler::replace: a message quoting invalid UTF-8 from a request stays valid JSON.
  r.body = json{{"error", message}}.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

namespace {

Response jsonResponse(int status, const json& j) {
  Response r;
  r.status = status;
  r.body = j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

Response error(int status, const std::string& message) { return errorResponse(status, message); }

// 405 names the methods the resource takes (RFC 9110 §15.5.6).
Response methodNotAllowed(const std::string& allow, const std::string& hint = "") {
  Response r = error(405, "use " + (hint.empty() ? allow : hint));
  r.extra_headers = "Allow: " + allow + "\r\n";
  return r;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// application/json, in any case, with or without parameters (RFC 9110 §8.3.1).
bool isJsonMediaType(std::string_view contentType) {
  return equalsIgnoreCase(trim(contentType.substr(0, contentType.find(';'))), "application/json");
}

// The credentials of "Authorization: Bearer <token>"; the scheme is case-insensitive
// (RFC 9110 §11.1). nullopt for another scheme or none.
std::optional<std::string_view> bearerToken(std::string_view auth) {
  size_t sp = auth.find(' ');
  if (sp == std::string_view::npos || !equalsIgnoreCase(auth.substr(0, sp), "bearer")) {
    return std::nullopt;
  }
  return trim(auth.substr(sp + 1));
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  unsigned diff = a.size() ^ b.size();
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i % (b.empty() ? 1 : b.size())]);
  }
  return diff == 0 && !b.empty();
}

std::vector<std::string> splitPath(const std::string& path, bool& ok) {
  std::vector<std::string> out;
  ok = true;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg;
    for (size_t k = i; k < j; ++k) {
      char c = path[k];
      if (c == '%') {
        if (k + 2 >= j) {
          ok = false;
          return out;
        }
        auto hex = [](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        int hi = hex(path[k + 1]);
        int lo = hex(path[k + 2]);
        if (hi < 0 || lo < 0) {
          ok = false;
          return out;
        }
        seg += static_cast<char>(hi * 16 + lo);
        k += 2;
      } else {
        seg += c;
      }
    }
    if (!seg.empty()) out.push_back(seg);
    i = j + 1;
  }
  return out;
}

json totalsJson(const stats::TrafficTotals& t, bool http) {
  json j = {{"connections_total", t.connections},
            {"connections_active", t.active},
            {"bytes_in", t.bytes_in},
            {"bytes_out", t.bytes_out}};
  if (http) {
    json codes = json::object();
    for (const auto& [code, n] : t.statuses) codes[code ? std::to_string(code) : "other"] = n;
    j["requests_total"] = t.requests;
    j["responses"] = codes;
    j["request_time_count"] = t.request_time.count();
    j["request_time_sum_seconds"] = static_cast<double>(t.request_time.sum_us) / 1e6;
  }
  return j;
}

json serverJson(const View& v, const upstream::Cluster& c, const upstream::Host& h) {
  const auto& s = *h.state;
  auto t = s.traffic->sum();
  bool ramping = false;
  json j = {{"address", h.config.address.text},
            {"state", serverState(c, h, v.now_ms)},
            {"weight", h.config.weight},
            {"effective_weight", upstream::effectiveWeight(c.config, h, v.now_ms, ramping) / 10.0},
            {"backup", h.config.backup},
            {"drain", h.config.drain},
            {"disabled", h.config.disabled},
            {"max_connections", h.config.max_connections},
            {"active_connections", s.active.load(std::memory_order_relaxed)},
            {"connections_total", t.connections},
            {"requests_total", t.requests},
            {"requests_per_second", std::round(s.request_rate * 10) / 10},
            {"connections_per_second", std::round(s.connection_rate * 10) / 10},
            {"connect_errors_total", t.connect_errors},
            {"timeouts_total", t.timeouts},
            {"bytes_in", t.bytes_in},
            {"bytes_out", t.bytes_out},
            {"ejected", s.ejected.load() && s.ejected_until_ms.load() > v.now_ms},
            {"ejections_total", s.ejections_total.load()}};
  json codes = json::object();
  for (const auto& [code, n] : t.statuses) codes[code ? std::to_string(code) : "other"] = n;
  j["responses"] = codes;
  json health = {{"checked", c.config.health_check.type != config::CheckType::None}};
  if (v.health) {
    if (const auto* checker = v.health->checker(c.config.name, h.config.address.text)) {
      const auto& m = checker->machine();
      health["state"] = m.state() == health::State::Up ? "up" : "down";
      health["reason"] = m.stateReason();
      health["consecutive_successes"] = m.consecutiveSuccesses();
      health["consecutive_failures"] = m.consecutiveFailures();
      json results = json::array();
      m.forEachResult([&](const health::CheckResult& r) {
        results.push_back({{"ok", r.ok}, {"latency_ms", r.latency_ms}, {"reason", r.reason},
                           {"age_ms", v.now_ms >= r.time_ms ? v.now_ms - r.time_ms : 0}});
      });
      health["last_results"] = results;
    }
  }
  if (s.agent_down.load() || s.agent_drain.load() || s.agent_weight_percent.load() != 100) {
    health["agent"] = {{"down", s.agent_down.load()}, {"drain", s.agent_drain.load()},
                       {"weight_percent", s.agent_weight_percent.load()}};
  }
  j["health"] = health;
  return j;
}

json poolJson(const View& v, const upstream::Cluster& c) {
  auto t = c.pool_state->traffic->sum();
  json servers = json::array();
  size_t healthy = 0;
  for (const auto& h : c.hosts) {
    servers.push_back(serverJson(v, c, h));
    healthy += serverUsable(h, v.now_ms) ? 1 : 0;
  }
  json codes = json::object();
  for (const auto& [code, n] : t.statuses) codes[code ? std::to_string(code) : "other"] = n;
  return {{"name", c.config.name},
          {"servers_total", c.hosts.size()},
          {"servers_healthy", healthy},
          {"panic", c.pool_state->panic.load()},
          {"requests_total", t.requests},
          {"responses", codes},
          {"retries_total", t.retries},
          {"queue_length", t.queued},
          {"servers", servers}};
}

const char* protocolName(config::Protocol p) {
  return p == config::Protocol::Http ? "http" : p == config::Protocol::Udp ? "udp" : "tcp";
}

json listenersJson(const View& v) {
  json out = json::array();
  for (const auto& l : v.listeners) {
    json j = {{"name", l.config->name},
              {"bind", l.config->bind.text},
              {"protocol", protocolName(l.config->protocol)},
              {"pool", l.config->pool}};
    j["stats"] = totalsJson(l.stats->sum(), l.config->protocol == config::Protocol::Http);
    if (l.config->protocol == config::Protocol::Http) {
      json routes = json::array();
      for (size_t i = 0; i < l.routes.size() && i < l.config->http.routes.size(); ++i) {
        json r = {{"name", l.config->http.routes[i].name}};
        r["stats"] = totalsJson(l.routes[i]->sum(), true);
        routes.push_back(r);
      }
      j["routes"] = routes;
    }
    out.push_back(j);
  }
  return out;
}

// The API changes in force, each field with the file's value it hides (null: not in the
// file), optionally of one pool or one server (named by IP address or as configured).
json overridesJson(const View& v, const std::string& onlyPool, const std::string& onlyServer) {
  json list = json::array();
  Overrides listed;
  for (const auto& [poolName, servers] : v.api_overrides.pools) {
    if (!onlyPool.empty() && poolName != onlyPool) continue;
    const config::Pool* filePool = v.file_config ? v.file_config->findPool(poolName) : nullptr;
    for (const auto& [key, so] : servers) {
      const config::Server* fs = nullptr;
      for (size_t i = 0; filePool && i < filePool->servers.size(); ++i) {
        if (canonical(filePool->servers[i].address) == key) fs = &filePool->servers[i];
      }
      if (!onlyServer.empty() && onlyServer != key && !(fs && fs->address.text == onlyServer)) continue;
      listed.pools[poolName][key] = so;
      json fields = json::object();
      auto field = [&](const char* name, const auto& api, auto fileValue) {
        if (api) fields[name] = {{"api", *api}, {"file", fs ? json(fileValue) : json(nullptr)}};
      };
      field("weight", so.weight, fs ? fs->weight : 0);
      field("max_connections", so.max_connections, fs ? fs->max_connections : 0);
      field("backup", so.backup, fs ? fs->backup : false);
      field("drain", so.drain, fs ? fs->drain : false);
      field("disabled", so.disabled, fs ? fs->disabled : false);
      list.push_back({{"pool", poolName},
                      {"server", key},
                      {"in_file_as", fs ? json(fs->address.text) : json(nullptr)},
                      {"added", so.added},
                      {"removed", so.removed},
                      {"fields", fields}});
    }
  }
  json shadowedLines = json::array();
  if (v.file_config) {
    for (auto& line : shadowed(*v.file_config, listed)) shadowedLines.push_back(std::move(line));
  }
  return {{"overrides", list}, {"shadowed", shadowedLines}};
}

const upstream::Cluster* findCluster(const View& v, const std::string& name) {
  for (const auto& c : v.clusters) {
    if (c->config.name == name) return c.get();
  }
  return nullptr;
}

// A server by its configured text or its canonical IP address (never a DNS lookup).
const upstream::Host* findHost(const upstream::Cluster& c, const std::string& server) {
  for (const auto& h : c.hosts) {
    if (h.config.address.text == server || canonical(h.config.address) == server) return &h;
  }
  return nullptr;
}

// Reads {"weight": N, ...} style bodies; an empty body is {}.
std::optional<json> parseBody(const Request& req, std::string& why) {
  if (req.body.empty()) return json::object();
  json j;
  if (auto e = parseStrictJson(req.body, j)) {
    auto [line, column] = lineAndColumn(req.body, e->offset);
    why = "the body is not valid JSON: " + e->reason + " at line " + std::to_string(line) + ", column " +
          std::to_string(column);
    return std::nullopt;
  }
  if (!j.is_object()) {
    why = "the body must be a JSON object";
    return std::nullopt;
  }
  return j;
}

// Fills a Change from a JSON object; false with `why` on a bad field.
bool readChange(const json& j, Change& c, std::string& why, bool needOpAndNames) {
  static const std::vector<std::string> kKnown = {"op", "pool", "server", "address", "weight", "max_connections",
                                                  "backup"};
  for (const auto& [k, val] : j.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end()) {
      why = "unknown field \"" + k + "\"";
      return false;
    }
  }
  auto str = [&](const char* key, std::string& out) -> bool {
    if (!j.contains(key)) return true;
    if (!j[key].is_string()) {
      why = std::string("\"") + key + "\" must be a string";
      return false;
    }
    out = j[key].get<std::string>();
    return true;
  };
  // Whole numbers only; one out of range is refused as such, never wrapped (a number too
  // large for 64 bits arrives as a float).
  auto uint = [&](const char* key, uint32_t& out, uint32_t lo, uint32_t hi) -> bool {
    if (!j.contains(key)) return true;
    const json& v = j[key];
    bool whole = v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                           std::floor(v.get<double>()) == v.get<double>());
    if (!whole) {
      why = std::string("\"") + key + "\" must be a whole number, got " + v.dump();
      return false;
    }
    bool inRange = v.is_number_unsigned() ? v.get<uint64_t>() >= lo && v.get<uint64_t>() <= hi
                   : v.is_number_integer() ? v.get<int64_t>() >= static_cast<int64_t>(lo) &&
                                                 v.get<int64_t>() <= static_cast<int64_t>(hi)
                                           : false;
    if (!inRange) {
      why = std::string("\"") + key + "\" must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
            (lo > 0 ? " (use drain to stop traffic)" : "") + ", got " + v.dump();
      return false;
    }
    out = static_cast<uint32_t>(v.get<uint64_t>());
    return true;
  };
  if (needOpAndNames) {
    std::string op;
    if (!str("op", op)) return false;
    static const std::vector<std::pair<std::string, Change::Op>> kOps = {
        {"weight", Change::Op::Weight}, {"drain", Change::Op::Drain}, {"enable", Change::Op::Enable},
        {"disable", Change::Op::Disable}, {"add", Change::Op::Add}, {"remove", Change::Op::Remove}};
    bool found = false;
    for (const auto& [name, o] : kOps) {
      if (name == op) {
        c.op = o;
        found = true;
      }
    }
    if (!found) {
      why = "\"op\" must be one of weight, drain, enable, disable, add, remove; got \"" + op + "\"";
      return false;
    }
    if (!str("pool", c.pool) || !str("server", c.server)) return false;
    if (c.server.empty() && !str("address", c.server)) return false;
    if (c.pool.empty() || c.server.empty()) {
      why = "each change needs \"pool\" and \"server\"";
      return false;
    }
  } else if (c.op == Change::Op::Add) {
    if (!str("address", c.server)) return false;
    if (c.server.empty() && !str("server", c.server)) return false;
    if (c.server.empty()) {
      why = "give the new server's \"address\", e.g. {\"address\": \"127.0.0.1:9003\"}";
      return false;
    }
  }
  if (c.op == Change::Op::Weight && !j.contains("weight")) {
    why = "give \"weight\", e.g. {\"weight\": 5}";
    return false;
  }
  if (!uint("weight", c.weight, 1, kMaxWeight) || !uint("max_connections", c.max_connections, 0, kMaxConnections)) {
    return false;
  }
  if (j.contains("backup")) {
    if (!j["backup"].is_boolean()) {
      why = "\"backup\" must be true or false";
      return false;
    }
    c.backup = j["backup"].get<bool>();
  }
  return true;
}

}  // namespace

Response Api::handle(const Request& req) {
  if (req.path == "/livez") {
    Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok\n";
    return r;
  }
  if (req.path == "/readyz") {
    return readyz();
  }
  std::string actor = "anonymous@" + req.peer;
  if (!token_.empty()) {
    std::string_view auth = req.authorization;
    auto given = bearerToken(auth);
    if (!given || !constantTimeEquals(*given, token_)) {
      Response r = error(401, auth.empty() ? "this admin API needs \"Authorization: Bearer <token>\""
                                           : "the token is not valid");
      r.extra_headers = "WWW-Authenticate: Bearer realm=\"fulcrum\"\r\n";
      log::warn("admin request refused: bad or missing token", {{"peer", req.peer}, {"path", req.path}});
      return r;
    }
    actor = "token@" + req.peer;
  }
  return route(req, actor);
}

Response Api::readyz() {
  View v = control_.view();
  json reasons = json::array();
  if (v.withdrawing) {
    reasons.push_back("stopping: withdrawing this instance from the network (timeouts.withdraw), then draining");
  } else if (!v.config || !v.serving) {
    reasons.push_back("not serving: no config applied, or stopping");
  } else {
    // The data plane: every worker's loop must be turning (a stuck one would keep taking
    // connections it never serves).
    uint64_t stall = static_cast<uint64_t>(v.config->timeouts.worker_stall.count());
    for (size_t i = 0; i < v.worker_beats.size(); ++i) {
      uint64_t beat = v.worker_beats[i];
      if (v.now_ms > beat && v.now_ms - beat > stall) {
        reasons.push_back("worker " + std::to_string(i) + " has not turned its event loop for " +
                          std::to_string(v.now_ms - beat) + " ms");
      }
    }
    // Pools that some listener or route sends to.
    std::vector<std::string> used;
    for (const auto& l : v.config->listeners) {
      if (!l.pool.empty()) used.push_back(l.pool);
      for (const auto& r : l.sni_routes) used.push_back(r.pool);
      for (const auto& r : l.http.routes) {
        for (const auto& p : r.pools) {
          if (p.weight > 0) used.push_back(p.pool);
        }
      }
    }
    for (const auto& c : v.clusters) {
      if (std::find(used.begin(), used.end(), c->config.name) == used.end()) continue;
      bool any = false;
      for (const auto& h : c->hosts) any = any || serverUsable(h, v.now_ms);
      if (!any) reasons.push_back("pool " + c->config.name + " has no healthy server");
    }
  }
  bool ready = reasons.empty();
  return jsonResponse(ready ? 200 : 503, {{"ready", ready}, {"reasons", reasons}, {"version", v.generation}});
}

Response Api::route(const Request& req, const std::string& actor) {
  const std::string& m = req.method;
  bool ok = true;
  auto seg = splitPath(req.path, ok);
  if (!ok) return error(400, "bad percent-encoding in the path");
  bool get = m == "GET" || m == "HEAD";
  if (req.path == "/metrics") {
    if (!get) return methodNotAllowed("GET, HEAD", "GET");
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = renderMetrics(control_.view());
    return r;
  }
  if (req.path == "/stats") {
    if (!get) return methodNotAllowed("GET, HEAD", "GET");
    View v = control_.view();
    json pools = json::array();
    for (const auto& c : v.clusters) pools.push_back(poolJson(v, *c));
    return jsonResponse(200, {{"version", v.generation}, {"listeners", listenersJson(v)}, {"pools", pools}});
  }
  if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1") {
    return error(404, "no such endpoint: " + req.path + " (see /api/v1/status, /metrics, /stats, /livez, /readyz)");
  }
  seg.erase(seg.begin(), seg.begin() + 2);
  // A body is JSON, whatever the method, and says so.
  if (!req.body.empty() && !isJsonMediaType(req.content_type)) {
    return error(415, "send the body as JSON with \"Content-Type: application/json\", not " +
                          (req.content_type.empty() ? std::string("without a Content-Type")
                                                    : "\"" + req.content_type + "\""));
  }
  if (seg.size() == 1 && (seg[0] == "status" || seg[0] == "config")) {
    if (!get) return methodNotAllowed("GET, HEAD", "GET");
    View v = control_.view();
    return jsonResponse(200, {{"version", FULCRUM_VERSION},
                              {"config_version", v.generation},
                              {"config_checksum", v.checksum},
                              {"config_file", v.config_path},
                              {"config_file_checksum", v.file_checksum},
                              {"state_file", v.state_file},
                              {"api_overrides", v.overrides},
                              {"workers", v.workers},
                              {"start_time", v.start_time},
                              {"last_reload_time", v.last_reload_time},
                              {"reloads", {{"success", v.reloads_ok}, {"failure", v.reloads_failed}}},
                              {"listeners", v.listeners.size()},
                              {"pools", v.clusters.size()}});
  }
  if (seg.size() == 1 && seg[0] == "listeners") {
    if (!get) return methodNotAllowed("GET, HEAD", "GET");
    return jsonResponse(200, {{"listeners", listenersJson(control_.view())}});
  }
  if (seg.size() == 1 && seg[0] == "reload") {
    if (m != "POST") return methodNotAllowed("POST");
    auto out = control_.reload(actor);
    json j = {{"ok", out.ok},         {"config_version", out.generation}, {"errors", out.errors},
              {"notes", out.notes},   {"shadowed", out.shadowed}};
    return jsonResponse(out.ok ? 200 : 422, j);
  }
  if (seg.size() == 1 && seg[0] == "changes") {
    if (m != "POST") return methodNotAllowed("POST");
    std::string why;
    auto body = parseBody(req, why);
    if (!body) return error(400, why);
    if (!body->contains("changes") || !(*body)["changes"].is_array() || (*body)["changes"].empty()) {
      return error(400, "expected {\"changes\": [{\"op\": ..., \"pool\": ..., \"server\": ...}, ...]}");
    }
    std::vector<Change> changes;
    size_t i = 0;
    for (const auto& item : (*body)["changes"]) {
      Change c;
      if (!item.is_object() || !readChange(item, c, why, true)) {
        return error(400, "changes[" + std::to_string(i) + "]: " + (item.is_object() ? why : "must be an object"));
      }
      changes.push_back(std::move(c));
      ++i;
    }
    if (auto e = control_.change(changes, actor)) return error(e->status, e->message);
    return jsonResponse(200, {{"ok", true}, {"applied", changes.size()}, {"config_version", control_.view().generation}});
  }
  if (!seg.empty() && seg[0] == "overrides" && seg.size() <= 3) {
    const std::string pool = seg.size() > 1 ? seg[1] : "";
    const std::string server = seg.size() > 2 ? seg[2] : "";
    if (get) {
      View v = control_.view();
      if (!pool.empty() && !(v.config && v.config->findPool(pool))) return error(404, "no pool named \"" + pool + "\"");
      return jsonResponse(200, overridesJson(v, pool, server));
    }
    if (m != "DELETE") return methodNotAllowed("GET, HEAD, DELETE");
    size_t cleared = 0;
    if (auto e = control_.reset(pool, server, actor, cleared)) return error(e->status, e->message);
    return jsonResponse(200, {{"ok", true}, {"cleared", cleared}, {"config_version", control_.view().generation}});
  }
  if (!seg.empty() && seg[0] == "pools") {
    View v = control_.view();
    if (seg.size() == 1) {
      if (!get) return methodNotAllowed("GET, HEAD", "GET");
      json pools = json::array();
      for (const auto& c : v.clusters) pools.push_back(poolJson(v, *c));
      return jsonResponse(200, {{"pools", pools}});
    }
    const upstream::Cluster* c = findCluster(v, seg[1]);
    if (!c) return error(404, "no pool named \"" + seg[1] + "\"");
    if (seg.size() == 2) {
      if (!get) return methodNotAllowed("GET, HEAD", "GET");
      return jsonResponse(200, poolJson(v, *c));
    }
    if (seg[2] != "servers") return error(404, "no such endpoint: " + req.path);
    std::string why;
    if (seg.size() == 3) {
      if (get) {
        json servers = json::array();
        for (const auto& h : c->hosts) servers.push_back(serverJson(v, *c, h));
        return jsonResponse(200, {{"servers", servers}});
      }
      if (m != "POST") return methodNotAllowed("GET, HEAD, POST", "GET, or POST to add a server");
      auto body = parseBody(req, why);
      if (!body) return error(400, why);
      Change ch;
      ch.op = Change::Op::Add;
      ch.pool = seg[1];
      if (!readChange(*body, ch, why, false)) return error(400, why);
      if (auto e = control_.change({ch}, actor)) return error(e->status, e->message);
      View after = control_.view();
      const upstream::Cluster* ac = findCluster(after, seg[1]);
      return jsonResponse(201, ac ? poolJson(after, *ac) : json{{"ok", true}});
    }
    const std::string& server = seg[3];
    if (seg.size() == 4) {
      if (get) {
        if (const upstream::Host* h = findHost(*c, server)) {
          return jsonResponse(200, serverJson(v, *c, *h));
        }
        return error(404, "pool " + seg[1] + " has no server " + server);
      }
      if (m != "DELETE") return methodNotAllowed("GET, HEAD, DELETE", "GET, or DELETE to remove the server");
      Change ch;
      ch.op = Change::Op::Remove;
      ch.pool = seg[1];
      ch.server = server;
      if (auto e = control_.change({ch}, actor)) return error(e->status, e->message);
      return jsonResponse(200, {{"ok", true}, {"removed", server}, {"config_version", control_.view().generation}});
    }
    if (seg.size() == 5) {
      Change ch;
      ch.pool = seg[1];
      ch.server = server;
      const std::string& action = seg[4];
      if (action == "weight") {
        if (m != "PUT" && m != "POST") return methodNotAllowed("PUT, POST", "PUT with {\"weight\": N}");
        ch.op = Change::Op::Weight;
        auto body = parseBody(req, why);
        if (!body) return error(400, why);
        if (!readChange(*body, ch, why, false)) return error(400, why);
      } else if (action == "drain" || action == "enable" || action == "disable") {
        if (m != "POST") return methodNotAllowed("POST");
        ch.op = action == "drain" ? Change::Op::Drain : action == "enable" ? Change::Op::Enable : Change::Op::Disable;
        // No fields: an empty body or {}, never something ignored.
        auto body = parseBody(req, why);
        if (!body) return error(400, why);
        if (!body->empty()) {
          return error(400, action + " takes no fields; got \"" + body->begin().key() + "\" (send no body, or {})");
        }
      } else {
        return error(404, "no such action: " + action + " (weight, drain, enable, disable)");
      }
      if (auto e = control_.change({ch}, actor)) return error(e->status, e->message);
      View after = control_.view();
      const upstream::Cluster* ac = findCluster(after, seg[1]);
      if (const upstream::Host* h = ac ? findHost(*ac, server) : nullptr) {
        return jsonResponse(200, serverJson(after, *ac, *h));
      }
      return jsonResponse(200, {{"ok", true}});
    }
  }
  return error(404, "no such endpoint: " + req.path);
}

}  // namespace fulcrum::admin
