#pragma once
// HTTP/1.1 message head parsers: sans-I/O, incremental, zero-copy, strict (RFC 9110, 9112).
//
// Contract, for both parsers:
//  - feed(data) takes every byte of the message received so far, from the message's first
//    byte: each call passes the bytes of the previous call again plus any new ones (the buffer
//    may have moved: only offsets are kept between calls). Any split works, one byte at a time
//    included, and gives the same result as one call with everything; each byte is looked at a
//    bounded number of times in total, so slow peers cost no rescans.
//  - It returns NeedMore (feed again when more bytes arrive), Done (the head is the first
//    `consumed` bytes; what follows is the body or the next message) or Error (the status to
//    answer, a static reason and the offending offset). Done and Error are final: later calls
//    return the same result until reset().
//  - After Done, head() holds views into the `data` of the call that returned Done; they stay
//    valid while those bytes do, and until the next reset() or feed().
//  - Never NeedMore once the bytes exceed the limits: at most maxRequestLine +
//    maxHeaderBytes bytes are ever needed.
//  - No allocation per message once the field arrays have grown to the largest head seen
//    (they are reused); nothing throws.
//  - One parser per connection direction; not thread-safe; reset() between messages.
//
// Strictness (see docs/http_parser.md for the full list): CRLF only (bare CR or LF → 400),
// single SPs in the request line, only HTTP/1.0 and HTTP/1.1 (other HTTP/x.y → 505), no
// obs-fold, no whitespace before a colon, tchar names, no CTLs in values, exactly one Host
// for HTTP/1.1, Content-Length and Transfer-Encoding never together, Content-Length digits
// only (identical repeats merged), and a request's Transfer-Encoding exactly "chunked".
#include <string_view>

#include "codec/head_parser.h"
#include "codec/limits.h"
#include "codec/message.h"

namespace fulcrum::http {

class RequestParser {
 public:
  explicit RequestParser(const Limits& limits = {}) : parser_(HeadParser::Kind::Request, limits) {}

  // Errors are 400, 413 (Content-Length above maxBodySize), 414 (request line), 431 (header
  // section or field count), 501 (a transfer coding other than chunked) or 505.
  ParseResult feed(std::string_view data) { return parser_.feed(data); }
  // Valid after Done (see above).
  const RequestHead& head() const { return parser_.request(); }
  // Forget the message; the next feed() starts a new one.
  void reset() { parser_.reset({}); }
  // reset() under new limits (a recycled parser).
  void configure(const Limits& limits) {
    parser_.setLimits(limits);
    parser_.reset({});
  }

 private:
  HeadParser parser_;
};

class ResponseParser {
 public:
  explicit ResponseParser(const Limits& limits = {}, ResponseContext context = {})
      : parser_(HeadParser::Kind::Response, limits) {
    parser_.reset(context);
  }

  // Errors always carry 502; the reason tells what the upstream got wrong. A 1xx other than
  // 101 is a complete interim response: reset() and parse the final one after it.
  ParseResult feed(std::string_view data) { return parser_.feed(data); }
  const ResponseHead& head() const { return parser_.response(); }
  // Forget the message; `context` describes the request the next response answers.
  void reset(ResponseContext context = {}) { parser_.reset(context); }
  // reset() under new limits (a recycled parser).
  void configure(const Limits& limits, ResponseContext context) {
    parser_.setLimits(limits);
    parser_.reset(context);
  }

 private:
  HeadParser parser_;
};

}  // namespace fulcrum::http
