#include "http/upstream_exchange.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "http/frontend.h"
#include "http/sticky.h"
#include "net/socket.h"
#include "upstream/outlier.h"
#include "upstream/take_host.h"

namespace fulcrum::http {

namespace {

constexpr uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
// A response head may be this long at most (the same bound as a request head's default).
constexpr size_t kHeadCapacity = Limits{}.maxRequestLine + Limits{}.maxHeaderBytes + 1024;

// A connect that failed for want of something of ours (descriptors, memory, local ports).
bool localShortage(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM || err == EADDRNOTAVAIL;
}

}  // namespace

using upstream::ErrorKind;
using Status = UpstreamExchange::Status;

UpstreamExchange::UpstreamExchange(upstream::WorkerContext& ctx, HttpFrontend& frontend, ExchangeOwner& owner,
                                   StreamState& stream, RequestAccounting& acct, const sockaddr* peer,
                                   UpstreamRequest upstream, Params params)
    : ctx_(ctx),
      frontend_(frontend),
      owner_(owner),
      stream_(stream),
      acct_(acct),
      peer_(peer),
      upstream_(std::move(upstream)),
      params_(params) {
  frontend_.outStrings().lend(head_);
  resp_parser_ = frontend_.responseParsers().take([] { return new ResponseParser(); });
  resp_parser_->configure(Limits{}, ResponseContext::forMethod(params_.method));
}

UpstreamExchange::~UpstreamExchange() {
  frontend_.outStrings().reclaim(head_);
  discard(std::move(up_), true);  // (null once finished or abandoned)
}

// --- choosing and reaching a server ---

Status UpstreamExchange::start() {
  const auto& pool = upstream_.cluster().config;
  if (pool.http.max_requests > 0 && !upstream_.hasPoolSlot() && !upstream_.takePoolSlot()) {
    return status_ = Status::Queued;
  }
  return pickAndConnect();
}

std::optional<Status> UpstreamExchange::fromQueue() {
  if (upstream_.cluster().config.http.max_requests > 0 && !upstream_.hasPoolSlot() && !upstream_.takePoolSlot()) {
    return std::nullopt;
  }
  bool full = false;
  int host = upstream_.pickHost(frontend_.picker(upstream_.clusterPtr()), ctx_.loop.nowMs(), peer_, full);
  if (host < 0 && full) {
    return std::nullopt;  // every usable server still at max_connections: wait on, in place
  }
  if (host < 0) {
    log::debug("no usable server", {{"pool", upstream_.cluster().config.name}});
    acct_.termination = "no_server";
    return fail(Failure::End::Answer, "no usable server", 503);
  }
  return connectTo(host);
}

Status UpstreamExchange::pickAndConnect() {
  bool full = false;
  int host = upstream_.pickHost(frontend_.picker(upstream_.clusterPtr()), ctx_.loop.nowMs(), peer_, full);
  if (host >= 0) {
    return connectTo(host);
  }
  if (full) {
    return status_ = Status::Queued;  // every usable server is at max_connections (HAProxy's maxconn)
  }
  log::debug("no usable server", {{"pool", upstream_.cluster().config.name}});
  acct_.termination = "no_server";
  return fail(Failure::End::Answer, "no usable server", 503);
}

Status UpstreamExchange::connectTo(int host) {
  upstream_.beginAttempt(host);
  started_ms_ = ctx_.loop.nowMs();
  attempt_us_ = ctx_.loop.clock().nowUs();
  const auto& cluster = upstream_.cluster();
  const auto& h = cluster.hosts[static_cast<size_t>(host)];
  acct_.host = &h;
  const auto& sticky = cluster.config.http.sticky;
  if (sticky.mode == config::StickyMode::Cookie) {
    std::string id = stickyId(cluster, static_cast<size_t>(host));
    set_cookie_ = id == upstream_.stickyId() ? std::string() : stickyCookie(sticky, id);
  }
  up_ = frontend_.connections().take(h.state.get());
  while (up_ && up_->tls_context != cluster.tls) {
    discard(std::move(up_), false);  // made under another config's TLS settings
    up_ = frontend_.connections().take(h.state.get());
  }
  if (up_) {
    reused_ = true;
    acct_.connect_us = 0;
    up_->owner = &owner_;
    up_->writable = true;  // an idle connection's send buffer is empty
    up_->readable = false;
    connecting_ = false;
    last_server_ms_ = ctx_.loop.nowMs();
    owner_.onExchangeDeadline();
    return exchange();
  }
  reused_ = false;
  auto fd = net::startConnect(h.config.address.sa(), h.config.address.length);
  if (!fd) {
    int err = errno;
    if (err == EMFILE || err == ENFILE) {
      upstream::onFdExhausted(ctx_, "connect");
    }
    return upstreamFailed(ErrorKind::ConnectFailed, fd.error().message.c_str(),
                          localShortage(err) ? upstream::ErrorSource::Proxy : upstream::ErrorSource::Server);
  }
  net::setNoDelay(fd->get());
  up_ = std::make_unique<UpstreamConn>(ctx_, std::move(*fd), h.state);
  up_->owner = &owner_;
  if (!ctx_.loop.add(up_->transport->fd(), kEvents, up_.get())) {
    return upstreamFailed(ErrorKind::ConnectFailed, "epoll add failed", upstream::ErrorSource::Proxy);
  }
  up_->registered = true;
  connecting_ = true;
  owner_.onExchangeDeadline();
  return status_ = Status::Pending;
}

// The TCP connect is done: with TLS to the pool's servers, the handshake comes next (still
// "connecting": timeouts.connect covers both, and a failure is the server's connect failure).
Status UpstreamExchange::onTcpConnected() {
  const auto& cluster = upstream_.cluster();
  if (!cluster.tls) {
    return onConnected();
  }
  const upstream::Host& h = *upstream_.currentHost();
  up_->tls = cluster.tls->connect(up_->raw.fd(), h.config, frontend_.connections().sessionSlot(h.state),
                                  &cluster.pool_state->traffic->worker(ctx_.worker_index));
  if (!up_->tls) {
    return upstreamFailed(ErrorKind::ConnectFailed, "cannot make a TLS connection (memory)",
                          upstream::ErrorSource::Proxy);
  }
  up_->transport = up_->tls.get();
  up_->tls_context = cluster.tls;
  handshaking_ = true;
  return handshake();
}

Status UpstreamExchange::handshake() {
  switch (up_->tls->handshake()) {
    case net::HandshakeStatus::Done:
      handshaking_ = false;
      return onConnected();
    case net::HandshakeStatus::WantRead:
    case net::HandshakeStatus::WantWrite:
      return status_ = Status::Pending;  // both edges are watched
    case net::HandshakeStatus::Failed:
      break;
  }
  handshaking_ = false;
  std::string why = "TLS handshake: " + up_->tls->failure();
  return upstreamFailed(ErrorKind::ConnectFailed, why.c_str());
}

Status UpstreamExchange::onConnected() {
  acct_.connect_us = static_cast<int64_t>(ctx_.loop.clock().nowUs() - attempt_us_);
  if (auto* hs = hostStats()) {
    hs->connections.add();
  }
  connecting_ = false;
  last_server_ms_ = ctx_.loop.nowMs();
  owner_.onExchangeDeadline();
  return exchange();
}

Status UpstreamExchange::onServerEvents(uint32_t events) {
  if (!up_) {
    return status_;
  }
  up_->noteReadiness(events);
  if (handshaking_) {
    return handshake();
  }
  if (connecting_) {
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      int err = net::socketError(up_->transport->fd());
      if (err != 0) {
        return upstreamFailed(ErrorKind::ConnectFailed, std::strerror(err));
      }
      return onTcpConnected();
    }
    return status_ = Status::Pending;
  }
  return exchange();
}

