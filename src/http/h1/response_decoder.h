#pragma once
// The HTTP/1 side of a response's neutral head: from what the parser read to the Response the
// encoder toward the client writes. Views into `head`: valid while it is.
#include "codec/message.h"
#include "http/stream/response.h"

namespace fulcrum::http {

inline Response decodeResponse(const ResponseHead& head) {
  Response r;
  r.status = head.status;
  r.reason = head.reason;
  r.headers = head.headers;
  if (head.status == 101) {
    if (const Header* up = head.find("upgrade")) {
      r.upgrade_protocol = up->value;
    }
  }
  return r;
}

}  // namespace fulcrum::http
