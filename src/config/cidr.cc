// Address ranges such as 10.0.0.0/8 (trusted PROXY senders and X-Forwarded-* fronts): parsing
// them from the config and matching a peer against one.
#include "config/cidr.h"

#include <arpa/inet.h>

#include <cstring>
#include <utility>

#include "config/yaml_reader.h"

namespace fulcrum::config {

using detail::isDigits;
using detail::quote;

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

bool parseCidr(std::string_view text, Cidr& out, std::string& error) {
  const std::string expected = "expected an address or CIDR range such as 10.0.0.0/8, 127.0.0.1 or ::1/128";
  size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  Cidr result;
  result.text = std::string(text);
  if (address.find(':') != std::string::npos) {
    result.family = AF_INET6;
    if (inet_pton(AF_INET6, address.c_str(), result.bytes) != 1) {
      error = expected + ", got " + quote(text);
      return false;
    }
  } else {
    result.family = AF_INET;
    if (inet_pton(AF_INET, address.c_str(), result.bytes) != 1) {
      error = expected + ", got " + quote(text);
      return false;
    }
  }
  int maxPrefix = result.family == AF_INET ? 32 : 128;
  result.prefix = maxPrefix;
  if (slash != std::string_view::npos) {
    std::string_view prefix = text.substr(slash + 1);
    if (!isDigits(prefix) || prefix.size() > 3 || std::stoi(std::string(prefix)) > maxPrefix) {
      error = "expected a prefix length between 0 and " + std::to_string(maxPrefix) + " in " + quote(text);
      return false;
    }
    result.prefix = std::stoi(std::string(prefix));
  }
  // Host bits set (10.1.2.3/8) usually means the writer meant something narrower: refuse to guess
  // in a list that grants trust.
  int bytes = maxPrefix / 8;
  for (int bit = result.prefix; bit < maxPrefix; ++bit) {
    if (result.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      Cidr network = result;
      for (int b = result.prefix; b < bytes * 8; ++b) {
        network.bytes[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
      }
      char buf[INET6_ADDRSTRLEN] = {};
      inet_ntop(result.family, network.bytes, buf, sizeof(buf));
      error = "range " + quote(text) + " has bits set beyond its /" + std::to_string(result.prefix) +
              " prefix; expected the network address, e.g. " + buf + "/" + std::to_string(result.prefix);
      return false;
    }
  }
  out = std::move(result);
  return true;
}

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
