#pragma once
// What the admin API sees of the running server (View, read-only) and may ask of it
// (Control). The server implements Control; admin never reaches into it otherwise.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/overrides.h"
#include "config/model.h"
#include "shared_state/service.h"
#include "stats/counters.h"
#include "upstream/cluster.h"
#include "upstream/health_monitor.h"

namespace fulcrum::admin {

// A certificate a TLS listener serves, for its expiry gauge.
struct CertificateView {
  std::string file;
  std::string names;   // comma-separated
  int64_t not_after = 0;  // unix seconds
};

struct ListenerView {
  const config::Listener* config = nullptr;
  std::vector<CertificateView> certificates;
  std::shared_ptr<stats::TrafficSet> stats;
  std::vector<std::shared_ptr<stats::TrafficSet>> routes;  // parallel to config->http.routes
};

struct View {
  std::shared_ptr<const config::Config> config;       // the merged config (file + API changes)
  std::shared_ptr<const config::Config> file_config;  // the config file alone, as last loaded
  Overrides api_overrides;                            // the API changes, each differing from the file
  std::vector<ListenerView> listeners;
  std::vector<std::shared_ptr<const upstream::Cluster>> clusters;  // in config order
  const upstream::HealthMonitor* health = nullptr;
  uint64_t now_ms = 0;           // the control loop's clock (ejections, slow start)
  uint64_t generation = 0;       // +1 on each reload or API change applied
  std::string checksum;          // of the running config: file bytes + API changes
  std::string file_checksum;     // of the config file's bytes
  std::string config_path;
  std::string state_file;
  size_t overrides = 0;          // servers changed through the API
  double start_time = 0;         // unix seconds
  double now = 0;                // unix seconds, when the view was taken
  double last_reload_time = 0;   // unix seconds of the last successful apply
  size_t workers = 0;
  std::vector<uint64_t> worker_beats;  // when each worker's loop last turned (now_ms's clock)
  uint64_t reloads_ok = 0;
  uint64_t reloads_failed = 0;
  bool serving = true;           // false once stopping
  const shared_state::Status* shared_state = nullptr;  // null when the process has none
  bool withdrawing = false;      // stopping, still accepting until timeouts.withdraw ends
  bool acme = false;             // ACME certificates are managed
  uint64_t acme_failures = 0;    // orders that failed (each retried after a backoff)
  uint64_t acme_issued = 0;      // certificates obtained and stored
};

struct ReloadOutcome {
  bool ok = false;
  std::vector<std::string> errors;  // file:line:column: message
  std::vector<std::string> notes;   // API changes dropped because the file no longer has their target
  std::vector<std::string> shadowed;  // every file value an API change hides (overrides.h shadowed())
  uint64_t generation = 0;
};

class Control {
 public:
  virtual ~Control() = default;
  virtual View view() = 0;
  // All or nothing: validated, published, saved to the state file, audited.
  virtual std::optional<ApiError> change(const std::vector<Change>& changes, const std::string& actor) = 0;
  // Rereads the config file and the state file (so an edited or deleted state file counts).
  virtual ReloadOutcome reload(const std::string& actor) = 0;
  // Drops API changes (resetOverrides() in overrides.h) so the file's values apply; applied,
  // saved and audited as change() is. `cleared`: servers whose changes went.
  virtual std::optional<ApiError> reset(const std::string& pool, const std::string& server, const std::string& actor,
                                        size_t& cleared) = 0;
};

}  // namespace fulcrum::admin
