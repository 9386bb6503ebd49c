// Socket addresses as the config writes them: parsing "host:port" (a hostname is resolved here,
// once, at load time), and the comparisons the loader and the server make between binds.
#include "config/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "config/yaml_reader.h"

namespace fulcrum::config {

using detail::isDigits;
using detail::quote;

bool parseSocketAddress(std::string_view text, SocketAddress& out, std::string& error) {
  const std::string expected =
      "expected host:port such as 127.0.0.1:8080, [::1]:8080, *:8080 or localhost:8080";
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = expected + ", got " + quote(text);
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    bracketed = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = expected + ", got " + quote(text) + " (the port is missing)";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = "IPv6 addresses must be written in brackets, e.g. [::1]:8080; got " + quote(text);
      return false;
    }
  }
  if (host.empty()) {
    error = expected + ", got " + quote(text) + " (the host is missing; use * for all IPv4 addresses)";
    return false;
  }
  if (!isDigits(port) || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
      std::stoi(std::string(port)) > 65535) {
    error = "expected a port between 1 and 65535 in " + quote(text) + ", got " + quote(port);
    return false;
  }
  auto portNumber = static_cast<uint16_t>(std::stoi(std::string(port)));

  SocketAddress result;
  result.text = std::string(text);
  if (bracketed) {
    // getaddrinfo rather than inet_pton so that scoped addresses such as fe80::1%eth0 work.
    addrinfo hints{};
    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* info = nullptr;
    if (getaddrinfo(std::string(host).c_str(), nullptr, &hints, &info) != 0 || info == nullptr) {
      error = "invalid IPv6 address " + quote(host) + " in " + quote(text) + "; expected e.g. [::1]:8080";
      return false;
    }
    std::memcpy(&result.storage, info->ai_addr, info->ai_addrlen);
    result.length = static_cast<socklen_t>(info->ai_addrlen);
    freeaddrinfo(info);
    reinterpret_cast<sockaddr_in6*>(&result.storage)->sin6_port = htons(portNumber);
    out = std::move(result);
    return true;
  }
  in_addr v4{};
  bool looksNumeric = host.find_first_not_of("0123456789.") == std::string_view::npos;
  if (host == "*" || (looksNumeric && inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1)) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&result.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(portNumber);
    sin->sin_addr = host == "*" ? in_addr{htonl(INADDR_ANY)} : v4;
    result.length = sizeof(sockaddr_in);
    out = std::move(result);
    return true;
  }
  if (looksNumeric) {
    // getaddrinfo would accept shorthand like "10.1" as 10.0.0.1; that is almost always a typo.
    error = "invalid IPv4 address " + quote(host) + " in " + quote(text) +
            "; expected four numbers 0-255 "
            "such as 127.0.0.1";
    return false;
  }
  bool hostnameChars = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
  if (!hostnameChars || host.size() > 253) {
    error = "invalid host " + quote(host) + " in " + quote(text) +
            "; expected an IPv4 address, a bracketed IPv6 address, * or a hostname";
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address instead of one per socket type
  addrinfo* info = nullptr;
  int rc = getaddrinfo(std::string(host).c_str(), nullptr, &hints, &info);
  if (rc != 0 || info == nullptr) {
    error = "cannot resolve host " + quote(host) + ": " + gai_strerror(rc) +
            "; expected an IP address or a resolvable hostname";
    return false;
  }
  std::memcpy(&result.storage, info->ai_addr, info->ai_addrlen);
  result.length = static_cast<socklen_t>(info->ai_addrlen);
  freeaddrinfo(info);
  if (result.storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&result.storage)->sin_port = htons(portNumber);
  } else {
    reinterpret_cast<sockaddr_in6*>(&result.storage)->sin6_port = htons(portNumber);
  }
  out = std::move(result);
  return true;
}

bool sameEndpoint(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family()) {
    return false;
  }
  if (a.family() == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(&a.storage);
    const auto* y = reinterpret_cast<const sockaddr_in*>(&b.storage);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage);
  const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage);
  return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
         std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0;
}

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

bool bindsOverlap(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family() || (a.family() != AF_INET && a.family() != AF_INET6) || portOf(a) != portOf(b)) {
    return false;
  }
  return isWildcard(a) || isWildcard(b) || sameEndpoint(a, b);
}

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
