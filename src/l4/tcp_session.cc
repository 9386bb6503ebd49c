#include "l4/tcp_session.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/time.h"
#include "codec/client_hello.h"
#include "l4/sni_route.h"
#include "l4/tcp_frontend.h"
#include "net/address.h"
#include "net/proxy_protocol.h"
#include "net/socket.h"
#include "tls/client_verify.h"
#include "upstream/outlier.h"
#include "upstream/retry_policy.h"
#include "upstream/take_host.h"

#include <algorithm>

namespace fulcrum::l4 {

namespace {
constexpr uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr size_t kMaxProxyHeader = 16 + 4096;
}  // namespace

TcpSession::TcpSession(WorkerContext& ctx, std::shared_ptr<TcpFrontend> frontend,
                       std::shared_ptr<const ListenerRuntime> rt, core::Fd client, const sockaddr_storage& peer)
    : ctx_(ctx),
      frontend_(std::move(frontend)),
      rt_(std::move(rt)),
      cluster_(rt_->cluster),
      client_(std::move(client)),
      timer_([this] { onTimer(); }),
      resume_([this] { pump(); }),
      up_(ctx.buffers, ctx.pipes),
      down_(ctx.buffers, ctx.pipes),
      src_(peer),
      traffic_(rt_->stats->worker(ctx.worker_index)) {
  link(ctx_);
  start_us_ = ctx_.loop.clock().nowUs();
  traffic_.connections.add();
  traffic_.active.add(1);
}

// Sessions end only through close(), which hands them to deferDelete.
TcpSession::~TcpSession() = default;

void TcpSession::start() {
  last_activity_ms_ = phase_started_ms_ = ctx_.loop.nowMs();
  // Addresses are needed only for PROXY headers and the trusted-front check. An SNI listener's
  // pool is known only after the ClientHello: take them in case it needs them.
  bool sni = !rt_->listener->sni_routes.empty();
  bool proxyHeaders = rt_->listener->accept_proxy || sni ||
                      cluster_->config.send_proxy != config::ProxyProtocolVersion::None;
  if (proxyHeaders || sni || needsClientHash(*cluster_) || rt_->access_log) {
    hash_ = clientHash(reinterpret_cast<const sockaddr*>(&src_));
  }
  if (proxyHeaders) {
    dst_ = net::localAddress(client_.fd());
  }
  if (!ctx_.loop.add(client_.fd(), kEvents, &client_side_)) {
    close("epoll add failed", true);
    return;
  }
  if (rt_->tls) {
    client_tls_ = rt_->tls->accept(client_.fd(), &traffic_);
    if (!client_tls_) {
      log::warn("cannot start a TLS connection (out of memory?)", {{"listener", rt_->listener->name}});
      close("tls setup failed", true);
      return;
    }
  }
  if (rt_->listener->accept_proxy) {
    const auto& trusted = rt_->listener->trusted_proxies;
    if (!trusted.empty()) {
      bool ok = false;
      for (const auto& c : trusted) {
        ok = ok || c.contains(reinterpret_cast<const sockaddr*>(&src_));
      }
      if (!ok) {
        log::warn("PROXY header refused from untrusted peer",
                  {{"listener", rt_->listener->name},
                   {"peer", net::formatAddress(reinterpret_cast<const sockaddr*>(&src_))}});
        close("untrusted proxy", true);
        return;
      }
    }
    phase_ = Phase::Handshake;
    ctx_.loop.timers().schedule(timer_, rt_->config->timeouts.handshake.count());
    return;  // wait for readability
  }
  if (sni || client_tls_) {
    ctx_.loop.timers().schedule(timer_, rt_->config->timeouts.handshake.count());
  }
  afterProxyHeader(false);
}

void TcpSession::afterProxyHeader(bool peerClosed) {
  if (client_tls_) {
    // The handshake timer runs on: it bounds the PROXY header and the handshake together.
    phase_ = Phase::TlsHandshake;
    client_readable_ = client_writable_ = true;  // (edge-triggered: bytes may be queued already)
    tlsHandshake();
    return;
  }
  if (rt_->listener->sni_routes.empty()) {
    connectNext();
    return;
  }
  // The handshake timer runs on: it bounds the PROXY header and the ClientHello together.
  phase_ = Phase::ClientHello;
  readClientHello(peerClosed);  // bytes may be queued already (edge-triggered: no new event)
}

void TcpSession::readClientHello(bool peerClosed) {
  // Peeked, never taken: the ClientHello stays queued on the socket and is relayed untouched,
  // first, when the relay starts. Each peek reads it all again, at most kMaxClientHelloInput.
  uint8_t buf[codec::kMaxClientHelloInput];
  ssize_t n = ::recv(client_.fd(), buf, sizeof buf, MSG_PEEK);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) {
      client_readable_ = false;
      return;
    }
    close("client error during ClientHello", true);
    return;
  }
  if (n == 0) {
    close("client closed before ClientHello", false);
    return;
  }
  auto r = codec::parseClientHello(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
  if (r.status == codec::HelloStatus::NeedMore) {
    if (peerClosed) {
      close("client closed during ClientHello", true);
      return;
    }
    client_readable_ = false;  // wait for more bytes (MSG_PEEK: see readProxyHeader)
    return;
  }
  if (r.status == codec::HelloStatus::Invalid) {
    log::debug("not a TLS ClientHello", {{"listener", rt_->listener->name}, {"reason", r.error}});
    traffic_.sni_refused.add();
    close("bad ClientHello", true);
    return;
  }
  int route = pickSniRoute(rt_->listener->sni_routes, r.hello.server_name);
  if (route >= 0) {
    cluster_ = rt_->sni_clusters[static_cast<size_t>(route)];
  } else if (!cluster_) {
    log::debug("unknown SNI refused", {{"listener", rt_->listener->name}, {"sni", r.hello.server_name}});
    traffic_.sni_refused.add();
    close("unknown SNI", true);
    return;
  }
  client_readable_ = true;  // the ClientHello is still queued
  connectNext();
}

