#pragma once
// Channel: one end of a connected SOCK_SEQPACKET Unix socket, the handover's transport. Whole
// messages (wire.h) with descriptors attached (SCM_RIGHTS); a peer that goes away is seen as
// such, never as a half message.
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/fd.h"

namespace fulcrum::handover {

struct Received {
  std::string text;
  std::vector<core::Fd> fds;  // close-on-exec, owned
};

class Channel {
 public:
  Channel() = default;
  explicit Channel(core::Fd fd) : fd_(std::move(fd)) {}

  // Blocking connect to the control socket at path. The errors tell "no such socket" from "a
  // stale socket nobody listens on" from "not a socket"; errnoOut (optional) gets connect's errno.
  static Result<Channel> connect(const std::string& path, int* errnoOut = nullptr);

  // Sends one message with fds attached (at most kMaxFdsPerMessage). Never blocks for long: a
  // peer that does not read within timeout is an error.
  Status send(std::string_view text, std::span<const int> fds = {},
              std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  // Waits up to timeout for one message. Errors: the peer closed ("closed the connection"), the
  // wait ran out, a message or its descriptors did not fit (they are closed, not leaked).
  Result<Received> receive(std::chrono::milliseconds timeout);
  // Non-blocking: nullopt when no message is waiting (for an event loop).
  Result<std::optional<Received>> tryReceive();

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  void close() { fd_.reset(); }

 private:
  core::Fd fd_;
};

// A listening SOCK_SEQPACKET socket bound at path (non-blocking, close-on-exec, mode 0600: only
// this user may take the sockets). An existing file at path is an error ("exists"); see
// control socket handling in server/ for when it is stale.
Result<core::Fd> listenControlSocket(const std::string& path);

// Accepts one connection (non-blocking, close-on-exec); nullopt when none is waiting.
std::optional<Channel> acceptChannel(int listenFd);

// The pid of the process at the other end of a connected Unix socket (SO_PEERCRED), or 0.
pid_t peerPid(int fd);

}  // namespace fulcrum::handover
