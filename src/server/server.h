#pragma once
// Server: the control thread. Owns the config, the listening sockets, the workers and
// the signals; builds and publishes snapshots. Later: health checks and the admin API.
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "acme/manager.h"
#include "admin/api.h"
#include "admin/control.h"
#include "admin/listener.h"
#include "admin/overrides.h"
#include "handover/inherited.h"
#include "handover/takeover.h"
#include "common/result.h"
#include "config/model.h"
#include "core/event_loop.h"
#include "server/control_socket.h"
#include "server/file_watch.h"
#include "server/listener_registry.h"
#include "server/snapshot.h"
#include "server/snapshot_builder.h"
#include "server/ticket_key_store.h"
#include "server/tls_contexts.h"
#include "server/worker.h"
#include "shared_state/service.h"
#include "upstream/cluster.h"
#include "upstream/access_log.h"
#include "upstream/health_monitor.h"

namespace fulcrum::server {

struct Options {
  std::string config_path;
  std::optional<unsigned> workers;  // --workers: unset = from the config; 0 = one per core
  // Upgrade (`fulcrum upgrade` sets these): take the listening sockets of the fulcrum whose
  // control socket is here, and tell it to drain once this one serves.
  std::string takeover_path;
  // Where to report the outcome of the takeover: one line, "ready <pid> ..." once serving;
  // closed without it on failure. -1: none.
  int ready_fd = -1;
  // Monotonic ms (CLOCK_MONOTONIC, shared by every process): after it, give up rather than
  // tell the old one to drain (the upgrade command stops waiting then). 0: none.
  uint64_t takeover_deadline_ms = 0;
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
  // readCertificates: the TLS listeners' files are read anew (start, reload); otherwise the
  // contexts in use stay (their session ticket keys and caches with them).
  Status apply(std::shared_ptr<const config::Config> config, bool quiet = false, bool readCertificates = false);
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
  // Every second: ticket keys rotated when due and re-read when their file changed; a TLS
  // listener whose certificate, key or OCSP file changed rebuilt (as a reload would, with the
  // same ticket keys) and republished; expired OCSP responses no longer stapled.
  void pollTls();
  void rebuildTls(const config::Listener& l, WatchedFiles& files);
  // A stop signal: withdraw first (timeouts.withdraw > 0), then drain; a second signal skips
  // what is left of the withdrawal, a third closes every connection.
  void beginStop(const char* why);
  // Start-up of a successor: sockets from a predecessor (takeover) and systemd; the control
  // socket; after the workers serve, the predecessor told to drain. Each returns false after
  // logging why (start-up fails then).
  bool gatherInherited(handover::InheritedSockets& inherited, std::optional<handover::Takeover>& takeover);
  bool startControlSocket(bool takeover);
  void completeTakeover(handover::Takeover& takeover);
  // The old side of an upgrade: the successor serves; stop accepting and drain.
  uint64_t handOver(pid_t successor);
  // One line to options_.ready_fd (then closed).
  void reportReady(const std::string& line);
  void beginDrain(const char* why);
  void onSignals();
  void checkStopped();
  // ACME: a manager while the config has acme names (kept across reloads that do not change
  // them); a certificate it stored is put in service by rebuilding the TLS contexts.
  void updateAcme(const config::Config& config);
  void onAcmeIssued();

  Options options_;
  core::EventLoop loop_;
  core::Fd signal_fd_;
  SignalHandler signal_handler_{*this};
  size_t worker_count_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  ListenerRegistry listeners_;
  TlsContexts tls_;  // of the snapshot in use (by listener name)
  TicketKeyStore ticket_keys_;  // by listener name, across reloads
  std::unordered_map<std::string, WatchedFiles> tls_files_;  // what tls_ was read from, by listener
  handover::InheritedSockets* inherited_ = nullptr;  // during the first apply() only
  std::unique_ptr<ControlSocket> control_;
  SnapshotBuilder snapshots_;  // with what outlives a snapshot: server states, figures, shared state
  std::shared_ptr<const Snapshot> current_;
  bool stopping_ = false;
  int exit_code_ = 0;
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
  core::Timer tls_timer_;  // pollTls()
  std::unique_ptr<shared_state::Service> shared_state_;  // Redis sync (shared rate limits, stickiness)
  // The pending ACME challenges, answered by the workers (before acme_: its thread writes them).
  std::shared_ptr<tls::AcmeChallenges> acme_challenges_ = std::make_shared<tls::AcmeChallenges>();
  std::unique_ptr<acme::Manager> acme_;
  // Totals across managers (a reload that changes the acme section starts a new one).
  uint64_t acme_failures_ = 0;
  uint64_t acme_issued_ = 0;
  uint64_t acme_failures_before_ = 0;
  uint64_t acme_issued_before_ = 0;
};

// Blocks the signals the control thread handles, in the calling thread and in every
// thread it starts afterwards. Call first thing in main().
void blockSignals();

}  // namespace fulcrum::server