void TcpSession::tlsHandshake() {
  switch (client_tls_->handshake()) {
    case net::HandshakeStatus::Done:
      // The client's first bytes may have come with its last flight: already inside the
      // transport, or on the socket with their edge spent by the handshake's reads.
      client_readable_ = true;
      connectNext();
      return;
    case net::HandshakeStatus::WantRead:
      client_readable_ = false;
      return;
    case net::HandshakeStatus::WantWrite:
      client_writable_ = false;
      return;
    case net::HandshakeStatus::Failed:
      // A refused client certificate is worth an operator's eye; scanners' broken handshakes are not.
      (tls::isClientCertificateRefusal(client_tls_->failure()) ? log::info : log::debug)(
          "handshake failed", {{"listener", rt_->listener->name},
                               {"client", net::formatIp(reinterpret_cast<const sockaddr*>(&src_))},
                               {"reason", client_tls_->failure()}});
      close("handshake failed", true);
      return;
  }
}

void TcpSession::onEvents(int side, uint32_t events) {
  if (phase_ == Phase::Closed) {
    return;
  }
  bool client = side == 0;
  if (!client && side != server_side_) {
    return;  // left over from a previous connect attempt
  }
  bool in = events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
  bool out = events & (EPOLLOUT | EPOLLHUP | EPOLLERR);
  bool hup = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
  if (client) {
    client_readable_ |= in;
    client_writable_ |= out;
    client_hup_ |= hup;
  } else {
    server_readable_ |= in;
    server_writable_ |= out;
    server_hup_ |= hup;
  }
  switch (phase_) {
    case Phase::Handshake:
      if (client && in) {
        readProxyHeader(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR));
      }
      return;
    case Phase::ClientHello:
      if (client && in) {
        readClientHello(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR));
      }
      return;
    case Phase::TlsHandshake:
      if (client && (in || out)) {
        tlsHandshake();
      }
      return;
    case Phase::Connecting:
    case Phase::Queued:
      if (client && (events & (EPOLLHUP | EPOLLERR))) {
        // Gone before we reached a server (a half-close alone is kept and passed on).
        close("client closed before connect", true);
        return;
      }
      if (!client && phase_ == Phase::Connecting && out) {
        onConnectResult(net::socketError(server_.fd()));
      }
      return;
    case Phase::Relaying:
      // A reset is seen only by reading or writing; the direction it arrives on may
      // already be finished, so look for it here.
      if ((events & EPOLLERR) && net::socketError(client ? client_.fd() : server_.fd()) != 0) {
        if (!client) {
          serverFailed();
        }
        close(client ? "client reset" : "server reset", true);
        return;
      }
      pump();
      return;
    case Phase::Closed:
      return;
  }
}

