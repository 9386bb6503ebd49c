#pragma once
// Worker: one thread, one event loop, its own listening sockets and connections.
// The control thread talks to it only through post(): new snapshots and drain/stop.
#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>

#include "core/event_loop.h"
#include "http/frontend.h"
#include "l4/context.h"
#include "l4/tcp_frontend.h"
#include "l4/udp_frontend.h"
#include "server/snapshot.h"

namespace fulcrum::server {

class Worker {
 public:
  explicit Worker(size_t index);
  ~Worker();

  void start();
  // Any thread: the worker applies it at its next loop turn.
  void publish(std::shared_ptr<const Snapshot> snapshot);
  // Any thread: keep accepting, but close every HTTP connection at its next request boundary
  // (idle keep-alive ones now), new ones after one answer: the instance is being withdrawn
  // from the network (timeouts.withdraw) and must hold as few connections as it can by then.
  void closeKeepAlive();
  // Any thread: stop accepting, let connections finish for up to drainMs, then close them.
  void drain(uint64_t drainMs);
  // Any thread: close every connection now (a second Ctrl-C).
  void forceStop();
  // Any thread: close this worker's connections to a server whose drain timed out.
  void closeSessionsTo(std::shared_ptr<upstream::HostState> state);
  // Any thread: runs fn on the worker's loop with its shared-state tables (once per sync).
  void withSharedTables(std::function<void(size_t worker, shared_state::WorkerTables&, uint64_t nowMs)> fn);
  void join();
  bool finished() const { return finished_.load(); }
  // Any thread: when the worker's loop last turned (its clock, ms); refreshed every
  // kBeatMs while the loop runs, so a stuck loop shows as an old beat.
  uint64_t lastBeatMs() const { return beat_ms_.load(std::memory_order_relaxed); }
  static constexpr uint64_t kBeatMs = 100;
  // Any thread: the version of the snapshot this worker serves (0 before the first): once it
  // is the one published, the worker accepts on that snapshot's sockets.
  uint64_t appliedVersion() const { return applied_version_.load(std::memory_order_acquire); }

 private:
  void apply(std::shared_ptr<const Snapshot> snapshot);
  void stopFrontends(bool takePending = false);
  void checkDrained();
  void flushAccessLog();
  void beat();

  size_t index_;
  core::EventLoop loop_;
  upstream::WorkerContext ctx_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::unordered_map<const ListenSocketGroup*, std::shared_ptr<l4::TcpFrontend>> tcp_;
  std::unordered_map<const ListenSocketGroup*, std::unique_ptr<l4::UdpFrontend>> udp_;
  std::unordered_map<const ListenSocketGroup*, std::shared_ptr<http::HttpFrontend>> http_;
  core::Timer drain_timer_;
  core::Timer flush_timer_;  // hands the access log's buffer to its writer every 100 ms
  core::Timer beat_timer_;   // refreshes beat_ms_
  uint64_t drain_deadline_ms_ = 0;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> beat_ms_{0};
  std::atomic<uint64_t> applied_version_{0};
};

}  // namespace fulcrum::server
