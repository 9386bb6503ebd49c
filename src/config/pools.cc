// pools: name, algorithm and the keys that go with it (hash_key, vnodes), slow start, panic
// threshold, retries, queue, PROXY protocol to servers; health is read by health.cc, servers by
// servers.cc, the http section by pool_http.cc.
#include "config/schema.h"

#include <algorithm>
#include <string>
#include <utility>

namespace fulcrum::config::detail {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string_view> kPoolKeys = {
    "name",   "algorithm",  "retries",         "queue_size",   "send_proxy_protocol", "servers", "hash_key",
    "vnodes", "slow_start", "panic_threshold", "health_check", "outlier_detection",   "http",
    "tls"};

// "client_address", "path", "header:NAME" or "cookie:NAME".
bool readHashKey(YamlReader& r, const Entry& e, HashKey& out) {
  const std::string expected = "client_address, path, header:NAME or cookie:NAME";
  std::string text;
  if (e.value.IsMap() && e.value.size() == 1 && e.value.begin()->first.IsScalar()) {
    std::string kind = e.value.begin()->first.Scalar();
    if (kind == "header" || kind == "cookie") {
      // "header: X-User" (a space after the colon) is a YAML map.
      r.error(e.pos, e.path + ": expected " + kind + ":NAME without a space after the colon, e.g. " +
                         (kind == "header" ? "header:X-User" : "cookie:session") + ", got a map");
      return false;
    }
  }
  if (!r.readScalar(e, expected, text)) {
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
      r.error(e.pos, e.path + ": invalid " + std::string(kind) + " name " + quote(name) + " in " + quote(text) +
                         "; expected a name of letters, digits and !#$%&'*+-.^_`|~ such as " +
                         (kind == "header" ? "header:X-User" : "cookie:session"));
      return false;
    }
    out = HashKey{kind == "header" ? HashKeySource::Header : HashKeySource::Cookie, std::move(name)};
    return true;
  }
  r.error(e.pos, e.path + ": unknown hash key " + quote(text) + "; expected " + expected);
  return false;
}

// hash_key, vnodes, slow_start and panic_threshold. `algorithmKnown` is false when the pool's
// algorithm could not be read: the algorithm-specific keys are then not blamed on it.
void readBalancing(YamlReader& r, const MapView& map, Pool& pool, bool algorithmKnown, size_t index,
                   std::vector<HashKeyRef>& hashKeys) {
  std::string algorithm(algorithmName(pool.algorithm));
  if (const Entry* p = map.find("hash_key")) {
    if (readHashKey(r, *p, pool.hash_key) && algorithmKnown) {
      if (!hashesOnKey(pool.algorithm)) {
        r.error(p->keyPos, p->path +
                               ": only meaningful with algorithm ip_hash, consistent_hash or maglev; "
                               "expected no hash_key with algorithm " +
                               algorithm);
      } else if (pool.algorithm == Algorithm::IpHash && pool.hash_key.source != HashKeySource::ClientAddress) {
        r.error(p->pos, p->path + ": ip_hash hashes the client address only; expected client_address, got " +
                            hashKeyText(pool.hash_key) + " (use consistent_hash or maglev for other keys)");
      } else if (pool.hash_key.source != HashKeySource::ClientAddress) {
        hashKeys.push_back({index, p->path, p->pos});
      }
    }
  }
  if (const Entry* p = map.find("vnodes")) {
    if (r.readUint(*p, 1, 10'000, pool.vnodes) && algorithmKnown && pool.algorithm != Algorithm::ConsistentHash) {
      r.error(p->keyPos, p->path +
                             ": only meaningful with algorithm consistent_hash; expected no vnodes "
                             "with algorithm " +
                             algorithm);
    }
  }
  if (const Entry* p = map.find("slow_start")) {
    r.readDuration(*p, 0ms, kMaxCheckDuration, pool.slow_start);
  }
  if (const Entry* p = map.find("panic_threshold")) {
    r.readUint(*p, 0, 100, pool.panic_threshold);
  }
}

}  // namespace

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

PoolsRead readPools(YamlReader& r, const Entry& e, std::vector<Pool>& out) {
  PoolsRead read;
  auto items = r.readList(e, "pools", false);
  if (!items) {
    return read;
  }
  read.complete = true;
  for (const Item& item : *items) {
    auto map = r.readMap(item.node, item.pos, item.path, kPoolKeys);
    if (!map) {
      read.complete = false;
      continue;
    }
    Pool pool;
    if (r.requireKey(*map, "name", "a unique pool name") && r.readName(*map->find("name"), pool.name)) {
      const Entry* nameEntry = map->find("name");
      auto dup =
          std::find_if(read.names.begin(), read.names.end(), [&](const Named& n) { return n.name == pool.name; });
      if (dup != read.names.end()) {
        r.error(nameEntry->pos, nameEntry->path + ": duplicate pool name " + quote(pool.name) +
                                    " (first used at line " + std::to_string(dup->pos.line) +
                                    "); expected unique names");
      } else {
        read.names.push_back({pool.name, nameEntry->pos});
      }
    } else {
      read.complete = false;
    }
    bool algorithmKnown = true;
    if (const Entry* p = map->find("algorithm")) {
      auto i = r.readChoice(*p, algorithmNames(), true);
      algorithmKnown = i.has_value();
      if (i) {
        pool.algorithm = static_cast<Algorithm>(*i);
      }
    }
    readBalancing(r, *map, pool, algorithmKnown, out.size(), read.hashKeys);
    if (const Entry* p = map->find("retries")) {
      r.readUint(*p, 0, 10, pool.retries);
    }
    if (const Entry* p = map->find("queue_size")) {
      r.readUint(*p, 0, 100'000, pool.queue_size);
    }
    if (const Entry* p = map->find("send_proxy_protocol")) {
      if (auto i = r.readChoice(*p, {"none", "v1", "v2"})) {
        const ProxyProtocolVersion versions[] = {ProxyProtocolVersion::None, ProxyProtocolVersion::V1,
                                                 ProxyProtocolVersion::V2};
        pool.send_proxy = versions[*i];
      }
    }
    if (const Entry* p = map->find("health_check")) {
      readHealthCheck(r, *p, pool.health_check);
    } else {
      HealthCheck& h = pool.health_check;
      h.jitter = h.interval / 10;
    }
    if (const Entry* p = map->find("outlier_detection")) {
      readOutlierDetection(r, *p, pool.outlier_detection);
    }
    if (const Entry* p = map->find("http")) {
      readPoolHttp(r, *p, pool.http, read.shared);
    }
    if (const Entry* p = map->find("tls")) {
      readPoolTls(r, *p, pool.tls);
      read.tls.push_back({out.size(), p->path, p->keyPos});
    }
    if (r.requireKey(*map, "servers", "at least one server address")) {
      readServers(r, *map->find("servers"), pool);
    }
    out.push_back(std::move(pool));
  }
  return read;
}

}  // namespace fulcrum::config::detail