void TcpSession::readProxyHeader(bool peerClosed) {
  uint8_t buf[kMaxProxyHeader];
  ssize_t n = ::recv(client_.fd(), buf, sizeof buf, MSG_PEEK);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) {
      client_readable_ = false;
      return;
    }
    close("client error during PROXY header", true);
    return;
  }
  if (n == 0) {
    close("client closed during PROXY header", false);
    return;
  }
  auto r = net::parseProxyHeader(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
  if (r.status == net::ParseStatus::NeedMore) {
    if (peerClosed) {
      close("client closed during PROXY header", true);
      return;
    }
    // MSG_PEEK leaves the bytes queued: edge-triggered epoll reports again only when
    // more arrive, which is what we wait for.
    client_readable_ = false;
    return;
  }
  if (r.status == net::ParseStatus::Invalid) {
    log::warn("bad PROXY header", {{"listener", rt_->listener->name}, {"reason", r.error}});
    close("bad PROXY header", true);
    return;
  }
  // Take exactly the header off the socket; what follows is the client's payload.
  ::recv(client_.fd(), buf, r.consumed, 0);
  if (r.header.local) {
    proxied_local_ = true;
  } else {
    src_ = r.header.source;
    dst_ = r.header.destination;
    hash_ = clientHash(reinterpret_cast<const sockaddr*>(&src_));  // balance on the real client, not the front proxy
  }
  afterProxyHeader(peerClosed);
}

