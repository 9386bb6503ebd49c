#pragma once
// A TLS ClientHello reader for SNI passthrough: it reads only the record and handshake framing
// (RFC 8446 §5.1, §4.1.2; RFC 5246 §7.4.1.2), so it needs no TLS library, and it never changes
// or consumes the bytes: the caller relays them untouched to the server it picks.
//
// Contract:
//  - parseClientHello(data) is pure and stateless: pass every byte the client has sent so far
//    (from its first one); call again with the longer input when more arrive. The ClientHello
//    may span several records and arrive in any number of reads (1-byte writes included).
//  - NeedMore: a valid prefix, the ClientHello is not complete yet. Never returned for an input
//    of kMaxClientHelloInput bytes or more (a ClientHello that needs more is Invalid).
//  - Done: `hello` holds what a router needs. Bytes after the ClientHello are not looked at.
//  - Invalid: not a TLS ClientHello (SSLv2-style hello, HTTP, garbage), malformed framing or
//    extensions, or too long; `error` says why in a few words. Done and Invalid are final: a
//    longer input that starts with the same bytes gives the same result.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fulcrum::codec {

// A ClientHello message is at most 16 KiB (real ones are under 2 KiB); the records that carry it
// may add a 5-byte header each, allowed for up to 1 KiB of headers in all.
inline constexpr size_t kMaxClientHello = 16384;
inline constexpr size_t kMaxClientHelloInput = kMaxClientHello + 4 + 1024;

enum class HelloStatus : uint8_t { NeedMore, Done, Invalid };

struct ClientHello {
  std::string server_name;             // the SNI host_name, lower-cased; empty when none was sent
  std::vector<std::string> alpn;       // the protocols offered, in the client's order
  std::vector<uint16_t> versions;      // supported_versions, or the legacy version when absent
};

struct HelloResult {
  HelloStatus status = HelloStatus::NeedMore;
  ClientHello hello;   // Done only
  std::string error;   // Invalid only
};

HelloResult parseClientHello(std::span<const uint8_t> data);

}  // namespace fulcrum::codec
