// libFuzzer target for the PROXY protocol parser. The property lives in checkProxyProperty()
// so tests/unit/net/proxy_protocol_corpus_test.cc can replay the corpus in ordinary builds
// (it #includes this file).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "net/proxy_protocol.h"

namespace fulcrum::net::fuzz {

// Family, address and port, with IPv4-mapped IPv6 unmapped (the encoders unmap them).
inline std::string canonicalEndpoint(const sockaddr_storage& ss) {
  uint8_t addr[16];
  int family = ss.ss_family;
  uint16_t port = 0;
  if (family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, &ss, sizeof(in));
    std::memcpy(addr, &in.sin_addr, 4);
    port = ntohs(in.sin_port);
  } else if (family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, &ss, sizeof(in6));
    port = ntohs(in6.sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
      family = AF_INET;
      std::memcpy(addr, in6.sin6_addr.s6_addr + 12, 4);
    } else {
      std::memcpy(addr, in6.sin6_addr.s6_addr, 16);
    }
  } else {
    return "family " + std::to_string(family);
  }
  char text[INET6_ADDRSTRLEN] = "?";
  inet_ntop(family, addr, text, sizeof(text));
  return std::string(text) + " port " + std::to_string(port);
}

inline std::string describe(const ParseResult& r) {
  static const char* const kStatus[] = {"NeedMore", "Done", "Invalid"};
  std::string s = kStatus[static_cast<int>(r.status)];
  if (r.status == ParseStatus::Done) {
    s += " consumed=" + std::to_string(r.consumed);
    s += r.header.local ? " local" : " " + canonicalEndpoint(r.header.source) + " -> " +
                                        canonicalEndpoint(r.header.destination);
  } else if (r.status == ParseStatus::Invalid) {
    s += " (" + r.error + ")";
  }
  return s;
}

inline bool sameHeader(const ProxyHeader& a, const ProxyHeader& b) {
  if (a.local || b.local) {
    return a.local == b.local;
  }
  return canonicalEndpoint(a.source) == canonicalEndpoint(b.source) &&
         canonicalEndpoint(a.destination) == canonicalEndpoint(b.destination);
}

// Checks that re-encoding a parsed header (v1 and v2) parses back to the same addresses.
inline std::string checkReencode(const ParseResult& r, bool v2) {
  const auto* src = reinterpret_cast<const sockaddr*>(&r.header.source);
  const auto* dst = reinterpret_cast<const sockaddr*>(&r.header.destination);
  std::vector<uint8_t> bytes;
  if (v2) {
    bytes = r.header.local ? encodeProxyV2(nullptr, nullptr) : encodeProxyV2(src, dst);
  } else {
    std::string line = r.header.local ? encodeProxyV1(nullptr, nullptr) : encodeProxyV1(src, dst);
    bytes.assign(line.begin(), line.end());
  }
  ParseResult again = parseProxyHeader(bytes);
  if (again.status != ParseStatus::Done || again.consumed != bytes.size() ||
      !sameHeader(r.header, again.header)) {
    return std::string(v2 ? "v2" : "v1") + " re-encode round trip: " + describe(r) +
           " re-parsed as " + describe(again);
  }
  return {};
}

// The fuzzing property; returns what failed, or an empty string.
inline std::string checkProxyProperty(std::span<const uint8_t> data) {
  ParseResult r = parseProxyHeader(data);
  switch (r.status) {
    case ParseStatus::NeedMore:
      if (data.size() >= kProxyMaxHeaderLength) {
        return "NeedMore for " + std::to_string(data.size()) + " bytes";
      }
      // Any prefix of a viable prefix is viable.
      if (ParseResult half = parseProxyHeader(data.first(data.size() / 2));
          half.status != ParseStatus::NeedMore) {
        return "NeedMore, but its first half gives " + describe(half);
      }
      return {};
    case ParseStatus::Invalid:
      if (r.error.empty()) {
        return "Invalid without an error message";
      }
      return {};
    case ParseStatus::Done:
      break;
  }
  if (r.consumed == 0 || r.consumed > data.size() || r.consumed > kProxyMaxHeaderLength) {
    return "Done with consumed=" + std::to_string(r.consumed) + " of " + std::to_string(data.size());
  }
  // The header alone parses the same; one byte less is still a viable prefix.
  ParseResult exact = parseProxyHeader(data.first(r.consumed));
  if (exact.status != ParseStatus::Done || exact.consumed != r.consumed ||
      !sameHeader(exact.header, r.header)) {
    return "header alone gives " + describe(exact) + " instead of " + describe(r);
  }
  for (size_t n : {r.consumed - 1, r.consumed / 2}) {
    if (ParseResult shorter = parseProxyHeader(data.first(n)); shorter.status != ParseStatus::NeedMore) {
      return "prefix of " + std::to_string(n) + " bytes gives " + describe(shorter);
    }
  }
  if (std::string e = checkReencode(r, false); !e.empty()) {
    return e;
  }
  return checkReencode(r, true);
}

}  // namespace fulcrum::net::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string failure = fulcrum::net::fuzz::checkProxyProperty(std::span<const uint8_t>(data, size));
  if (!failure.empty()) {
    std::fprintf(stderr, "PROXY protocol property violated: %s\n", failure.c_str());
    std::abort();
  }
  return 0;
}