void TcpSession::connectNext() {
  const auto& cluster = *cluster_;
  const auto& hosts = cluster.hosts;
  if (attempts_ > 0) {
    // A failed connect is the only failure L4 retries: nothing of the stream was sent.
    upstream::AttemptState a;
    a.attempts = attempts_;
    upstream::RetryPolicy policy(config::kRetryConnectFailure, cluster.config.retries);
    if (policy.decide(upstream::classify(upstream::ErrorKind::ConnectFailed, a), a) == upstream::RetryDecision::GiveUp) {
      close("no server could be reached", false);
      return;
    }
  }
  uint64_t now = ctx_.loop.nowMs();
  upstream::ClusterLoad load(cluster, now);
  balance::PickRequest req;
  req.hash = hash_;
  req.now = static_cast<double>(now) / 1000.0;
  auto taken = upstream::takeHost(cluster, frontend_->picker(cluster_), load, req, tried_);
  std::optional<size_t> pick;
  if (taken.host >= 0) {
    pick = static_cast<size_t>(taken.host);
  }
  if (!pick) {
    if (!taken.full) {
      close("no usable server", false);
      return;
    }
    if (phase_ != Phase::Queued) {
      if (!frontend_->queue().enqueue(this, cluster.config.queue_size)) {
        log::debug("queue full", {{"listener", rt_->listener->name}});
        close("queue full", false);
        return;
      }
      phase_ = Phase::Queued;
      queued_us_ = ctx_.loop.clock().nowUs();
      cluster_->pool_state->traffic->worker(ctx_.worker_index).queued.add(1);
      phase_started_ms_ = ctx_.loop.nowMs();
      ctx_.loop.timers().schedule(timer_, rt_->config->timeouts.queue.count());
    }
    return;  // (a waiter that still cannot go keeps its place in the queue)
  }
  host_ = static_cast<int>(*pick);
  ++attempts_;
  if (queued_us_ != 0) {
    cluster_->pool_state->traffic->worker(ctx_.worker_index).queued.add(-1);
    queue_us_ = static_cast<int64_t>(ctx_.loop.clock().nowUs() - queued_us_);
    queued_us_ = 0;
  }
  connect_start_us_ = ctx_.loop.clock().nowUs();
  const auto& host = hosts[*pick];
  auto fd = net::startConnect(host.config.address.sa(), host.config.address.length);
  if (!fd) {
    if (errno == EMFILE || errno == ENFILE) {
      onFdExhausted(ctx_, "connect");
    }
    log::warn("connect failed", {{"pool", cluster.config.name},
                                 {"server", host.config.address.text},
                                 {"error", fd.error().message}});
    host.state->connect_failures.fetch_add(1, std::memory_order_relaxed);
    host.state->traffic->worker(ctx_.worker_index).connect_errors.add();
    upstream::recordFailure(cluster, *pick, ctx_.loop.nowMs());
    markTried(*pick);
    releaseHost();
    connectNext();
    return;
  }
  server_ = net::RawTransport(std::move(*fd));
  server_readable_ = server_writable_ = server_hup_ = false;
  server_side_ = server_side_ == 1 ? 2 : 1;
  if (!ctx_.loop.add(server_.fd(), kEvents, &server_sides_[server_side_ - 1])) {
    markTried(*pick);
    releaseHost();
    server_ = net::RawTransport(core::Fd());
    connectNext();
    return;
  }
  phase_ = Phase::Connecting;
  phase_started_ms_ = ctx_.loop.nowMs();
  ctx_.loop.timers().schedule(timer_, rt_->config->timeouts.connect.count());
}

bool TcpSession::retryFromQueue() {
  if (phase_ != Phase::Queued) {
    return true;
  }
  connectNext();
  return phase_ != Phase::Queued;
}

void TcpSession::onConnectResult(int err) {
  if (err != 0) {
    connectFailed(std::strerror(err));
    return;
  }
  startRelay();
}

void TcpSession::connectFailed(const char* reason, bool timedOut) {
  const auto& host = cluster_->hosts[static_cast<size_t>(host_)];
  log::warn("connect failed", {{"pool", cluster_->config.name},
                               {"server", host.config.address.text},
                               {"error", reason},
                               {"attempt", attempts_}});
  host.state->connect_failures.fetch_add(1, std::memory_order_relaxed);
  auto& ht = host.state->traffic->worker(ctx_.worker_index);
  ht.connect_errors.add();
  if (timedOut) {
    ht.timeouts.add();
  }
  upstream::recordFailure(*cluster_, static_cast<size_t>(host_), ctx_.loop.nowMs());
  markTried(static_cast<size_t>(host_));
  ctx_.loop.remove(server_.fd());
  server_ = net::RawTransport(core::Fd());
  releaseHost();
  connectNext();
}

