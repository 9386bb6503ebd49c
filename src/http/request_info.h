#pragma once
// RequestInfo: the parts of a parsed request head that routing, hashing and forwarding look
// at, as views into the head (valid while it is). Pure helpers, no allocation.
#include <string_view>

#include <string>

#include "codec/message.h"
#include "config/model.h"

namespace fulcrum::http {

struct RequestInfo {
  const RequestHead* head = nullptr;
  std::string_view host;   // without the port; from the absolute-form target, else Host
  std::string_view authority;  // host[:port] as routing took it: what the server is told
                               // (Host, X-Forwarded-Host, {host} in redirects)
  std::string_view path;   // the target up to '?', "/" for an authority-less "*"
  std::string_view query;  // after '?', or empty
  std::string_view uri;    // path and query as sent on to the server (origin form; "?q" alone
                           // when an absolute target had no path: the writer puts "/" first)
};

// Splits the request target. Dot segments ("/a/../b", "/%2e%2e/") are handled by `dots`:
// Reject returns false (with why); Normalize removes them (RFC 3986 §5.2.4) into `scratch`,
// which path and uri then view (so scratch must outlive `out`; untouched when there are none);
// Forward leaves them.
bool describeRequest(const RequestHead& head, config::DotSegments dots, std::string& scratch, RequestInfo& out,
                     std::string_view& why);
// The same with dot segments rejected (routers' tests and benchmarks).
inline bool describeRequest(const RequestHead& head, RequestInfo& out, std::string_view& why) {
  std::string unused;  // (Reject never writes it: no allocation)
  return describeRequest(head, config::DotSegments::Reject, unused, out, why);
}
// remove_dot_segments (RFC 3986 §5.2.4) of an absolute path, "%2e" read as "."; appended to out.
void removeDotSegments(std::string_view path, std::string& out);

// The value of query parameter `name` ("a=1&b=2"); found=false when absent. No decoding.
std::string_view queryParam(std::string_view query, std::string_view name, bool& found);
// The value of cookie `name` from every Cookie field of the request.
std::string_view cookieValue(const RequestHead& head, std::string_view name, bool& found);

}  // namespace fulcrum::http
