#include "upstream/acceptor.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace fulcrum::upstream {

namespace {
constexpr uint64_t kAcceptRetryMs = 50;
constexpr int kAcceptBatch = 64;
}  // namespace

Acceptor::Acceptor(WorkerContext& ctx, int fd, OnAccept onAccept)
    : ctx_(ctx), fd_(fd), on_accept_(std::move(onAccept)), retry_([this] { acceptAll(); }) {}

bool Acceptor::start() {
  if (!registered_) {
    registered_ = ctx_.loop.add(fd_, EPOLLIN | EPOLLET, this);
  }
  return registered_;
}

void Acceptor::stop(bool takePending) {
  if (takePending && registered_) {
    for (int taken = 0; taken < 4096; ++taken) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      int fd = accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
          continue;
        }
        break;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      on_accept_(core::Fd(fd), peer);
    }
  }
  if (registered_) {
    ctx_.loop.remove(fd_);
    registered_ = false;
  }
  ctx_.loop.timers().cancel(retry_);
}

void Acceptor::acceptAll() {
  for (int taken = 0; registered_; ++taken) {
    if (taken == kAcceptBatch) {
      ctx_.loop.timers().schedule(retry_, 0);
      return;
    }
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE) {
        if (onFdExhausted(ctx_, "accept") > 0) {
          continue;  // idle pipes gave fds back: try again
        }
        ctx_.reserve_fd.reset();  // (it may already be gone: another thread took its number)
        int spare = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (spare >= 0) {
          ::close(spare);
        }
        ctx_.reserve_fd = core::Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (spare >= 0) {
          continue;
        }
        ctx_.loop.timers().schedule(retry_, kAcceptRetryMs);
        return;
      }
      if (errno != EAGAIN) {
        log::warn("accept failed", {{"errno", std::strerror(errno)}});
        ctx_.loop.timers().schedule(retry_, kAcceptRetryMs);
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    on_accept_(core::Fd(fd), peer);
  }
}

}  // namespace fulcrum::upstream
