#pragma once
// Server: the control thread. Owns the config, the listening sockets, the workers and
// the signals; builds and publishes snapshots. Later: health checks and the admin API.
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "admin/api.h"
#include "admin/control.h"
#include "admin/listener.h"
#include "admin/overrides.h"
#include "common/result.h"
#include "config/model.h"
#include "core/event_loop.h"
#include "server/listener_registry.h"
#include "server/snapshot.h"
#include "server/snapshot_builder.h"
#include "server/worker.h"
#include "upstream/cluster.h"
#include "upstream/access_log.h"
#include "upstream/health_monitor.h"

namespace fulcrum::server {

struct Options {
  std::string config_path;
  std::optional<unsigned> workers;  // --workers: unset = from the config; 0 = one per core
};

class Server : public admin::Control {
 public:
  explicit Server(Options options);
  ~Server() override;
  // Loads the config, binds, starts workers and serves until SIGTERM/SIGINT; returns
  // the process exit code. Signals must be blocked in every thread before it is called.
  int run();

  // admin::Control (control thread).
  admin::View view() override;
  std::optional<admin::ApiError> change(const std::vector<admin::Change>& changes, const std::string& actor) override;
  admin::ReloadOutcome reload(const std::string& actor) override;
  std::optional<admin::ApiError> reset(const std::string& pool, const std::string& server, const std::string& actor,
                                       size_t& cleared) override;

 private:
  struct SignalHandler : core::IoHandler {
    explicit SignalHandler(Server& s) : server(s) {}
    void onIoEvents(uint32_t) override { server.onSignals(); }
    Server& server;
  };

  // Binds, builds and publishes a snapshot of config; on failure nothing changes.
  // quiet: a republish of the same config (new effective weights), logged at debug.
  Status apply(std::shared_ptr<const config::Config> config, bool quiet = false);
  // Effective weights changed (slow start, agent): the same config, rebuilt.
  void republish();
  // The state file's API changes; none when there is no state file. An error says
  // "file:line:column: what".
  Result<admin::Overrides> readState();
  // Publishes file_config_ with `next` merged on, saves `next` to the state file and audits;
  // on any failure the running config stays as it was.
  std::optional<admin::ApiError> commitOverrides(admin::Overrides next, const std::string& actor,
                                                 const std::string& action, const std::string& summary);
  // Writes the state file atomically (temp file, fsync, rename).
  Status saveState(const admin::Overrides& o);
  void audit(const std::string& actor, const std::string& action, const std::string& detail, bool ok);
  Status updateAccessLog(const config::Config& config);
  // Every second: the servers' request and connection rates for the API.
  void sampleRates();
  // A stop signal: withdraw first (timeouts.withdraw > 0), then drain; a second signal skips
  // what is left of the withdrawal, a third closes every connection.
  void beginStop(const char* why);
  void beginDrain(const char* why);
  void onSignals();
  void checkStopped();

  Options options_;
  core::EventLoop loop_;
  core::Fd signal_fd_;
  SignalHandler signal_handler_{*this};
  size_t worker_count_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  ListenerRegistry listeners_;
  SnapshotBuilder snapshots_;  // with what outlives a snapshot: server states, figures, shared state
  std::shared_ptr<const Snapshot> current_;
  bool stopping_ = false;
  bool withdrawing_ = false;  // unready and still accepting, until withdraw_timer_ (timeouts.withdraw)
  core::Timer withdraw_timer_;
  bool republish_pending_ = false;
  std::unique_ptr<upstream::HealthMonitor> health_;
  core::Timer stop_poll_;
  // Observability and the admin API.
  std::shared_ptr<upstream::AccessLog> access_log_;
  std::shared_ptr<const config::Config> file_config_;  // the config file as last loaded
  admin::Overrides overrides_;                         // API changes on top of it
  config::Admin admin_config_;                         // as at start-up (changes need a restart)
  std::string state_path_;
  std::string audit_path_;
  std::string file_checksum_;
  std::unique_ptr<admin::Api> api_;
  std::unique_ptr<admin::AdminListener> admin_listener_;
  uint64_t generation_ = 0;
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
  double start_time_ = 0;
  double last_reload_time_ = 0;
  core::Timer rate_timer_;
};

// Blocks the signals the control thread handles, in the calling thread and in every
// thread it starts afterwards. Call first thing in main().
void blockSignals();

}  // namespace fulcrum::server
