#pragma once
// Transport: how a connection's bytes are read and written. Plain sockets now; a TLS
// transport (OpenSSL, in tls/) implements the same interface later. Relays ask
// spliceable() before using splice(2), which only a plain socket allows.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "core/fd.h"

namespace fulcrum::net {

// Outcome of one read or write: bytes moved (> 0), or one of these.
enum class IoStatus { Ok, WouldBlock, Eof, Error };
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
  virtual void shutdownWrite() = 0;
  virtual bool spliceable() const = 0;
  virtual int fd() const = 0;
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
