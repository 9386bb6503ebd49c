#include <netinet/in.h>

#include <cstring>

#include "balance/balancer.h"
#include "l4/context.h"

namespace fulcrum::l4 {

uint64_t clientHash(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    return balance::hashKey(std::string_view(reinterpret_cast<const char*>(&in->sin_addr), 4));
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    const uint8_t* b = in6->sin6_addr.s6_addr;
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0) {
      // An IPv4 client seen through a dual-stack socket hashes as itself.
      return balance::hashKey(std::string_view(reinterpret_cast<const char*>(b + 12), 4));
    }
    return balance::hashKey(std::string_view(reinterpret_cast<const char*>(b), 16));
  }
  return 0;
}

bool needsClientHash(const upstream::Cluster& cluster) {
  auto a = cluster.config.algorithm;
  return a == config::Algorithm::IpHash || a == config::Algorithm::ConsistentHash || a == config::Algorithm::Maglev;
}

}  // namespace fulcrum::l4
