#include "http/session.h"

#include <arpa/inet.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "common/time.h"
#include "http/filters/filter.h"
#include "http/client_connection.h"
#include "http/frontend.h"
#include "http/h1/head_writer.h"
#include "http/h1/http10_response.h"
#include "http/h1/request_decoder.h"
#include "http/h1/response_decoder.h"
#include "http/sticky.h"
#include "http/upstream_request.h"
#include "net/address.h"
#include "net/proxy_protocol.h"
#include "net/socket.h"
#include "upstream/outlier.h"
#include "upstream/retry_policy.h"
#include "upstream/take_host.h"

namespace fulcrum::http {

namespace {

constexpr uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
// Local answers to pipelined requests stop being produced while this much is unsent.
constexpr size_t kMaxPendingOut = 64 * 1024;
// Lingering close: how long and how much of a client's input is drained after the last answer.
constexpr uint64_t kLingerMs = 2000;
constexpr size_t kLingerMaxBytes = 1024 * 1024;

bool isIdempotent(Method m) {
  return m == Method::Get || m == Method::Head || m == Method::Options || m == Method::Put ||
         m == Method::Delete || m == Method::Trace;
}

size_t headCapacity(const Limits& l) { return l.maxRequestLine + l.maxHeaderBytes + 1024; }

// A connect that failed for want of something of ours (descriptors, memory, local ports).
bool localShortage(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM || err == EADDRNOTAVAIL;
}

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
  if (phase_ == Phase::Closed || !up_) {
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    up_->readable = true;
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    up_->hup = true;
  }
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    up_->writable = true;
  }
  if (phase_ == Phase::Connecting) {
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      int err = net::socketError(up_->transport->fd());
      if (err != 0) {
        upstreamFailed(ErrorKind::ConnectFailed, std::strerror(err));
        return;
      }
      onConnected();
    }
    return;
  }
  drive();
}

