// listeners[].sni_routes: [{names: [a.example, "*.example"], pool: P}, ...] on tcp listeners.
// The names are checked here (host syntax, one leading "*." at most, each name once per
// listener); the pools are checked with the other pool references (cross_checks.cc).
#include "config/schema.h"

#include <algorithm>
#include <string>

#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kSniRouteKeys = {"names", "pool"};

// One name, lower-cased; false after reporting why it is not one.
bool readSniName(YamlReader& r, const Item& item, std::string& out) {
  if (!item.node.IsScalar()) {
    r.error(item.pos, item.path + ": expected a server name such as a.example or *.example, got " +
                          describe(item.node));
    return false;
  }
  out = lowered(item.node.Scalar());
  std::string_view bare = out;
  if (bare.starts_with("*.")) {
    bare.remove_prefix(2);
  }
  if (bare.find('*') != std::string_view::npos) {
    r.error(item.pos, item.path + ": invalid wildcard in " + quote(item.node.Scalar()) +
                          "; expected an exact name or a leading \"*.\" for one label, such as *.example.com");
    return false;
  }
  if (!isHostName(bare)) {
    r.error(item.pos, item.path + ": invalid server name " + quote(item.node.Scalar()) +
                          "; expected a DNS name of letters, digits, '-' and '.' such as a.example.com (SNI "
                          "carries no port or IP address)");
    return false;
  }
  return true;
}

}  // namespace

void readSniRoutes(YamlReader& r, const Entry& e, std::vector<SniRoute>& out, std::vector<PoolRef>& pools) {
  auto items = r.readList(e, "SNI routes {names: [...], pool: NAME}", false);
  if (!items) {
    return;
  }
  struct Seen {
    std::string name;
    Pos pos;
  };
  std::vector<Seen> seen;
  for (const Item& item : *items) {
    auto map = r.readMap(item.node, item.pos, item.path, kSniRouteKeys);
    if (!map) {
      continue;
    }
    SniRoute route;
    if (r.requireKey(*map, "pool", "the pool that serves these names")) {
      const Entry& p = *map->find("pool");
      if (r.readString(p, route.pool)) {
        pools.push_back({route.pool, p.path, p.pos});
      }
    }
    if (r.requireKey(*map, "names", "the server names (SNI) this route takes, e.g. [a.example, \"*.example\"]")) {
      if (auto names = r.readOneOrList(*map->find("names"), "server names")) {
        for (const Item& n : *names) {
          std::string name;
          if (!readSniName(r, n, name)) {
            continue;
          }
          auto dup = std::find_if(seen.begin(), seen.end(), [&](const Seen& s) { return s.name == name; });
          if (dup != seen.end()) {
            r.error(n.pos, n.path + ": server name " + quote(name) + " already routed at line " +
                               std::to_string(dup->pos.line) + "; expected each name in one route");
            continue;
          }
          seen.push_back({name, n.pos});
          route.names.push_back(std::move(name));
        }
      }
    }
    out.push_back(std::move(route));
  }
}

}  // namespace fulcrum::config::detail
