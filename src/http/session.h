#pragma once
// HttpSession: one client connection of an HTTP listener, serving its requests one at a time
// and in order (pipelined requests wait in the read buffer):
//
//   Head      read and parse a request head (request_head timeout; keepalive between requests)
//     -> local answer (route respond/redirect, 4xx, 429)          -> Head, or Closing
//     -> Terminal: a terminal filter's handler answers (its body read first) -> Head, or Closing
//     -> Waiting (rate-limit delay, or the pool's max_requests queue)
//     -> Upstream: the request's UpstreamExchange picks a server, connects (or reuses an idle
//          connection), sends the request head and the body as it arrives, and delivers the
//          response to this session (its ResponseSink), which writes it to the client; at
//          most one buffer in flight per direction, so a slow peer stops the reading of the
//          other (back-pressure)
//     -> Head again (the server connection back to the pool), or Closing;
//     -> Tunnel after a 101 (WebSocket): raw bytes both ways until both sides are done.
//
// The exchange retries on another server what the pool's RetryPolicy allows (nothing of a
// response reached the client yet); otherwise the client gets 502/503/504. After a response
// has started, a failure closes the client connection: a cut response is never made to look
// whole. This file is the HTTP/1 server codec and the stream's life; docs/design/http_core.md
// has the map.
#include <netinet/in.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/parser.h"
#include "core/io_buffer.h"
#include "core/timer_wheel.h"
#include "http/body_framer.h"
#include "http/client_connection.h"
#include "http/filters/terminal_filter.h"
#include "http/h1/head_writer.h"
#include "http/frontend.h"
#include "http/h2/connection.h"
#include "http/recycler.h"
#include "http/request_accounting.h"
#include "http/stream/request.h"
#include "http/runtime.h"
#include "http/stream/stream_state.h"
#include "http/tunnel.h"
#include "http/upstream_conn.h"
#include "http/upstream_exchange.h"
#include "http/upstream_request.h"
#include "http/stream/request_body_source.h"
#include "http/stream/response_sink.h"
#include "net/address.h"
#include "net/transport.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

class HttpFrontend;

