#include "net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace fulcrum::net {

std::string formatAddress(const sockaddr* sa) {
  // Appended piece by piece (a + b + c chains trip GCC 12's -Wrestrict).
  std::string out;
  if (sa->sa_family == AF_INET) {
    out = formatIp(sa);
    out += ':';
    out += std::to_string(ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port));
    return out;
  }
  if (sa->sa_family == AF_INET6) {
    char ip[INET6_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, ip, sizeof ip);
    out.reserve(64);
    out.push_back('[');
    out.append(ip);
    out.push_back(']');
    out.push_back(':');
    out += std::to_string(ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port));
    return out;
  }
  return "unknown";
}

std::string formatIp(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    }
  }
  return buf;
}

sockaddr_storage localAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    ss = sockaddr_storage{};
  }
  return ss;
}

socklen_t addressLength(const sockaddr* sa) {
  return sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

bool sameAddress(const sockaddr* a, const sockaddr* b) {
  if (a->sa_family != b->sa_family) {
    return false;
  }
  if (a->sa_family == AF_INET) {
    auto* x = reinterpret_cast<const sockaddr_in*>(a);
    auto* y = reinterpret_cast<const sockaddr_in*>(b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    auto* x = reinterpret_cast<const sockaddr_in6*>(a);
    auto* y = reinterpret_cast<const sockaddr_in6*>(b);
    return x->sin6_port == y->sin6_port && std::memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
  }
  return false;
}

IpEndpoint::IpEndpoint(const sockaddr_storage& ss) : v6_{} {
  if (ss.ss_family == AF_INET) {
    std::memcpy(&v4_, &ss, sizeof(v4_));
  } else if (ss.ss_family == AF_INET6) {
    std::memcpy(&v6_, &ss, sizeof(v6_));
  }
}

}  // namespace fulcrum::net
