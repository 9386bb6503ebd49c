// The checks that need the whole file: pools named by listeners and routes exist, L4 listeners
// use pools they can hash for, the admin listener has an address of its own.
#include "config/schema.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/address.h"

namespace fulcrum::config::detail {

void checkPoolReferences(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners) {
  // When a pool entry is broken its name may be unknown; a "dangling" report would then be noise.
  if (!pools.complete) {
    return;
  }
  std::vector<std::string_view> defined;
  for (const auto& n : pools.names) {
    defined.push_back(n.name);
  }
  auto check = [&](const std::string& name, const std::string& path, Pos pos) {
    if (config.findPool(name) != nullptr) {
      return;
    }
    std::string message = path + ": pool " + quote(name) + " is not defined";
    if (auto guess = suggest(name, defined)) {
      message += " (did you mean " + quote(*guess) + "?)";
    }
    r.error(pos, message + "; expected one of the pools: " + joined(defined));
  };
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerRefs& refs = listeners.refs[i];
    if (refs.poolRead) {
      check(config.listeners[i].pool, refs.path, refs.poolPos);
    }
    for (const PoolRef& ref : refs.routePools) {
      check(ref.name, ref.path, ref.pos);
    }
  }
}

// Header, cookie and path keys need an HTTP listener: a tcp or udp listener must not use a pool
// that hashes on them. http listeners may, directly or through their routes.
void checkHashKeys(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners) {
  for (const HashKeyRef& ref : pools.hashKeys) {
    const Pool& pool = config.pools[ref.pool];
    for (size_t i = 0; i < config.listeners.size(); ++i) {
      const Listener& l = config.listeners[i];
      bool sends = (listeners.refs[i].poolRead && l.pool == pool.name) ||
                   std::any_of(l.sni_routes.begin(), l.sni_routes.end(),
                               [&](const SniRoute& s) { return s.pool == pool.name; });
      if (!listeners.refs[i].protocolRead || l.protocol == Protocol::Http || !sends) {
        continue;
      }
      std::string who = l.name.empty() ? "listeners[" + std::to_string(i) + "]" : l.name;
      r.error(ref.pos, ref.path + ": listener " + who + " (" + protocolName(l.protocol) + ") cannot provide " +
                           hashKeyText(pool.hash_key) +
                           "; L4 listeners hash on client_address (expected hash_key: client_address)");
    }
  }
}

void checkPoolTls(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners) {
  for (const HashKeyRef& ref : pools.tls) {
    const Pool& pool = config.pools[ref.pool];
    for (size_t i = 0; i < config.listeners.size(); ++i) {
      const Listener& l = config.listeners[i];
      bool sends = (listeners.refs[i].poolRead && l.pool == pool.name) ||
                   std::any_of(l.sni_routes.begin(), l.sni_routes.end(),
                               [&](const SniRoute& s) { return s.pool == pool.name; });
      if (!listeners.refs[i].protocolRead || l.protocol == Protocol::Http || !sends) {
        continue;
      }
      // Never a silent plain relay to servers that were meant to get TLS.
      std::string who = l.name.empty() ? "listeners[" + std::to_string(i) + "]" : l.name;
      r.error(ref.pos, ref.path + ": listener " + who + " (" + protocolName(l.protocol) +
                           ") relays bytes untouched and cannot speak TLS to servers; expected the pool to be used "
                           "by http listeners only, or no tls section");
    }
  }
}

// The admin listener is a TCP socket of its own: it cannot share an address (or a wildcard
// of its port) with a tcp or http listener.
void checkAdminBind(YamlReader& r, const Config& config, const Entry* admin, const ListenersRead& listeners) {
  if (!config.admin.enabled) {
    return;
  }
  std::optional<Pos> adminPos;
  if (admin != nullptr && admin->value.IsMap() && admin->value["bind"]) {
    adminPos = toPos(admin->value["bind"].Mark());
  }
  for (const Bound& b : listeners.binds) {
    if (b.protocol == Protocol::Udp || !bindsOverlap(b.address, config.admin.bind)) {
      continue;
    }
    if (adminPos) {
      r.error(*adminPos, "admin.bind: " + config.admin.bind.text + " is also the bind of listener " +
                             quote(b.listener) + " (line " + std::to_string(b.pos.line) +
                             "); expected an address and port of its own for the admin listener");
    } else {
      r.error(b.pos, "listeners: " + b.address.text + " of listener " + quote(b.listener) +
                         " takes the admin listener's default address " + config.admin.bind.text +
                         "; expected another port, or admin.bind set to one of its own");
    }
  }
}

// Sharing needs somewhere to share through: a `shared: true` without a shared_state section
// would silently count per instance, which is what the operator asked not to get.
void checkSharedState(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners) {
  if (config.shared_state.enabled) {
    return;
  }
  auto report = [&](const SharedRef& ref) {
    r.error(ref.pos, ref.path + ": shared: true needs a top-level shared_state section (redis: HOST:PORT or "
                                "sentinels); expected shared_state, or shared: false");
  };
  for (const SharedRef& ref : pools.shared) {
    report(ref);
  }
  for (const ListenerRefs& refs : listeners.refs) {
    for (const SharedRef& ref : refs.shared) {
      report(ref);
    }
  }
}

}  // namespace fulcrum::config::detail