class HttpSession final : public upstream::Session,
                          public core::IoHandler,
                          public ExchangeOwner,
                          public QueuedRequest,
                          private RequestBodySource,
                          private ResponseSink {
 public:
  HttpSession(upstream::WorkerContext& ctx, std::shared_ptr<HttpFrontend> frontend, core::Fd client,
              const sockaddr_storage& peer);
  ~HttpSession() override;

  void start();
  void close(const char* reason, bool reset) override;
  bool usesHost(const upstream::HostState* state) const override;
  void drain() override;
  void onIoEvents(uint32_t events) override;
  void onUpstreamEvents(uint32_t events) override;
  void onExchangeDeadline() override { scheduleTimer(); }
  void onSlotFreed() override;
  // The frontend's max_requests queue: false while still waiting.
  bool retryFromQueue() override;

 private:
  // Upstream: the request's UpstreamExchange runs (connecting, sending, receiving, retrying).
  // H2: the connection speaks HTTP/2 (h2/connection.h runs its streams).
  enum class Phase : uint8_t { Head, Terminal, Waiting, Upstream, Tunnel, H2, Closing, Closed };

  void drive();
  // Draining: an idle keep-alive connection closes once it has been quiet for drainQuietMs()
  // (checked now, else by the timer); a request arriving first is answered with Connection: close.
  void closeIdleWhenQuiet();
  bool drainIdleDue(uint64_t now) const;
  uint64_t drainQuietMs() const;
  // Head phase.
  void readHead();
  bool readClient(size_t maxBuffered);
  void onHead(size_t headLength);
  void respondLocal(uint16_t status, std::string_view body, std::string_view extra, bool closeAfter,
                    const config::HeaderEdits* edits = nullptr, std::string_view contentType = {});
  // detail: the parser's reason, for a terminal handler's answer (the log line says `why`).
  void respondError(uint16_t status, const char* why, std::string_view detail = {});
  // Terminal phase: the body read into x_->terminal, then the handler's answer.
  void startTerminal(const Request& request, size_t headLength, TerminalHandler& handler);
  void pumpTerminal();
  // Upstream phase: what the exchange's calls return is acted on here.
  void startUpstream();
  void onExchange(UpstreamExchange::Status status);
  void exchangeFailed();
  // Waits in the listener's queue (timeouts.queue, the pool's queue_size) for a pool or server slot.
  void enqueue();
  void finishExchange();
  // The HTTP/1 server codec's side of the exchange: the request body as the client framed it,
  // and the response written to the client (head and body bytes in one write).
  State requestBody(std::span<const uint8_t>& data, bool pull) override;
  void requestBodySent(size_t n) override;
  void onInterimHead(const ResponseHead& head) override;
  size_t onResponseHead(const ResponseHead& head, std::string_view following) override;
  Taken onResponseData(std::string_view data) override;
  bool flushResponse(bool& failed) override;
  // An HTTP/1.0 client's answer to a chunked response: the payload copied out, framing and
  // trailers dropped.
  Taken dechunk(std::string_view chunked);
  // The source or sink cannot go on: how the stream ends (applied by exchangeFailed()).
  void streamFailed(const char* why, uint16_t status = 0);
  // HTTP/2: the client said so (ALPN h2, or the prior-knowledge preface where enabled).
  // wantsH2(): Yes, No, or Maybe while the first bytes could still be the preface.
  enum class H2Start : uint8_t { Yes, No, Maybe };
  H2Start wantsH2() const;
  void startH2();
  void driveH2();
  // Tunnel.
  void startTunnel();
  void pumpTunnel();
  // Writing to the client: out() is conn_.out with storage (borrowed until everything is sent).
  std::string& out();
  bool flushClient();
  // flushClient() that reports a failed write instead of closing.
  ClientConnection::Io flushOut();
  // The last response is written: send what is left, then close (lingering unless quick_close_).
  void beginClosing();
  void lingerClose();
  void scheduleTimer();
  void onTimer();
  void resumeSoon();
  // Accounting: metrics and the access log line of each request.
  void beginRequest(const RequestHead* h);
  void endRequest(uint16_t status, const char* termination);
  void recordRequest(uint16_t status, const char* termination);
  RequestAccounting& acct();
  void leaveQueue();
  stats::Traffic& listenerStats() { return rt_->stats->worker(ctx_.worker_index); }

  // Kept small: an idle keep-alive connection holds this object and nothing else of its own
  // (what a request needs is borrowed from the worker; docs/performance.md has the figures).
  upstream::WorkerContext& ctx_;
  std::shared_ptr<HttpFrontend> frontend_;
  std::shared_ptr<const ListenerRuntime> rt_;  // of the current request
  ClientConnection conn_;  // the client's transport, buffers and readiness
  Recycler<RequestParser>::Ptr parser_;  // only while a request head is read (see readHead)
  // Timeouts, and resumeSoon(): a pass of drive() on the next loop turn (resume_pending_).
  core::Timer timer_;
  net::IpEndpoint peer_;
  Phase phase_ = Phase::Head;
  bool close_after_ = false;   // close the client connection once this response is sent
  bool draining_ = false;
  bool trusted_front_ = false;
  uint8_t conn_held_ = 0;        // what the connection filters hold for it (ConnectionFilterChain)
  bool proxy_done_ = false;      // the PROXY header (accept_proxy) was read
  bool queued_ = false;
  bool counted_conn_ = false;
  bool resume_pending_ = false;
  bool quick_close_ = false;   // the client is done sending: close at once, no lingering (lingerClose)
  std::string client_ip_;
  // The verified client certificate (mTLS), once the handshake is done; owned by the transport.
  const net::ClientCertificate* client_cert_ = nullptr;
  uint64_t requests_ = 0;
  uint64_t head_started_ms_ = 0;

  // The request in progress (allocated per request: an idle connection holds none).
  struct ClientStream {
    ClientStream(const Limits& limits, uint32_t id) : stream(id), req_body(limits) {}
    ClientStream(const ClientStream&) = delete;
    ClientStream& operator=(const ClientStream&) = delete;
    StreamState stream;  // where the request and its response are
    // The way to a server: made once the filters chose the pool (it refers to `stream`).
    std::optional<UpstreamExchange> upstream;
    const config::HeaderEdits* response_edits = nullptr;  // the route's, for the server's response
    BodyFramer req_body;  // the client's body framing (the server is told the same)
    bool head_request = false;
    bool client_http10 = false;
    bool client_keepalive = false;
    bool client_done = false;   // the client said this is its last request (close, HTTP/1.0)
    // A chunked response to an HTTP/1.0 client, relayed de-chunked (HTTP/1.0 has no chunked
    // coding): the payload is copied to conn_.out, the framing and trailers dropped.
    std::unique_ptr<ChunkedDecoder> dechunker;
    std::unique_ptr<TerminalCall> terminal;  // a request a terminal filter took
    // Why the source or sink ended the stream (streamFailed): a status to answer when no
    // response began (a malformed body), else the connection closes.
    const char* end_why = nullptr;
    uint16_t end_status = 0;
  };
  std::unique_ptr<ClientStream> x_;
  uint64_t last_client_ms_ = 0;
  uint64_t wait_until_ms_ = 0;  // Waiting: the rate limit's delay; Closing: the end of lingering
  Recycler<RequestAccounting>::Ptr acct_;  // the request being accounted (see endRequest)
  uint64_t bytes_mark_in_ = 0, bytes_mark_out_ = 0;  // where the current request began
  std::unique_ptr<Tunnel> tunnel_;
  std::unique_ptr<h2::Connection> h2_;
};

}  // namespace fulcrum::http
