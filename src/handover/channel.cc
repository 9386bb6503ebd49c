#include "handover/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "handover/wire.h"

namespace fulcrum::handover {

namespace {

Result<sockaddr_un> unixAddress(const std::string& path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty()) {
    return Error{"the control socket path is empty"};
  }
  if (path.size() >= sizeof sun.sun_path) {
    return Error{"control socket path " + path + " is too long (" + std::to_string(path.size()) + " bytes; at most " +
                 std::to_string(sizeof sun.sun_path - 1) + ")"};
  }
  std::memcpy(sun.sun_path, path.data(), path.size());
  return sun;
}

// Waits for events on fd for up to timeout; false on timeout. EINTR restarts with the full
// time (a signal storm could stretch it, none happens at handover).
bool waitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

}  // namespace

Result<Channel> Channel::connect(const std::string& path, int* errnoOut) {
  auto sun = unixAddress(path);
  if (!sun) {
    return sun.error();
  }
  core::Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Error{std::string("socket(AF_UNIX): ") + std::strerror(errno)};
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*sun), sizeof *sun) != 0) {
    int err = errno;
    if (errnoOut != nullptr) {
      *errnoOut = err;
    }
    struct stat st{};
    if (err == ENOENT) {
      return Error{"no control socket at " + path + ": is fulcrum running with this config?"};
    }
    if (err == ECONNREFUSED) {
      return Error{"stale control socket " + path + ": nothing listens on it (the fulcrum that made it is gone)"};
    }
    if (::stat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
      return Error{path + " is not a socket"};
    }
    if (err == EPROTOTYPE) {
      return Error{path + " is not a fulcrum control socket (wrong socket type)"};
    }
    return Error{"connect " + path + ": " + std::strerror(err)};
  }
  return Channel(std::move(fd));
}

Status Channel::send(std::string_view text, std::span<const int> fds, std::chrono::milliseconds timeout) {
  if (!fd_) {
    return Error{"not connected"};
  }
  if (fds.size() > kMaxFdsPerMessage || text.size() > kMaxMessageBytes) {
    return Error{"a message too large to send"};
  }
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      return {};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN && waitFor(fd_.get(), POLLOUT, timeout)) {
      continue;
    }
    if (errno == EAGAIN) {
      return Error{"the peer did not read within " + std::to_string(timeout.count()) + " ms"};
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      return Error{"the peer closed the connection"};
    }
    return Error{std::string("send: ") + std::strerror(errno)};
  }
}

Result<std::optional<Received>> Channel::tryReceive() {
  if (!fd_) {
    return Error{"not connected"};
  }
  std::string buf(kMaxMessageBytes + 1, '\0');
  iovec iov{buf.data(), buf.size()};
  // Room for more than we accept, so a peer sending too many is told apart from a cut-off list.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * (kMaxFdsPerMessage + 1))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) {
      return std::optional<Received>();
    }
    if (errno == ECONNRESET) {
      return Error{"the peer closed the connection"};
    }
    return Error{std::string("receive: ") + std::strerror(errno)};
  }
  Received r;
  // Own every descriptor first, so each error path below closes them.
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        r.fds.emplace_back(fd);
      }
    }
  }
  if (n == 0) {
    return Error{"the peer closed the connection"};
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    return Error{"descriptor count mismatch: a message carried more descriptors than the " +
                 std::to_string(kMaxFdsPerMessage) + " allowed (or this process has no free descriptors)"};
  }
  if ((msg.msg_flags & MSG_TRUNC) || static_cast<size_t>(n) > kMaxMessageBytes) {
    return Error{"protocol error: a message longer than " + std::to_string(kMaxMessageBytes) + " bytes"};
  }
  if (r.fds.size() > kMaxFdsPerMessage) {
    return Error{"descriptor count mismatch: a message carried " + std::to_string(r.fds.size()) +
                 " descriptors (at most " + std::to_string(kMaxFdsPerMessage) + ")"};
  }
  buf.resize(static_cast<size_t>(n));
  r.text = std::move(buf);
  return std::optional<Received>(std::move(r));
}

Result<Received> Channel::receive(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto got = tryReceive();
    if (!got) {
      return got.error();
    }
    if (got->has_value()) {
      return std::move(**got);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !waitFor(fd_.get(), POLLIN, left)) {
      return Error{"no answer within " + std::to_string(timeout.count()) + " ms"};
    }
  }
}

Result<core::Fd> listenControlSocket(const std::string& path) {
  auto sun = unixAddress(path);
  if (!sun) {
    return sun.error();
  }
  core::Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Error{std::string("socket(AF_UNIX): ") + std::strerror(errno)};
  }
  // The socket file is created with the process umask; tighten it for the bind only.
  mode_t old = ::umask(0077);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*sun), sizeof *sun);
  int err = errno;
  ::umask(old);
  if (rc != 0) {
    return Error{"bind control socket " + path + ": " + std::strerror(err)};
  }
  if (::listen(fd.get(), 8) != 0) {
    err = errno;
    ::unlink(path.c_str());
    return Error{"listen on control socket " + path + ": " + std::strerror(err)};
  }
  return fd;
}

std::optional<Channel> acceptChannel(int listenFd) {
  int fd;
  do {
    fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return std::nullopt;
  }
  return Channel(core::Fd(fd));
}

pid_t peerPid(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return 0;
  }
  return cred.pid;
}

}  // namespace fulcrum::handover
