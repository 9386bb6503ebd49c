#pragma once
// TlsTransport: a socket's bytes through OpenSSL (a server's side of the handshake today; a
// client's for TLS to servers later). Implements net::Transport, so codecs and sessions use it
// as they use a plain socket: reads and writes move plaintext, the handshake advances on the
// readiness it asks for, records decrypted past what a read asked for are announced by
// hasBufferedInput() (no edge will), and shutdownWrite() sends close_notify before the FIN.
// The socket is borrowed: its owner (ClientConnection's RawTransport) closes it.
#include <string>

#include "net/transport.h"
#include "stats/counters.h"

typedef struct ssl_st SSL;

namespace fulcrum::tls {

class TlsTransport final : public net::Transport {
 public:
  // Takes ownership of `ssl`, already bound to `fd` and in accept (or connect) state.
  // `stats`: where the handshake's outcome is counted (the listener's, this worker's), or null.
  TlsTransport(SSL* ssl, int fd, stats::Traffic* stats = nullptr);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  net::IoResult read(uint8_t* data, size_t len) override;
  // A write that would block must be retried with the same bytes first (more may follow them):
  // OpenSSL keeps the record it built. Every caller keeps unsent bytes until they are sent.
  net::IoResult write(const uint8_t* data, size_t len) override;
  // Small enough, a and b go in one record (one syscall); else a, then as much of b as goes.
  net::IoResult write2(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) override;
  void shutdownWrite() override;
  bool spliceable() const override { return false; }
  int fd() const override { return fd_; }
  net::HandshakeStatus handshake() override;
  bool hasBufferedInput() const override;
  bool shortReadMeansEmpty() const override { return false; }

  // Why the handshake or the last read or write failed (OpenSSL's reason), for the log.
  const std::string& failure() const override { return failure_; }
  // After the handshake: the negotiated version ("TLSv1.3"), cipher and ALPN protocol.
  std::string version() const;
  std::string cipher() const;
  std::string alpn() const override;

 private:
  net::IoResult fromError(int ret, bool reading);

  SSL* ssl_;
  int fd_;
  stats::Traffic* stats_;
  bool shut_ = false;
  bool ended_ = false;  // the handshake finished or failed (else the destructor counts it abandoned)
  std::string failure_;
};

}  // namespace fulcrum::tls
