// pools[].servers: address (once per pool), weight, connection limit, backup, drain, disabled;
// the agent check is read by health.cc.
#include "config/schema.h"

#include <string>
#include <string_view>
#include <utility>

#include "config/address.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kServerKeys = {"address",  "weight", "max_connections", "backup", "drain",
                                                   "disabled", "agent"};

void readWeight(YamlReader& r, const Entry& e, uint32_t& out) {
  if (e.value.IsScalar()) {
    std::string_view text = e.value.Scalar();
    std::string_view digits = text.substr(!text.empty() && text.front() == '-' ? 1 : 0);
    if (isDigits(digits) && (text.front() == '-' || digits.find_first_not_of('0') == std::string_view::npos)) {
      r.error(e.pos, e.path + ": expected a weight between " + std::to_string(kMinServerWeight) + " and " +
                         std::to_string(kMaxServerWeight) + "; use drain: true to stop new connections (got " +
                         std::string(text) + ")");
      return;
    }
  }
  r.readUint(e, kMinServerWeight, kMaxServerWeight, out);
}

}  // namespace

void readServers(YamlReader& r, const Entry& e, Pool& pool) {
  auto items = r.readList(e, "servers", false);
  if (!items) {
    return;
  }
  std::vector<Pos> addressPos;  // parallel to pool.servers
  for (const Item& item : *items) {
    auto map = r.readMap(item.node, item.pos, item.path, kServerKeys);
    if (!map) {
      continue;
    }
    Server server;
    bool haveAddress = r.requireKey(*map, "address", "host:port of the server, e.g. 127.0.0.1:9001") &&
                       r.readAddress(*map->find("address"), server.address);
    if (const Entry* p = map->find("weight")) {
      readWeight(r, *p, server.weight);
    }
    if (const Entry* p = map->find("max_connections")) {
      r.readUint(*p, 0, 1'000'000, server.max_connections);
    }
    if (const Entry* p = map->find("backup")) {
      r.readBool(*p, server.backup);
    }
    if (const Entry* p = map->find("drain")) {
      r.readBool(*p, server.drain);
    }
    if (const Entry* p = map->find("disabled")) {
      r.readBool(*p, server.disabled);
    }
    if (const Entry* p = map->find("agent")) {
      readAgent(r, *p, server.agent);
    }
    if (!haveAddress) {
      continue;
    }
    const Entry* a = map->find("address");
    bool duplicate = false;
    for (size_t i = 0; i < pool.servers.size(); ++i) {
      if (sameEndpoint(pool.servers[i].address, server.address)) {
        r.error(a->pos, a->path + ": duplicate server " + server.address.text + " in this pool (first at line " +
                            std::to_string(addressPos[i].line) + "); expected each address once per pool");
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

}  // namespace fulcrum::config::detail
