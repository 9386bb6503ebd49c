#pragma once
// TlsTransport: a socket's bytes through OpenSSL, either side of the handshake (a listener's
// accepted connections; a pool's connections to its servers). Implements net::Transport, so codecs and sessions use it
// as they use a plain socket: reads and writes move plaintext, the handshake advances on the
// readiness it asks for, records decrypted past what a read asked for are announced by
// hasBufferedInput() (no edge will), and shutdownWrite() sends close_notify before the FIN.
// The socket is borrowed: its owner (ClientConnection's RawTransport) closes it.
#include <memory>
//
// Dynamic record sizing: a fresh connection, and one that sent nothing for a second, writes
// small records (kSmallRecord bytes of plaintext, one TCP segment each) until kSmallWindow
// bytes have gone, so the client can decrypt the start of a response before the rest of a
// 16 KiB record arrives while the congestion window is small; then full 16 KiB records (the
// fewest records, syscalls and tags per byte) for bulk. A write that would block freezes the
// record size until it is retried, so the retry asks OpenSSL for the same record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "net/tls_peer.h"
#include "core/clock.h"
#include "net/transport.h"
#include "stats/counters.h"

typedef struct ssl_st SSL;

namespace fulcrum::tls {

class TlsTransport final : public net::Transport {
 public:
  // Plaintext per record at the start of a response and after idle: fits one 1500-byte-MTU
  // segment with IPv6 (40), TCP with timestamps (32) and the TLS 1.3 record's 22 bytes.
  static constexpr size_t kSmallRecord = 1400;
  // Small records until this many bytes are sent: about an initial congestion window (10 segments).
  static constexpr size_t kSmallWindow = 14 * 1024;
  // Plaintext of a full record (TLS's maximum).
  static constexpr size_t kFullRecord = 16 * 1024;
  // Nothing written for this long: back to small records (the congestion window may be small again).
  static constexpr uint64_t kIdleResetUs = 1'000'000;

  // Takes ownership of `ssl`, already bound to `fd` and in accept (or connect) state.
  // `stats`: where the handshake's outcome is counted (the listener's, this worker's), or null.
  // `clock`: the worker loop's (handshake time, idle for record sizing); null: no handshake
  // time, and small records only at the connection's start.
  TlsTransport(SSL* ssl, int fd, stats::Traffic* stats = nullptr, const core::Clock* clock = nullptr);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  net::IoResult read(uint8_t* data, size_t len) override;
  // A write that would block must be retried with the same bytes first (more may follow them):
  // OpenSSL keeps the record it built. Every caller keeps unsent bytes until they are sent.
  net::IoResult write(const uint8_t* data, size_t len) override;
  // The whole of a and b fits a record: one record (one syscall). Else a, with as much of b as
  // makes the rest of b whole records (so b is not copied), then b.
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
  bool resumed() const;

  // Client side: the server name (or IP address) its certificate is checked for, named by
  // failure() when the check fails.
  void setPeerName(std::string name) { peer_name_ = std::move(name); }
  // Client side: the handshake failed because the server's certificate was refused (failure()
  // says why: "certificate has expired", "hostname mismatch", ...).
  bool certificateRejected() const { return certificate_rejected_; }
  // After the handshake: the client's verified certificate (mTLS), null when it sent none.
  const net::ClientCertificate* clientCertificate() const { return client_cert_.get(); }
  // Plaintext the next record may hold (kSmallRecord or kFullRecord); for tests.
  size_t recordLimit();

 private:
  net::IoResult fromError(int ret, bool reading);
  net::IoResult writeRecord(const uint8_t* data, size_t len);

  SSL* ssl_;
  int fd_;
  stats::Traffic* stats_;
  const core::Clock* clock_;
  uint64_t started_us_ = 0;   // the accept (handshake time)
  uint64_t last_write_us_ = 0;
  size_t small_left_ = kSmallWindow;  // bytes still to go in small records
  bool write_pending_ = false;        // the last write would block: its record size holds
  bool shut_ = false;
  bool ended_ = false;  // the handshake finished or failed (else the destructor counts it abandoned)
  bool certificate_rejected_ = false;
  std::string failure_;
  std::string peer_name_;
  std::unique_ptr<net::ClientCertificate> client_cert_;  // (allocated only when there is one)
};

}  // namespace fulcrum::tls
