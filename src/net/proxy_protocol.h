#pragma once
// PROXY protocol v1 (text) and v2 (binary) codec, sans-I/O: it only looks at bytes the caller
// has already read, so the connection code owns buffering and the handshake timeout.
// Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fulcrum::net {

// Longest v1 line the spec allows, CRLF included.
inline constexpr size_t kProxyV1MaxLength = 107;
// Our cap on the v2 length field (the spec allows 65535). Address blocks are at most 216 bytes;
// the rest is TLVs, and senders in practice send a few hundred bytes at most.
inline constexpr size_t kProxyV2MaxPayload = 4096;
inline constexpr size_t kProxyV2MaxLength = 16 + kProxyV2MaxPayload;
// No input longer than this is ever answered with NeedMore.
inline constexpr size_t kProxyMaxHeaderLength = kProxyV2MaxLength;

struct ProxyHeader {
  // v1 UNKNOWN, v2 LOCAL, or v2 PROXY with an unspecified or AF_UNIX family: no addresses;
  // the receiver uses the real connection endpoints.
  bool local = false;
  // AF_INET (sockaddr_in) or AF_INET6 (sockaddr_in6) when !local; ports in network order.
  sockaddr_storage source{};
  sockaddr_storage destination{};
};

enum class ParseStatus { NeedMore, Done, Invalid };

struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  size_t consumed = 0;  // header length when Done; bytes after it belong to the payload
  ProxyHeader header;   // when Done
  std::string error;    // when Invalid: what was wrong
};

// Parses a v1 or v2 header at the start of `data` (the version is told by the first byte).
// NeedMore while `data` is a proper prefix of some acceptable header; Invalid as soon as it
// cannot be one (for v1 IPv6 addresses, only the character set and length are checked before
// the delimiter arrives). Never NeedMore for input of kProxyMaxHeaderLength bytes or more.
// v1: strict grammar — single spaces, TCP4/TCP6 addresses of that family, IPv4 octets and
// ports in decimal without leading zeros, at most 107 bytes; "UNKNOWN" may be followed by
// " <anything but CR/LF>" before the CRLF.
// v2: version 2; LOCAL (family ignored) or PROXY with UNSPEC, TCP/UDP over IPv4/IPv6 or
// UNIX (treated as UNSPEC); the length must hold the addresses and be <= kProxyV2MaxPayload;
// TLVs after the addresses are skipped unchecked.
ParseResult parseProxyHeader(std::span<const uint8_t> data);

// "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (or TCP6). IPv4-mapped IPv6 addresses are
// unmapped, and when one side is IPv4 and the other IPv6 the IPv4 one is sent IPv4-mapped
// (TCP6) so the client address survives. Null or non-IP addresses: "PROXY UNKNOWN\r\n".
std::string encodeProxyV1(const sockaddr* src, const sockaddr* dst);
// v2 PROXY command, STREAM, family INET or INET6 chosen as for v1; no TLVs. Null or non-IP
// addresses: PROXY with family UNSPEC and no address block.
std::vector<uint8_t> encodeProxyV2(const sockaddr* src, const sockaddr* dst);

}  // namespace fulcrum::net
