#pragma once
// AdminListener: the admin API's own HTTP listener, served by the proxy's HTTP stack
// (HttpFrontend and HttpSession: accept, head parsing, timeouts, closing, writing answers)
// on the control thread's loop, never on a worker's, so nothing done here can stall traffic.
// Its filter chain is one terminal filter, AdminHandler (admin/handler.h), which calls Api.
// One request per connection (the handler closes after each answer), bodies up to 1 MiB,
// by Content-Length or chunked.
//
// Probes (/livez, /readyz) must answer however many idle connections are held open: a
// connection whose request head is not complete gets only Limits::head_timeout_ms (from its
// first byte, or from accept when it sends none), and the listener's ConnectionGuard caps
// such connections per client address and in all, a newcomer over a cap closing the oldest
// one (of that client, else of anyone) instead of being refused.
#include <cstdint>
#include <memory>

#include "admin/handler.h"
#include "common/result.h"
#include "config/model.h"
#include "core/event_loop.h"
#include "core/fd.h"
#include "http/connection_guard.h"
#include "http/frontend.h"
#include "tls/server_context.h"
#include "upstream/worker_context.h"

namespace fulcrum::admin {

class AdminListener {
 public:
  struct Limits {
    uint64_t head_timeout_ms = 2000;  // for a complete request head
    size_t max_per_client = 16;       // connections per client IP address
    size_t max_connections = 1024;    // in all (an fd each; the process has more to do)
  };
  // `api` outlives the listener.
  AdminListener(core::EventLoop& loop, Api& api, Limits limits);
  // stop(); when that closed connections, runs one turn of the loop so their sessions are
  // deleted while what they refer to (ctx_, the frontend) still exists. The server calls
  // stop() from its loop before it ends, so that turn is never needed there.
  ~AdminListener();
  AdminListener(const AdminListener&) = delete;
  AdminListener& operator=(const AdminListener&) = delete;

  // Binds (no SO_REUSEPORT: a second process must fail, not share the port) and listens;
  // with `inherited` (a predecessor's admin socket at this address), takes that one instead.
  // `tls`: HTTPS with these certificates (admin.tls), null: plain HTTP.
  Status start(const config::SocketAddress& bind, core::Fd inherited = {},
               std::shared_ptr<const tls::ServerContext> tls = nullptr);
  // Stops accepting; open connections are answered (an upgrade: the successor accepts now).
  void stopAccepting();
  // The listening socket, for a successor; -1 before start().
  int listenFd() const { return listen_fd_ ? listen_fd_.get() : -1; }
  // Stops accepting and closes the open connections (the server stops).
  void stop();
  uint16_t port() const { return port_; }
  // Connections refused, shed and timed out before their head (zero before start()).
  http::ConnectionGuard::Stats stats() const { return guard_ ? guard_->stats() : http::ConnectionGuard::Stats{}; }
  size_t open() const { return ctx_.session_count; }

 private:
  core::EventLoop& loop_;
  Limits limits_;
  AdminHandler handler_;
  // The control thread's stand-in for a worker: what HttpSession borrows (buffers, the
  // session list) without taking any worker's.
  upstream::WorkerContext ctx_;
  std::shared_ptr<config::Config> config_;  // timeouts and parser limits of the one listener
  core::Fd listen_fd_;
  std::shared_ptr<http::HttpFrontend> frontend_;
  http::ConnectionGuard* guard_ = nullptr;  // the frontend's
  uint16_t port_ = 0;
};

}  // namespace fulcrum::admin