void TcpSession::startRelay() {
  size_t host = static_cast<size_t>(host_);
  upstream::recordSuccess(*cluster_, host);
  connect_us_ = static_cast<int64_t>(ctx_.loop.clock().nowUs() - connect_start_us_);
  connected_host_ = host_;
  cluster_->hosts[host].state->traffic->worker(ctx_.worker_index).connections.add();
  uint64_t now = ctx_.loop.nowMs();
  // L4's response time is the connect time (least_response_time feeds on it).
  frontend_->picker(cluster_)
      .observe(host, static_cast<double>(now - phase_started_ms_) / 1000.0, static_cast<double>(now) / 1000.0);
  phase_ = Phase::Relaying;
  last_activity_ms_ = ctx_.loop.nowMs();
  ctx_.loop.timers().schedule(timer_, rt_->config->timeouts.idle.count());
  auto mode = cluster_->config.send_proxy;
  if (mode != config::ProxyProtocolVersion::None) {
    auto* s = reinterpret_cast<const sockaddr*>(&src_);
    auto* d = reinterpret_cast<const sockaddr*>(&dst_);
    if (proxied_local_) {
      s = d = nullptr;
    }
    if (mode == config::ProxyProtocolVersion::V1) {
      up_.preload(s ? net::encodeProxyV1(s, d) : std::string("PROXY UNKNOWN\r\n"));
    } else {
      auto v2 = net::encodeProxyV2(s, d);
      up_.preload(std::string_view(reinterpret_cast<const char*>(v2.data()), v2.size()));
    }
  }
  pump();
}

void TcpSession::pump() {
  uint64_t up = 0;
  uint64_t down = 0;
  auto a = up_.run(client(), client_readable_, client_hup_, server_, server_writable_, up);
  if (a == net::Pump::State::Error) {
    if (!up_.errorOnRead()) {
      serverFailed();
    }
    close(up_.errorOnRead() ? "client reset" : "server reset", true);
    return;
  }
  auto b = down_.run(server_, server_readable_, server_hup_, client(), client_writable_, down);
  if (b == net::Pump::State::Error) {
    if (down_.errorOnRead()) {
      serverFailed();
    }
    close(down_.errorOnRead() ? "server reset" : "client reset", true);
    return;
  }
  if (up + down > 0) {
    last_activity_ms_ = ctx_.loop.nowMs();
    bytes_up_ += up;
    bytes_down_ += down;
  }
  if (up_.done() && down_.done()) {
    close("done", false);
    return;
  }
  if ((a == net::Pump::State::Yield || b == net::Pump::State::Yield) && !resume_.armed()) {
    ctx_.loop.timers().schedule(resume_, 0);
  }
}

void TcpSession::onTimer() {
  uint64_t now = ctx_.loop.nowMs();
  switch (phase_) {
    case Phase::Handshake:
      log::warn("PROXY header timeout", {{"listener", rt_->listener->name}});
      close("handshake timeout", true);
      return;
    case Phase::ClientHello:
      log::debug("ClientHello timeout", {{"listener", rt_->listener->name}});
      close("handshake timeout", true);
      return;
    case Phase::TlsHandshake:
      log::debug("handshake timeout", {{"listener", rt_->listener->name}});
      close("handshake timeout", true);
      return;
    case Phase::Queued:
      cluster_->pool_state->traffic->worker(ctx_.worker_index).queue_timeouts.add();
      log::warn("queue timeout: every server is at max_connections",
                {{"listener", rt_->listener->name}, {"pool", cluster_->config.name}});
      close("queue timeout", false);
      return;
    case Phase::Connecting:
      connectFailed("connect timeout", true);
      return;
    case Phase::Relaying: {
      uint64_t idle = static_cast<uint64_t>(rt_->config->timeouts.idle.count());
      uint64_t quiet = now - last_activity_ms_;
      if (quiet >= idle) {
        log::debug("idle timeout", {{"listener", rt_->listener->name}});
        if (host_ >= 0) {
          cluster_->hosts[static_cast<size_t>(host_)].state->traffic->worker(ctx_.worker_index).timeouts.add();
        }
        close("idle timeout", false);
        return;
      }
      ctx_.loop.timers().schedule(timer_, idle - quiet);
      return;
    }
    case Phase::Closed:
      return;
  }
}

void TcpSession::markTried(size_t host) {
  if (tried_.empty()) {
    tried_.assign(cluster_->hosts.size(), false);
  }
  tried_[host] = true;
}

