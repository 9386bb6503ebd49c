#pragma once
// Loopback sockets for unit tests (L4 sessions, health checks): servers the code under test
// connects to, and non-blocking reads that never wait. Every fd is owned by a core::Fd, so a failed
// assertion leaks nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "config/address.h"
#include "config/model.h"
#include "core/event_loop.h"
#include "core/fd.h"

namespace fulcrum::test {

// Runs loop turns (real I/O; a manual clock stands still) until pred() holds; bounded (400 turns
// of at most 5 ms).
inline bool spinUntil(core::EventLoop& loop, const std::function<bool()>& pred) {
  for (int i = 0; i < 400; ++i) {
    if (pred()) {
      return true;
    }
    loop.runOnce(5);
  }
  return pred();
}

// 127.0.0.1:port as the config loader would have it.
inline config::SocketAddress loopbackAddress(uint16_t port) {
  config::SocketAddress a;
  std::string error;
  config::parseSocketAddress("127.0.0.1:" + std::to_string(port), a, error);
  return a;
}

inline uint16_t localPort(int fd) {
  sockaddr_in in{};
  socklen_t len = sizeof in;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  return ntohs(in.sin_port);
}

// A non-blocking TCP listener on 127.0.0.1 with an ephemeral port.
inline core::Fd listenLoopback(int backlog = 16, int type = SOCK_STREAM) {
  core::Fd fd(::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) {
    return core::Fd();
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), backlog) != 0) {
    return core::Fd();
  }
  return fd;
}

// A port nothing listens on: connecting is refused at once.
inline uint16_t refusingPort() {
  core::Fd fd = listenLoopback(1);
  uint16_t port = localPort(fd.get());
  return port;  // closed when fd goes out of scope
}

// A listener whose accept queue is full, so the kernel drops further SYNs and a connect to it
// stays in progress (until the client's connect timeout). Keeps the fillers open.
struct Blackhole {
  core::Fd listener;
  std::vector<core::Fd> fillers;
  uint16_t port = 0;
  bool ok = false;

  Blackhole() {
    listener = listenLoopback(0);
    port = localPort(listener.get());
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in.sin_port = htons(port);
    // The queue holds backlog + 1 on Linux; fill until a connect stays pending.
    for (int i = 0; i < 8 && !ok; ++i) {
      core::Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      ::connect(c.get(), reinterpret_cast<sockaddr*>(&in), sizeof in);
      pollfd p{c.get(), POLLOUT, 0};
      ok = ::poll(&p, 1, 50) == 0;
      fillers.push_back(std::move(c));
    }
  }
};

// Accepts one connection if one is queued (non-blocking), else an invalid Fd.
inline core::Fd acceptNow(int listener) {
  return core::Fd(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

// Appends what fd has to read now; true once it has seen EOF or a reset.
inline bool drain(int fd, std::string& out) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    return n == 0 || (errno != EAGAIN && errno != EINTR);
  }
}

inline bool sendAll(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

}  // namespace fulcrum::test
