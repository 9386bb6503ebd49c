#pragma once
// Writes the message heads the proxy sends: the request to a server and the response to a
// client. Pure. Hop-by-hop fields are dropped and the framing is written anew from what the
// parser decided, so nothing ambiguous passes through: a message leaves with exactly one
// framing field, or none.
#include <string>
#include <string_view>

#include "codec/message.h"
#include "config/model.h"
#include "http/stream/field_edits.h"
#include "http/stream/request.h"

namespace fulcrum::http {

// The request to a server: the neutral request, its body framing toward the server, and the
// edits the filters decided (forwarded headers, header edits, Host rewrite).
struct ForwardParams {
  const Request* request = nullptr;
  BodyFraming framing;
  const FieldEdits* edits = nullptr;       // null = none
};
void writeRequestHead(std::string& out, const ForwardParams& p);

struct ResponseParams {
  const ResponseHead* head = nullptr;
  bool client_http10 = false;
  bool close = false;                      // the client connection closes after this response
  const config::HeaderEdits* edits = nullptr;
  std::string_view set_cookie;             // a sticky-session Set-Cookie value, or empty
  const BodyFraming* framing = nullptr;    // replaces head->body's framing (a body de-chunked
                                           // for an HTTP/1.0 client); null = the head's own
};
void writeResponseHead(std::string& out, const ResponseParams& p);

// A response Fulcrum makes itself (errors, fixed responses, redirects). `extra` holds whole
// field lines ("Location: /x\r\n").
struct LocalResponse {
  uint16_t status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string_view body;
  std::string_view extra;
  bool close = false;
  bool head_request = false;  // HEAD: Content-Length but no body
  bool client_http10 = false;
  const config::HeaderEdits* edits = nullptr;
};
void writeLocalResponse(std::string& out, const LocalResponse& r);

std::string_view reasonPhrase(uint16_t status);
// The small body of an error Fulcrum answers with: "502 Bad Gateway\n".
std::string errorBody(uint16_t status);

}  // namespace fulcrum::http
