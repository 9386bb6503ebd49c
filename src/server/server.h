#pragma once
// Server: the control thread. Owns the config, the listening sockets, the workers and
// the signals; builds and publishes snapshots. Later: health checks and the admin API.
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/model.h"
#include "core/event_loop.h"
#include "server/listener_registry.h"
#include "server/snapshot.h"
#include "server/worker.h"
#include "upstream/cluster.h"
#include "upstream/health_monitor.h"

namespace fulcrum::server {

struct Options {
  std::string config_path;
  unsigned workers = 0;  // 0: from the config, else one per core
};

class Server {
 public:
  explicit Server(Options options);
  ~Server();
  // Loads the config, binds, starts workers and serves until SIGTERM/SIGINT; returns
  // the process exit code. Signals must be blocked in every thread before it is called.
  int run();

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
  void reload();
  void beginStop(const char* why);
  void onSignals();
  void checkStopped();

  Options options_;
  core::EventLoop loop_;
  core::Fd signal_fd_;
  SignalHandler signal_handler_{*this};
  size_t worker_count_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  ListenerRegistry listeners_;
  upstream::HostRegistry hosts_;
  std::unordered_map<std::string, std::shared_ptr<http::SharedListenerState>> http_state_;  // by listener name
  std::shared_ptr<const Snapshot> current_;
  uint64_t version_ = 0;
  bool stopping_ = false;
  bool republish_pending_ = false;
  std::unique_ptr<upstream::HealthMonitor> health_;
  core::Timer stop_poll_;
};

// Blocks the signals the control thread handles, in the calling thread and in every
// thread it starts afterwards. Call first thing in main().
void blockSignals();

}  // namespace fulcrum::server
