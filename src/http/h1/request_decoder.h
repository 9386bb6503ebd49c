#pragma once
// The HTTP/1 side of a request's neutral head: from what the parser read (request line, Host,
// fields) to the Request every filter reads. Pure, no allocation (but `scratch`, see below).
#include <string>
#include <string_view>

#include "codec/message.h"
#include "config/model.h"
#include "http/stream/request.h"

namespace fulcrum::http {

// Splits the target (an absolute target's authority wins over Host, RFC 9112 §3.2.2) and
// handles dot segments ("/a/../b", "/%2e%2e/") by `dots`: Reject returns false (with why);
// Normalize removes them (RFC 3986 §5.2.4) into `scratch`, which path and uri then view (so
// scratch must outlive `out`; untouched when there are none); Forward leaves them. CONNECT
// (authority form) is refused. `out` views `head`: valid while it is.
bool decodeRequest(const RequestHead& head, config::DotSegments dots, std::string& scratch, Request& out,
                   std::string_view& why);
// The same with dot segments rejected (routers' tests and benchmarks).
inline bool decodeRequest(const RequestHead& head, Request& out, std::string_view& why) {
  std::string unused;  // (Reject never writes it: no allocation)
  return decodeRequest(head, config::DotSegments::Reject, unused, out, why);
}
// Whether an absolute path has a "." or ".." segment ("%2e" read as ".").
bool hasDotSegment(std::string_view path);
// "host:port" → "host" ("[::1]:80" → "[::1]").
std::string_view stripPort(std::string_view host);
// remove_dot_segments (RFC 3986 §5.2.4) of an absolute path, "%2e" read as "."; appended to out.
void removeDotSegments(std::string_view path, std::string& out);

}  // namespace fulcrum::http