Status UpstreamExchange::pump() {
  if (connecting_ || !up_) {
    return status_;
  }
  return exchange();
}

// --- the exchange ---

Status UpstreamExchange::exchange() {
  status_ = Status::Pending;
  if (!sendRequest() || !receiveResponse()) {
    return status_;
  }
  if (stream_.responseStarted() && resp_body_.finished()) {
    bool failed = false;
    if (sink_->flushResponse(failed)) {
      return status_ = Status::Done;
    }
    if (failed) {
      return fail(Failure::End::Stream, "client write failed");
    }
  }
  return status_ = Status::Pending;
}

bool UpstreamExchange::sendRequest() {
  uint64_t now = ctx_.loop.nowMs();
  while (head_sent_ < head_.size()) {
    if (!up_->writable) {
      return true;
    }
    // With the body bytes already here, when they are valid, in the same write.
    std::span<const uint8_t> body;
    if (stream_.requestDone() || source_->requestBody(body, false) != RequestBodySource::State::Ready) {
      body = {};
    }
    size_t head = head_.size() - head_sent_;
    auto r = up_->transport->write2(reinterpret_cast<const uint8_t*>(head_.data()) + head_sent_, head, body.data(),
                                    body.size());
    if (r.status == net::IoStatus::Ok) {
      if (auto* hs = hostStats()) hs->bytes_out.add(r.bytes);
      size_t fromHead = std::min(head, r.bytes);
      head_sent_ += fromHead;
      if (r.bytes > fromHead) {
        source_->requestBodySent(r.bytes - fromHead);
        body_sent_ += r.bytes - fromHead;
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
  while (!stream_.requestDone()) {
    std::span<const uint8_t> body;
    auto state = source_->requestBody(body, true);
    if (state == RequestBodySource::State::Failed) {
      fail(Failure::End::Stream, "request body");
      return false;
    }
    if (state == RequestBodySource::State::Waiting) {
      return true;
    }
    if (state == RequestBodySource::State::Complete) {
      stream_.requestEnd();
      break;
    }
    if (!up_->writable) {
      return true;
    }
    auto r = up_->transport->write(body.data(), body.size());
    if (r.status == net::IoStatus::Ok) {
      if (auto* hs = hostStats()) hs->bytes_out.add(r.bytes);
      source_->requestBodySent(r.bytes);
      body_sent_ += r.bytes;
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
  if (sent_ms_ == 0) {
    sent_ms_ = now;
    sent_us_ = ctx_.loop.clock().nowUs();
    owner_.onExchangeDeadline();
  }
  return true;
}

// Reads what the server sent. False when the exchange ended (status_); otherwise up_->readable
// says whether more may come without a new edge.
bool UpstreamExchange::readServer(size_t capacity, bool headPending) {
  auto room = up_->in.room(capacity);
  if (room.empty()) {
    if (headPending) {
      upstreamFailed(ErrorKind::BadResponse, "response head too large");
    } else {
      // Only a trailer section stays buffered; its limit is below the buffer's.
      log::warn("malformed response body", {{"pool", upstream_.cluster().config.name}, {"reason", "trailers too large"}});
      recordOutcome(true);
      fail(Failure::End::Close, "malformed response body");
    }
    return false;
  }
  auto r = up_->transport->read(room.data(), room.size());
  if (r.status == net::IoStatus::Ok) {
    if (auto* hs = hostStats()) hs->bytes_in.add(r.bytes);
    up_->in.commit(r.bytes);
    last_server_ms_ = ctx_.loop.nowMs();
    up_->readable = up_->readable && (r.bytes == room.size() || up_->hup || !up_->transport->shortReadMeansEmpty() ||
                                      up_->transport->hasBufferedInput());
    return true;
  }
  if (r.status == net::IoStatus::WouldBlock) {
    up_->readable = false;
    return true;
  }
  if (headPending) {
    if (r.status == net::IoStatus::Error && up_->tls) {
      // e.g. a TLS 1.3 server refusing our client certificate after its handshake ended
      std::string why = "server failed before responding: TLS: " + up_->tls->failure();
      upstreamFailed(ErrorKind::Reset, why.c_str());
      return false;
    }
    upstreamFailed(ErrorKind::Reset, r.status == net::IoStatus::Eof ? "server closed before responding"
                                                                    : "server reset before responding");
    return false;
  }
  if (r.status == net::IoStatus::Eof && resp_body_.untilClose()) {
    resp_body_.onEof();
    resp_keepalive_ = false;
    up_->readable = false;
    return true;
  }
  log::warn("server closed in the middle of a response",
            {{"pool", upstream_.cluster().config.name}, {"server", upstream_.currentHost()->config.address.text}});
  recordOutcome(true);
  fail(Failure::End::Close, "server closed mid-response");
  return false;
}

bool UpstreamExchange::receiveResponse() {
  for (;;) {
    bool failed = false;
    if (!stream_.responseStarted()) {
      // What the sink holds (an interim head) goes before more is read.
      if (!sink_->flushResponse(failed)) {
        if (failed) {
          fail(Failure::End::Stream, "client write failed");
          return false;
        }
        return true;
      }
      if (!up_->in.empty()) {
        ParseResult r = resp_parser_->feed(up_->in.view());
        if (r.status == ParseStatus::Error) {
          upstreamFailed(ErrorKind::BadResponse, r.error.reason.data());
          return false;
        }
        if (r.status == ParseStatus::Done) {
          if (!onResponseHead(r.consumed)) {
            return false;
          }
          continue;
        }
      }
      if (!up_->readable) {
        return true;
      }
      if (!readServer(kHeadCapacity, true)) {
        return false;
      }
      if (!up_->readable && up_->in.empty()) {
        return true;
      }
      continue;
    }
    if (!resp_body_.scan(up_->in.view())) {
      log::warn("malformed response body",
                {{"pool", upstream_.cluster().config.name}, {"reason", resp_body_.error().reason}});
      recordOutcome(true);
      fail(Failure::End::Close, "malformed response body");
      return false;
    }
    size_t ready = resp_body_.ready();
    if (ready > 0) {
      auto taken = sink_->onResponseData(up_->in.view().substr(0, ready));
      if (taken.failed) {
        fail(Failure::End::Stream, "client write failed");
        return false;
      }
      up_->in.consume(taken.bytes);
      resp_body_.forwarded(taken.bytes);
      if (taken.bytes < ready) {
        return true;  // the client is not reading: resumed when it is
      }
      continue;
    }
    if (resp_body_.complete()) {
      return true;
    }
    // The head alone (or the body so far) goes before more is read: one buffer in flight.
    if (!sink_->flushResponse(failed)) {
      if (failed) {
        fail(Failure::End::Stream, "client write failed");
        return false;
      }
      return true;
    }
    if (!up_->readable) {
      return true;
    }
    if (!readServer(core::Buffer::kCapacity, false)) {
      return false;
    }
  }
}

bool UpstreamExchange::onResponseHead(size_t headLength) {
  const ResponseHead& h = resp_parser_->head();
  if (h.status < 200 && h.status != 101) {
    sink_->onInterimHead(h);  // 100 Continue, 103 Early Hints
    up_->in.consume(headLength);
    resp_parser_->reset(ResponseContext::forMethod(params_.method));
    return true;
  }
  {
    // Every final answer a server gives is counted for it, retried or not.
    uint64_t now = ctx_.loop.clock().nowUs();
    acct_.response_us = static_cast<int64_t>(now - (sent_us_ ? sent_us_ : attempt_us_));
    if (auto* hs = hostStats()) {
      hs->statuses.add(h.status);
      hs->response_time.observe(static_cast<uint64_t>(acct_.response_us));
    }
  }
  if (h.status == 101) {
    if (!params_.upgrade) {
      upstreamFailed(ErrorKind::BadResponse, "101 without an upgrade request");
      return false;
    }
    stream_.responseHead(101, false);
    sink_->onResponseHead(h, {});
    up_->in.consume(headLength);
    recordOutcome(false);
    releaseSlots();
    status_ = Status::Upgraded;
    return false;
  }
  if ((h.status == 502 || h.status == 503 || h.status == 504) &&
      retryDecision(h.status == 502   ? ErrorKind::Status502
                    : h.status == 503 ? ErrorKind::Status503
                                      : ErrorKind::Status504) == upstream::RetryDecision::Retry) {
    recordOutcome(true);
    ++acct_.retries;
    upstream_.cluster().pool_state->traffic->worker(ctx_.worker_index).retries.add();
    upstream_.markTried();
    discard(std::move(up_), true);
    releaseHost();
    restartRequest();
    pickAndConnect();
    return false;
  }
  uint64_t now = ctx_.loop.nowMs();
  // A 5xx is the server's failure, but for 501 and 505: the client asked for what it lacks.
  recordOutcome(h.status >= 500 && h.status != 501 && h.status != 505);
  frontend_.picker(upstream_.clusterPtr())
      .observe(static_cast<size_t>(upstream_.host()), static_cast<double>(now - started_ms_) / 1000.0,
               static_cast<double>(now) / 1000.0);
  stream_.responseHead(h.status, false);
  resp_keepalive_ = h.keepAlive;
  size_t taken = sink_->onResponseHead(h, up_->in.view().substr(headLength));
  if (taken > 0) {
    up_->in.consume(headLength + taken);
    resp_body_.start(BodyFraming{});  // the sink took the whole body with the head
  } else {
    resp_body_.start(h.body);
    up_->in.consume(headLength);
  }
  owner_.onExchangeDeadline();
  return true;
}

void UpstreamExchange::restartRequest() {
  head_sent_ = 0;
  body_sent_ = 0;
  sent_ms_ = 0;
  stream_.restart(params_.body_complete);
  resp_parser_->reset(ResponseContext::forMethod(params_.method));
}

// --- failures and retries ---

upstream::RetryDecision UpstreamExchange::retryDecision(ErrorKind kind) {
  upstream::AttemptState a;
  a.head_sent = head_sent_ > 0;
  a.body_sent = body_sent_ > 0;
  a.response_started = stream_.responseStarted();
  a.idempotent = params_.idempotent;
  a.reused_idle = reused_;
  a.nothing_read = up_ && up_->in.empty();
  return upstream_.decideRetry(kind, a, frontend_.retryBudget(upstream_.cluster()), ctx_.loop.nowMs());
}

Status UpstreamExchange::upstreamFailed(ErrorKind failure, const char* why, upstream::ErrorSource source) {
  const auto& cluster = upstream_.cluster();
  const upstream::Host* host = upstream_.currentHost();
  const char* server = host ? host->config.address.text.c_str() : "";
  bool staleReuse = reused_ && failure == ErrorKind::Reset && up_ && up_->in.empty() && !stream_.responseStarted();
  if (!staleReuse) {
    log::warn(source == upstream::ErrorSource::Server ? "server failed" : "could not reach the server",
              {{"pool", cluster.config.name}, {"server", server}, {"error", why}, {"attempt", upstream_.attempts()}});
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
    ++acct_.retries;
    cluster.pool_state->traffic->worker(ctx_.worker_index).retries.add();
  }
  if (decision == upstream::RetryDecision::RetryFree) {
    upstream_.forgiveAttempt();  // not the server's fault: the attempt does not count
  } else {
    upstream_.markTried();
  }
  discard(std::move(up_), true);
  connecting_ = false;
  handshaking_ = false;
  releaseHost();
  if (retry) {
    restartRequest();
    return pickAndConnect();
  }
  if (stream_.responseStarted()) {
    return fail(Failure::End::Close, "server failed mid-response");
  }
  uint16_t status = failure == ErrorKind::ConnectTimeout || failure == ErrorKind::ResponseTimeout ? 504 : 502;
  log::debug("request failed", {{"status", status}, {"attempts", upstream_.attempts()}, {"reused", reused_},
                                {"head_sent", head_sent_}, {"stale", staleReuse}});
  acct_.termination = upstream::terminationOf(failure);
  return fail(Failure::End::Answer, "request failed", status);
}

Status UpstreamExchange::fail(Failure::End end, const char* why, uint16_t status) {
  failure_ = Failure{end, status, why};
  abandon();
  return status_ = Status::Failed;
}

Status UpstreamExchange::timedOut() {
  if (connecting_) {
    return upstreamFailed(ErrorKind::ConnectTimeout, "connect timeout");
  }
  if (!stream_.responseStarted()) {
    return upstreamFailed(ErrorKind::ResponseTimeout, "response timeout");
  }
  recordOutcome(true);
  return fail(Failure::End::Close, "server stalled mid-response");
}

uint64_t UpstreamExchange::deadline(const config::Timeouts& t, bool clientWritable) const {
  if (connecting_) {
    return started_ms_ + static_cast<uint64_t>(t.connect.count());
  }
  if (!up_ || !serverAtFault(clientWritable)) {
    return UINT64_MAX;
  }
  return last_server_ms_ + static_cast<uint64_t>(t.response.count());
}

bool UpstreamExchange::serverAtFault(bool clientWritable) const {
  if (stream_.responseStarted()) {
    return clientWritable;  // else the response waits for the client to read (back-pressure)
  }
  // Before the request is whole, a quiet server is only late when it stopped reading it;
  // otherwise the wait is for the client (request_body timeout).
  return stream_.requestDone() || !up_ || !up_->writable;
}

// --- giving back ---

void UpstreamExchange::finish(bool draining) {
  stream_.responseEnd();
  bool early = !stream_.requestDone();  // the server answered before the request body ended
  releaseSlots();
  releaseServer(resp_keepalive_ && !early && !draining && !ctx_.draining);
}

void UpstreamExchange::abandon() {
  discard(std::move(up_), true);
  connecting_ = false;
  handshaking_ = false;
  releaseSlots();
}

void UpstreamExchange::releaseServer(bool reusable) {
  if (!up_) {
    return;
  }
  const auto& http = upstream_.cluster().config.http;
  ++up_->requests;
  if (reusable && up_->in.empty() && !up_->hup) {
    frontend_.connections().put(std::move(up_), http.idle_connections, static_cast<uint64_t>(http.idle_timeout.count()));
  } else {
    discard(std::move(up_), false);
  }
}

void UpstreamExchange::releaseHost() {
  if (upstream_.releaseHost() && !ctx_.closing_all) {
    owner_.onSlotFreed();  // a request may be waiting for this server's slot
  }
}

void UpstreamExchange::releaseSlots() {
  releaseHost();
  if (upstream_.releasePoolSlot() && !ctx_.closing_all) {
    owner_.onSlotFreed();
  }
}

void UpstreamExchange::recordOutcome(bool failure) {
  if (upstream_.host() < 0) {
    return;
  }
  if (failure) {
    upstream::recordFailure(upstream_.cluster(), static_cast<size_t>(upstream_.host()), ctx_.loop.nowMs());
  } else {
    upstream::recordSuccess(upstream_.cluster(), static_cast<size_t>(upstream_.host()));
  }
}

stats::Traffic* UpstreamExchange::hostStats() {
  const upstream::Host* h = upstream_.currentHost();
  return h ? &h->state->traffic->worker(ctx_.worker_index) : nullptr;
}

bool UpstreamExchange::usesHost(const upstream::HostState* state) const {
  const upstream::Host* h = upstream_.currentHost();
  return h && h->state.get() == state;
}

}  // namespace fulcrum::http
