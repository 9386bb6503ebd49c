#pragma once
// RequestBodySource: where an upstream exchange takes the request body from. The HTTP/1
// server codec gives the client's framed bytes as they sit in its read buffer (the server is
// told the client's framing, so they go as they are and nothing is copied); an HTTP/2 codec
// will give DATA payloads, which the HTTP/1 client side frames.
#include <cstddef>
#include <cstdint>
#include <span>

namespace fulcrum::http {

class RequestBodySource {
 public:
  enum class State : uint8_t {
    Ready,     // `data` holds body bytes that may go to the server now
    Complete,  // every byte of the body was given and sent
    Waiting,   // more is to come: the source resumes the exchange when the client has sent it
    Failed,    // the body cannot be had: the client is gone or its body is malformed; the
               // source recorded why (the stream ends, the exchange only stops)
  };

  // What of the body can be sent now. `pull`: the source may read from its peer to have some
  // (false: only what is already buffered, e.g. to go in one write with the request head).
  virtual State requestBody(std::span<const uint8_t>& data, bool pull) = 0;
  // The first `n` bytes of the last `data` were sent.
  virtual void requestBodySent(size_t n) = 0;

 protected:
  ~RequestBodySource() = default;
};

}  // namespace fulcrum::http
