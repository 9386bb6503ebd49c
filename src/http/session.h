#pragma once
// HttpSession: one client connection of an HTTP listener, serving its requests one at a time
// and in order (pipelined requests wait in the read buffer):
//
//   Head      read and parse a request head (request_head timeout; keepalive between requests)
//     -> local answer (route respond/redirect, 4xx, 429)          -> Head, or Closing
//     -> Terminal: a terminal filter's handler answers (its body read first) -> Head, or Closing
//     -> Waiting (rate-limit delay, or the pool's max_requests queue)
//     -> Connecting (or an idle pooled connection) -> Exchange:
//          the request head, then the body streamed as it arrives; the response head parsed,
//          rewritten and sent, then its body streamed; at most one buffer in flight per
//          direction, so a slow peer stops the reading of the other (back-pressure)
//     -> Head again (the server connection back to the pool), or Closing;
//     -> Tunnel after a 101 (WebSocket): raw bytes both ways until both sides are done.
//
// Failures before any byte of a response reached the client may be retried on another
// server (idempotent requests, or any request before a byte of it was sent) within the
// pool's retries and retry budget; otherwise the client gets 502/504. After a response has
// started, a failure closes the client connection: a cut response is never made to look whole.
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
#include "http/recycler.h"
#include "http/request_accounting.h"
#include "http/stream/request.h"
#include "http/runtime.h"
#include "http/stream/stream_state.h"
#include "http/upstream_conn.h"
#include "http/upstream_request.h"
#include "net/address.h"
#include "net/pump.h"
#include "net/transport.h"
#include "upstream/retry_policy.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

class HttpFrontend;

class HttpSession final : public upstream::Session, public core::IoHandler, public UpstreamOwner {
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
  // The frontend's max_requests queue: false while still waiting.
  bool retryFromQueue();

 private:
  enum class Phase : uint8_t { Head, Terminal, Waiting, Connecting, Exchange, Tunnel, Closing, Closed };
  using ErrorKind = upstream::ErrorKind;

  void drive();
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
  // Waiting / connecting.
  void admit();
  void pickAndConnect();
  // UpstreamRequest::pickHost with this worker's picker: a server's index, its slot taken, or -1
  // (`full`: one would be usable but for max_connections; the request may wait).
  int pickHost(bool& full);
  void connectTo(int host);
  // Waits in the listener's queue (timeouts.queue, the pool's queue_size) for a pool or server slot.
  void enqueue();
  void noServer();  // 503
  void releaseHost();
  void onConnected();
  // Exchange.
  void pumpExchange();
  bool sendRequest();
  bool receiveResponse();
  bool sendResponse();
  void onResponseHead(size_t headLength);
  // The de-chunked response body: decodes what is buffered into conn_.out. False when the
  // connection was closed (a malformed body).
  bool dechunkResponse();
  // For an HTTP/1.0 client: the whole chunked body already buffered after the head, de-chunked
  // into conn_.out behind a head with its Content-Length. False (nothing written) when it is not all here.
  bool writeWholeDechunked(const ResponseParams& params, size_t headLength);
  void finishExchange();
  // source: Server unless the failure was this process's (no descriptor, no local port).
  void upstreamFailed(ErrorKind failure, const char* why,
                      upstream::ErrorSource source = upstream::ErrorSource::Server);
  // RetryPolicy's answer for this attempt, with the retry budget asked when it says Retry.
  upstream::RetryDecision retryDecision(ErrorKind kind);
  void restartRequest();
  void releaseServer(bool reusable);
  void releaseSlots();
  // Tunnel.
  void startTunnel();
  void pumpTunnel();
  // Writing to the client: out() is conn_.out with storage (borrowed until everything is sent).
  std::string& out();
  bool flushClient();
  // The last response is written: send what is left, then close (lingering unless quick_close_).
  void beginClosing();
  void lingerClose();
  void scheduleTimer();
  void onTimer();
  void resumeSoon();
  void recordOutcome(bool failure);
  // Whether a quiet server (timeouts.response) is the server's fault: not while the exchange
  // waits for the client (a body still to come, a response the client is not reading). Only
  // the server's faults feed passive health (docs/design/health.md).
  bool serverAtFault() const;
  // Accounting: metrics and the access log line of each request.
  void beginRequest(const RequestHead* h);
  void endRequest(uint16_t status, const char* termination);
  void recordRequest(uint16_t status, const char* termination);
  RequestAccounting& acct();
  void leaveQueue();
  stats::Traffic& listenerStats() { return rt_->stats->worker(ctx_.worker_index); }
  stats::Traffic* hostStats();  // the current attempt's server, or null

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
  uint64_t requests_ = 0;
  uint64_t head_started_ms_ = 0;

  // The exchange in progress (allocated per request: an idle connection holds none).
  struct Exchange {
    Exchange(const Limits& limits, SpareStrings& spares, uint32_t id)
        : spare_strings(spares), stream(id), req_body(limits) {
      spare_strings.lend(head);
    }
    ~Exchange() { spare_strings.reclaim(head); }
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;
    SpareStrings& spare_strings;  // the worker's: `head` is borrowed from it
    StreamState stream;           // where the request and its response are
    // The pool, server slots, attempts and retries: set once the filters chose the pool.
    std::optional<UpstreamRequest> upstream;
    const config::Route* route = nullptr;
    const config::HeaderEdits* response_edits = nullptr;  // the route's, for the server's response
    std::string set_cookie;
    std::string head;           // the request head for the server
    size_t head_sent = 0;
    BodyFramer req_body;
    BodyFraming req_framing;
    uint64_t body_sent = 0;
    bool idempotent = false;
    bool head_request = false;
    bool upgrade = false;
    bool client_http10 = false;
    bool client_keepalive = false;
    bool client_done = false;   // the client said this is its last request (close, HTTP/1.0)
    Method method = Method::Other;
    Recycler<ResponseParser>::Ptr resp_parser;
    BodyFramer resp_body;
    // A chunked response to an HTTP/1.0 client, relayed de-chunked (HTTP/1.0 has no chunked
    // coding): the payload is copied to conn_.out, the framing and trailers dropped.
    std::unique_ptr<ChunkedDecoder> dechunker;
    std::unique_ptr<TerminalCall> terminal;  // a request a terminal filter took
    bool resp_keepalive = false;
    bool reused = false;        // the server connection came from the pool
    uint64_t started_ms = 0;    // when the server connection was asked for
    uint64_t sent_ms = 0;       // when the request was complete at the server
    uint64_t attempt_us = 0;    // when this attempt's server connection was asked for
    uint64_t sent_us = 0;       // when the request was complete at the server
  };
  std::unique_ptr<Exchange> x_;
  std::unique_ptr<UpstreamConn> up_;
  uint64_t last_client_ms_ = 0;
  uint64_t last_server_ms_ = 0;
  uint64_t wait_until_ms_ = 0;  // Waiting: the rate limit's delay; Closing: the end of lingering
  Recycler<RequestAccounting>::Ptr acct_;  // the request being accounted (see endRequest)
  uint64_t bytes_mark_in_ = 0, bytes_mark_out_ = 0;  // where the current request began
  struct Tunnel {
    Tunnel(core::BufferPool& buffers, core::PipePool& pipes) : up(buffers, pipes), down(buffers, pipes) {}
    net::Pump up;
    net::Pump down;
  };
  std::unique_ptr<Tunnel> tunnel_;
};

}  // namespace fulcrum::http
