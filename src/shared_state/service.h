#pragma once
// Service: the control thread's side of the shared state. Every sync interval it asks each
// worker for what it counted and chose (posted to the worker's loop), sends each report to Redis
// in one EVAL per kind on the control loop (hiredis, asynchronous), and posts the answer (the
// shared excess of each key, the stored server of each client) back to every worker. Choices
// other instances publish arrive by pub/sub and are posted the same way.
//
// While Redis is unreachable the reports are counted here instead (LocalTally): a shared limit
// is then a limit per instance, stickiness is kept by the workers' caches, and nothing fails.
// The loss and the return are logged once each; when Redis returns, what was counted and chosen
// meanwhile is sent to it (the resync). Status feeds the metrics.
//
// Control thread only.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/model.h"
#include "core/event_loop.h"
#include "shared_state/batch.h"
#include "shared_state/local_tally.h"
#include "shared_state/redis_connection.h"
#include "shared_state/worker_tables.h"

namespace fulcrum::shared_state {

// For /metrics (read on the control thread).
struct Status {
  bool enabled = false;
  bool up = false;                 // Redis answers; false = serving with local state
  std::string redis;               // the Redis in use, host:port (empty before the first)
  uint64_t unreachable_total = 0;  // times Redis became unreachable
  uint64_t syncs_total = 0;        // Redis answers applied
  uint64_t local_total = 0;        // reports counted locally (Redis unreachable)
};

class Service {
 public:
  using WorkerFn = std::function<void(size_t worker, WorkerTables& tables, uint64_t nowMs)>;
  struct Hooks {
    // Runs fn on every worker's loop, with its tables (EventLoop::post: once per sync).
    std::function<void(WorkerFn fn)> each_worker;
    // Runs fn on one worker's loop (its lease grants).
    std::function<void(size_t worker, WorkerFn fn)> on_worker;
  };

  Service(core::EventLoop& loop, Hooks hooks);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Starts sharing, restarts it when the section changed, stops it when the section is gone.
  void configure(const config::SharedState& config);
  // Stops syncing and closes the connections (the process is stopping).
  void stop();
  const Status& status() const { return status_; }

 private:
  void tick();
  void connect();
  void askSentinel();
  void connectMaster(const std::string& host, uint16_t port);
  void onMasterUp();
  void markDown(const std::string& why);
  void closeAll();
  void onReport(const WorkerReport& report);
  // Lease requests of `worker` (kNoWorker: the resync's debts, answered to nobody).
  void sendLimits(size_t worker, std::vector<LimitDelta> deltas);
  void sendSticky(std::vector<StickyTouch> touches);
  void countLocally(size_t worker, const std::vector<LimitDelta>& deltas);
  void keepForResync(const std::vector<StickyTouch>& touches);
  void publish(SyncResult result);                // to every worker
  void publishTo(size_t worker, SyncResult result);
  static constexpr size_t kNoWorker = SIZE_MAX;

  enum class Reported { None, Up, Down };

  core::EventLoop& loop_;
  Hooks hooks_;
  config::SharedState config_;
  bool running_ = false;
  Status status_;
  Reported reported_ = Reported::None;
  std::unique_ptr<RedisConnection> sentinel_;
  std::unique_ptr<RedisConnection> conn_;  // commands
  std::unique_ptr<RedisConnection> sub_;   // the sticky channel (a subscribed connection takes no commands)
  size_t next_sentinel_ = 0;
  size_t sentinels_tried_ = 0;
  bool connecting_ = false;
  uint64_t connect_started_ms_ = 0;
  uint64_t retry_at_ms_ = 0;
  LocalTally tally_;
  std::unordered_map<std::string, StickyTouch> resync_sticky_;  // choices made while Redis was away
  std::vector<StickyEntry> fills_;  // published by other instances, posted at the next tick
  std::string channel_;
  core::Timer tick_timer_;
};

}  // namespace fulcrum::shared_state
