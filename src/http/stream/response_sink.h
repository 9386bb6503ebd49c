#pragma once
// ResponseSink: where an upstream exchange delivers the response, as events. The HTTP/1
// server codec writes the head it queued and the body bytes in one write (nothing is
// copied: the bytes go from the server's read buffer to the client's socket); an HTTP/2
// codec will make HEADERS and DATA frames within the stream's window.
//
// Back-pressure: the sink takes what its client can take now; what it does not take stays
// in the exchange's buffer and the exchange stops reading the server until the sink's owner
// resumes it (the client became writable).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/message.h"

namespace fulcrum::http {

class ResponseSink {
 public:
  struct Taken {
    size_t bytes = 0;     // how many of the offered bytes were taken
    bool failed = false;  // the client is gone (the sink recorded why): the stream ends
  };

  // An interim head (100 Continue, 103 Early Hints); never 101.
  virtual void onInterimHead(const ResponseHead& head) = 0;
  // The final head (101 included). `following`: the body bytes already buffered behind it,
  // in the head's framing. Returns how many of them the sink took with the head; when it took
  // any, it took the whole body (an HTTP/1.0 client's de-chunked answer) and the response is
  // over.
  virtual size_t onResponseHead(const ResponseHead& head, std::string_view following) = 0;
  // Body bytes, in the framing the head announced.
  virtual Taken onResponseData(std::string_view data) = 0;
  // Sends what the sink still holds. False while the client is not reading (or is gone:
  // then `failed`).
  virtual bool flushResponse(bool& failed) = 0;

 protected:
  ~ResponseSink() = default;
};

}  // namespace fulcrum::http
