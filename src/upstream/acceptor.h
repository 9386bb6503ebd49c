#pragma once
// Acceptor: one worker's accept loop on a listening socket it does not own. Takes at most a
// batch of connections per loop turn (a flood on one listener must not starve the worker's
// other connections), and survives fd exhaustion: a connection it cannot take is taken off
// the kernel queue and closed (an edge-triggered listener would never report it again).
#include <sys/socket.h>

#include <functional>

#include "core/event_loop.h"
#include "core/fd.h"
#include "core/timer_wheel.h"
#include "upstream/worker_context.h"

namespace fulcrum::upstream {

class Acceptor : public core::IoHandler {
 public:
  // onAccept gets each new non-blocking connection with TCP_NODELAY set, and its peer's
  // address (from accept4: no getpeername per connection).
  using OnAccept = std::function<void(core::Fd, const sockaddr_storage& peer)>;
  Acceptor(WorkerContext& ctx, int fd, OnAccept onAccept);
  ~Acceptor() { stop(); }
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  bool start();  // registers with the loop; false (errno set) on failure
  // takePending: first accept what is already queued in the kernel (closing a listening
  // socket resets those connections; at a graceful stop they are served instead).
  void stop(bool takePending = false);
  void onIoEvents(uint32_t events) override { acceptAll(); }

 private:
  void acceptAll();

  WorkerContext& ctx_;
  int fd_;
  OnAccept on_accept_;
  // After an accept error that left connections queued (fd exhaustion), try again shortly.
  core::Timer retry_;
  bool registered_ = false;
};

}  // namespace fulcrum::upstream
