#pragma once
// ClientContext: how a pool's HTTP connections speak TLS to its servers, built from
// pools[].tls once per config on the control thread and shared read-only by the workers (an
// SSL_CTX is safe to make connections from concurrently).
//
// The server's certificate is checked against the pool's CA bundle (or the system store) and
// the server's name (server_name, else the host of the server's address when it is a name,
// else its IP address), unless verify is off; the name goes as SNI. A client certificate is
// offered when configured. Sessions are resumed per server: each worker keeps the last session
// a server gave it in a SessionSlot of its own, so nothing is shared or locked per request.
#include <cstdint>
#include <memory>
#include <string>

#include "config/model.h"
#include "stats/counters.h"
#include "tls/tls_transport.h"

typedef struct ssl_session_st SSL_SESSION;

namespace fulcrum::tls {

struct ClientContextData;  // OpenSSL objects (client_context.cc)

// The last resumable session one server gave one worker. Owned by that worker (its
// connections' pool) and touched only on its thread; it must outlive the connections that
// fill it.
class SessionSlot {
 public:
  SessionSlot() = default;
  ~SessionSlot();
  SessionSlot(const SessionSlot&) = delete;
  SessionSlot& operator=(const SessionSlot&) = delete;
  bool empty() const { return session_ == nullptr; }

 private:
  friend class ClientContext;
  friend struct ClientContextData;
  void reset(SSL_SESSION* session);
  SSL_SESSION* session_ = nullptr;
  uint64_t context_id_ = 0;  // the context it was made with (a rebuilt context starts afresh)
};

class ClientContext {
 public:
  // Loads the CA bundle and the client certificate and builds the context; null with `error`
  // set ("file:line:column: pools[i].tls...: reason") when something cannot be used.
  static std::shared_ptr<const ClientContext> build(const config::PoolTls& tls, int64_t nowSeconds,
                                                    std::string& error);
  ~ClientContext();

  // A TLS transport in connect state over a connected socket (the fd stays owned by the
  // caller), checking `server`'s name (nameFor). `slot`: where this server's session is kept
  // and offered from (null: no reuse). `stats`: where its handshake is counted (the pool's,
  // this worker's), or null. Null when OpenSSL cannot make the connection object (memory).
  std::unique_ptr<TlsTransport> connect(int fd, const config::Server& server, SessionSlot* slot,
                                        stats::Traffic* stats) const;

  // The name checked for `server` and sent as SNI: server_name, else the host of its
  // address. An IP address (either way) is checked against the certificate's IP addresses,
  // and no SNI is sent.
  std::string nameFor(const config::Server& server, bool& isIp) const;
  bool verifies() const { return verify_; }

 private:
  ClientContext();
  std::unique_ptr<ClientContextData> data_;
  std::string server_name_;
  bool verify_ = true;
  bool reuse_ = true;
  uint64_t id_ = 0;
  friend struct ClientContextData;
};

// The host part of an address as written ("app.internal" of "app.internal:8443", "::1" of
// "[::1]:80"), and whether it is an IP address.
std::string hostOfAddress(const std::string& addressText, bool& isIp);

}  // namespace fulcrum::tls
