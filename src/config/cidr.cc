#include <cstring>

#include "config/model.h"

namespace fulcrum::config {
namespace {

// True when the first `prefix` bits of a and b are equal.
bool prefixEqual(const uint8_t* a, const uint8_t* b, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) {
    return false;
  }
  int rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

bool Cidr::contains(const sockaddr* addr) const {
  if (addr == nullptr) {
    return false;
  }
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    const auto* peer = reinterpret_cast<const uint8_t*>(&in->sin_addr);
    if (family == AF_INET) {
      return prefixEqual(bytes, peer, prefix);
    }
    // An IPv6 range can still cover IPv4 peers through the mapped block ::ffff:0:0/96.
    uint8_t mapped[16];
    std::memcpy(mapped, kMappedPrefix, 12);
    std::memcpy(mapped + 12, peer, 4);
    return prefixEqual(bytes, mapped, prefix);
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    const auto* peer = reinterpret_cast<const uint8_t*>(&in6->sin6_addr);
    if (family == AF_INET6) {
      return prefixEqual(bytes, peer, prefix);
    }
    // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; those match IPv4 ranges.
    if (std::memcmp(peer, kMappedPrefix, 12) == 0) {
      return prefixEqual(bytes, peer + 12, prefix);
    }
    return false;
  }
  return false;
}

}  // namespace fulcrum::config
