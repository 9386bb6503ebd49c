#pragma once
// Stream: one HTTP/2 stream of a client connection, the HTTP/2 side of a neutral stream. It
// runs the listener's filter chain on its request head (h2/request_head.h), answers locally
// or owns one UpstreamExchange, exactly as an HTTP/1 request does, and is that exchange's
// RequestBodySource (the DATA received, framed for HTTP/1.1: Content-Length when the client
// announced one, which nghttp2 checked against the DATA, else chunked) and ResponseSink (the
// server's head as HEADERS, its body as DATA within the stream's window, its trailers as
// trailers).
//
// Bounded both ways: the request body waits here at most one stream window (its window only
// opens as bytes go to the server), the response body at most kResponseBuffer (the exchange
// stops reading its server when that is full, and nghttp2 sends only what the client's
// window allows). So a slow reader holds its own stream and nothing else.
//
// Owned by its Connection; deleted on a later loop turn (events for it may be queued) once
// closed. Everything that refers to the frontend is let go at close.
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codec/chunked.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "http/frontend.h"
#include "http/h2/request_head.h"
#include "http/request_accounting.h"
#include "http/recycler.h"
#include "http/runtime.h"
#include "http/stream/request_body_source.h"
#include "http/stream/response_sink.h"
#include "http/stream/stream_state.h"
#include "http/upstream_exchange.h"


namespace fulcrum::http::h2 {

class Connection;

class Stream final : public ExchangeOwner,
                     public QueuedRequest,
                     public core::DeferredDeletable,
                     private RequestBodySource,
                     private ResponseSink {
 public:
  // Response body bytes held for the client at most (the exchange waits when it is full).
  static constexpr size_t kResponseBuffer = 64 * 1024;

  Stream(Connection& conn, int32_t id);
  ~Stream() override;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int32_t id() const { return id_; }

  // The codec's events (inside ServerCodec::receive: nothing here calls back into it).
  bool onField(std::string_view name, std::string_view value, bool trailer);
  void onRequestHead(bool endStream);
  void onData(std::span<const uint8_t> data);
  void onRequestEnd();
  ssize_t onReadBody(uint8_t* buf, size_t len, uint32_t* flags);

  // After the bytes that made the head were all taken (so a stream reset by the same read
  // never reaches a server): the filters, then a local answer or the exchange.
  void start();
  bool startPending() const { return start_pending_; }
  // Moves what can move: the exchange, after the client's DATA or window opened.
  void pump();
  // nghttp2 closed the stream (done, or reset by either side): accounted, everything given back.
  void onClosed(uint32_t errorCode);
  // The connection is going: the stream ends with it.
  void abort(const char* why);
  bool closed() const { return closed_; }
  bool usesHost(const upstream::HostState* state) const;

  // ExchangeOwner.
  void onUpstreamEvents(uint32_t events) override;
  void onExchangeDeadline() override { scheduleTimer(); }
  void onSlotFreed() override;
  // The listener's queue (max_requests, max_connections): false while still waiting.
  bool retryFromQueue() override;

 private:
  void onExchange(UpstreamExchange::Status status);
  // Waits in the listener's queue (timeouts.queue, the pool's queue_size); 503 when it is full.
  void enqueue();
  void leaveQueue();
  void exchangeFailed();
  // A local answer (filters, 4xx, 5xx): HEADERS and the body as DATA.
  void respond(uint16_t status, std::string_view body, std::string_view contentType, std::string_view extra,
               const config::HeaderEdits* edits, const char* termination);
  // The stream cannot go on (a malformed request the codec let through, an upstream failure
  // after the response began): RST_STREAM.
  void reset(uint32_t errorCode, const char* why);
  void scheduleTimer();
  void onTimer();
  void endRequest(uint16_t status, const char* termination);
  void releaseAll();

  // RequestBodySource.
  State requestBody(std::span<const uint8_t>& data, bool pull) override;
  void requestBodySent(size_t n) override;
  // ResponseSink.
  void onInterimHead(const ResponseHead& head) override;
  size_t onResponseHead(const ResponseHead& head, std::string_view following) override;
  Taken onResponseData(std::string_view data) override;
  bool flushResponse(bool& failed) override;

  Connection& conn_;
  std::shared_ptr<HttpFrontend> frontend_;   // held while the stream is
  std::shared_ptr<const ListenerRuntime> rt_;
  core::Timer timer_;
  int32_t id_;
  StreamState stream_;
  RequestFields fields_;
  Recycler<RequestAccounting>::Ptr acct_;
  std::optional<UpstreamExchange> upstream_;
  const config::HeaderEdits* response_edits_ = nullptr;

  // The request body, framed for HTTP/1.1, waiting for the server.
  std::string req_buf_;
  size_t req_sent_ = 0;
  // Payload bytes of each piece in req_buf_ (by the end offset of its framed bytes): the
  // stream's window opens by them as the piece is sent.
  std::deque<std::pair<uint64_t, size_t>> req_pieces_;
  uint64_t req_framed_ = 0, req_framed_sent_ = 0;
  uint64_t req_payload_ = 0;
  std::vector<std::pair<std::string, std::string>> req_trailers_;
  bool req_chunked_ = false;
  bool req_ended_ = false;   // END_STREAM came (and the last chunk is framed)

  // The response body, as DATA payload, waiting for the client's window.
  std::string resp_buf_;
  size_t resp_sent_ = 0;
  std::unique_ptr<ChunkedDecoder> dechunker_;
  std::vector<std::pair<std::string, std::string>> resp_trailers_;
  bool resp_complete_ = false;  // every byte of the body is in resp_buf_
  bool resp_deferred_ = false;  // nghttp2 waits for resumeData()
  uint64_t resp_bytes_ = 0;

  uint64_t wait_until_ms_ = 0;   // a rate limit's delay
  uint64_t last_client_ms_ = 0;
  uint64_t in_bytes_ = 0;
  uint64_t queue_until_ms_ = 0;  // queued: when timeouts.queue ends the wait
  bool queued_ = false;
  bool start_pending_ = false;
  bool request_head_seen_ = false;
  bool head_request_ = false;
  bool responded_ = false;   // a response head was submitted
  bool closed_ = false;
  bool accounted_ = false;
  bool exchange_over_ = false;  // the exchange returned Done or Failed: not pumped again
  uint16_t status_ = 0;          // the status the client was given
  const char* termination_ = nullptr;  // why the stream ended early (access log)
};

}  // namespace fulcrum::http::h2
