#include "admin/overrides.h"

#include <xxhash.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "config/address.h"
#include "net/address.h"

namespace fulcrum::admin {

using nlohmann::json;

namespace {
constexpr uint32_t kMaxWeight = config::kMaxServerWeight;
constexpr uint32_t kMaxConnections = 1'000'000;

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

Result<Overrides> parseOverrides(std::string_view text) {
  json root = json::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    return Error{"not a JSON object"};
  }
  if (!root.contains("format") || root["format"] != 1) {
    return Error{"expected \"format\": 1"};
  }
  Overrides o;
  if (!root.contains("pools")) {
    return o;
  }
  const json& pools = root["pools"];
  if (!pools.is_object()) {
    return Error{"\"pools\" must be an object"};
  }
  for (const auto& [pool, servers] : pools.items()) {
    if (!servers.is_object()) {
      return Error{"pools." + pool + " must be an object"};
    }
    for (const auto& [addr, j] : servers.items()) {
      std::string where = "pools." + pool + "." + addr;
      config::SocketAddress a;
      std::string why;
      if (!parseIpAddress(addr, a, why)) {
        return Error{where + ": " + why};
      }
      if (!j.is_object()) {
        return Error{where + " must be an object"};
      }
      ServerOverride so;
      for (const auto& item : j.items()) {
        // (Named, not a structured binding: the lambdas below capture them, which clang 14 refuses.)
        const std::string& k = item.key();
        const json& v = item.value();
        auto wantBool = [&](std::optional<bool>& out) -> bool {
          if (!v.is_boolean()) return false;
          out = v.get<bool>();
          return true;
        };
        auto wantUint = [&](std::optional<uint32_t>& out, uint32_t lo, uint32_t hi) -> bool {
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
          return Error{where + ": unknown key " + k};
        }
        if (!ok) {
          return Error{where + "." + k + ": invalid value " + v.dump()};
        }
      }
      o.pools[pool][canonical(a)] = so;
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
        applyFields(so, pool->servers[static_cast<size_t>(i)]);
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
