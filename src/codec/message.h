#pragma once
// What the HTTP/1 parsers report: the message head as views into the caller's bytes (no
// copies), the body framing the proxy must follow, and the tri-state parse result.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace fulcrum::http {

enum class Version : uint8_t { Http10, Http11 };

// Methods the proxy treats specially; any other token is Other (methods are case-sensitive).
enum class Method : uint8_t { Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch, Other };
Method methodFromToken(std::string_view token);

// RFC 9112 §3.2. Origin "/p?q"; Absolute "http://h/p"; Authority "h:443" (CONNECT only);
// Asterisk "*" (OPTIONS only).
enum class TargetForm : uint8_t { Origin, Absolute, Authority, Asterisk };

enum class BodyKind : uint8_t {
  None,           // no body follows the head
  ContentLength,  // exactly `length` bytes follow (possibly 0)
  Chunked,        // chunked coding: feed the body to a ChunkedDecoder
  UntilClose,     // responses only: the body ends when the server closes
};

struct BodyFraming {
  BodyKind kind = BodyKind::None;
  uint64_t length = 0;  // ContentLength only
};

// A field line as received: name without the colon, value without surrounding whitespace.
// Repeated fields stay separate entries in arrival order.
struct Header {
  std::string_view name;
  std::string_view value;
};

// The first field named `name` (case-insensitive), or null.
const Header* findField(std::span<const Header> headers, std::string_view name);

// True for the fixed hop-by-hop fields (Connection, Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding, Upgrade; RFC 9110 §7.6.1) and for every name a Connection field among
// `headers` lists. A proxy drops these when forwarding.
bool isHopByHop(std::span<const Header> headers, std::string_view name);

struct MessageHead {
  Version version = Version::Http11;
  std::span<const Header> headers;
  BodyFraming body;
  // The connection may carry another message after this one: HTTP/1.1 unless "Connection:
  // close"; HTTP/1.0 only with "Connection: keep-alive" (and no "close"). Always false when the
  // body runs until close.
  bool keepAlive = false;
  // Request: HTTP/1.1 with "Connection: upgrade" and an Upgrade field. Response: a 101 (which
  // the parser only accepts with an Upgrade field); the connection becomes a tunnel.
  bool upgrade = false;

  // First field with this name (case-insensitive), or null.
  const Header* find(std::string_view name) const { return findField(headers, name); }
  // isHopByHop(headers, name) of this message.
  bool isHopByHop(std::string_view name) const { return http::isHopByHop(headers, name); }
};

struct RequestHead : MessageHead {
  std::string_view method;
  Method methodId = Method::Other;
  std::string_view target;
  TargetForm targetForm = TargetForm::Origin;
  // The Host value (possibly empty); empty when an HTTP/1.0 request has none.
  std::string_view host;
  // HTTP/1.1 with "Expect: 100-continue" (other expectations are ignored, as are they in 1.0).
  bool expectContinue = false;
};

struct ResponseHead : MessageHead {
  uint16_t status = 0;  // 100..599
  std::string_view reason;
};

// What the response parser must know about the request the response answers.
struct ResponseContext {
  bool headRequest = false;     // no body, whatever the framing fields say
  bool connectRequest = false;  // a 2xx turns the connection into a tunnel: no body

  static ResponseContext forMethod(Method method) {
    return {method == Method::Head, method == Method::Connect};
  }
};

enum class ParseStatus : uint8_t { NeedMore, Done, Error };

struct ParseError {
  // The status to answer. Request heads: 400, 413, 414, 431, 501 or 505. Response heads:
  // always 502 (the upstream is at fault). Chunked bodies: 400, 413 or 431; a proxy decoding
  // a response body answers 502 instead.
  uint16_t status = 0;
  std::string_view reason;  // static text, e.g. "bare LF"
  size_t offset = 0;        // of the offending byte, from the start of the message (or body)
};

struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  size_t consumed = 0;  // Done: length of the head; the body (or next message) follows
  ParseError error;     // Error only
};

}  // namespace fulcrum::http
