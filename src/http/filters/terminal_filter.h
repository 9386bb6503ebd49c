#pragma once
// A terminal filter ends the chain with a handler that answers the whole request itself: the
// session reads the body (Content-Length or chunked, bounded), hands the handler the complete
// request and writes its answer. Nothing is forwarded. The admin API is one (admin/handler.h);
// a web console or any other built-in endpoint would be another. The listener keeps its
// connection I/O, head parsing, timeouts and closing: they are the session's, as for the proxy.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/chunked.h"
#include "http/filters/filter.h"

namespace fulcrum::http {

// The request as the handler sees it: copied out of the connection's buffers, so it outlives them.
struct TerminalRequest {
  std::string method;
  std::string path;   // the target up to '?' (as the codec decoded it)
  std::string query;  // after '?', undecoded
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;   // de-chunked when it came chunked
  std::string peer;   // the client's address and port, as text
  // The first field with this name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

struct TerminalResponse {
  uint16_t status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string headers;  // whole field lines ("Allow: GET\r\n"); never framing fields
  std::string body;
  bool close = false;   // close the connection once it is sent
};

class TerminalHandler {
 public:
  virtual ~TerminalHandler() = default;
  // Answers one complete request. May throw: the caller answers 500 then (refuse()).
  virtual TerminalResponse handle(const TerminalRequest& request) = 0;
  // The answer to a request refused before handle() (a bad head or body, a timeout, too
  // large, an exception in handle()): the handler's own error shape. Plain text by default.
  virtual TerminalResponse refuse(uint16_t status, std::string_view reason) const;
};

class TerminalFilter final : public RequestFilter {
 public:
  explicit TerminalFilter(TerminalHandler& handler) : handler_(handler) {}
  // Sets state.terminal; returns Terminal: no later filter runs.
  FilterStatus onRequestHead(RequestState& state) const override;

 private:
  TerminalHandler& handler_;
};

// One request for a terminal handler while its body arrives: sans-I/O (the session feeds it
// the bytes it read), so it is unit-tested without a socket.
class TerminalCall {
 public:
  static constexpr size_t kMaxBody = 1024 * 1024;
  enum class Status : uint8_t { NeedMore, Done, Error };

  // Copies what the handler needs from the head (its views die with the connection's buffer).
  // framing: how the body comes (the HTTP/1 codec's word; once the codec hands bodies over as
  // data events, this class only gathers them).
  TerminalCall(TerminalHandler& handler, const Request& request, BodyFraming framing, const sockaddr* peer,
               size_t maxBody = kMaxBody);
  // Takes body bytes from the front of `input` (everything buffered after the head);
  // `consumed` says how many (never past the body's end: a pipelined request stays).
  Status feed(std::string_view input, size_t& consumed);
  bool complete() const { return complete_; }
  // Error: the status (400 malformed chunks, 413 past maxBody) and why.
  uint16_t errorStatus() const { return error_status_; }
  std::string_view errorReason() const { return error_reason_; }
  // The handler's answer to the complete request (its refuse(500) if handle() threw).
  TerminalResponse answer();
  const TerminalRequest& request() const { return request_; }
  TerminalHandler& handler() const { return handler_; }

 private:
  TerminalHandler& handler_;
  TerminalRequest request_;
  BodyKind kind_ = BodyKind::None;
  uint64_t remaining_ = 0;  // Content-Length bytes still to come
  size_t max_body_;
  ChunkedDecoder chunks_;
  bool complete_ = false;
  uint16_t error_status_ = 0;
  std::string_view error_reason_;
};

}  // namespace fulcrum::http
