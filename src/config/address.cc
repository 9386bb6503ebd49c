#include "config/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "config/yaml_reader.h"

namespace fulcrum::config {

bool parseSocketAddress(std::string_view text, SocketAddress& out, std::string& error) {
  return detail::parseSocketAddress(text, out, error);
}

bool sameEndpoint(const SocketAddress& a, const SocketAddress& b) { return detail::sameEndpoint(a, b); }

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
