#pragma once
// ServerContext: what a TLS listener accepts connections with, built from its config once per
// snapshot on the control thread and shared read-only by the workers (an SSL_CTX is safe to
// make connections from concurrently).
//
// Certificates are grouped by the names they serve (from their subjectAltName): one SSL_CTX
// per group, holding an ECDSA and an RSA certificate side by side when both are configured
// (OpenSSL picks the one the client's signature algorithms allow). The client's SNI picks the
// group — an exact name first, then a `*.` wildcard — else the first group (the default), or
// the handshake is refused with unrecognized_name when the listener says so. A client sending
// no SNI (an IP address) gets the default.
//
// ACME: certificates obtained for `tls.acme` names come as `extra` files and join the groups
// like configured ones; a listener with acme names and no certificate yet has a context that
// can serve nothing but TLS-ALPN-01 challenges. A ClientHello offering ALPN "acme-tls/1" for a
// name in `challenges` gets that name's challenge certificate and acme-tls/1, and nothing
// else does; for a name with no pending challenge it is refused.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/clock.h"
#include "net/transport.h"
#include "stats/counters.h"
#include "tls/acme_challenges.h"
#include "tls/certificate.h"
#include "tls/ticket_keys.h"

namespace fulcrum::tls {

struct ServerContextData;  // OpenSSL objects (server_context.cc)

class ServerContext {
 public:
  // Loads the certificates and builds the contexts; null with `error` set (naming the config
  // entry and the file) when a certificate, an OCSP response or the ticket key file cannot serve.
  struct BuildExtras {
    // The listener's session ticket keys, kept across rebuilds by the caller (null: new ones
    // from tls.session_tickets, read from its key file if any).
    std::shared_ptr<TicketKeys> ticket_keys;
    // Certificates obtained by ACME (already known to load), served beside tls.certificates.
    std::vector<config::TlsCertificateFiles> obtained;
    // The pending TLS-ALPN-01 challenges (null: none are answered).
    std::shared_ptr<const AcmeChallenges> challenges;
  };
  static std::shared_ptr<const ServerContext> build(const config::ListenerTls& tls, int64_t nowSeconds,
                                                    std::string& error, const BuildExtras& extras = {});
  ~ServerContext();

  // A TLS transport over an accepted socket (the fd stays owned by the caller); null when
  // OpenSSL cannot make the connection object (memory).
  // `stats`: where its handshake is counted (null: nowhere); `clock`: the worker loop's, for
  // the handshake time and record sizing (tls_transport.h).
  std::unique_ptr<net::Transport> accept(int fd, stats::Traffic* stats = nullptr,
                                         const core::Clock* clock = nullptr) const;

  const std::vector<std::shared_ptr<const Certificate>>& certificates() const { return certificates_; }
  // The group index serving `name` (lower case), or -1 (unknown: the default or a refusal).
  int groupFor(const std::string& name) const;
  // Control thread, every second or so: OCSP responses whose nextUpdate passed stop being
  // stapled; returns their files (each once, to log).
  std::vector<std::string> expireOcsp(int64_t nowSeconds) const;

 private:
  ServerContext();
  std::unique_ptr<ServerContextData> data_;
  std::vector<std::shared_ptr<const Certificate>> certificates_;
  bool refuse_unknown_ = false;
  std::shared_ptr<const AcmeChallenges> challenges_;
  friend struct ServerContextData;
};

}  // namespace fulcrum::tls
