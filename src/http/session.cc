#include "http/session.h"

#include <arpa/inet.h>
#include <sys/epoll.h>

#include <algorithm>

#include "common/log.h"
#include "common/time.h"
#include "http/filters/filter.h"
#include "http/client_connection.h"
#include "http/frontend.h"
#include "http/h1/head_writer.h"
#include "http/h1/http10_response.h"
#include "http/h1/request_decoder.h"
#include "http/h1/response_decoder.h"
#include "net/address.h"
#include "net/proxy_protocol.h"
#include "net/socket.h"
#include "tls/client_verify.h"
#include "tls/tls_transport.h"

namespace fulcrum::http {

namespace {

constexpr uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
// Local answers to pipelined requests stop being produced while this much is unsent.
constexpr size_t kMaxPendingOut = 64 * 1024;
// Lingering close: how long and how much of a client's input is drained after the last answer.
constexpr uint64_t kLingerMs = 2000;
constexpr size_t kLingerMaxBytes = 1024 * 1024;
// A draining process closes an idle keep-alive connection only once it has been quiet this
// long (at most half of timeouts.drain): one active a moment ago is likely to send its next
// request now, and a close crossing it loses that request (the kernel answers it with a reset;
// the client cannot tell whether it was served). Until then its next request is answered with
// `Connection: close`, which the client reads before it sends another.
constexpr uint64_t kDrainQuietMs = 1000;

bool isIdempotent(Method m) {
  return m == Method::Get || m == Method::Head || m == Method::Options || m == Method::Put ||
         m == Method::Delete || m == Method::Trace;
}

size_t headCapacity(const Limits& l) { return l.maxRequestLine + l.maxHeaderBytes + 1024; }


}  // namespace

HttpSession::HttpSession(upstream::WorkerContext& ctx, std::shared_ptr<HttpFrontend> frontend, core::Fd client,
                         const sockaddr_storage& peer)
    : ctx_(ctx),
      frontend_(std::move(frontend)),
      rt_(frontend_->runtime()),
      conn_(std::move(client), ctx.buffers),
      timer_([this] { onTimer(); }),
      peer_(peer) {
  link(ctx_);
}

HttpSession::~HttpSession() = default;

void HttpSession::start() {
  last_client_ms_ = ctx_.loop.nowMs();
  listenerStats().connections.add();
  listenerStats().active.add(1);
  counted_conn_ = true;
  client_ip_ = net::formatIp(peer_.get());
  const auto& http = rt_->listener->http;
  for (const auto& c : http.forwarded.trusted) {
    trusted_front_ = trusted_front_ || c.contains(peer_.get());
  }
  conn_.handshaken = !rt_->tls;  // (a plain socket has no handshake)
  if (rt_->tls) {
    auto tls = rt_->tls->accept(conn_.raw.fd(), &listenerStats(), &ctx_.loop.clock());
    if (!tls) {
      log::warn("cannot start a TLS connection (out of memory?)", {{"listener", rt_->listener->name}});
      close("tls setup failed", true);
      return;
    }
    conn_.useTransport(std::move(tls));
  }
  if (!ctx_.loop.add(conn_.transport->fd(), kEvents, this)) {
    close("epoll add failed", true);
    return;
  }
  const auto& trusted = rt_->listener->trusted_proxies;
  if (rt_->listener->accept_proxy && !trusted.empty()) {
    bool ok = false;
    for (const auto& c : trusted) {
      ok = ok || c.contains(peer_.get());
    }
    if (!ok) {
      log::warn("PROXY header refused from untrusted peer", {{"listener", rt_->listener->name}, {"peer", client_ip_}});
      close("untrusted proxy", true);
      return;
    }
  }
  ConnectionState cs(peer_.get(), client_ip_);
  if (rt_->connection_filters.onAccept(cs, conn_held_) == ConnectionStatus::Refuse) {
    const LocalAnswer& a = cs.answer;
    log::debug("connection refused", {{"client", client_ip_}, {"reason", a.termination ? a.termination : "filter"}});
    if (cs.limited) {
      listenerStats().rate_limited.add();
    }
    if (a.termination) {
      acct().termination = a.termination;
    }
    conn_.writable = true;
    respondLocal(a.status, a.standard_body ? errorBody(a.status) : std::string(a.body), a.extra, true);
    return;
  }
  scheduleTimer();
}

void HttpSession::onIoEvents(uint32_t events) {
  if (phase_ == Phase::Closed) {
    return;
  }
  conn_.onEvents(events);
  if ((events & EPOLLERR) && net::socketError(conn_.transport->fd()) != 0) {
    close("client reset", true);
    return;
  }
  drive();
}

void HttpSession::onUpstreamEvents(uint32_t events) {
  if (phase_ == Phase::Upstream) {
    onExchange(x_->upstream->onServerEvents(events));
  } else if (phase_ == Phase::Tunnel) {
    tunnel_->onServerEvents(events);
    pumpTunnel();
  }
}

void HttpSession::drive() {
  switch (phase_) {
    case Phase::Head:
      readHead();
      return;
    case Phase::Terminal:
      pumpTerminal();
      return;
    case Phase::Upstream:
      onExchange(x_->upstream->pump());
      return;
    case Phase::Tunnel:
      pumpTunnel();
      return;
    case Phase::H2:
      driveH2();
      return;
    case Phase::Closing:
      if (flushClient()) {
        lingerClose();
      }
      return;
    case Phase::Waiting:
    case Phase::Closed:
      return;
  }
}

// --- reading requests ---

bool HttpSession::readClient(size_t maxBuffered) {
  size_t got = 0;
  if (conn_.read(maxBuffered, got) == ClientConnection::Io::Error) {
    close("client read error", true);
    return false;
  }
  if (got > 0) {
    listenerStats().bytes_in.add(got);
    last_client_ms_ = ctx_.loop.nowMs();
  }
  return got > 0;
}

void HttpSession::readHead() {
  while (phase_ == Phase::Head) {
    if (!flushClient()) {
      if (phase_ != Phase::Head || conn_.out.size() - conn_.out_sent > kMaxPendingOut) {
        return;
      }
    }
    if (rt_->listener->accept_proxy && requests_ == 0 && !proxy_done_) {
      auto r = net::parseProxyHeader(std::span<const uint8_t>(conn_.in.data(), conn_.in.size()));
      if (r.status == net::ParseStatus::Invalid) {
        log::warn("bad PROXY header", {{"listener", rt_->listener->name}, {"reason", r.error}});
        close("bad PROXY header", true);
        return;
      }
      if (r.status == net::ParseStatus::Done) {
        conn_.in.consume(r.consumed);
        proxy_done_ = true;
        if (!r.header.local) {
          peer_ = net::IpEndpoint(r.header.source);
          client_ip_ = net::formatIp(peer_.get());
        }
        continue;
      }
    } else if (!conn_.handshaken) {
      // The transport's handshake (TLS) before any request byte; a plain socket has none. A
      // client that never completes it meets the first request's head timeout.
      auto io = conn_.handshake();
      if (io == ClientConnection::Io::Error) {
        // A refused client certificate is worth an operator's eye; scanners' broken handshakes are not.
        (tls::isClientCertificateRefusal(conn_.failure()) ? log::info : log::debug)(
            "handshake failed", {{"listener", rt_->listener->name}, {"client", client_ip_}, {"reason", conn_.failure()}});
        close("handshake failed", true);
        return;
      }
      if (io == ClientConnection::Io::Ok) {
        if (const auto* t = dynamic_cast<const tls::TlsTransport*>(conn_.transport)) {
          client_cert_ = t->clientCertificate();
        }
        continue;
      }
      return;  // the next readiness edge it asked for resumes it
    } else if (requests_ == 0 && rt_->listener->http2.enabled && wantsH2() != H2Start::No) {
      if (wantsH2() == H2Start::Yes) {
        startH2();
        return;
      }
      // (Maybe: part of what could be the preface; read on.)
    } else if (!conn_.in.empty()) {
      if (head_started_ms_ == 0) {
        head_started_ms_ = ctx_.loop.nowMs();
        scheduleTimer();
      }
      if (!parser_) {
        parser_ = frontend_->requestParsers().take([&] { return new RequestParser(rt_->limits); });
        parser_->configure(rt_->limits);
      }
      ParseResult r = parser_->feed(conn_.in.view());
      if (r.status == ParseStatus::Error) {
        log::debug("bad request", {{"listener", rt_->listener->name}, {"client", client_ip_}, {"reason", r.error.reason}});
        x_.reset();
        parser_ = nullptr;
        respondError(r.error.status, "bad request", r.error.reason);
        return;
      }
      if (r.status == ParseStatus::Done) {
        onHead(r.consumed);
        continue;
      }
    }
    if (conn_.eof) {
      close(conn_.in.empty() ? "client closed" : "client closed in a request head", false);
      return;
    }
    if (draining_ && conn_.in.empty() && requests_ > 0 && !conn_.readable) {
      closeIdleWhenQuiet();  // idle between requests (a new connection gets its first one served)
      return;
    }
    if (!conn_.readable) {
      return;
    }
    if (!readClient(headCapacity(rt_->limits)) && phase_ == Phase::Closed) {
      return;
    }
  }
}

void HttpSession::onHead(size_t headLength) {
  const RequestHead& h = parser_->head();
  rt_ = frontend_->runtime();  // the newest config for each new request
  if (ConnectionGuard* guard = frontend_->guard()) {
    guard->onHead(*this);
  }
  beginRequest(&h);
  const auto& listener = *rt_->listener;
  const auto& http = listener.http;
  ++requests_;
  head_started_ms_ = 0;
  x_ = std::make_unique<ClientStream>(rt_->limits, static_cast<uint32_t>(requests_));
  ClientStream& x = *x_;
  x.client_http10 = h.version == Version::Http10;
  x.client_keepalive = h.keepAlive && !draining_;
  x.client_done = !h.keepAlive;
  x.head_request = h.methodId == Method::Head;
  // A local answer to a request whose body was not read must close the connection: the body
  // would be taken for the next request.
  bool bodyUnread = !(h.body.kind == BodyKind::None || (h.body.kind == BodyKind::ContentLength && h.body.length == 0));
  auto answer = [&](uint16_t status, std::string_view body, std::string_view extra, const config::HeaderEdits* edits,
                    std::string_view type) {
    conn_.in.consume(headLength);
    parser_ = nullptr;
    respondLocal(status, body, extra, bodyUnread, edits, type);
  };

  Request info;
  std::string_view why;
  std::string normalized;  // a path with its dot segments removed (rare: allocates only then)
  if (!decodeRequest(h, http.path_dot_segments, normalized, info, why)) {
    log::debug("request refused", {{"client", client_ip_}, {"reason", why}});
    uint16_t status = h.targetForm == TargetForm::Authority ? 405 : 400;
    conn_.in.consume(headLength);
    parser_ = nullptr;
    respondLocal(status, errorBody(status), "", true);
    return;
  }
  if (rt_->tls) {
    info.scheme = "https";  // what X-Forwarded-Proto and redirects say
    info.client_certificate = client_cert_;
  }
  RequestState state(info);
  state.client_ip = client_ip_;
  state.peer_trusted = trusted_front_;
  state.peer = peer_.get();
  state.now_ms = ctx_.loop.nowMs();
  state.rng = &frontend_->rng();
  state.shared = &ctx_.shared_tables;
  FilterStatus decided = rt_->filters.onRequestHead(state);
  acct().route = state.route_index;
  if (decided == FilterStatus::Terminal) {
    startTerminal(info, headLength, *state.terminal);
    return;
  }
  if (decided == FilterStatus::Answer) {
    LocalAnswer& a = state.answer;
    if (a.termination) {
      acct().termination = a.termination;
      if (std::string_view(a.termination) == "rate_limited") {
        listenerStats().rate_limited.add();
      }
    }
    std::string standard;  // (allocated only for an error's standard body)
    std::string_view body = a.body;
    if (a.standard_body) {
      standard = errorBody(a.status);
      body = standard;
    }
    answer(a.status, body, a.extra, a.edits, a.content_type);
    return;
  }
  wait_until_ms_ = state.delay_ms > 0 ? state.now_ms + state.delay_ms : 0;
  x.req_body.start(h.body);
  x.stream.requestHead(x.req_body.complete());
  UpstreamExchange::Params params;
  params.method = h.methodId;
  params.idempotent = isIdempotent(h.methodId);
  params.upgrade = h.upgrade;
  params.body_complete = x.req_body.complete();
  UpstreamExchange& u = x.upstream.emplace(
      ctx_, *frontend_, *this, x.stream, acct(), peer_.get(),
      UpstreamRequest(state.target->clusters[state.cluster_index], state.hash, std::string(state.sticky_id)), params);
  u.attach(*this, *this);
  acct().cluster = &u.upstream().cluster();
  const auto& pool = u.upstream().cluster().config;
  x.response_edits = state.response_edits;
  ForwardParams fp;
  fp.request = &info;
  fp.framing = h.body;
  fp.edits = &state.edits;
  writeRequestHead(u.requestHead(), fp);
  // Everything needed from the head's views is copied: its bytes can go.
  conn_.in.consume(headLength);
  parser_ = nullptr;  // (its views of the head are not used past here)
  close_after_ = !x.client_keepalive;
  frontend_->retryBudget(u.upstream().cluster()).onRequest(pool.http.retry_budget_percent, ctx_.loop.nowMs());
  if (wait_until_ms_ > ctx_.loop.nowMs()) {
    phase_ = Phase::Waiting;
    scheduleTimer();
    return;
  }
  startUpstream();
}

void HttpSession::respondLocal(uint16_t status, std::string_view body, std::string_view extra, bool closeAfter,
                               const config::HeaderEdits* edits, std::string_view contentType) {
  LocalResponse r;
  r.status = status;
  r.body = body;
  r.extra = extra;
  r.edits = edits;
  if (!contentType.empty()) {
    r.content_type = contentType;
  }
  r.close = closeAfter || close_after_ || draining_ || (x_ && !x_->client_keepalive);
  // closeAfter means the client may still be sending (an unread body, a bad request).
  quick_close_ = x_ && x_->client_done && !closeAfter && conn_.in.empty();
  r.head_request = x_ && x_->head_request;
  r.client_http10 = x_ && x_->client_http10;
  writeLocalResponse(out(), r);
  endRequest(status, acct().termination ? acct().termination : "local");
  x_.reset();
  if (r.close) {
    close_after_ = true;
    beginClosing();
    return;
  }
  phase_ = Phase::Head;
  scheduleTimer();
  // Send it now; a pipelined request behind it is taken on the next turn (not recursively:
  // a burst of failing pipelined requests must not grow the stack).
  if (flushClient() && (!conn_.in.empty() || conn_.readable)) {
    resumeSoon();
  }
}

void HttpSession::respondError(uint16_t status, const char* why, std::string_view detail) {
  log::debug(why, {{"status", status}, {"client", client_ip_}});
  if (!acct().termination) {
    acct().termination = status == 408 ? "client_timeout" : "bad_request";
  }
  if (rt_->terminal) {
    TerminalResponse r = rt_->terminal->refuse(status, detail.empty() ? why : detail);
    respondLocal(status, r.body, r.headers, true, nullptr, r.content_type);
    return;
  }
  respondLocal(status, errorBody(status), "", true);
}

// --- a terminal filter's request ---

void HttpSession::startTerminal(const Request& request, size_t headLength, TerminalHandler& handler) {
  x_->terminal = std::make_unique<TerminalCall>(handler, request, parser_->head().body, peer_.get());
  bool expectContinue = parser_->head().expectContinue;
  conn_.in.consume(headLength);
  parser_ = nullptr;
  phase_ = Phase::Terminal;
  scheduleTimer();
  if (expectContinue && !x_->terminal->complete() && x_->terminal->errorStatus() == 0 && conn_.in.empty()) {
    out().append("HTTP/1.1 100 Continue\r\n\r\n");  // the client waits for it before its body
  }
  pumpTerminal();
}

void HttpSession::pumpTerminal() {
  flushClient();  // a 100 Continue (what is left of it goes with the answer)
  if (phase_ != Phase::Terminal) {
    return;
  }
  TerminalCall& call = *x_->terminal;
  for (;;) {
    size_t used = 0;
    TerminalCall::Status st = call.feed(conn_.in.view(), used);
    conn_.in.consume(used);
    if (st == TerminalCall::Status::Error) {
      log::debug("bad request body", {{"client", client_ip_}, {"reason", call.errorReason()}});
      respondError(call.errorStatus(), "bad request body", call.errorReason());
      return;
    }
    if (st == TerminalCall::Status::Done) {
      break;
    }
    if (conn_.eof) {
      close("client closed in the request body", true);
      return;
    }
    if (!conn_.readable) {
      return;
    }
    bool got = readClient(core::Buffer::kCapacity);
    if (phase_ != Phase::Terminal) {
      return;
    }
    if (!got && conn_.readable) {
      respondError(431, "chunked trailers too large");  // a full buffer the body reader cannot take
      return;
    }
  }
  TerminalResponse r = call.answer();
  close_after_ = close_after_ || r.close || !x_->client_keepalive;
  respondLocal(r.status, r.body, r.headers, false, nullptr, r.content_type);
}

// --- waiting for a slot ---

void HttpSession::enqueue() {
  UpstreamExchange& u = *x_->upstream;
  const auto& pool = u.upstream().cluster().config;
  if (!frontend_->queue().enqueue(this, pool.queue_size)) {
    acct().termination = "queue_full";
    u.abandon();
    respondLocal(503, errorBody(503), "", !x_->stream.requestDone());
    return;
  }
  queued_ = true;
  if (acct().wait_us == 0) {
    acct().wait_us = ctx_.loop.clock().nowUs();
    u.upstream().cluster().pool_state->traffic->worker(ctx_.worker_index).queued.add(1);
  }
  phase_ = Phase::Waiting;
  wait_until_ms_ = ctx_.loop.nowMs() + static_cast<uint64_t>(rt_->config->timeouts.queue.count());
  scheduleTimer();
}

bool HttpSession::retryFromQueue() {
  if (phase_ != Phase::Waiting || !queued_) {
    return true;
  }
  auto status = x_->upstream->fromQueue();
  if (!status) {
    return false;  // still no slot: wait on, in place
  }
  leaveQueue();  // (the queue drops this waiter: it returned true)
  phase_ = Phase::Upstream;
  onExchange(*status);
  return true;
}

// --- the exchange with servers ---

void HttpSession::onSlotFreed() {
  frontend_->queue().onSlotFreed();
}

void HttpSession::startUpstream() {
  phase_ = Phase::Upstream;
  onExchange(x_->upstream->start());
}

void HttpSession::onExchange(UpstreamExchange::Status status) {
  switch (status) {
    case UpstreamExchange::Status::Pending:
      return;
    case UpstreamExchange::Status::Queued:
      enqueue();
      return;
    case UpstreamExchange::Status::Done:
      finishExchange();
      return;
    case UpstreamExchange::Status::Upgraded:
      startTunnel();
      return;
    case UpstreamExchange::Status::Failed:
      exchangeFailed();
      return;
  }
}

void HttpSession::exchangeFailed() {
  ClientStream& x = *x_;
  const auto& f = x.upstream->failure();
  switch (f.end) {
    case UpstreamExchange::Failure::End::Answer:
      respondLocal(f.status, errorBody(f.status), "", !x.stream.requestDone());
      return;
    case UpstreamExchange::Failure::End::Close:
      close(f.why, true);
      return;
    case UpstreamExchange::Failure::End::Stream:
      if (x.end_status != 0 && !x.stream.responseStarted()) {
        respondError(x.end_status, x.end_why);
      } else {
        close(x.end_why ? x.end_why : f.why, true);
      }
      return;
  }
}

void HttpSession::streamFailed(const char* why, uint16_t status) {
  x_->end_why = why;
  x_->end_status = status;
}

RequestBodySource::State HttpSession::requestBody(std::span<const uint8_t>& data, bool pull) {
  ClientStream& x = *x_;
  for (;;) {
    if (!x.req_body.scan(conn_.in.view())) {
      if (!pull) {
        return State::Waiting;  // (said when the body is pulled)
      }
      log::debug("bad request body", {{"client", client_ip_}, {"reason", x.req_body.error().reason}});
      streamFailed("bad request body", x.req_body.error().status);
      return State::Failed;
    }
    if (size_t ready = x.req_body.ready(); ready > 0) {
      data = std::span<const uint8_t>(conn_.in.data(), ready);
      return State::Ready;
    }
    if (x.req_body.complete()) {
      return State::Complete;
    }
    if (!pull) {
      return State::Waiting;
    }
    if (conn_.eof) {
      streamFailed("client closed in the request body");
      return State::Failed;
    }
    if (!conn_.readable) {
      return State::Waiting;
    }
    size_t got = 0;
    if (conn_.read(core::Buffer::kCapacity, got) == ClientConnection::Io::Error) {
      streamFailed("client read error");
      return State::Failed;
    }
    if (got > 0) {
      listenerStats().bytes_in.add(got);
      last_client_ms_ = ctx_.loop.nowMs();
    } else if (conn_.readable && !conn_.eof) {
      // A full buffer the body framer cannot take (only a trailer section could be that long).
      streamFailed("chunked trailers too large", 431);
      return State::Failed;
    }
  }
}

void HttpSession::requestBodySent(size_t n) {
  conn_.in.consume(n);
  x_->req_body.forwarded(n);
}

void HttpSession::onInterimHead(const ResponseHead& head) {
  if (!x_->client_http10) {  // (HTTP/1.0 has no interim responses)
    Response interim = decodeResponse(head);
    ResponseParams p;
    p.response = &interim;
    writeResponseHead(out(), p);
  }
}

size_t HttpSession::onResponseHead(const ResponseHead& head, std::string_view following) {
  ClientStream& x = *x_;
  if (head.status == 101) {
    Response switched = decodeResponse(head);
    ResponseParams p;
    p.response = &switched;
    writeResponseHead(out(), p);
    return 0;
  }
  if (head.body.kind == BodyKind::UntilClose || draining_) {
    close_after_ = true;
  }
  // What the client is told besides the server's fields: the route's edits, a sticky cookie.
  Response resp = decodeResponse(head);
  FieldEdits edits;
  edits.edits = x.response_edits;
  if (!x.upstream->setCookie().empty()) {
    edits.add("Set-Cookie", x.upstream->setCookie());
  }
  ResponseParams p;
  p.response = &resp;
  p.framing = head.body;
  p.client_http10 = x.client_http10;
  p.edits = &edits;
  if (x.client_http10 && head.body.kind == BodyKind::Chunked) {
    // HTTP/1.0 has no chunked coding. A body already here whole goes with its length (the
    // connection may stay open); otherwise it is delimited by closing the connection.
    p.close = close_after_;
    if (size_t used = http::writeWholeDechunked(out(), p, following); used > 0) {
      return used;
    }
    close_after_ = true;
    p.framing = BodyFraming{BodyKind::UntilClose, 0};
    Limits limits;
    limits.maxTrailerBytes = core::Buffer::kCapacity / 2;  // (dropped, but buffered until complete)
    x.dechunker = std::make_unique<ChunkedDecoder>(limits);
  }
  p.close = close_after_;
  writeResponseHead(out(), p);
  return 0;
}

ResponseSink::Taken HttpSession::onResponseData(std::string_view data) {
  if (x_->dechunker) {
    return dechunk(data);
  }
  Taken taken;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  while (taken.bytes < data.size() && conn_.writable) {
    size_t sent = 0;
    size_t fromBody = 0;
    ClientConnection::Io io;
    if (conn_.pendingOut() > 0) {
      // The response head (still queued) and the body bytes leave in one write.
      io = conn_.sendWithBody(bytes + taken.bytes, data.size() - taken.bytes, sent, fromBody);
      if (io == ClientConnection::Io::Ok && conn_.pendingOut() == 0) {
        flushOut();  // (nothing left to send: gives the head's storage back)
      }
    } else {
      io = conn_.write(bytes + taken.bytes, data.size() - taken.bytes, sent);
      fromBody = sent;
    }
    if (io == ClientConnection::Io::Error) {
      streamFailed("client write failed");
      taken.failed = true;
      return taken;
    }
    if (sent > 0) {
      listenerStats().bytes_out.add(sent);
      last_client_ms_ = ctx_.loop.nowMs();
    }
    taken.bytes += fromBody;
    if (io == ClientConnection::Io::Blocked) {
      break;
    }
  }
  return taken;
}

ResponseSink::Taken HttpSession::dechunk(std::string_view chunked) {
  ClientStream& x = *x_;
  Taken taken;
  while (taken.bytes < chunked.size() && x.dechunker) {
    if (conn_.pendingOut() >= kMaxPendingOut) {
      auto io = flushOut();
      if (io != ClientConnection::Io::Ok) {
        taken.failed = io == ClientConnection::Io::Error;
        return taken;
      }
    }
    ChunkResult r = x.dechunker->decode(chunked.substr(taken.bytes));
    if (r.status == ChunkStatus::Error) {
      log::warn("malformed response body", {{"pool", x.upstream->upstream().cluster().config.name},
                                            {"reason", r.error.reason}});
      streamFailed("malformed response body");
      taken.failed = true;
      return taken;
    }
    if (r.status == ChunkStatus::Data) {
      out().append(r.data);
    }
    taken.bytes += r.consumed;
    if (r.status == ChunkStatus::Done) {
      x.dechunker.reset();  // trailers dropped
    } else if (r.status != ChunkStatus::Data) {
      break;
    }
  }
  auto io = flushOut();
  taken.failed = io == ClientConnection::Io::Error;
  return taken;
}

bool HttpSession::flushResponse(bool& failed) {
  auto io = flushOut();
  failed = io == ClientConnection::Io::Error;
  return io == ClientConnection::Io::Ok;
}

void HttpSession::finishExchange() {
  ClientStream& x = *x_;
  bool early = !x.stream.requestDone();  // the server answered before the request body ended
  quick_close_ = x.client_done && !early && conn_.in.empty();
  x.upstream->finish(draining_);
  endRequest(x.stream.status(), "ok");
  x_.reset();
  if (close_after_ || early || draining_) {
    beginClosing();
    return;
  }
  phase_ = Phase::Head;
  scheduleTimer();
  readHead();
}

void HttpSession::leaveQueue() {
  queued_ = false;
  if (acct().wait_us != 0) {
    acct().queue_us = static_cast<int64_t>(ctx_.loop.clock().nowUs() - acct().wait_us);
    acct().wait_us = 0;
    if (acct().cluster) {
      acct().cluster->pool_state->traffic->worker(ctx_.worker_index).queued.add(-1);
    }
  }
}

RequestAccounting& HttpSession::acct() {
  if (!acct_) {
    acct_ = frontend_->accounting().take([] { return new RequestAccounting(); });
    *acct_ = RequestAccounting{};
  }
  return *acct_;
}

void HttpSession::beginRequest(const RequestHead* h) {
  bool fresh = !acct_;
  RequestAccounting& a = acct();
  if (!fresh) {
    a = RequestAccounting{};
  }
  a.active = true;
  a.start_us = ctx_.loop.clock().nowUs();
  if (h && rt_->access_log) {
    a.method = std::string(h->method);
    a.path = std::string(h->target);
  }
}

void HttpSession::endRequest(uint16_t status, const char* termination) {
  if (!acct_ || !acct_->active) {
    beginRequest(nullptr);  // answered before a head was read (400, 408, 429 at accept)
  }
  recordRequest(status, termination);
  acct_ = nullptr;  // back to the worker: an idle connection holds none
}

void HttpSession::recordRequest(uint16_t status, const char* termination) {
  const RequestAccounting& a = *acct_;
  uint64_t total = ctx_.loop.clock().nowUs() - a.start_us;
  // Bytes of this request: what moved since the last one ended, plus the answer still queued.
  uint64_t out = conn_.bytes_out + (conn_.out.size() - conn_.out_sent);
  uint64_t bytesIn = conn_.bytes_in - bytes_mark_in_;
  uint64_t bytesOut = out - bytes_mark_out_;
  bytes_mark_in_ = conn_.bytes_in;
  bytes_mark_out_ = out;
  StreamEnd end{a};
  end.status = status;
  end.termination = termination;
  end.total_us = total;
  end.bytes_in = bytesIn;
  end.bytes_out = bytesOut;
  end.client_ip = client_ip_;
  end.worker = ctx_.worker_index;
  rt_->filters.onStreamEnd(end);
}

// --- HTTP/2 ---

HttpSession::H2Start HttpSession::wantsH2() const {
  if (rt_->tls) {
    return conn_.transport->alpn() == "h2" ? H2Start::Yes : H2Start::No;
  }
  // h2c with prior knowledge (RFC 9113 §3.3): the preface, or a part of it so far.
  std::string_view in = conn_.in.view();
  if (in.empty()) {
    return H2Start::Maybe;
  }
  size_t n = std::min(in.size(), h2::kPreface.size());
  if (in.substr(0, n) != h2::kPreface.substr(0, n)) {
    return H2Start::No;
  }
  return n == h2::kPreface.size() ? H2Start::Yes : H2Start::Maybe;
}

void HttpSession::startH2() {
  ++requests_;  // (no HTTP/1 request will be read on this connection)
  head_started_ms_ = 0;
  parser_ = nullptr;
  auto wake = [this] { resumeSoon(); };
  auto count = [this](uint64_t in, uint64_t out) {
    if (in > 0) {
      listenerStats().bytes_in.add(in);
    }
    if (out > 0) {
      listenerStats().bytes_out.add(out);
    }
    last_client_ms_ = ctx_.loop.nowMs();
  };
  h2::Connection::Env env{ctx_,         frontend_, conn_, peer_.get(), client_ip_, trusted_front_, rt_->tls != nullptr,
                          client_cert_, wake,      count};
  h2_ = std::make_unique<h2::Connection>(std::move(env), rt_->listener->http2);
  phase_ = Phase::H2;
  if (draining_) {
    h2_->drain();
  }
  scheduleTimer();
  driveH2();
}

void HttpSession::driveH2() {
  if (auto end = h2_->drive()) {
    close(end->why, end->reset);
    return;
  }
  scheduleTimer();
}

// --- tunnel (101 Switching Protocols) ---

void HttpSession::startTunnel() {
  // Bytes already read pass first: the 101 head and anything the server sent after it; and
  // anything the client sent after its request.
  tunnel_ = std::make_unique<Tunnel>(ctx_, x_->upstream->takeConnection(), acct().host,
                                     std::string_view(conn_.out).substr(conn_.out_sent), conn_.in.view());
  conn_.out.clear();
  conn_.out_sent = 0;
  conn_.in.release();
  endRequest(101, "upgrade");
  phase_ = Phase::Tunnel;
  scheduleTimer();
  pumpTunnel();
}

void HttpSession::pumpTunnel() {
  uint64_t moved = 0;
  switch (tunnel_->run(conn_, moved, listenerStats())) {
    case Tunnel::State::ClientReset:
      close("client reset", true);
      return;
    case Tunnel::State::ServerReset:
      close("server reset", true);
      return;
    case Tunnel::State::Done:
      close("tunnel done", false);
      return;
    case Tunnel::State::Yield:
      resumeSoon();
      break;
    case Tunnel::State::Waiting:
      break;
  }
  if (moved > 0) {
    last_client_ms_ = ctx_.loop.nowMs();  // (activity either way keeps a tunnel open)
  }
}

// --- writing, timers, closing ---

void HttpSession::beginClosing() {
  phase_ = Phase::Closing;
  scheduleTimer();
  if (flushClient()) {
    lingerClose();
  }
}

void HttpSession::lingerClose() {
  // Closing a socket with unread input sends RST, which can destroy the response still in
  // flight to the client. So: FIN first, then read and drop what the client still sends, until
  // it closes or kLingerMs pass (NGINX's lingering close). Unless the client said its request
  // was its last and all of it was read: then nothing is unread and close() sends a plain FIN
  // (NGINX closes such connections at once too), which spares a wake-up and two syscalls.
  if (!conn_.lingering && quick_close_ && conn_.in.empty() && !conn_.readable) {
    close("done", false);
    return;
  }
  if (!conn_.lingering) {
    conn_.startLingering();
    wait_until_ms_ = ctx_.loop.nowMs() + kLingerMs;
    scheduleTimer();
  }
  if (conn_.drainLingering(kLingerMaxBytes)) {
    close("done", false);
  }
}

bool HttpSession::flushClient() {
  auto io = flushOut();
  if (io == ClientConnection::Io::Error) {
    close("client write failed", true);
  }
  return io == ClientConnection::Io::Ok;
}

ClientConnection::Io HttpSession::flushOut() {
  size_t sent = 0;
  auto io = conn_.flush(frontend_->outStrings(), sent);
  if (sent > 0) {
    listenerStats().bytes_out.add(sent);
    last_client_ms_ = ctx_.loop.nowMs();
  }
  return io;
}

std::string& HttpSession::out() {
  frontend_->outStrings().lend(conn_.out);
  return conn_.out;
}

void HttpSession::scheduleTimer() {
  if (phase_ == Phase::Closed) {
    return;
  }
  const auto& t = rt_->config->timeouts;
  uint64_t now = ctx_.loop.nowMs();
  uint64_t deadline = now;
  switch (phase_) {
    case Phase::Head:
      deadline = !conn_.handshaken           ? last_client_ms_ + static_cast<uint64_t>(t.handshake.count())
                 : head_started_ms_ != 0 ? head_started_ms_ + static_cast<uint64_t>(t.request_head.count())
                 : requests_ == 0      ? last_client_ms_ + static_cast<uint64_t>(t.request_head.count())
                                       : last_client_ms_ + static_cast<uint64_t>(t.keepalive.count());
      if (draining_ && conn_.handshaken && head_started_ms_ == 0 && requests_ > 0) {
        deadline = std::min(deadline, last_client_ms_ + drainQuietMs());
      }
      break;
    case Phase::Terminal:
      deadline = last_client_ms_ + static_cast<uint64_t>(t.request_body.count());
      break;
    case Phase::Waiting:
      deadline = wait_until_ms_;
      break;
    case Phase::Upstream: {
      const ClientStream& x = *x_;
      uint64_t serverQuiet = x.upstream->deadline(t, conn_.writable);
      if (x.upstream->connecting()) {
        deadline = serverQuiet;
        break;
      }
      uint64_t clientQuiet = last_client_ms_ + static_cast<uint64_t>(x.stream.requestDone() ? t.idle.count() : t.request_body.count());
      deadline = std::min(serverQuiet, clientQuiet);
      break;
    }
    case Phase::Tunnel:
      deadline = last_client_ms_ + static_cast<uint64_t>(t.idle.count());
      break;
    case Phase::H2:
      // While streams are open their own timers watch them; an idle connection gets keepalive.
      if (!h2_->idle()) {
        return;
      }
      deadline = last_client_ms_ + static_cast<uint64_t>(t.keepalive.count());
      break;
    case Phase::Closing:
      deadline = conn_.lingering ? wait_until_ms_ : last_client_ms_ + static_cast<uint64_t>(t.idle.count());
      break;
    case Phase::Closed:
      return;
  }
  uint64_t delay = deadline > now && !resume_pending_ ? deadline - now : 0;
  // Firing early is harmless (onTimer checks the deadlines and re-arms) and re-arming is not
  // free: a timer already due no later than needed is left alone, so most requests arm none.
  auto& wheel = ctx_.loop.timers();
  if (timer_.armed() && timer_.deadline() <= wheel.now() + delay) {
    return;
  }
  wheel.schedule(timer_, delay);
}

// One timer serves both: the next onTimer() is a resume pass, and re-arms the real deadline.
void HttpSession::resumeSoon() {
  if (!resume_pending_ && phase_ != Phase::Closed) {
    resume_pending_ = true;
    ctx_.loop.timers().schedule(timer_, 0);
  }
}

void HttpSession::onTimer() {
  if (resume_pending_) {
    resume_pending_ = false;
    scheduleTimer();
    drive();
    return;
  }
  const auto& t = rt_->config->timeouts;
  uint64_t now = ctx_.loop.nowMs();
  switch (phase_) {
    case Phase::Head: {
      if (!conn_.handshaken) {
        // A TLS client that never finishes its handshake (the clock runs from the accept).
        if (now - last_client_ms_ < static_cast<uint64_t>(t.handshake.count())) {
          scheduleTimer();
          return;
        }
        log::debug("handshake timeout", {{"listener", rt_->listener->name}, {"client", client_ip_}});
        close("handshake timeout", true);
        return;
      }
      if (drainIdleDue(now)) {
        close("drain", false);
        return;
      }
      bool started = head_started_ms_ != 0;
      uint64_t limit = started || requests_ == 0 ? static_cast<uint64_t>(t.request_head.count())
                                                 : static_cast<uint64_t>(t.keepalive.count());
      uint64_t since = started ? head_started_ms_ : last_client_ms_;
      if (now - since < limit) {
        scheduleTimer();
        return;
      }
      if (ConnectionGuard* guard = frontend_->guard(); guard && (started || requests_ == 0)) {
        guard->onHeadTimeout();
      }
      if (started) {
        log::debug("request head timeout", {{"client", client_ip_}});
        respondError(408, "request head timeout");
      } else {
        close(requests_ == 0 ? "no request" : "keep-alive timeout", false);
      }
      return;
    }
    case Phase::Terminal:
      if (now - last_client_ms_ < static_cast<uint64_t>(t.request_body.count())) {
        scheduleTimer();
        return;
      }
      log::debug("request body timeout", {{"client", client_ip_}});
      respondError(408, "request body timeout");
      return;
    case Phase::Waiting:
      if (now < wait_until_ms_) {
        scheduleTimer();
        return;
      }
      if (queued_) {
        leaveQueue();
        frontend_->queue().dequeue(this);
        const upstream::Cluster& cluster = x_->upstream->upstream().cluster();
        cluster.pool_state->traffic->worker(ctx_.worker_index).queue_timeouts.add();
        acct().termination = "queue_timeout";
        log::warn("queue timeout: the pool is at max_requests or every server at max_connections",
                  {{"pool", cluster.config.name}});
        x_->upstream->abandon();
        respondLocal(503, errorBody(503), "", !x_->stream.requestDone());
        return;
      }
      wait_until_ms_ = 0;
      startUpstream();
      return;
    case Phase::Upstream: {
      ClientStream& x = *x_;
      bool serverLate = now >= x.upstream->deadline(t, conn_.writable);
      if (x.upstream->connecting()) {
        if (serverLate) {
          onExchange(x.upstream->timedOut());
        } else {
          scheduleTimer();  // armed earlier, for a sooner deadline of the phase before
        }
        return;
      }
      if (!x.stream.requestDone() && now - last_client_ms_ >= static_cast<uint64_t>(t.request_body.count()) && !serverLate) {
        log::debug("request body timeout", {{"client", client_ip_}});
        x.upstream->abandon();
        if (x.stream.responseStarted()) {
          close("request body timeout", true);
        } else {
          respondError(408, "request body timeout");
        }
        return;
      }
      if (serverLate) {
        onExchange(x.upstream->timedOut());
        return;
      }
      if (x.stream.requestDone() && now - last_client_ms_ >= static_cast<uint64_t>(t.idle.count())) {
        close("client stalled", true);
        return;
      }
      scheduleTimer();
      return;
    }
    case Phase::Tunnel:
      if (now - last_client_ms_ >= static_cast<uint64_t>(t.idle.count())) {
        close("idle timeout", false);
        return;
      }
      scheduleTimer();
      return;
    case Phase::H2:
      if (h2_->idle() && now - last_client_ms_ >= static_cast<uint64_t>(t.keepalive.count())) {
        close("keep-alive timeout", false);
        return;
      }
      scheduleTimer();
      return;
    case Phase::Closing:
      if (conn_.lingering ? now >= wait_until_ms_
                     : now - last_client_ms_ >= static_cast<uint64_t>(t.idle.count())) {
        close(conn_.lingering ? "linger done" : "client not reading", !conn_.lingering);
        return;
      }
      scheduleTimer();
      return;
    case Phase::Closed:
      return;
  }
}

void HttpSession::drain() {
  draining_ = true;
  if (phase_ == Phase::H2) {
    h2_->drain();  // two GOAWAYs, then closed with its last stream
    return;
  }
  if (phase_ == Phase::Head && conn_.in.empty() && conn_.out.empty() && requests_ > 0 && !conn_.readable) {
    closeIdleWhenQuiet();
    return;
  }
  if (phase_ == Phase::Head && conn_.readable) {
    drive();  // a connection taken from the accept queue at the stop: serve its request
  }
}

uint64_t HttpSession::drainQuietMs() const {
  // Withdrawing only (timeouts.withdraw, not yet draining): the network moves this instance's
  // flows away, so an idle connection is closed now, before its path goes.
  if (!ctx_.draining) {
    return 0;
  }
  return std::min<uint64_t>(kDrainQuietMs, static_cast<uint64_t>(rt_->config->timeouts.drain.count()) / 2);
}

bool HttpSession::drainIdleDue(uint64_t now) const {
  return draining_ && requests_ > 0 && head_started_ms_ == 0 && conn_.in.empty() && conn_.out.empty() &&
         now - last_client_ms_ >= drainQuietMs();
}

void HttpSession::closeIdleWhenQuiet() {
  if (drainIdleDue(ctx_.loop.nowMs())) {
    close("drain", false);
    return;
  }
  scheduleTimer();  // its next request, or the quiet time, whichever comes first
}

bool HttpSession::usesHost(const upstream::HostState* state) const {
  return (x_ && x_->upstream && x_->upstream->usesHost(state)) || (h2_ && h2_->usesHost(state));
}

void HttpSession::close(const char* reason, bool reset) {
  if (phase_ == Phase::Closed) {
    return;
  }
  if (queued_) {
    leaveQueue();
    frontend_->queue().dequeue(this);
  }
  if (acct_ && acct_->active) {
    // A request cut short: the response's status if it had begun, else 499 (NGINX's
    // "client closed request") for the client or the server giving up first.
    endRequest(x_ && x_->stream.responseStarted() ? x_->stream.status() : 499, reason);
  }
  if (counted_conn_) {
    listenerStats().active.add(-1);
    counted_conn_ = false;
  }
  phase_ = Phase::Closed;
  log::debug("http connection closed", {{"reason", reason}});
  ctx_.loop.timers().cancel(timer_);
  if (x_ && x_->upstream) {
    x_->upstream->abandon();
  }
  if (tunnel_) {
    tunnel_->close(true);
  }
  if (h2_) {
    h2_->abortAll(reason);
  }
  if (reset) {
    net::setLingerZero(conn_.transport->fd());
  }
  // No EPOLL_CTL_DEL: closing the fd takes it out of the epoll set (it is never duplicated),
  // and events already fetched for it find phase_ == Closed.
  conn_.raw.ownedFd().reset();
  conn_.in.release();
  if (conn_held_ != 0) {
    rt_->connection_filters.onClose(ConnectionState(peer_.get(), client_ip_), conn_held_);
    conn_held_ = 0;
  }
  if (ConnectionGuard* guard = frontend_->guard()) {
    guard->remove(*this);
  }
  unlink(ctx_);
  ctx_.loop.deferDelete(std::unique_ptr<core::DeferredDeletable>(this));
}

}  // namespace fulcrum::http
