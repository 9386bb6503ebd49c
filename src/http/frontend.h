#pragma once
// HttpFrontend: one worker's listening socket for an HTTP listener. Accepts connections and
// starts an HttpSession for each; owns what the worker's sessions on this listener share:
// pickers per pool, the idle server connections, retry budgets and the queue of requests
// waiting for a pool's max_requests. Kept across reloads while the listener's socket is kept;
// update() swaps in the new runtime, which each session takes at its next request.
#include <memory>
#include <random>
#include <unordered_map>

#include "balance/balancer.h"
#include "core/timer_wheel.h"
#include "codec/parser.h"
#include "http/connection_guard.h"
#include "http/recycler.h"
#include "http/request_accounting.h"
#include "http/retry_budget.h"
#include "http/runtime.h"
#include "http/upstream_conn.h"
#include "upstream/acceptor.h"
#include "upstream/picker_set.h"
#include "upstream/wait_queue.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

// A request waiting in the listener's queue for a pool or server slot: an HTTP/1 session, or an
// HTTP/2 stream. retryFromQueue() as upstream::WaitQueue says.
class QueuedRequest {
 public:
  virtual bool retryFromQueue() = 0;

 protected:
  ~QueuedRequest() = default;
};

class HttpFrontend : public std::enable_shared_from_this<HttpFrontend> {
 public:
  HttpFrontend(upstream::WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive);
  ~HttpFrontend();

  void update(std::shared_ptr<const ListenerRuntime> runtime);
  bool start();
  // Stops accepting (takePending: see Acceptor::stop) and closes idle server connections.
  void stop(bool takePending = false);

  const std::shared_ptr<const ListenerRuntime>& runtime() const { return runtime_; }
  // This worker's picker for the cluster's pool (see PickerSet::get).
  balance::Picker& picker(const std::shared_ptr<const upstream::Cluster>& cluster) { return pickers_.get(cluster); }
  ConnPool& connections() { return pool_; }
  RetryBudget& retryBudget(const upstream::Cluster& cluster) { return budgets_[cluster.pool_state.get()]; }
  std::mt19937_64& rng() { return rng_; }  // the worker's, for filters (a canary split)

  // Caps on connections waiting for their request head (connection_guard.h): a listener that
  // must stay reachable under a crowd sets one before start(); null (the proxy's) = none.
  void setGuard(std::unique_ptr<ConnectionGuard> guard) { guard_ = std::move(guard); }
  ConnectionGuard* guard() { return guard_.get(); }

  // Requests waiting for a pool below its max_requests (FIFO per worker).
  upstream::WaitQueue<QueuedRequest>& queue() { return queue_; }

  // What a request borrows only while it needs it (an idle connection holds none of it).
  Recycler<RequestParser>& requestParsers() { return request_parsers_; }
  Recycler<ResponseParser>& responseParsers() { return response_parsers_; }
  SpareStrings& outStrings() { return out_strings_; }
  Recycler<RequestAccounting>& accounting() { return accounting_; }

 private:
  void onAccepted(core::Fd client, const sockaddr_storage& peer);

  upstream::WorkerContext& ctx_;
  std::shared_ptr<const void> keepalive_;
  upstream::Acceptor acceptor_;
  std::shared_ptr<const ListenerRuntime> runtime_;
  upstream::PickerSet pickers_;  // per pool, kept across snapshots
  ConnPool pool_;
  std::unordered_map<const upstream::PoolState*, RetryBudget> budgets_;
  std::mt19937_64 rng_;
  upstream::WaitQueue<QueuedRequest> queue_;
  Recycler<RequestParser> request_parsers_{kSpare};
  Recycler<ResponseParser> response_parsers_{kSpare};
  SpareStrings out_strings_{kSpare, 64 * 1024};
  Recycler<RequestAccounting> accounting_{kSpare};
  std::unique_ptr<ConnectionGuard> guard_;
  static constexpr size_t kSpare = 256;  // per worker and listener: ~0.5 MiB at most
};

}  // namespace fulcrum::http
