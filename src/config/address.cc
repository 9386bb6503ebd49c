#include "config/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "config/yaml_reader.h"

namespace fulcrum::config {

bool parseSocketAddress(std::string_view text, SocketAddress& out, std::string& error) {
  return detail::parseSocketAddress(text, out, error);
}

bool sameEndpoint(const SocketAddress& a, const SocketAddress& b) { return detail::sameEndpoint(a, b); }

namespace {
uint16_t portOf(const SocketAddress& a) {
  return a.family() == AF_INET ? reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_port
                               : reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_port;
}

bool isWildcard(const SocketAddress& a) {
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr);
}
}  // namespace

bool bindsOverlap(const SocketAddress& a, const SocketAddress& b) { return detail::bindsOverlap(a, b); }

namespace detail {
bool bindsOverlap(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family() || (a.family() != AF_INET && a.family() != AF_INET6) || portOf(a) != portOf(b)) {
    return false;
  }
  return isWildcard(a) || isWildcard(b) || detail::sameEndpoint(a, b);
}
}  // namespace detail

bool isLoopback(const SocketAddress& a) {
  if (a.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a.storage);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (a.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
      return true;
    }
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace fulcrum::config
