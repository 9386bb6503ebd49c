#pragma once
// Request: the head of one stream's request as every codec gives it, protocol-neutral. The
// HTTP/1 codec fills it from a parsed head (h1/request_decoder.h), an HTTP/2 codec will from
// its pseudo-header fields. Filters, routers and the balancing keys read only this: no HTTP
// version, no framing, no keep-alive. Views into the codec's bytes, valid while they are.
#include <span>
#include <string>
#include <string_view>

#include "codec/message.h"
#include "net/tls_peer.h"

namespace fulcrum::http {

struct Request {
  std::string_view method;
  Method method_id = Method::Other;
  std::string_view scheme = "http";
  std::string_view authority;  // host[:port] as routing took it: what the server is told
                               // (Host, X-Forwarded-Host, {host} in redirects)
  std::string_view host;       // the authority without its port
  std::string_view path;       // the target up to '?', "/" for an authority-less "*"
  std::string_view query;      // after '?', or empty
  std::string_view uri;        // path and query as sent on to the server (origin form; "?q" alone
                               // when an absolute target had no path: encoders put "/" first)
  // The fields as received, repeats kept in order. Fields of one connection hop (HTTP/1's
  // Connection and those it names, Transfer-Encoding, ...) may be among them: encoders drop
  // them, and nothing above the codec may rely on them.
  std::span<const Header> headers;
  bool upgrade = false;        // asks to switch protocols (WebSocket); `upgrade_protocol` names it
  std::string_view upgrade_protocol;
  // The connection's verified client certificate (mTLS), null when there is none: what the
  // identity headers carry and routes match on. Lives as long as the connection.
  const net::ClientCertificate* client_certificate = nullptr;

  // First field with this name (case-insensitive), or null.
  const Header* find(std::string_view name) const { return findField(headers, name); }
};

// The value of query parameter `name` ("a=1&b=2"); found=false when absent. No decoding.
std::string_view queryParam(std::string_view query, std::string_view name, bool& found);
// The value of cookie `name` from every Cookie field of the request.
std::string_view cookieValue(const Request& request, std::string_view name, bool& found);

}  // namespace fulcrum::http
