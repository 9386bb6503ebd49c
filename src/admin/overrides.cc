#include "admin/overrides.h"

#include <xxhash.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "admin/json_input.h"
#include "config/address.h"
#include "net/address.h"

namespace fulcrum::admin {

using nlohmann::json;

namespace {

config::Pool* findPool(config::Config& c, const std::string& name) {
  for (auto& p : c.pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

int findServer(const config::Pool& p, const config::SocketAddress& a) {
  for (size_t i = 0; i < p.servers.size(); ++i) {
    if (config::sameEndpoint(p.servers[i].address, a)) return static_cast<int>(i);
  }
  return -1;
}

// Only IP addresses: a host name would mean a DNS lookup on the control thread, and a
// server's identity must not change with DNS. (The loader resolves names at load time.)
bool parseIpAddress(std::string_view text, config::SocketAddress& out, std::string& why) {
  bool bracketed = !text.empty() && text.front() == '[';
  size_t colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (!bracketed && host.find_first_not_of("0123456789.") != std::string_view::npos) {
    why = "expected an IP address and port such as 10.0.0.7:8080 or [2001:db8::7]:8080, got \"" + std::string(text) +
          "\" (host names are resolved only when the config file is loaded)";
    return false;
  }
  return config::parseSocketAddress(text, out, why);
}

// Clears the fields that only repeat the file's value.
void dropEqual(ServerOverride& o, const config::Server& file) {
  if (o.weight == file.weight) o.weight.reset();
  if (o.max_connections == file.max_connections) o.max_connections.reset();
  if (o.backup == file.backup) o.backup.reset();
  if (o.drain == file.drain) o.drain.reset();
  if (o.disabled == file.disabled) o.disabled.reset();
}

bool isEmpty(const ServerOverride& o) {
  return !o.added && !o.removed && !o.weight && !o.max_connections && !o.backup && !o.drain && !o.disabled;
}

std::string boolText(bool b) { return b ? "true" : "false"; }

void applyFields(const ServerOverride& o, config::Server& s) {
  if (o.weight) s.weight = *o.weight;
  if (o.max_connections) s.max_connections = *o.max_connections;
  if (o.backup) s.backup = *o.backup;
  if (o.drain) s.drain = *o.drain;
  if (o.disabled) s.disabled = *o.disabled;
}
}  // namespace

size_t Overrides::count() const {
  size_t n = 0;
  for (const auto& [p, servers] : pools) n += servers.size();
  return n;
}

const char* opName(Change::Op op) {
  switch (op) {
    case Change::Op::Weight: return "weight";
    case Change::Op::Drain: return "drain";
    case Change::Op::Enable: return "enable";
    case Change::Op::Disable: return "disable";
    case Change::Op::Add: return "add";
    case Change::Op::Remove: return "remove";
  }
  return "?";
}

std::string checksumHex(std::string_view bytes) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  return buf;
}

std::string canonical(const config::SocketAddress& a) { return net::formatAddress(a.sa()); }

std::string toJson(const Overrides& o) {
  json pools = json::object();
  for (const auto& [pool, servers] : o.pools) {
    json js = json::object();
    for (const auto& [addr, so] : servers) {
      json j = json::object();
      if (so.added) j["added"] = true;
      if (so.removed) j["removed"] = true;
      if (so.weight) j["weight"] = *so.weight;
      if (so.max_connections) j["max_connections"] = *so.max_connections;
      if (so.backup) j["backup"] = *so.backup;
      if (so.drain) j["drain"] = *so.drain;
      if (so.disabled) j["disabled"] = *so.disabled;
      js[addr] = std::move(j);
    }
    pools[pool] = std::move(js);
  }
  json root = {{"format", 1}, {"pools", std::move(pools)}};
  return root.dump(2) + "\n";
}

Result<Overrides> parseOverrides(std::string_view text, const std::string& source) {
  // "state.json:3:17: pools.web.127.0.0.1:9001.weight: ..." (where the value is, else the file's start).
  auto fail = [&](const std::vector<std::string>& path, const std::string& why) -> Error {
    size_t at = path.empty() ? 0 : locateJsonValue(text, path);
    std::string where;
    for (const auto& k : path) where += (where.empty() ? "" : ".") + k;
    return Error{source + ":" + lineColumn(text, at == std::string_view::npos ? 0 : at) + ": " +
                 (where.empty() ? "" : where + ": ") + why};
  };
  json root;
  if (auto e = parseStrictJson(text, root)) {
    return Error{source + ":" + lineColumn(text, e->offset) + ": " + e->reason};
  }
  if (!root.is_object()) {
    return fail({}, "expected a JSON object such as {\"format\": 1, \"pools\": {}}");
  }
  if (!root.contains("format")) {
    return fail({}, "expected \"format\": 1");
  }
  if (root["format"] != 1) {
    return fail({"format"}, "expected 1, got " + root["format"].dump());
  }
  for (const auto& item : root.items()) {
    if (item.key() != "format" && item.key() != "pools") {
      return fail({item.key()}, "unknown key (expected format and pools)");
    }
  }
  Overrides o;
  if (!root.contains("pools")) {
    return o;
  }
  const json& pools = root["pools"];
  if (!pools.is_object()) {
    return fail({"pools"}, "must be an object");
  }
  for (const auto& [pool, servers] : pools.items()) {
    if (!servers.is_object()) {
      return fail({"pools", pool}, "must be an object");
    }
    std::map<std::string, std::string> spelt;  // canonical address -> as written
    for (const auto& [addr, j] : servers.items()) {
      config::SocketAddress a;
      std::string why;
      if (!parseIpAddress(addr, a, why)) {
        return fail({"pools", pool, addr}, why);
      }
      if (!j.is_object()) {
        return fail({"pools", pool, addr}, "must be an object");
      }
      ServerOverride so;
      for (const auto& item : j.items()) {
        // (Named, not a structured binding: the lambdas below capture them, which clang 14 refuses.)
        const std::string& k = item.key();
        const json& v = item.value();
        std::string expected = "true or false";
        auto wantBool = [&](std::optional<bool>& out) -> bool {
          if (!v.is_boolean()) return false;
          out = v.get<bool>();
          return true;
        };
        auto wantUint = [&](std::optional<uint32_t>& out, uint32_t lo, uint32_t hi) -> bool {
          expected = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
          if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi) return false;
          out = static_cast<uint32_t>(v.get<uint64_t>());
          return true;
        };
        bool ok = true;
        if (k == "added") {
          ok = v.is_boolean();
          so.added = ok && v.get<bool>();
        } else if (k == "removed") {
          ok = v.is_boolean();
          so.removed = ok && v.get<bool>();
        } else if (k == "weight") {
          ok = wantUint(so.weight, 1, kMaxWeight);
        } else if (k == "max_connections") {
          ok = wantUint(so.max_connections, 0, kMaxConnections);
        } else if (k == "backup") {
          ok = wantBool(so.backup);
        } else if (k == "drain") {
          ok = wantBool(so.drain);
        } else if (k == "disabled") {
          ok = wantBool(so.disabled);
        } else {
          return fail({"pools", pool, addr, k},
                      "unknown key (expected added, removed, weight, max_connections, backup, drain, disabled)");
        }
        if (!ok) {
          return fail({"pools", pool, addr, k}, "expected " + expected + ", got " + v.dump());
        }
      }
      auto [first, added] = spelt.emplace(canonical(a), addr);
      if (!added) {
        return fail({"pools", pool, addr}, "the same server as \"" + first->second + "\", given twice");
      }
      o.pools[pool][first->first] = so;
    }
  }
  return o;
}

std::shared_ptr<config::Config> merge(const config::Config& file, Overrides& o, std::vector<std::string>& notes) {
  auto out = std::make_shared<config::Config>(file);
  for (auto pit = o.pools.begin(); pit != o.pools.end();) {
    config::Pool* pool = findPool(*out, pit->first);
    if (!pool) {
      notes.push_back("pool " + pit->first + " is no longer in the config: " + std::to_string(pit->second.size()) +
                      " API change(s) to it dropped");
      pit = o.pools.erase(pit);
      continue;
    }
    for (auto sit = pit->second.begin(); sit != pit->second.end();) {
      config::SocketAddress a;
      std::string why;
      parseIpAddress(sit->first, a, why);  // keys were checked when read
      int i = findServer(*pool, a);
      ServerOverride& so = sit->second;
      bool keep = true;
      if (so.removed) {
        if (i < 0) {
          notes.push_back("server " + sit->first + " of pool " + pool->name +
                          " is no longer in the config: its removal is done");
          keep = false;
        } else if (pool->servers.size() == 1) {
          notes.push_back("server " + sit->first + " is the only server of pool " + pool->name +
                          " in the config: kept, its removal dropped");
          keep = false;
        } else {
          pool->servers.erase(pool->servers.begin() + i);
        }
      } else if (i >= 0) {
        so.added = false;  // the file has it now: a removal must be remembered, not forgotten
        config::Server& fs = pool->servers[static_cast<size_t>(i)];
        dropEqual(so, fs);
        applyFields(so, fs);
        keep = !isEmpty(so);
      } else if (so.added) {
        config::Server s;
        s.address = a;
        s.address.text = sit->first;
        applyFields(so, s);
        pool->servers.push_back(std::move(s));
      } else {
        notes.push_back("server " + sit->first + " of pool " + pool->name +
                        " is no longer in the config: the API change to it dropped");
        keep = false;
      }
      sit = keep ? std::next(sit) : pit->second.erase(sit);
    }
    pit = pit->second.empty() ? o.pools.erase(pit) : std::next(pit);
  }
  return out;
}

std::vector<std::string> shadowed(const config::Config& file, const Overrides& o) {
  std::vector<std::string> out;
  for (const auto& [poolName, servers] : o.pools) {
    const config::Pool* pool = file.findPool(poolName);
    if (!pool) continue;
    for (const auto& [key, so] : servers) {
      config::SocketAddress a;
      std::string why;
      parseIpAddress(key, a, why);  // keys were checked when read
      int i = findServer(*pool, a);
      std::string who = "pool " + poolName + ", server ";
      if (i < 0) {
        if (so.added) out.push_back(who + key + ": not in the file, added through the API");
        continue;
      }
      const config::Server& fs = pool->servers[static_cast<size_t>(i)];
      who += fs.address.text == key ? key : fs.address.text + " (" + key + ")";
      if (so.removed) {
        out.push_back(who + ": in the file, removed through the API");
        continue;
      }
      auto field = [&](const char* name, const std::string& inFile, const std::string& fromApi) {
        out.push_back(who + ": " + name + " " + inFile + " in the file, " + fromApi + " from the API");
      };
      if (so.weight) field("weight", std::to_string(fs.weight), std::to_string(*so.weight));
      if (so.max_connections) {
        field("max_connections", std::to_string(fs.max_connections), std::to_string(*so.max_connections));
      }
      if (so.backup) field("backup", boolText(fs.backup), boolText(*so.backup));
      if (so.drain) field("drain", boolText(fs.drain), boolText(*so.drain));
      if (so.disabled) field("disabled", boolText(fs.disabled), boolText(*so.disabled));
    }
  }
  return out;
}

std::optional<ApiError> resetOverrides(const config::Config& running, Overrides& o, const std::string& pool,
                                       const std::string& server, size_t& cleared) {
  cleared = 0;
  if (pool.empty()) {
    cleared = o.count();
    o.pools.clear();
    return std::nullopt;
  }
  const config::Pool* p = running.findPool(pool);
  if (!p) {
    return ApiError{404, "no pool named \"" + pool + "\""};
  }
  auto it = o.pools.find(pool);
  if (server.empty()) {
    if (it != o.pools.end()) {
      cleared = it->second.size();
      o.pools.erase(it);
    }
    return std::nullopt;
  }
  // As configured (maybe a host name) or as an IP address; a removed server is only in `o`.
  std::string key;
  for (const auto& s : p->servers) {
    if (s.address.text == server) key = canonical(s.address);
  }
  if (key.empty()) {
    config::SocketAddress a;
    std::string why;
    if (!parseIpAddress(server, a, why)) {
      return ApiError{400, "server: " + why};
    }
    key = canonical(a);
  }
  bool known = it != o.pools.end() && it->second.count(key) != 0;
  if (!known) {
    for (const auto& s : p->servers) known = known || canonical(s.address) == key;
    if (!known) {
      return ApiError{404, "pool " + pool + " has no server " + key};
    }
    return std::nullopt;
  }
  it->second.erase(key);
  cleared = 1;
  if (it->second.empty()) {
    o.pools.erase(it);
  }
  return std::nullopt;
}

std::optional<ApiError> applyChange(const Change& c, config::Config& working, Overrides& o) {
  config::Pool* pool = findPool(working, c.pool);
  if (!pool) {
    std::string names;
    for (const auto& p : working.pools) names += (names.empty() ? "" : ", ") + p.name;
    return ApiError{404, "no pool named \"" + c.pool + "\"; pools: " + names};
  }
  config::SocketAddress a;
  std::string why;
  int i = -1;
  // A server is named as configured (which may be a host name) or by its IP address.
  for (size_t k = 0; k < pool->servers.size() && c.op != Change::Op::Add; ++k) {
    if (pool->servers[k].address.text == c.server) {
      i = static_cast<int>(k);
      a = pool->servers[k].address;
    }
  }
  if (i < 0) {
    if (!parseIpAddress(c.server, a, why)) {
      return ApiError{400, "server: " + why};
    }
    i = findServer(*pool, a);
  }
  std::string key = canonical(a);
  if (c.op == Change::Op::Add) {
    if (i >= 0) {
      return ApiError{409, "pool " + c.pool + " already has server " + key};
    }
    if (a.family() == AF_INET && reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr == 0) {
      return ApiError{400, "server: 0.0.0.0 is not an address a server can be reached at"};
    }
    if (c.weight < 1 || c.weight > kMaxWeight) {
      return ApiError{400, "weight must be between 1 and 256, got " + std::to_string(c.weight)};
    }
    if (c.max_connections > kMaxConnections) {
      return ApiError{400, "max_connections must be at most 1000000"};
    }
    config::Server s;
    s.address = a;
    s.address.text = key;
    s.weight = c.weight;
    s.max_connections = c.max_connections;
    s.backup = c.backup;
    pool->servers.push_back(std::move(s));
    ServerOverride& so = o.pools[c.pool][key];
    if (so.removed) {
      // Back after a removal: the file's server again, with the given settings.
      so = ServerOverride{};
    } else {
      so = ServerOverride{};
      so.added = true;
    }
    so.weight = c.weight;
    so.max_connections = c.max_connections;
    so.backup = c.backup;
    return std::nullopt;
  }
  if (i < 0) {
    std::string names;
    for (const auto& s : pool->servers) names += (names.empty() ? "" : ", ") + canonical(s.address);
    return ApiError{404, "pool " + c.pool + " has no server " + key + "; servers: " + names};
  }
  if (c.op == Change::Op::Weight && (c.weight < 1 || c.weight > kMaxWeight)) {
    return ApiError{400, "weight must be between 1 and 256 (use drain to stop traffic), got " +
                             std::to_string(c.weight)};
  }
  if (c.op == Change::Op::Remove && pool->servers.size() == 1) {
    return ApiError{409, "server " + key + " is the last server of pool " + c.pool +
                             "; a pool needs at least one (add another first)"};
  }
  config::Server& s = pool->servers[static_cast<size_t>(i)];
  ServerOverride& so = o.pools[c.pool][key];
  switch (c.op) {
    case Change::Op::Weight:
      s.weight = c.weight;
      so.weight = c.weight;
      break;
    case Change::Op::Drain:
      s.drain = true;
      so.drain = true;
      break;
    case Change::Op::Disable:
      s.disabled = true;
      so.disabled = true;
      break;
    case Change::Op::Enable:
      s.drain = false;
      s.disabled = false;
      so.drain = false;
      so.disabled = false;
      break;
    case Change::Op::Remove: {
      bool wasAdded = so.added;
      pool->servers.erase(pool->servers.begin() + i);
      if (wasAdded) {
        o.pools[c.pool].erase(key);  // never in the file: forgetting it is the removal
        if (o.pools[c.pool].empty()) o.pools.erase(c.pool);
      } else {
        so = ServerOverride{};
        so.removed = true;
      }
      break;
    }
    case Change::Op::Add:
      break;
  }
  return std::nullopt;
}

}  // namespace fulcrum::admin
