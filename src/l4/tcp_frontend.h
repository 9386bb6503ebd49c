#pragma once
// TcpFrontend: one worker's listening socket for a TCP listener. Accepts connections and
// starts a TcpSession for each; owns the worker's picker for the pool and the queue
// of sessions waiting for a server slot (max_connections). Kept across reloads while
// the listener's socket is kept; update() swaps in the new config for new connections.
#include <memory>

#include "balance/balancer.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "l4/context.h"
#include "upstream/acceptor.h"
#include "upstream/picker_set.h"
#include "upstream/wait_queue.h"

namespace fulcrum::l4 {

class TcpSession;

class TcpFrontend : public std::enable_shared_from_this<TcpFrontend> {
 public:
  // fd stays owned by the caller (the listener registry), kept alive by keepalive.
  TcpFrontend(WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive);
  ~TcpFrontend();

  void update(std::shared_ptr<const ListenerRuntime> runtime);
  bool start();  // registers with the loop
  // Stops accepting; sessions already accepted go on (takePending: see Acceptor::stop).
  void stop(bool takePending = false);

  // This worker's picker for the cluster's pool (see PickerSet::get: sessions begun under an
  // older snapshot with another host list get a stand-in).
  balance::Picker& picker(const std::shared_ptr<const upstream::Cluster>& cluster) { return pickers_.get(cluster); }
  // Sessions waiting for a free server slot.
  upstream::WaitQueue<TcpSession>& queue() { return queue_; }
  WorkerContext& context() { return ctx_; }

 private:
  void onAccepted(core::Fd client, const sockaddr_storage& peer);

  WorkerContext& ctx_;
  std::shared_ptr<const void> keepalive_;
  upstream::Acceptor acceptor_;
  std::shared_ptr<const ListenerRuntime> runtime_;
  upstream::PickerSet pickers_;  // per pool, kept across snapshots
  upstream::WaitQueue<TcpSession> queue_;
};

}  // namespace fulcrum::l4
