#pragma once
// SessionPeer: the client end of a socketpair whose other end is an HttpSession, on an event
// loop driven by a ManualClock, so session tests move time themselves and nothing sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/event_loop.h"
#include "http/frontend.h"
#include "http/session.h"
#include "upstream/worker_context.h"

namespace fulcrum::test {

inline sockaddr_storage loopbackPeer(uint16_t port) {
  sockaddr_storage addr{};
  auto* in = reinterpret_cast<sockaddr_in*>(&addr);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in->sin_port = htons(port);
  return addr;
}

class SessionPeer {
 public:
  SessionPeer(core::ManualClock& clock, core::EventLoop& loop) : clock_(clock), loop_(loop) {}
  // Closes the client end; the session sees it and is deleted by the loop.
  ~SessionPeer() {
    if (fd_ >= 0) {
      ::close(fd_);
      for (int i = 0; i < 3; ++i) {
        loop_.runOnce(0);
      }
    }
  }
  SessionPeer(const SessionPeer&) = delete;
  SessionPeer& operator=(const SessionPeer&) = delete;

  // Starts a session of `frontend` on the other end (owned by the loop: deferred delete).
  void connect(upstream::WorkerContext& ctx, std::shared_ptr<http::HttpFrontend> frontend,
               const sockaddr_storage& addr = loopbackPeer(0)) {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    fd_ = fds[1];
    (new http::HttpSession(ctx, std::move(frontend), core::Fd(fds[0]), addr))->start();
  }
  void send(const std::string& bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // What the session wrote so far; "<closed>" appended on EOF.
  std::string received() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {
        out += "<closed>";
      }
      return out;
    }
  }
  // Moves the clock and lets the loop run what is due.
  void pass(uint64_t ms) {
    clock_.advanceMs(ms);
    loop_.runOnce(0);
    loop_.runOnce(0);
  }
  int fd() const { return fd_; }

 private:
  core::ManualClock& clock_;
  core::EventLoop& loop_;
  int fd_ = -1;
};

}  // namespace fulcrum::test
