#pragma once
// RequestInfo: the parts of a parsed request head that routing, hashing and forwarding look
// at, as views into the head (valid while it is). Pure helpers, no allocation.
#include <string_view>

#include "codec/message.h"

namespace fulcrum::http {

struct RequestInfo {
  const RequestHead* head = nullptr;
  std::string_view host;   // without the port; from the absolute-form target, else Host
  std::string_view path;   // the target up to '?', "/" for an authority-less "*"
  std::string_view query;  // after '?', or empty
  std::string_view uri;    // path and query as sent on to the server (origin form; "?q" alone
                           // when an absolute target had no path: the writer puts "/" first)
};

// Splits the request target. False (with why) when the target cannot be routed safely:
// dot segments ("/a/../b"), which servers resolve differently from the router.
bool describeRequest(const RequestHead& head, RequestInfo& out, std::string_view& why);

// The value of query parameter `name` ("a=1&b=2"); found=false when absent. No decoding.
std::string_view queryParam(std::string_view query, std::string_view name, bool& found);
// The value of cookie `name` from every Cookie field of the request.
std::string_view cookieValue(const RequestHead& head, std::string_view name, bool& found);
// ASCII case-insensitive equality.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace fulcrum::http
