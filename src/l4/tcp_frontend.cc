#include "l4/tcp_frontend.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "l4/tcp_session.h"
#include "net/address.h"

namespace fulcrum::l4 {

namespace {
constexpr uint64_t kQueuePollMs = 5;
constexpr uint64_t kAcceptRetryMs = 50;
constexpr int kAcceptBatch = 64;
}

WorkerContext::WorkerContext(core::EventLoop& l, size_t index)
    : loop(l), worker_index(index), reserve_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

uint64_t pickerSeed(size_t workerIndex, uint64_t generation) {
  // splitmix64 of (worker, generation): a republished snapshot (slow start steps) must not
  // restart every picker at the same place.
  uint64_t z = (workerIndex + 1) * 0x9E3779B97F4A7C15ULL + generation * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

size_t onFdExhausted(WorkerContext& ctx, const char* where) {
  size_t freed = ctx.pipes.trim();
  uint64_t now = ctx.loop.nowMs();
  if (now - ctx.last_fd_warning_ms >= 1000 || ctx.last_fd_warning_ms == 0) {
    ctx.last_fd_warning_ms = now;
    log::warn("out of file descriptors: refusing", {{"where", where}, {"errno", std::strerror(errno)}});
  }
  return freed;
}

TcpFrontend::TcpFrontend(WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive)
    : ctx_(ctx),
      fd_(fd),
      keepalive_(std::move(keepalive)),
      queue_poll_([this] { pollQueue(); }),
      accept_retry_([this] { acceptAll(); }) {}

TcpFrontend::~TcpFrontend() { stop(); }

void TcpFrontend::update(std::shared_ptr<const ListenerRuntime> runtime) {
  runtime_ = std::move(runtime);
  picker(runtime_->cluster);
}

balance::Picker& TcpFrontend::picker(const std::shared_ptr<const upstream::Cluster>& cluster) {
  if (cluster == picker_cluster_) {
    return *picker_;
  }
  if (cluster == old_cluster_) {
    return *old_picker_;
  }
  auto made = cluster->balancer->makePicker(pickerSeed(ctx_.worker_index, ++ctx_.picker_generation));
  if (runtime_ && cluster == runtime_->cluster) {
    // The new current cluster; the previous one stays for sessions still retrying on it.
    // Pickers point into their cluster's balancer: replace the picker before the cluster.
    old_picker_ = std::move(picker_);
    old_cluster_ = std::move(picker_cluster_);
    picker_ = std::move(made);
    picker_cluster_ = cluster;
    return *picker_;
  }
  old_picker_ = std::move(made);
  old_cluster_ = cluster;
  return *old_picker_;
}

bool TcpFrontend::start() {
  if (!registered_) {
    registered_ = ctx_.loop.add(fd_, EPOLLIN | EPOLLET, this);
  }
  return registered_;
}

void TcpFrontend::stop() {
  if (registered_) {
    ctx_.loop.remove(fd_);
    registered_ = false;
  }
  ctx_.loop.timers().cancel(accept_retry_);
  // Sessions keep this frontend alive; they must not keep the listening socket open
  // (a closed listener refuses at once, an open one that no one accepts on hangs).
  keepalive_.reset();
}

void TcpFrontend::onIoEvents(uint32_t) { acceptAll(); }

void TcpFrontend::acceptAll() {
  // At most a batch per turn: a connection flood on one listener must not starve the
  // worker's other connections; the rest are taken on the next turn.
  for (int taken = 0; registered_; ++taken) {
    if (taken == kAcceptBatch) {
      ctx_.loop.timers().schedule(accept_retry_, 0);
      return;
    }
    int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE) {
        // The connection stays queued in the kernel and, with an edge-triggered
        // listener, would never be reported again: take it off the queue and close it.
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
        ctx_.loop.timers().schedule(accept_retry_, kAcceptRetryMs);
        return;
      }
      if (errno != EAGAIN) {
        log::warn("accept failed", {{"errno", std::strerror(errno)}});
        ctx_.loop.timers().schedule(accept_retry_, kAcceptRetryMs);
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto* s = new TcpSession(ctx_, shared_from_this(), runtime_, core::Fd(fd));
    s->start();
  }
}

bool TcpFrontend::enqueue(TcpSession* s, size_t limit) {
  if (queue_.size() >= limit) {
    return false;
  }
  queue_.push_back(s);
  if (!queue_poll_.armed()) {
    ctx_.loop.timers().schedule(queue_poll_, kQueuePollMs);
  }
  return true;
}

void TcpFrontend::dequeue(TcpSession* s) {
  auto it = std::find(queue_.begin(), queue_.end(), s);
  if (it != queue_.end()) {
    queue_.erase(it);
  }
  if (queue_.empty()) {
    ctx_.loop.timers().cancel(queue_poll_);
  }
}

void TcpFrontend::onSlotFreed() {
  // A waiter that gets a slot may fail to connect and free it again, which calls back
  // here: one pass at a time.
  if (in_queue_pass_) {
    return;
  }
  in_queue_pass_ = true;
  while (!queue_.empty()) {
    TcpSession* s = queue_.front();
    queue_.pop_front();
    if (!s->retryFromQueue()) {
      // Still nothing free: it went back to the queue's tail; keep FIFO order.
      auto it = std::find(queue_.begin(), queue_.end(), s);
      if (it != queue_.end()) {
        queue_.erase(it);
        queue_.push_front(s);
      }
      break;
    }
  }
  in_queue_pass_ = false;
  if (queue_.empty()) {
    ctx_.loop.timers().cancel(queue_poll_);
  }
}

void TcpFrontend::pollQueue() {
  onSlotFreed();
  if (!queue_.empty()) {
    ctx_.loop.timers().schedule(queue_poll_, kQueuePollMs);
  }
}

}  // namespace fulcrum::l4
