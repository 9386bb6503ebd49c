#include "http/sticky.h"

#include "balance/balancer.h"

namespace fulcrum::http {

std::string stickyId(const upstream::Cluster& cluster, size_t host) {
  std::string key = cluster.config.name;
  key.push_back('\0');
  key += cluster.hosts[host].config.address.text;
  uint64_t h = balance::hashKey(key);
  static const char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) {
    id[static_cast<size_t>(i)] = kHex[h & 15];
  }
  return id;
}

int findStickyHost(const upstream::Cluster& cluster, std::string_view id) {
  if (id.size() != 16) {
    return -1;
  }
  for (size_t i = 0; i < cluster.hosts.size(); ++i) {
    if (stickyId(cluster, i) == id) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string stickyCookie(const config::Sticky& sticky, const std::string& id) {
  std::string c = sticky.cookie_name + "=" + id + "; Path=" + sticky.path;
  if (sticky.max_age.count() > 0) {
    c += "; Max-Age=" + std::to_string(sticky.max_age.count() / 1000);
  }
  if (sticky.http_only) {
    c += "; HttpOnly";
  }
  if (sticky.secure) {
    c += "; Secure";
  }
  if (!sticky.same_site.empty()) {
    c += "; SameSite=" + sticky.same_site;
  }
  return c;
}

int affinityHost(const upstream::Cluster& cluster, uint64_t clientHash, const upstream::ClusterLoad& load) {
  // Backups only when no primary server is usable.
  for (bool backups : {false, true}) {
    int best = -1;
    uint64_t bestScore = 0;
    for (size_t i = 0; i < cluster.hosts.size(); ++i) {
      if (cluster.hosts[i].config.backup != backups || !load.usable(i)) {
        continue;
      }
      uint64_t z = clientHash ^ balance::hashKey(cluster.hosts[i].config.address.text);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      if (best < 0 || z > bestScore) {
        best = static_cast<int>(i);
        bestScore = z;
      }
    }
    if (best >= 0) {
      return best;
    }
  }
  return -1;
}

}  // namespace fulcrum::http
