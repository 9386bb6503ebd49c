#pragma once
// TcpSession: one client connection relayed to one server.
//
//   Handshake (PROXY header from a trusted front, optional)
//     -> ClientHello (listeners with sni_routes: peek until the TLS ClientHello is complete,
//        pick the pool by its SNI; handshake timeout for this and the PROXY header together)
//     or TlsHandshake (listeners with tls: the whole handshake before any server is chosen, so a
//        client that fails it, or never finishes it, costs no server a connection; the same
//        handshake timeout from the accept)
//     -> Connecting (non-blocking connect, connect timeout; on failure the next server,
//        at most 1 + retries attempts) [-> Queued while every server is full]
//     -> Relaying (two Pumps; a FIN is passed on per direction; idle timeout)
//     -> closed once both directions are done, or at once on an error (RST passed on).
//
// Lives on one worker; owned by the WorkerContext's session list and deleted on the
// loop turn after close().
#include <netinet/in.h>

#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "l4/context.h"
#include "net/pump.h"
#include "net/transport.h"

namespace fulcrum::l4 {

class TcpFrontend;

class TcpSession final : public upstream::Session {
 public:
  TcpSession(WorkerContext& ctx, std::shared_ptr<TcpFrontend> frontend, std::shared_ptr<const ListenerRuntime> rt,
             core::Fd client, const sockaddr_storage& peer);
  ~TcpSession() override;

  void start();
  // Called by the frontend's queue when a slot may be free. Returns false if the
  // session is still waiting.
  bool retryFromQueue();
  void close(const char* reason, bool reset) override;
  // The server this session holds a slot on, if any.
  bool usesHost(const upstream::HostState* state) const override;

 private:
  enum class Phase { Handshake, ClientHello, TlsHandshake, Connecting, Queued, Relaying, Closed };
  // Registered per fd. Server attempts alternate between two Sides, so an event left in
  // the epoll batch for a previous attempt's (closed) fd is recognised and ignored.
  struct Side : core::IoHandler {
    Side(TcpSession& s, int i) : session(s), id(i) {}
    void onIoEvents(uint32_t events) override { session.onEvents(id, events); }
    TcpSession& session;
    int id;  // 0 = client, 1 or 2 = server attempt parity
  };

  void onEvents(int side, uint32_t events);
  void onTimer();
  void readProxyHeader(bool peerClosed);
  // What follows the (optional) PROXY header: the ClientHello on an SNI listener, else connecting.
  void afterProxyHeader(bool peerClosed);
  // Peeks at the client's bytes; once the ClientHello is complete, picks cluster_ by its SNI and
  // connects, or closes on a bad ClientHello or an SNI no route or default pool takes.
  void readClientHello(bool peerClosed);
  // Advances the TLS handshake as far as the socket allows; connects once it is done.
  void tlsHandshake();
  // What the relay reads from and writes to on the client's side: the TLS transport when the
  // listener terminates TLS, else the socket.
  net::Transport& client() { return client_tls_ ? *client_tls_ : static_cast<net::Transport&>(client_); }
  // Picks a server and starts connecting; returns false when the session was closed or queued.
  void connectNext();
  void onConnectResult(int err);
  void connectFailed(const char* reason, bool timedOut = false);
  void startRelay();
  void pump();
  void releaseHost();
  void serverFailed();
  void markTried(size_t host);
  void account(const char* reason);  // passive health: a reset or error from the server

  WorkerContext& ctx_;
  std::shared_ptr<TcpFrontend> frontend_;
  std::shared_ptr<const ListenerRuntime> rt_;
  // The pool relayed to: the listener's, or the one its SNI routes pick (null until then when the
  // listener has no default pool).
  std::shared_ptr<const upstream::Cluster> cluster_;
  net::RawTransport client_;  // owns the client's fd
  std::unique_ptr<net::Transport> client_tls_;  // over client_'s fd, on a TLS listener
  net::RawTransport server_{core::Fd()};
  Side client_side_{*this, 0};
  Side server_sides_[2] = {{*this, 1}, {*this, 2}};
  int server_side_ = 1;  // the Side of the current server fd
  core::Timer timer_;
  core::Timer resume_;  // a pump yielded: run again on the next loop turn
  Phase phase_ = Phase::Handshake;
  net::Pump up_;    // client -> server
  net::Pump down_;  // server -> client
  bool client_readable_ = false;
  bool client_writable_ = false;
  bool server_readable_ = false;
  bool server_writable_ = false;
  // The peer's FIN or an error was signalled: its pump reads on to EOF (see Pump::run).
  bool client_hup_ = false;
  bool server_hup_ = false;
  int host_ = -1;                // index into rt_->cluster->hosts while holding a slot
  uint32_t attempts_ = 0;
  std::vector<bool> tried_;      // servers whose connect failed; empty until one does
  uint64_t last_activity_ms_ = 0;
  uint64_t phase_started_ms_ = 0;
  sockaddr_storage src_{};       // the client, or what a trusted PROXY header said
  sockaddr_storage dst_{};
  bool proxied_local_ = false;
  // Figures for metrics and the access log.
  stats::Traffic& traffic_;        // the listener's, this worker's
  uint64_t start_us_ = 0;
  uint64_t queued_us_ = 0;         // when it began to wait in the queue (0: not waiting)
  int64_t queue_us_ = -1;
  uint64_t connect_start_us_ = 0;
  int64_t connect_us_ = -1;
  uint64_t bytes_up_ = 0;          // client -> server
  uint64_t bytes_down_ = 0;        // server -> client
  int connected_host_ = -1;        // the server relayed to (kept after its slot is released)
  uint64_t hash_ = 0;            // client address hash, for hash-based algorithms   // PROXY LOCAL/UNKNOWN: no addresses to pass on
};

}  // namespace fulcrum::l4
