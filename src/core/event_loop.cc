#include "core/event_loop.h"

#include <sys/eventfd.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fulcrum::core {

uint64_t EventLoop::monotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

EventLoop::EventLoop(const Clock& clock)
    : clock_(clock),
      epoll_(epoll_create1(EPOLL_CLOEXEC)),
      event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      now_ms_(clock.nowMs()),
      timers_(now_ms_) {
  if (!epoll_ || !event_fd_) {
    throw std::runtime_error(std::string("cannot create event loop: ") + std::strerror(errno));
  }
  add(event_fd_.get(), EPOLLIN | EPOLLET, &waker_);
}

EventLoop::~EventLoop() { deferred_.clear(); }

bool EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) { epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(event_fd_.get(), &one, sizeof one);
}

void EventLoop::Waker::onIoEvents(uint32_t) {
  uint64_t v;
  while (::read(loop.event_fd_.get(), &v, sizeof v) > 0) {
  }
  // Not here: posted work may destroy handlers that still have events later in this
  // batch. It runs once the batch is done.
  loop.posted_pending_ = true;
}

void EventLoop::runPosted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(posted_mutex_);
    work.swap(posted_);
  }
  for (auto& fn : work) {
    fn();
  }
}

void EventLoop::deferDelete(std::unique_ptr<DeferredDeletable> obj) { deferred_.push_back(std::move(obj)); }

void EventLoop::runOnce(int timeoutMs) {
  int64_t next = timers_.nextTimeoutMs();
  int wait = timeoutMs;
  if (next >= 0 && (wait < 0 || next < wait)) {
    wait = static_cast<int>(next);
  }
  epoll_event events[256];
  int n = epoll_wait(epoll_.get(), events, 256, wait);
  now_ms_ = clock_.nowMs();
  // Timers first, so that a timer scheduled by an event handler below counts from now.
  timers_.advance(now_ms_);
  for (int i = 0; i < n; ++i) {
    static_cast<IoHandler*>(events[i].data.ptr)->onIoEvents(events[i].events);
  }
  if (posted_pending_) {
    posted_pending_ = false;
    runPosted();
  }
  // Handlers closed during this turn may have had events later in the same batch.
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    batch.clear();
  }
}

void EventLoop::run() {
  running_ = true;
  while (running_) {
    runOnce(-1);
  }
}

}  // namespace fulcrum::core
