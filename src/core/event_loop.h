#pragma once
// EventLoop: one edge-triggered epoll loop, owned by one thread (a worker or the control
// thread). Everything here is called from the owning thread only, except post() and
// wake(), which any thread may call.
#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "core/fd.h"
#include "core/timer_wheel.h"

namespace fulcrum::core {

// Receives readiness for one fd. Registered with EPOLLET: the handler must read or
// write until EAGAIN (or remember that it stopped early).
class IoHandler {
 public:
  virtual void onIoEvents(uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

// Objects that may still be on the current callback's stack are destroyed on the next
// loop turn instead of in place (see deferDelete).
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};

class EventLoop {
 public:
  // `clock` outlives the loop; tests pass a ManualClock.
  explicit EventLoop(const Clock& clock = SystemClock::instance());
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers fd; returns false with errno set on failure.
  bool add(int fd, uint32_t events, IoHandler* handler);
  bool modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  TimerWheel& timers() { return timers_; }
  // Monotonic milliseconds, refreshed once per loop turn: cheap enough for every read.
  uint64_t nowMs() const { return now_ms_; }
  // The loop's clock, read now (for timings finer than a loop turn).
  const Clock& clock() const { return clock_; }
  static uint64_t monotonicMs();

  // Thread-safe: runs fn on the loop thread at its next turn, after that turn's I/O
  // events (so fn may destroy handlers). Control-plane only
  // (snapshots, stop requests): it takes a mutex, so never use it per request.
  void post(std::function<void()> fn);

  // Destroys obj after the current batch of events has been handled.
  void deferDelete(std::unique_ptr<DeferredDeletable> obj);

  // Runs until stop(). stop() may be called from a callback on this thread.
  void run();
  void stop() { running_ = false; }
  // One turn: waits at most timeoutMs (or the next timer), dispatches, runs timers.
  void runOnce(int timeoutMs);

 private:
  struct Waker : IoHandler {
    explicit Waker(EventLoop& l) : loop(l) {}
    void onIoEvents(uint32_t) override;
    EventLoop& loop;
  };
  void runPosted();

  const Clock& clock_;
  Fd epoll_;
  Fd event_fd_;
  Waker waker_{*this};
  uint64_t now_ms_;
  TimerWheel timers_;
  bool running_ = false;
  bool posted_pending_ = false;
  std::vector<std::unique_ptr<DeferredDeletable>> deferred_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace fulcrum::core
