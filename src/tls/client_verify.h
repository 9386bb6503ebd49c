#pragma once
// Client certificates (mTLS) on a TLS listener: the CA bundle and CRL they are verified
// against, loaded once per listener context and shared by its SNI groups' SSL_CTXs; what a
// verified certificate says (for the identity headers and routes); and why one was refused
// (counted by reason). Kept apart from server_context so the listener's context only asks
// for it.
#include <memory>
#include <string>

#include "config/model.h"
#include "net/tls_peer.h"
#include "stats/counters.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace fulcrum::tls {

struct ClientVerifyData;  // OpenSSL objects (client_verify.cc)

class ClientVerify {
 public:
  // Reads the CA bundle (and CRL); null with `error` set ("file:line:column: path: FILE: reason").
  static std::unique_ptr<ClientVerify> load(const config::ClientCertificates& config, std::string& error);
  ~ClientVerify();

  // Makes `ctx` ask for a certificate (naming the CAs it accepts) and verify it; a required one
  // must be sent. Every SNI group's context gets the same.
  bool apply(SSL_CTX* ctx, std::string& error) const;

 private:
  ClientVerify();
  std::unique_ptr<ClientVerifyData> data_;
  bool required_ = false;
};

// After a handshake that succeeded: the client's verified certificate, or null when it sent none.
std::unique_ptr<net::ClientCertificate> readClientCertificate(SSL* ssl);

// After a server's handshake failed with OpenSSL error `code` (its first): when the client's
// certificate was the cause, counts it by reason in `stats` (may be null) and replaces
// `failure` with "client certificate refused: REASON (detail)". On a client's side, a server
// certificate that did not verify is named with the reason.
void noteClientCertificateFailure(SSL* ssl, unsigned long code, stats::Traffic* stats, std::string& failure);

// Whether a transport's failure() says a client certificate was refused (sessions log those
// at info: an operator wants to see them, unlike scanners' broken handshakes).
bool isClientCertificateRefusal(const std::string& failure);

}  // namespace fulcrum::tls