void TcpSession::serverFailed() {
  if (host_ >= 0) {
    upstream::recordFailure(*cluster_, static_cast<size_t>(host_), ctx_.loop.nowMs());
  }
}

bool TcpSession::usesHost(const upstream::HostState* state) const {
  return host_ >= 0 && cluster_->hosts[static_cast<size_t>(host_)].state.get() == state;
}

void TcpSession::releaseHost() {
  if (host_ < 0) {
    return;
  }
  cluster_->hosts[static_cast<size_t>(host_)].release();
  host_ = -1;
  // When the worker is closing everything, waking queued sessions would only open
  // server connections to close them at once.
  if (!ctx_.closing_all) {
    frontend_->queue().onSlotFreed();
  }
}

void TcpSession::account(const char* reason) {
  traffic_.active.add(-1);
  // Bytes still in the pumps' buffers at close were read but never delivered: count
  // what was moved through, from each side's point of view.
  traffic_.bytes_in.add(bytes_up_);
  traffic_.bytes_out.add(bytes_down_);
  const upstream::Host* host =
      connected_host_ >= 0 ? &cluster_->hosts[static_cast<size_t>(connected_host_)] : nullptr;
  if (host) {
    auto& ht = host->state->traffic->worker(ctx_.worker_index);
    ht.bytes_out.add(bytes_up_);
    ht.bytes_in.add(bytes_down_);
  }
  auto* log = rt_->access_log.get();
  if (!log) {
    return;
  }
  std::string client = net::formatIp(reinterpret_cast<const sockaddr*>(&src_));
  upstream::AccessRecord r;
  r.client = client;
  r.listener = rt_->listener->name;
  r.protocol = rt_->listener->protocol == config::Protocol::Udp ? "udp" : "tcp";
  if (cluster_) {
    r.pool = cluster_->config.name;  // (a view: never of a temporary)
  }
  if (host) {
    r.server = host->config.address.text;
  }
  r.termination = reason;
  r.bytes_in = bytes_up_;
  r.bytes_out = bytes_down_;
  r.queue_us = queue_us_;
  r.connect_us = connect_us_;
  r.total_us = static_cast<int64_t>(ctx_.loop.clock().nowUs() - start_us_);
  r.retries = attempts_ > 1 ? attempts_ - 1 : 0;
  log->write(ctx_.worker_index, r);
}

void TcpSession::close(const char* reason, bool reset) {
  if (phase_ == Phase::Closed) {
    return;
  }
  if (phase_ == Phase::Queued) {
    frontend_->queue().dequeue(this);
  }
  if (queued_us_ != 0) {
    cluster_->pool_state->traffic->worker(ctx_.worker_index).queued.add(-1);
    queue_us_ = static_cast<int64_t>(ctx_.loop.clock().nowUs() - queued_us_);
    queued_us_ = 0;
  }
  account(reason);
  phase_ = Phase::Closed;
  log::debug("session closed", {{"reason", reason}});
  ctx_.loop.timers().cancel(timer_);
  ctx_.loop.timers().cancel(resume_);
  up_.releaseAll();
  down_.releaseAll();
  if (reset) {
    net::setLingerZero(client_.fd());
    if (server_.fd() >= 0) {
      net::setLingerZero(server_.fd());
    }
  }
  ctx_.loop.remove(client_.fd());
  if (server_.fd() >= 0) {
    ctx_.loop.remove(server_.fd());
  }
  client_tls_.reset();  // (before its socket is closed)
  client_.ownedFd().reset();
  server_.ownedFd().reset();
  // Unlink before giving the slot back: onSlotFreed may start queued sessions.
  unlink(ctx_);
  releaseHost();
  ctx_.loop.deferDelete(std::unique_ptr<core::DeferredDeletable>(this));
}

}  // namespace fulcrum::l4
