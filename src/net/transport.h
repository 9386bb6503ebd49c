#pragma once
// Transport: how a connection's bytes are read and written. Plain sockets now; a TLS
// transport (OpenSSL, in tls/) implements the same interface later, so sessions and codecs use
// a transport only through this interface. Relays ask spliceable() before using splice(2),
// which only a plain socket allows.
//
// The edge-triggered contract: a caller reads until WouldBlock (or a short read, where
// shortReadMeansEmpty()), then waits for the fd's next readiness edge, unless
// hasBufferedInput() says the transport itself holds bytes already taken off the socket (TLS
// records decrypted past what was asked for), which no edge will announce.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/fd.h"

namespace fulcrum::net {

// Outcome of one read or write: bytes moved (> 0), or one of these.
enum class IoStatus { Ok, WouldBlock, Eof, Error };
// A step of a transport's handshake: Done (plain sockets have none), or what it waits for.
enum class HandshakeStatus { Done, WantRead, WantWrite, Failed };
struct IoResult {
  IoStatus status;
  size_t bytes = 0;
  int error = 0;  // errno when status == Error
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual IoResult read(uint8_t* data, size_t len) = 0;
  virtual IoResult write(const uint8_t* data, size_t len) = 0;
  // Writes a then b in one call (a message head and the start of its body: one syscall and
  // one segment instead of two).
  virtual IoResult write2(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) = 0;
  // Orderly end of the write side: FIN (TLS: close_notify first). Reads may go on.
  virtual void shutdownWrite() = 0;
  virtual bool spliceable() const = 0;
  virtual int fd() const = 0;
  // Advances the handshake as far as the socket allows; call again on the readiness it asks for.
  virtual HandshakeStatus handshake() { return HandshakeStatus::Done; }
  // Bytes are held inside the transport, readable without a new readiness edge.
  virtual bool hasBufferedInput() const { return false; }
  // Whether a read that returned less than asked for proves the socket empty (a plain
  // socket's does; a TLS read returns one record at a time, whatever the socket still holds).
  virtual bool shortReadMeansEmpty() const { return true; }
  // Why the handshake (or the last read or write) failed, when the transport knows more than
  // errno says (TLS: OpenSSL's reason); empty otherwise.
  virtual const std::string& failure() const {
    static const std::string kNone;
    return kNone;
  }
  // After the handshake: the protocol ALPN selected ("h2"), empty when none (a plain socket).
  virtual std::string alpn() const { return {}; }
};

class RawTransport final : public Transport {
 public:
  explicit RawTransport(core::Fd fd) : fd_(std::move(fd)) {}
  IoResult read(uint8_t* data, size_t len) override;
  IoResult write(const uint8_t* data, size_t len) override;
  IoResult write2(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) override;
  void shutdownWrite() override;
  bool spliceable() const override { return true; }
  int fd() const override { return fd_.get(); }
  core::Fd& ownedFd() { return fd_; }

 private:
  core::Fd fd_;
};

}  // namespace fulcrum::net
