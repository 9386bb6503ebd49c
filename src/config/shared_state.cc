// shared_state: where the instances share rate-limit counts and client-address choices (Redis,
// directly or through Sentinel).
#include "config/schema.h"

#include <algorithm>

namespace fulcrum::config::detail {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string_view> kSharedStateKeys = {"redis",      "sentinels", "master_name",
                                                        "key_prefix", "timeout",   "sync_interval"};

}  // namespace

void readSharedState(YamlReader& r, const Entry& e, SharedState& out) {
  auto map = r.readSection(e, kSharedStateKeys);
  if (!map) {
    return;
  }
  out.enabled = true;
  const Entry* redis = map->find("redis");
  const Entry* sentinels = map->find("sentinels");
  const Entry* master = map->find("master_name");
  if (redis && sentinels) {
    r.error(sentinels->keyPos, sentinels->path + ": give redis or sentinels, not both");
  } else if (!redis && !sentinels) {
    r.error(map->pos, e.path + ": expected redis: HOST:PORT (a Redis master) or sentinels: [HOST:PORT, ...] "
                               "with master_name");
  }
  if (redis) {
    r.readAddress(*redis, out.redis);
    if (master) {
      r.error(master->keyPos, master->path + ": only meaningful with sentinels; expected no master_name with redis");
    }
  }
  if (sentinels && !redis) {
    if (auto items = r.readOneOrList(*sentinels, "Sentinel addresses such as 127.0.0.1:26379")) {
      for (const Item& item : *items) {
        SocketAddress a;
        if (r.readAddress(asEntry(item), a)) {
          out.sentinels.push_back(std::move(a));
        }
      }
    }
    if (master == nullptr) {
      r.error(sentinels->keyPos, sentinels->path + ": Sentinels need master_name, the name of the master set "
                                                   "they watch (e.g. mymaster)");
    }
  }
  if (master) {
    std::string name;
    if (r.readScalar(*master, "a Sentinel master name such as mymaster", name)) {
      bool ok = !name.empty() && name.size() <= 64 &&
                std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c <= '~'; });
      if (!ok) {
        r.error(master->pos, master->path + ": expected 1 to 64 printable characters without spaces, got " +
                                 quote(name));
      } else {
        out.master_name = std::move(name);
      }
    }
  }
  if (const Entry* p = map->find("key_prefix")) {
    std::string prefix;
    if (r.readScalar(*p, "a key prefix such as fulcrum:", prefix)) {
      bool ok = !prefix.empty() && prefix.size() <= 64 &&
                std::all_of(prefix.begin(), prefix.end(), [](char c) { return c > ' ' && c <= '~'; });
      if (!ok) {
        r.error(p->pos, p->path + ": expected 1 to 64 printable characters without spaces, got " + quote(prefix));
      } else {
        out.key_prefix = std::move(prefix);
      }
    }
  }
  if (const Entry* p = map->find("timeout")) {
    r.readDuration(*p, 10ms, 10s, out.timeout);
  }
  if (const Entry* p = map->find("sync_interval")) {
    r.readDuration(*p, 10ms, 1s, out.sync_interval);
  }
}

}  // namespace fulcrum::config::detail