void HttpSession::drive() {
  switch (phase_) {
    case Phase::Head:
      readHead();
      return;
    case Phase::Terminal:
      pumpTerminal();
      return;
    case Phase::Exchange:
      pumpExchange();
      return;
    case Phase::Tunnel:
      pumpTunnel();
      return;
    case Phase::Closing:
      if (flushClient()) {
        lingerClose();
      }
      return;
    case Phase::Waiting:
    case Phase::Connecting:
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
        log::debug("handshake failed", {{"listener", rt_->listener->name}, {"client", client_ip_}});
        close("handshake failed", true);
        return;
      }
      if (io == ClientConnection::Io::Ok) {
        continue;
      }
      return;  // the next readiness edge it asked for resumes it
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
      close("drain", false);  // idle between requests (a new connection gets its first one served)
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
  x_ = std::make_unique<Exchange>(rt_->limits, frontend_->outStrings(), static_cast<uint32_t>(requests_));
  Exchange& x = *x_;
  x.client_http10 = h.version == Version::Http10;
  x.client_keepalive = h.keepAlive && !draining_;
  x.client_done = !h.keepAlive;
  x.method = h.methodId;
  x.head_request = h.methodId == Method::Head;
  x.upgrade = h.upgrade;
  x.idempotent = isIdempotent(h.methodId);
  x.req_framing = h.body;
  x.resp_parser = frontend_->responseParsers().take([] { return new ResponseParser(); });
  x.resp_parser->configure(Limits{}, ResponseContext::forMethod(h.methodId));
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
  const RouteTarget* target = state.target;
  const config::Route* route = state.route;
  x.upstream.emplace(target->clusters[state.cluster_index], state.hash, std::string(state.sticky_id));
  x.route = route;
  acct().cluster = &x.upstream->cluster();
  const auto& pool = x.upstream->cluster().config;
  x.response_edits = state.response_edits;
  ForwardParams fp;
  fp.request = &info;
  fp.framing = h.body;
  fp.edits = &state.edits;
  writeRequestHead(x.head, fp);
  // Everything needed from the head's views is copied: its bytes can go.
  conn_.in.consume(headLength);
  parser_ = nullptr;  // (its views of the head are not used past here)
  x.req_body.start(x.req_framing);
  x.stream.requestHead(x.req_body.complete());
  close_after_ = !x.client_keepalive;
  frontend_->retryBudget(x.upstream->cluster()).onRequest(pool.http.retry_budget_percent, ctx_.loop.nowMs());
  if (wait_until_ms_ > ctx_.loop.nowMs()) {
    phase_ = Phase::Waiting;
    scheduleTimer();
    return;
  }
  admit();
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

// --- choosing and reaching a server ---

void HttpSession::admit() {
  const auto& pool = x_->upstream->cluster().config;
  if (pool.http.max_requests > 0 && !x_->upstream->hasPoolSlot() && !x_->upstream->takePoolSlot()) {
    enqueue();
    return;
  }
  pickAndConnect();
}

void HttpSession::enqueue() {
  const auto& pool = x_->upstream->cluster().config;
  if (!frontend_->queue().enqueue(this, pool.queue_size)) {
    acct().termination = "queue_full";
    releaseSlots();
    respondLocal(503, errorBody(503), "", !x_->stream.requestDone());
    return;
  }
  queued_ = true;
  if (acct().wait_us == 0) {
    acct().wait_us = ctx_.loop.clock().nowUs();
    x_->upstream->cluster().pool_state->traffic->worker(ctx_.worker_index).queued.add(1);
  }
  phase_ = Phase::Waiting;
  wait_until_ms_ = ctx_.loop.nowMs() + static_cast<uint64_t>(rt_->config->timeouts.queue.count());
  scheduleTimer();
}

bool HttpSession::retryFromQueue() {
  if (phase_ != Phase::Waiting || !queued_) {
    return true;
  }
  if (x_->upstream->cluster().config.http.max_requests > 0 && !x_->upstream->hasPoolSlot() &&
      !x_->upstream->takePoolSlot()) {
    return false;
  }
  bool full = false;
  int host = pickHost(full);
  if (host < 0 && full) {
    return false;  // every usable server still at max_connections: wait on, in place
  }
  leaveQueue();  // (the queue drops this waiter: it returned true)
  if (host < 0) {
    noServer();
  } else {
    connectTo(host);
  }
  return true;
}

int HttpSession::pickHost(bool& full) {
  UpstreamRequest& u = *x_->upstream;
  return u.pickHost(frontend_->picker(u.clusterPtr()), ctx_.loop.nowMs(), peer_.get(), full);
}

void HttpSession::pickAndConnect() {
  bool full = false;
  int host = pickHost(full);
  if (host >= 0) {
    connectTo(host);
  } else if (full) {
    enqueue();  // every usable server is at max_connections: wait for a slot (HAProxy's maxconn)
  } else {
    noServer();
  }
}

void HttpSession::noServer() {
  log::debug("no usable server", {{"pool", x_->upstream->cluster().config.name}});
  acct().termination = "no_server";
  releaseSlots();
  respondLocal(503, errorBody(503), "", !x_->stream.requestDone());
}

void HttpSession::connectTo(int host) {
  Exchange& x = *x_;
  x.upstream->beginAttempt(host);
  x.started_ms = ctx_.loop.nowMs();
  x.attempt_us = ctx_.loop.clock().nowUs();
  const auto& cluster = x.upstream->cluster();
  const auto& h = cluster.hosts[static_cast<size_t>(host)];
  acct().host = &h;
  const auto& sticky = cluster.config.http.sticky;
  if (sticky.mode == config::StickyMode::Cookie) {
    std::string id = stickyId(cluster, static_cast<size_t>(host));
    x.set_cookie = id == x.upstream->stickyId() ? std::string() : stickyCookie(sticky, id);
  }
  up_ = frontend_->connections().take(h.state.get());
  if (up_) {
    x.reused = true;
    acct().connect_us = 0;
    up_->owner = this;
    up_->writable = true;  // an idle connection's send buffer is empty
    up_->readable = false;
    phase_ = Phase::Exchange;
    last_server_ms_ = ctx_.loop.nowMs();
    scheduleTimer();
    pumpExchange();
    return;
  }
  x.reused = false;
  auto fd = net::startConnect(h.config.address.sa(), h.config.address.length);
  if (!fd) {
    int err = errno;
    if (err == EMFILE || err == ENFILE) {
      upstream::onFdExhausted(ctx_, "connect");
    }
    upstreamFailed(ErrorKind::ConnectFailed, fd.error().message.c_str(),
                   localShortage(err) ? upstream::ErrorSource::Proxy : upstream::ErrorSource::Server);
    return;
  }
  net::setNoDelay(fd->get());
  up_ = std::make_unique<UpstreamConn>(ctx_, std::move(*fd), h.state);
  up_->owner = this;
  if (!ctx_.loop.add(up_->transport->fd(), kEvents, up_.get())) {
    upstreamFailed(ErrorKind::ConnectFailed, "epoll add failed", upstream::ErrorSource::Proxy);
    return;
  }
  up_->registered = true;
  phase_ = Phase::Connecting;
  scheduleTimer();
}

void HttpSession::onConnected() {
  acct().connect_us = static_cast<int64_t>(ctx_.loop.clock().nowUs() - x_->attempt_us);
  if (auto* hs = hostStats()) {
    hs->connections.add();
  }
  phase_ = Phase::Exchange;
  last_server_ms_ = ctx_.loop.nowMs();
  scheduleTimer();
  pumpExchange();
}

// --- the exchange ---

void HttpSession::pumpExchange() {
  if (!sendRequest() || phase_ != Phase::Exchange) {
    return;
  }
  if (!receiveResponse() || phase_ != Phase::Exchange || !x_) {
    return;
  }
  Exchange& x = *x_;
  if (x.stream.responseStarted() && x.resp_body.finished() && conn_.out_sent == conn_.out.size()) {
    finishExchange();
  }
}

bool HttpSession::sendRequest() {
  Exchange& x = *x_;
  uint64_t now = ctx_.loop.nowMs();
  while (x.head_sent < x.head.size()) {
    if (!up_->writable) {
      return true;
    }
    // With the body bytes already here, when they are valid, in the same write.
    size_t ready = !x.stream.requestDone() && x.req_body.scan(conn_.in.view()) ? x.req_body.ready() : 0;
    size_t head = x.head.size() - x.head_sent;
    auto r = up_->transport->write2(reinterpret_cast<const uint8_t*>(x.head.data()) + x.head_sent, head,
                                   conn_.in.data(), ready);
    if (r.status == net::IoStatus::Ok) {
      if (auto* hs = hostStats()) hs->bytes_out.add(r.bytes);
      size_t fromHead = std::min(head, r.bytes);
      x.head_sent += fromHead;
      if (r.bytes > fromHead) {
        conn_.in.consume(r.bytes - fromHead);
        x.req_body.forwarded(r.bytes - fromHead);
        x.body_sent += r.bytes - fromHead;
      }
      last_server_ms_ = now;
    } else if (r.status == net::IoStatus::WouldBlock) {
      up_->writable = false;
      return true;
    } else {
      upstreamFailed(ErrorKind::Reset, "write to server failed");
      return false;
    }
  }
  while (!x.stream.requestDone()) {
    if (!x.req_body.scan(conn_.in.view())) {
      log::debug("bad request body", {{"client", client_ip_}, {"reason", x.req_body.error().reason}});
      discard(std::move(up_), true);
      releaseSlots();
      if (x.stream.responseStarted()) {
        close("bad request body", true);
      } else {
        respondError(x.req_body.error().status, "bad request body");
      }
      return false;
    }
    size_t ready = x.req_body.ready();
    if (ready > 0) {
      if (!up_->writable) {
        return true;
      }
      auto r = up_->transport->write(conn_.in.data(), ready);
      if (r.status == net::IoStatus::Ok) {
        if (auto* hs = hostStats()) hs->bytes_out.add(r.bytes);
        conn_.in.consume(r.bytes);
        x.req_body.forwarded(r.bytes);
        x.body_sent += r.bytes;
        last_server_ms_ = now;
        continue;
      }
      if (r.status == net::IoStatus::WouldBlock) {
        up_->writable = false;
        return true;
      }
      upstreamFailed(ErrorKind::Reset, "write to server failed");
      return false;
    }
    if (x.req_body.complete()) {
      x.stream.requestEnd();
      break;
    }
    if (conn_.eof) {
      close("client closed in the request body", true);
      return false;
    }
    if (!conn_.readable) {
      return true;
    }
    readClient(core::Buffer::kCapacity);
    if (phase_ != Phase::Exchange) {
      return false;
    }
  }
  if (x.sent_ms == 0) {
    x.sent_ms = now;
    x.sent_us = ctx_.loop.clock().nowUs();
    scheduleTimer();
  }
  return true;
}

bool HttpSession::receiveResponse() {
  for (;;) {
    if (conn_.out_sent < conn_.out.size() && x_ && x_->stream.responseStarted() && !x_->dechunker && conn_.writable &&
        x_->resp_body.scan(up_->in.view()) && x_->resp_body.ready() > 0) {
      // The response head and the body bytes already here leave in one write.
      size_t sent = 0;
      size_t fromBody = 0;
      auto io = conn_.sendWithBody(up_->in.data(), x_->resp_body.ready(), sent, fromBody);
      if (io == ClientConnection::Io::Ok) {
        listenerStats().bytes_out.add(sent);
        up_->in.consume(fromBody);
        x_->resp_body.forwarded(fromBody);
        last_client_ms_ = ctx_.loop.nowMs();
      } else if (io == ClientConnection::Io::Error) {
        close("client write failed", true);
        return false;
      }
    }
    if (!flushClient()) {
      return phase_ == Phase::Exchange;
    }
    if (phase_ != Phase::Exchange || !x_) {
      return false;  // (a retry inside may have finished or ended the exchange)
    }
    Exchange& x = *x_;
    if (!x.stream.responseStarted()) {
      if (!up_->in.empty()) {
        ParseResult r = x.resp_parser->feed(up_->in.view());
        if (r.status == ParseStatus::Error) {
          upstreamFailed(ErrorKind::BadResponse, r.error.reason.data());
          return false;
        }
        if (r.status == ParseStatus::Done) {
          onResponseHead(r.consumed);
          if (phase_ != Phase::Exchange) {
            return false;
          }
          continue;
        }
      }
      if (!up_->readable) {
        return true;
      }
      auto room = up_->in.room(headCapacity({}));
      if (room.empty()) {
        upstreamFailed(ErrorKind::BadResponse, "response head too large");
        return false;
      }
      auto r = up_->transport->read(room.data(), room.size());
      if (r.status == net::IoStatus::Ok) {
        if (auto* hs = hostStats()) hs->bytes_in.add(r.bytes);
        up_->in.commit(r.bytes);
        last_server_ms_ = ctx_.loop.nowMs();
        up_->readable = up_->readable && (r.bytes == room.size() || up_->hup);
      } else if (r.status == net::IoStatus::WouldBlock) {
        up_->readable = false;
        return true;
      } else {
        upstreamFailed(ErrorKind::Reset, r.status == net::IoStatus::Eof ? "server closed before responding"
                                                                        : "server reset before responding");
        return false;
      }
      continue;
    }
    if (x.dechunker) {
      if (!dechunkResponse()) {
        return false;
      }
      if (!x.dechunker || conn_.out.size() > conn_.out_sent) {
        continue;  // done, or output to send before more is decoded
      }
    } else {
      if (!x.resp_body.scan(up_->in.view())) {
        log::warn("malformed response body", {{"pool", x.upstream->cluster().config.name}, {"reason", x.resp_body.error().reason}});
        recordOutcome(true);
        close("malformed response body", true);
        return false;
      }
      size_t ready = x.resp_body.ready();
      if (ready > 0) {
        if (!conn_.writable) {
          return true;
        }
        size_t sent = 0;
        auto io = conn_.write(up_->in.data(), ready, sent);
        if (io == ClientConnection::Io::Ok) {
          listenerStats().bytes_out.add(sent);
          up_->in.consume(sent);
          x.resp_body.forwarded(sent);
          last_client_ms_ = ctx_.loop.nowMs();
          continue;
        }
        if (io == ClientConnection::Io::Blocked) {
          return true;
        }
        close("client write failed", true);
        return false;
      }
      if (x.resp_body.complete()) {
        return true;
      }
    }
    if (!up_->readable) {
      return true;
    }
    auto room = up_->in.room(core::Buffer::kCapacity);
    if (room.empty()) {
      // Only a trailer section being de-chunked stays buffered; its limit is below the buffer's.
      log::warn("malformed response body", {{"pool", x.upstream->cluster().config.name}, {"reason", "trailers too large"}});
      recordOutcome(true);
      close("malformed response body", true);
      return false;
    }
    auto r = up_->transport->read(room.data(), room.size());
    if (r.status == net::IoStatus::Ok) {
      if (auto* hs = hostStats()) hs->bytes_in.add(r.bytes);
      up_->in.commit(r.bytes);
      last_server_ms_ = ctx_.loop.nowMs();
      up_->readable = up_->readable && (r.bytes == room.size() || up_->hup);
    } else if (r.status == net::IoStatus::WouldBlock) {
      up_->readable = false;
      return true;
    } else if (r.status == net::IoStatus::Eof && x.resp_body.untilClose()) {
      x.resp_body.onEof();
      x.resp_keepalive = false;
      up_->readable = false;
    } else {
      log::warn("server closed in the middle of a response",
                {{"pool", x.upstream->cluster().config.name},
                 {"server", x.upstream->currentHost()->config.address.text}});
      recordOutcome(true);
      close("server closed mid-response", true);
      return false;
    }
  }
}

void HttpSession::onResponseHead(size_t headLength) {
  Exchange& x = *x_;
  const ResponseHead& h = x.resp_parser->head();
  if (h.status < 200 && h.status != 101) {
    // Interim (100 Continue, 103 Early Hints): passed on to HTTP/1.1 clients.
    if (!x.client_http10) {
      Response interim = decodeResponse(h);
      ResponseParams p;
      p.response = &interim;
      writeResponseHead(out(), p);
    }
    up_->in.consume(headLength);
    x.resp_parser->reset(ResponseContext::forMethod(x.method));
    return;
  }
  {
    // Every final answer a server gives is counted for it, retried or not.
    uint64_t now = ctx_.loop.clock().nowUs();
    acct().response_us = static_cast<int64_t>(now - (x.sent_us ? x.sent_us : x.attempt_us));
    if (auto* hs = hostStats()) {
      hs->statuses.add(h.status);
      hs->response_time.observe(static_cast<uint64_t>(acct().response_us));
    }
  }
  if (h.status == 101) {
    if (!x.upgrade) {
      upstreamFailed(ErrorKind::BadResponse, "101 without an upgrade request");
      return;
    }
    Response switched = decodeResponse(h);
    ResponseParams p;
    p.response = &switched;
    writeResponseHead(out(), p);
    up_->in.consume(headLength);
    recordOutcome(false);
    startTunnel();
    return;
  }
  if ((h.status == 502 || h.status == 503 || h.status == 504) &&
      retryDecision(h.status == 502   ? ErrorKind::Status502
                    : h.status == 503 ? ErrorKind::Status503
                                      : ErrorKind::Status504) == upstream::RetryDecision::Retry) {
    recordOutcome(true);
    ++acct().retries;
    x.upstream->cluster().pool_state->traffic->worker(ctx_.worker_index).retries.add();
    x.upstream->markTried();
    discard(std::move(up_), true);
    releaseHost();
    restartRequest();
    pickAndConnect();
    return;
  }
  uint64_t now = ctx_.loop.nowMs();
  // A 5xx is the server's failure, but for 501 and 505: the client asked for what it lacks.
  recordOutcome(h.status >= 500 && h.status != 501 && h.status != 505);
  frontend_->picker(x.upstream->clusterPtr()).observe(static_cast<size_t>(x.upstream->host()),
                                       static_cast<double>(now - x.started_ms) / 1000.0,
                                       static_cast<double>(now) / 1000.0);
  x.stream.responseHead(h.status, false);
  x.resp_keepalive = h.keepAlive;  // (the server spoke HTTP/1.1 to us, whatever the client speaks)
  if (h.body.kind == BodyKind::UntilClose || draining_) {
    close_after_ = true;
  }
  // What the client is told besides the server's fields: the route's edits, a sticky cookie.
  Response resp = decodeResponse(h);
  FieldEdits edits;
  edits.edits = x.response_edits;
  if (!x.set_cookie.empty()) {
    edits.add("Set-Cookie", x.set_cookie);
  }
  ResponseParams p;
  p.response = &resp;
  p.framing = h.body;
  p.client_http10 = x.client_http10;
  p.edits = &edits;
  if (x.client_http10 && h.body.kind == BodyKind::Chunked) {
    // HTTP/1.0 has no chunked coding. A body already here whole goes with its length (the
    // connection may stay open); otherwise it is delimited by closing the connection.
    p.close = close_after_;
    if (writeWholeDechunked(p, headLength)) {
      scheduleTimer();
      return;
    }
    close_after_ = true;
    p.close = true;
    p.framing = BodyFraming{BodyKind::UntilClose, 0};
    Limits limits;
    limits.maxTrailerBytes = core::Buffer::kCapacity / 2;  // (dropped, but buffered until complete)
    x.dechunker = std::make_unique<ChunkedDecoder>(limits);
  }
  p.close = close_after_;
  writeResponseHead(out(), p);
  x.resp_body.start(h.body);  // when de-chunked: not scanned, and finished() only once dechunkResponse() ends it
  up_->in.consume(headLength);
  scheduleTimer();
}

bool HttpSession::writeWholeDechunked(const ResponseParams& params, size_t headLength) {
  size_t used = http::writeWholeDechunked(out(), params, up_->in.view().substr(headLength));
  if (used == 0) {
    return false;
  }
  up_->in.consume(headLength + used);
  x_->resp_body.start(BodyFraming{});  // finished
  return true;
}

bool HttpSession::dechunkResponse() {
  Exchange& x = *x_;
  ChunkResult r;
  do {
    r = x.dechunker->decode(up_->in.view());
    if (r.status == ChunkStatus::Error) {
      log::warn("malformed response body", {{"pool", x.upstream->cluster().config.name}, {"reason", r.error.reason}});
      recordOutcome(true);
      close("malformed response body", true);
      return false;
    }
    if (r.status == ChunkStatus::Data) {
      out().append(r.data);
    }
    up_->in.consume(r.consumed);  // (after the copy: data is a view of the buffer)
  } while (r.status == ChunkStatus::Data && conn_.out.size() - conn_.out_sent < kMaxPendingOut);
  if (r.status == ChunkStatus::Done) {
    x.dechunker.reset();  // trailers dropped
    x.resp_body.start(BodyFraming{});
  }
  return true;
}

void HttpSession::restartRequest() {
  Exchange& x = *x_;
  x.head_sent = 0;
  x.body_sent = 0;
  x.sent_ms = 0;
  x.req_body.start(x.req_framing);
  x.stream.restart(x.req_body.complete());
  x.resp_parser->reset(ResponseContext::forMethod(x.method));
}

void HttpSession::finishExchange() {
  Exchange& x = *x_;
  x.stream.responseEnd();
  bool early = !x.stream.requestDone();  // the server answered before the request body ended
  bool reusable = x.resp_keepalive && !early && !draining_ && !ctx_.draining;
  quick_close_ = x.client_done && !early && conn_.in.empty();
  endRequest(x.stream.status(), "ok");
  releaseSlots();
  releaseServer(reusable);
  x_.reset();
  if (close_after_ || early || draining_) {
    beginClosing();
    return;
  }
  phase_ = Phase::Head;
  scheduleTimer();
  readHead();
}

void HttpSession::releaseServer(bool reusable) {
  if (!up_) {
    return;
  }
  const auto& http = x_->upstream->cluster().config.http;
  ++up_->requests;
  if (reusable && up_->in.empty() && !up_->hup) {
    frontend_->connections().put(std::move(up_), http.idle_connections,
                                 static_cast<uint64_t>(http.idle_timeout.count()));
  } else {
    discard(std::move(up_), false);
  }
}

void HttpSession::releaseHost() {
  if (x_ && x_->upstream && x_->upstream->releaseHost() && !ctx_.closing_all) {
    frontend_->queue().onSlotFreed();  // a request may be waiting for this server's slot
  }
}

void HttpSession::releaseSlots() {
  if (!x_ || !x_->upstream) {
    return;
  }
  releaseHost();
  if (x_->upstream->releasePoolSlot() && !ctx_.closing_all) {
    frontend_->queue().onSlotFreed();
  }
}

void HttpSession::recordOutcome(bool failure) {
  if (!x_ || !x_->upstream || x_->upstream->host() < 0) {
    return;
  }
  const UpstreamRequest& u = *x_->upstream;
  if (failure) {
    upstream::recordFailure(u.cluster(), static_cast<size_t>(u.host()), ctx_.loop.nowMs());
  } else {
    upstream::recordSuccess(u.cluster(), static_cast<size_t>(u.host()));
  }
}

stats::Traffic* HttpSession::hostStats() {
  const upstream::Host* h = x_ && x_->upstream ? x_->upstream->currentHost() : nullptr;
  return h ? &h->state->traffic->worker(ctx_.worker_index) : nullptr;
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

upstream::RetryDecision HttpSession::retryDecision(ErrorKind kind) {
  Exchange& x = *x_;
  upstream::AttemptState a;
  a.head_sent = x.head_sent > 0;
  a.body_sent = x.body_sent > 0;
  a.response_started = x.stream.responseStarted();
  a.idempotent = x.idempotent;
  a.reused_idle = x.reused;
  a.nothing_read = up_ && up_->in.empty();
  return x.upstream->decideRetry(kind, a, frontend_->retryBudget(x.upstream->cluster()), ctx_.loop.nowMs());
}

void HttpSession::upstreamFailed(ErrorKind failure, const char* why, upstream::ErrorSource source) {
  Exchange& x = *x_;
  UpstreamRequest& u = *x.upstream;
  const auto& cluster = u.cluster();
  const upstream::Host* host = u.currentHost();
  const char* server = host ? host->config.address.text.c_str() : "";
  bool staleReuse = x.reused && failure == ErrorKind::Reset && up_ && up_->in.empty() && !x.stream.responseStarted();
  if (!staleReuse) {
    log::warn(source == upstream::ErrorSource::Server ? "server failed" : "could not reach the server",
              {{"pool", cluster.config.name}, {"server", server}, {"error", why}, {"attempt", u.attempts()}});
  }
  // Only the server's own failures count against it (docs/design/health.md): not a stale
  // pooled connection, nor this process running out of descriptors or ports.
  if (!staleReuse && source == upstream::ErrorSource::Server) {
    if (failure == ErrorKind::ConnectFailed || failure == ErrorKind::ConnectTimeout) {
      host->state->connect_failures.fetch_add(1, std::memory_order_relaxed);
    }
    if (auto* hs = hostStats()) {
      if (failure == ErrorKind::ConnectFailed || failure == ErrorKind::ConnectTimeout) {
        hs->connect_errors.add();
      }
      if (failure == ErrorKind::ConnectTimeout || failure == ErrorKind::ResponseTimeout) {
        hs->timeouts.add();
      }
    }
    recordOutcome(true);
  }
  auto decision = retryDecision(failure);
  bool retry = decision != upstream::RetryDecision::GiveUp;
  if (decision == upstream::RetryDecision::Retry) {
    ++acct().retries;
    cluster.pool_state->traffic->worker(ctx_.worker_index).retries.add();
  }
  if (decision == upstream::RetryDecision::RetryFree) {
    u.forgiveAttempt();  // not the server's fault: the attempt does not count
  } else {
    u.markTried();
  }
  discard(std::move(up_), true);
  releaseHost();
  if (retry) {
    restartRequest();
    pickAndConnect();
    return;
  }
  if (x.stream.responseStarted()) {
    close("server failed mid-response", true);
    return;
  }
  uint16_t status = failure == ErrorKind::ConnectTimeout || failure == ErrorKind::ResponseTimeout ? 504 : 502;
  log::debug("request failed", {{"status", status}, {"attempts", u.attempts()}, {"reused", x.reused},
                                {"head_sent", x.head_sent}, {"stale", staleReuse}});
  releaseSlots();
  acct().termination = upstream::terminationOf(failure);
  respondLocal(status, errorBody(status), "", !x.stream.requestDone());
}

// --- tunnel (101 Switching Protocols) ---

void HttpSession::startTunnel() {
  endRequest(101, "upgrade");
  phase_ = Phase::Tunnel;
  releaseSlots();
  tunnel_ = std::make_unique<Tunnel>(ctx_.buffers, ctx_.pipes);
  // Bytes already read pass first: the 101 head and anything the server sent after it; and
  // anything the client sent after its request.
  std::string down = conn_.out.substr(conn_.out_sent);
  down.append(up_->in.view());
  up_->in.release();
  conn_.out.clear();
  conn_.out_sent = 0;
  tunnel_->down.preload(down);
  if (!conn_.in.empty()) {
    tunnel_->up.preload(conn_.in.view());
    conn_.in.release();
  }
  scheduleTimer();
  pumpTunnel();
}

void HttpSession::pumpTunnel() {
  uint64_t up = 0;
  uint64_t down = 0;
  auto a = tunnel_->up.run(*conn_.transport, conn_.readable, conn_.hup, *up_->transport, up_->writable, up);
  if (a == net::Pump::State::Error) {
    close(tunnel_->up.errorOnRead() ? "client reset" : "server reset", true);
    return;
  }
  auto b = tunnel_->down.run(*up_->transport, up_->readable, up_->hup, *conn_.transport, conn_.writable, down);
  if (b == net::Pump::State::Error) {
    close(tunnel_->down.errorOnRead() ? "server reset" : "client reset", true);
    return;
  }
  if (up + down > 0) {
    last_client_ms_ = last_server_ms_ = ctx_.loop.nowMs();
    listenerStats().bytes_in.add(up);
    listenerStats().bytes_out.add(down);
    if (acct().host) {
      auto& hs = acct().host->state->traffic->worker(ctx_.worker_index);
      hs.bytes_out.add(up);
      hs.bytes_in.add(down);
    }
  }
  if (tunnel_->up.done() && tunnel_->down.done()) {
    close("tunnel done", false);
    return;
  }
  if (a == net::Pump::State::Yield || b == net::Pump::State::Yield) {
    resumeSoon();
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
  size_t sent = 0;
  auto io = conn_.flush(frontend_->outStrings(), sent);
  if (sent > 0) {
    listenerStats().bytes_out.add(sent);
    last_client_ms_ = ctx_.loop.nowMs();
  }
  if (io == ClientConnection::Io::Error) {
    close("client write failed", true);
  }
  return io == ClientConnection::Io::Ok;
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
      deadline = head_started_ms_ != 0 ? head_started_ms_ + static_cast<uint64_t>(t.request_head.count())
                 : requests_ == 0      ? last_client_ms_ + static_cast<uint64_t>(t.request_head.count())
                                       : last_client_ms_ + static_cast<uint64_t>(t.keepalive.count());
      break;
    case Phase::Terminal:
      deadline = last_client_ms_ + static_cast<uint64_t>(t.request_body.count());
      break;
    case Phase::Waiting:
      deadline = wait_until_ms_;
      break;
    case Phase::Connecting:
      deadline = x_->started_ms + static_cast<uint64_t>(t.connect.count());
      break;
    case Phase::Exchange: {
      const Exchange& x = *x_;
      uint64_t serverQuiet = serverAtFault() ? last_server_ms_ + static_cast<uint64_t>(t.response.count()) : UINT64_MAX;
      uint64_t clientQuiet = last_client_ms_ + static_cast<uint64_t>(x.stream.requestDone() ? t.idle.count() : t.request_body.count());
      deadline = std::min(serverQuiet, clientQuiet);
      break;
    }
    case Phase::Tunnel:
      deadline = std::max(last_client_ms_, last_server_ms_) + static_cast<uint64_t>(t.idle.count());
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

bool HttpSession::serverAtFault() const {
  const Exchange& x = *x_;
  if (x.stream.responseStarted()) {
    return conn_.writable;  // else the response waits for the client to read (back-pressure)
  }
  // Before the request is whole, a quiet server is only late when it stopped reading it;
  // otherwise the wait is for the client (request_body timeout).
  return x.stream.requestDone() || !up_ || !up_->writable;
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
        x_->upstream->cluster().pool_state->traffic->worker(ctx_.worker_index).queue_timeouts.add();
        acct().termination = "queue_timeout";
        log::warn("queue timeout: the pool is at max_requests or every server at max_connections",
                  {{"pool", x_->upstream->cluster().config.name}});
        releaseSlots();
        respondLocal(503, errorBody(503), "", !x_->stream.requestDone());
        return;
      }
      wait_until_ms_ = 0;
      admit();
      return;
    case Phase::Connecting:
      if (now - x_->started_ms < static_cast<uint64_t>(t.connect.count())) {
        scheduleTimer();  // armed earlier, for a sooner deadline of the phase before
        return;
      }
      upstreamFailed(ErrorKind::ConnectTimeout, "connect timeout");
      return;
    case Phase::Exchange: {
      const Exchange& x = *x_;
      bool serverLate = serverAtFault() && now - last_server_ms_ >= static_cast<uint64_t>(t.response.count());
      if (!x.stream.requestDone() && now - last_client_ms_ >= static_cast<uint64_t>(t.request_body.count()) && !serverLate) {
        log::debug("request body timeout", {{"client", client_ip_}});
        discard(std::move(up_), true);
        releaseSlots();
        if (x.stream.responseStarted()) {
          close("request body timeout", true);
        } else {
          respondError(408, "request body timeout");
        }
        return;
      }
      if (serverLate) {
        if (!x.stream.responseStarted()) {
          upstreamFailed(ErrorKind::ResponseTimeout, "response timeout");
        } else {
          recordOutcome(true);
          close("server stalled mid-response", true);
        }
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
      if (now - std::max(last_client_ms_, last_server_ms_) >= static_cast<uint64_t>(t.idle.count())) {
        close("idle timeout", false);
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
  if (phase_ == Phase::Head && conn_.in.empty() && conn_.out.empty() && requests_ > 0 && !conn_.readable) {
    close("drain", false);
    return;
  }
  if (phase_ == Phase::Head && conn_.readable) {
    drive();  // a connection taken from the accept queue at the stop: serve its request
  }
}

bool HttpSession::usesHost(const upstream::HostState* state) const {
  const upstream::Host* h = x_ && x_->upstream ? x_->upstream->currentHost() : nullptr;
  return h && h->state.get() == state;
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
  if (tunnel_) {
    tunnel_->up.releaseAll();
    tunnel_->down.releaseAll();
  }
  releaseSlots();
  discard(std::move(up_), true);
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
