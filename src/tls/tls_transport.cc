#include "tls/tls_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tls/client_verify.h"
#include "tls/openssl_util.h"

namespace fulcrum::tls {

TlsTransport::TlsTransport(SSL* ssl, int fd, stats::Traffic* stats, const core::Clock* clock)
    : ssl_(ssl), fd_(fd), stats_(stats), clock_(clock) {
  if (clock_) {
    started_us_ = last_write_us_ = clock_->nowUs();
  }
}

TlsTransport::~TlsTransport() {
  if (!ended_ && stats_) {
    stats_->tls_abandoned.add();
  }
  if (SSL_is_server(ssl_) == 0 && SSL_is_init_finished(ssl_)) {
    // A connection to a server mostly ends without a close_notify (an idle one closed, a
    // response read to its end): its session stays resumable. (A fatal TLS error has already
    // made it unresumable.)
    SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_SENT_SHUTDOWN);
  }
  SSL_free(ssl_);
}

net::IoResult TlsTransport::fromError(int ret, bool reading) {
  int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return {net::IoStatus::WouldBlock};
    case SSL_ERROR_ZERO_RETURN:
      return {net::IoStatus::Eof};
    case SSL_ERROR_SYSCALL: {
      int e = errno;
      ERR_clear_error();
      if (e == 0 && reading) {
        return {net::IoStatus::Eof};
      }
      failure_ = e ? std::strerror(e) : "connection closed";
      return {net::IoStatus::Error, 0, e ? e : ECONNRESET};
    }
    default:
      failure_ = drainErrors("TLS error");
      return {net::IoStatus::Error, 0, EPROTO};
  }
}

net::IoResult TlsTransport::read(uint8_t* data, size_t len) {
  size_t got = 0;
  ERR_clear_error();
  int ret = SSL_read_ex(ssl_, data, len, &got);
  if (ret == 1) {
    return {net::IoStatus::Ok, got};
  }
  return fromError(ret, true);
}

size_t TlsTransport::recordLimit() {
  if (!write_pending_ && clock_) {
    uint64_t now = clock_->nowUs();
    if (now - last_write_us_ >= kIdleResetUs) {
      small_left_ = kSmallWindow;
    }
    last_write_us_ = now;
  }
  return small_left_ > 0 ? kSmallRecord : kFullRecord;
}

net::IoResult TlsTransport::writeRecord(const uint8_t* data, size_t len) {
  size_t sent = 0;
  ERR_clear_error();
  // (SSL_MODE_ENABLE_PARTIAL_WRITE: one record per call, written from the caller's buffer.)
  int ret = SSL_write_ex(ssl_, data, len, &sent);
  if (ret == 1) {
    write_pending_ = false;
    small_left_ -= std::min(small_left_, sent);
    return {net::IoStatus::Ok, sent};
  }
  auto r = fromError(ret, false);
  write_pending_ = r.status == net::IoStatus::WouldBlock;
  return r;
}

net::IoResult TlsTransport::write(const uint8_t* data, size_t len) {
  if (len == 0) {
    return {net::IoStatus::Ok, 0};
  }
  return writeRecord(data, std::min(len, recordLimit()));
}

net::IoResult TlsTransport::write2(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) {
  if (alen == 0) {
    return write(b, blen);
  }
  if (blen == 0) {
    return write(a, alen);
  }
  // Same inputs and the same (frozen while pending) limit give the same record on a retry.
  size_t limit = recordLimit();
  // How much of b goes with a: all of it when the whole fits one record; else what leaves the
  // rest of b as whole records (small records: fill the first; the copy is at most one record).
  size_t fromB = 0;
  if (alen < limit) {
    if (alen + blen <= limit || limit == kSmallRecord) {
      fromB = std::min(blen, limit - alen);
    } else if (size_t tail = (alen + blen) % limit; tail > alen) {
      fromB = tail - alen;
    }
  }
  if (fromB > 0) {
    uint8_t buf[kFullRecord];
    std::memcpy(buf, a, alen);
    std::memcpy(buf + alen, b, fromB);
    return writeRecord(buf, alen + fromB);
  }
  auto r = write(a, alen);
  if (r.status != net::IoStatus::Ok || r.bytes < alen) {
    return r;
  }
  auto rb = write(b, blen);
  if (rb.status == net::IoStatus::Ok) {
    r.bytes += rb.bytes;
  } else if (rb.status == net::IoStatus::Error) {
    return rb;
  }
  return r;
}

void TlsTransport::shutdownWrite() {
  if (!shut_) {
    shut_ = true;
    ERR_clear_error();
    if (SSL_is_init_finished(ssl_)) {
      SSL_shutdown(ssl_);  // close_notify (one attempt: the FIN follows either way)
    }
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
}

net::HandshakeStatus TlsTransport::handshake() {
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    if (!ended_ && stats_) {
      bool resumed = SSL_session_reused(ssl_) == 1;
      if (SSL_version(ssl_) == TLS1_3_VERSION) {
        (resumed ? stats_->tls13_resumed : stats_->tls13_full).add();
      } else {
        (resumed ? stats_->tls12_resumed : stats_->tls12_full).add();
      }
      // (The name is OpenSSL's static table entry: counted by address.)
      stats_->tls_ciphers.add(SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_)), resumed);
      if (clock_) {
        stats_->tls_handshake_time.observe(clock_->nowUs() - started_us_);
      }
    }
    ended_ = true;
    if (SSL_is_server(ssl_)) {
      client_cert_ = readClientCertificate(ssl_);
    }
    return net::HandshakeStatus::Done;
  }
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ) {
    return net::HandshakeStatus::WantRead;
  }
  if (err == SSL_ERROR_WANT_WRITE) {
    return net::HandshakeStatus::WantWrite;
  }
  bool client = SSL_is_server(ssl_) == 0;
  long verified = SSL_get_verify_result(ssl_);
  if (client && verified != X509_V_OK && (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0) {
    // The reason a person can act on is the certificate check's, not the alert it caused.
    ERR_clear_error();
    certificate_rejected_ = true;
    failure_ = std::string("server certificate refused: ") + X509_verify_cert_error_string(verified);
    if (verified == X509_V_ERR_HOSTNAME_MISMATCH || verified == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      failure_ += " (expected " + peer_name_ + ")";
    }
  } else if (err == SSL_ERROR_SYSCALL) {
    int e = errno;
    failure_ = e ? std::strerror(e)
                 : client ? "the server closed the connection during the handshake"
                          : "the client closed the connection during the handshake";
    ERR_clear_error();
  } else {
    unsigned long code = ERR_peek_error();
    failure_ = drainErrors("handshake failed");
    noteClientCertificateFailure(ssl_, code, stats_, failure_);
  }
  if (!ended_ && stats_) {
    stats_->tls_failed.add();
    if (certificate_rejected_) {
      stats_->tls_certificate_rejected.add();
    }
  }
  ended_ = true;
  return net::HandshakeStatus::Failed;
}

bool TlsTransport::hasBufferedInput() const { return SSL_has_pending(ssl_) == 1; }

std::string TlsTransport::version() const { return SSL_get_version(ssl_); }

std::string TlsTransport::cipher() const {
  const char* c = SSL_get_cipher_name(ssl_);
  return c ? c : "";
}

bool TlsTransport::resumed() const { return SSL_session_reused(ssl_) == 1; }

std::string TlsTransport::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl_, &p, &n);
  return std::string(reinterpret_cast<const char*>(p), n);
}

}  // namespace fulcrum::tls
