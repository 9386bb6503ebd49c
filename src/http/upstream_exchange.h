#pragma once
// UpstreamExchange: one request's exchange with servers, over HTTP/1.1: pick a server (with
// UpstreamRequest: slots, sticky, the balancer), connect or reuse an idle connection, send
// the request head and its body (taken from a RequestBodySource), parse the response and
// deliver it to a ResponseSink, and retry on another server what RetryPolicy allows. The
// stream's codec (today the HTTP/1 server session; an HTTP/2 stream later) gives the body
// and takes the response through those two interfaces and knows nothing of servers.
//
// It does no waiting of its own: every call returns a Status, and the owner acts on it (waits
// for readiness, queues the request, finishes or ends the stream). The owner's timer asks
// deadline() and calls timedOut(). Nothing here allocates per request beyond what the
// session already did: the object lives inside the session's per-request state.
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "codec/parser.h"
#include "config/model.h"
#include "http/body_framer.h"
#include "http/recycler.h"
#include "http/request_accounting.h"
#include "http/stream/request_body_source.h"
#include "http/stream/response_sink.h"
#include "http/stream/stream_state.h"
#include "http/upstream_conn.h"
#include "http/upstream_request.h"
#include "upstream/retry_policy.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

class HttpFrontend;

// The owner of an exchange: gets the server connection's readiness events (and passes them
// to UpstreamExchange::onServerEvents), re-arms its timer when the exchange's deadline moved,
// and wakes the requests waiting in its queue when the exchange gave a slot back.
class ExchangeOwner : public UpstreamOwner {
 public:
  virtual void onExchangeDeadline() = 0;
  virtual void onSlotFreed() = 0;

 protected:
  ~ExchangeOwner() = default;
};

class UpstreamExchange {
 public:
  enum class Status : uint8_t {
    Pending,   // waits for readiness: the server's, or the client's (the source or sink waits)
    Queued,    // the pool is at max_requests or every usable server at max_connections:
               // wait in the queue, then call fromQueue()
    Done,      // the response is whole at the sink: call finish()
    Upgraded,  // 101 relayed: takeConnection() is the tunnel's server side
    Failed,    // over, see failure(); slots and the server connection are already given back
  };
  struct Failure {
    enum class End : uint8_t {
      Answer,  // nothing of a response reached the client: answer `status` (502, 503, 504)
      Close,   // a response had begun, or cannot be finished: close the client connection
      Stream,  // the source or sink ended the stream (they recorded why)
    };
    End end = End::Answer;
    uint16_t status = 0;
    const char* why = "";
  };
  // What the exchange must know of the request it sends.
  struct Params {
    Method method = Method::Other;
    bool idempotent = false;
    bool upgrade = false;  // a 101 may answer it
    bool body_complete = false;  // the request has no body (left to send)
  };

  // `acct` and `stream` outlive the exchange; `peer` is the client's address (sticky by address).
  UpstreamExchange(upstream::WorkerContext& ctx, HttpFrontend& frontend, ExchangeOwner& owner, StreamState& stream,
                   RequestAccounting& acct, const sockaddr* peer, UpstreamRequest upstream, Params params);
  ~UpstreamExchange();
  UpstreamExchange(const UpstreamExchange&) = delete;
  UpstreamExchange& operator=(const UpstreamExchange&) = delete;

  // The request head for the server: written by the owner before start() (storage borrowed
  // from the worker).
  std::string& requestHead() { return head_; }
  UpstreamRequest& upstream() { return upstream_; }
  const UpstreamRequest& upstream() const { return upstream_; }

  // Source and sink are set before start() and outlive the exchange.
  void attach(RequestBodySource& source, ResponseSink& sink) {
    source_ = &source;
    sink_ = &sink;
  }
  // Takes a slot of the pool's (max_requests), picks a server and connects.
  Status start();
  // Called by the queue when a slot may be free: nullopt while it must wait on.
  std::optional<Status> fromQueue();
  // The server connection's readiness.
  Status onServerEvents(uint32_t events);
  // The client's readiness changed (or a pass is due): moves what can move.
  Status pump();

  // When the server is late: connecting past timeouts.connect, or silent past
  // timeouts.response while it owes us something (`clientWritable`: a response the client is
  // not reading is not the server's delay). UINT64_MAX when the server owes nothing.
  uint64_t deadline(const config::Timeouts& t, bool clientWritable) const;
  // The deadline passed: a timeout failure (retried where the policy allows).
  Status timedOut();
  bool connecting() const { return connecting_; }

  // The response ended (Done): the server connection back to the pool when it may be
  // reused, the slots given back. `draining`: the client connection is closing.
  void finish(bool draining);
  // The stream ends without the exchange: the server connection closed, slots given back.
  void abandon();
  // After Upgraded: the server connection, with what the server sent behind the 101.
  std::unique_ptr<UpstreamConn> takeConnection() { return std::move(up_); }

  const Failure& failure() const { return failure_; }
  // The sticky cookie the client must be given (empty: none), once a server is chosen.
  const std::string& setCookie() const { return set_cookie_; }
  bool usesHost(const upstream::HostState* state) const;

 private:
  Status pickAndConnect();
  Status connectTo(int host);
  Status onTcpConnected();
  Status handshake();
  Status onConnected();
  Status exchange();
  // False when the exchange ended (status_ says how).
  bool sendRequest();
  bool receiveResponse();
  bool onResponseHead(size_t headLength);
  bool readServer(size_t capacity, bool headPending);
  Status upstreamFailed(upstream::ErrorKind failure, const char* why,
                        upstream::ErrorSource source = upstream::ErrorSource::Server);
  upstream::RetryDecision retryDecision(upstream::ErrorKind kind);
  void restartRequest();
  Status fail(Failure::End end, const char* why, uint16_t status = 0);
  void releaseServer(bool reusable);
  void releaseHost();
  void releaseSlots();
  void recordOutcome(bool failure);
  stats::Traffic* hostStats();
  bool serverAtFault(bool clientWritable) const;

  upstream::WorkerContext& ctx_;
  HttpFrontend& frontend_;
  ExchangeOwner& owner_;
  StreamState& stream_;
  RequestAccounting& acct_;
  const sockaddr* peer_;
  UpstreamRequest upstream_;
  Params params_;
  RequestBodySource* source_ = nullptr;
  ResponseSink* sink_ = nullptr;
  std::string head_;      // the request head for the server
  std::string set_cookie_;
  std::unique_ptr<UpstreamConn> up_;
  Recycler<ResponseParser>::Ptr resp_parser_;
  BodyFramer resp_body_;
  Failure failure_;
  Status status_ = Status::Pending;  // how the last call ended (the step functions set it)
  size_t head_sent_ = 0;
  uint64_t body_sent_ = 0;
  uint64_t last_server_ms_ = 0;
  uint64_t started_ms_ = 0;   // when the server connection was asked for
  uint64_t sent_ms_ = 0;      // when the request was complete at the server
  uint64_t attempt_us_ = 0;
  uint64_t sent_us_ = 0;
  bool connecting_ = false;    // from the connect to the end of the TLS handshake, if any
  bool handshaking_ = false;   // TLS to the server: the handshake is under way
  bool reused_ = false;       // the server connection came from the pool
  bool resp_keepalive_ = false;
};

}  // namespace fulcrum::http
