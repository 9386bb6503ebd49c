#pragma once
// UpstreamConn: one connection from a worker to a server, and ConnPool: the worker's idle
// keep-alive connections, per server. A connection belongs to one exchange at a time; back in
// the pool it is watched so that a server closing it is noticed and it is dropped, and it
// closes after the pool's idle timeout. An idle connection holds no buffer.
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/io_buffer.h"
#include "core/timer_wheel.h"
#include "net/transport.h"
#include "tls/client_context.h"
#include "tls/tls_transport.h"
#include "upstream/cluster.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

class UpstreamOwner {
 public:
  virtual void onUpstreamEvents(uint32_t events) = 0;

 protected:
  ~UpstreamOwner() = default;
};

class ConnPool;

class UpstreamConn final : public core::IoHandler, public core::DeferredDeletable {
 public:
  UpstreamConn(upstream::WorkerContext& ctx, core::Fd fd, std::shared_ptr<upstream::HostState> host);
  ~UpstreamConn() override;
  UpstreamConn(const UpstreamConn&) = delete;  // `transport` points into the object
  UpstreamConn& operator=(const UpstreamConn&) = delete;

  void onIoEvents(uint32_t events) override;
  // Records the event loop's readiness bits (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR)
  // in readable / writable / hup, for its owner (an exchange, a tunnel).
  void noteReadiness(uint32_t events);
  // Takes it off the loop and closes the socket (reset=true: RST); deletion is the caller's.
  void shut(bool reset);

  upstream::WorkerContext& ctx;
  net::RawTransport raw;                  // the socket ...
  net::Transport* transport = &raw;       // ... used only through the interface (TLS to servers: another)
  core::IoBuffer in;
  std::shared_ptr<upstream::HostState> host;
  // TLS to the server (pools[].tls): `transport` points at it once made (after the TCP
  // connect); declared after `host`, so it goes before the slot its session is kept in can.
  std::unique_ptr<tls::TlsTransport> tls;
  // The context it was made with (null: plain): a pooled connection is reused only by a
  // cluster with the same one, so a reload that adds TLS or changes its CA never reuses a
  // connection made under the old settings. Held, so the identity cannot be a new context's.
  std::shared_ptr<const tls::ClientContext> tls_context;
  UpstreamOwner* owner = nullptr;  // the exchange using it; null while pooled
  ConnPool* pool = nullptr;        // set while pooled
  core::Timer idle_timer;
  bool readable = false;
  bool writable = false;
  bool hup = false;                // the server's FIN (or an error) was signalled
  bool registered = false;
  uint32_t requests = 0;           // requests sent on it
};

class ConnPool {
 public:
  explicit ConnPool(upstream::WorkerContext& ctx) : ctx_(ctx) {}
  ~ConnPool() { closeAll(); }
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  // The most recently used idle connection to this server, or null.
  std::unique_ptr<UpstreamConn> take(const upstream::HostState* host);
  // Keeps it for reuse, or closes it when the server already has maxIdle idle ones.
  void put(std::unique_ptr<UpstreamConn> conn, uint32_t maxIdle, uint64_t idleTimeoutMs);
  // An idle connection was closed by its server or timed out.
  void drop(UpstreamConn* conn);
  void closeAll();
  size_t idleCount() const;

  // Where this worker keeps the TLS session `host` last gave it (TLS to servers): this
  // worker's alone, so resuming takes no lock. Stable until the pool is destroyed.
  tls::SessionSlot* sessionSlot(const std::shared_ptr<upstream::HostState>& host);

 private:
  struct Sessions {
    std::weak_ptr<upstream::HostState> host;  // a freed host's address may come back for another
    std::unique_ptr<tls::SessionSlot> slot;
  };
  upstream::WorkerContext& ctx_;
  std::unordered_map<const upstream::HostState*, std::vector<std::unique_ptr<UpstreamConn>>> idle_;
  std::unordered_map<const upstream::HostState*, Sessions> sessions_;
};

// Closes and deletes a connection on the next loop turn (events for it may still be queued).
void discard(std::unique_ptr<UpstreamConn> conn, bool reset);

}  // namespace fulcrum::http
