// fulcrum: command-line entry point. Parses the command line and hands over to the
// server (run), the config loader (check), the admin client (ctl), the upgrade (upgrade) or
// prints the version.
// Exit codes, the same for every command: 0 success, 1 failure, 2 bad usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "admin/ctl.h"
#include "common/log.h"
#include "config/loader.h"
#include "handover/control_path.h"
#include "handover/upgrade.h"
#include "server/server.h"
#include "server/tls_contexts.h"
#include "watch/announcer.h"
#include "watch/watcher.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr const char* kExitCodes =
    "Exit codes: 0 success; 1 failure (an invalid config, cannot start, the admin API refused or\n"
    "is unreachable; for watch: the watched process is gone or cannot be watched; for upgrade: the\n"
    "new binary did not take over, and the running one serves on); 2 bad usage (an\n"
    "unknown command or option, a missing or bad argument). watch ends with 0 on SIGTERM/SIGINT.";

std::string counted(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

int check(const std::string& path) {
  auto loaded = fulcrum::config::loadFile(path);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) {
      std::cerr << d.str() << "\n";
    }
    std::cerr << path << ": " << loaded.errors.size() << (loaded.errors.size() == 1 ? " error" : " errors")
              << ", the configuration is NOT valid\n";
    return kExitFailure;
  }
  const auto& c = *loaded.config;
  std::vector<std::string> tlsErrors;
  fulcrum::server::buildTlsContexts(c, static_cast<int64_t>(std::time(nullptr)), tlsErrors);
  if (!tlsErrors.empty()) {
    for (const auto& e : tlsErrors) {
      std::cerr << e << "\n";
    }
    std::cerr << path << ": " << tlsErrors.size() << (tlsErrors.size() == 1 ? " error" : " errors")
              << ", the configuration is NOT valid\n";
    return kExitFailure;
  }
  std::cout << path << ": the configuration is valid (" << counted(c.listeners.size(), "listener") << ", "
            << counted(c.pools.size(), "pool") << ")\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask and only the control
  // thread's signalfd sees SIGTERM/SIGINT/SIGHUP.
  fulcrum::server::blockSignals();

  CLI::App app{"Fulcrum: a high-availability TCP, UDP and HTTP load balancer", "fulcrum"};
  app.require_subcommand(1);
  app.footer(kExitCodes);
  app.set_version_flag("--version", std::string("fulcrum ") + FULCRUM_VERSION, "Print the version and exit");

  std::string runConfig;
  unsigned workers = 0;
  auto* run = app.add_subcommand("run", "Run in the foreground until SIGTERM/SIGINT; SIGHUP reloads the config");
  run->add_option("-c,--config", runConfig, "Config file (YAML)")->required();
  auto* workersOption =
      run->add_option("-w,--workers", workers, "Worker threads; 0 = one per core (default: the config's workers)")
          ->check(CLI::Range(0u, 1024u));
  fulcrum::server::Options runOptions;
  run->add_option("--takeover", runOptions.takeover_path,
                  "Take the listening sockets of the fulcrum whose control socket this is, then tell it to drain "
                  "(what `fulcrum upgrade` starts)");
  // Set by `fulcrum upgrade` only: hidden (an empty group).
  run->add_option("--ready-fd", runOptions.ready_fd, "")->group("")->check(CLI::Range(3, 1 << 20));
  run->add_option("--takeover-deadline", runOptions.takeover_deadline_ms, "")->group("");

  fulcrum::handover::UpgradeOptions upgradeOptions;
  unsigned upgradeWorkers = 0;
  unsigned upgradeTimeoutMs = 30000;
  auto* upgrade = app.add_subcommand(
      "upgrade",
      "Replace the running fulcrum of a config by a new binary without dropping a connection (docs/ha.md)");
  upgrade->add_option("-c,--config", upgradeOptions.config_path, "Config file (YAML) of the running fulcrum")
      ->required();
  upgrade->add_option("--binary", upgradeOptions.binary, "The new fulcrum binary (default: this one)");
  auto* upgradeWorkersOption =
      upgrade->add_option("-w,--workers", upgradeWorkers, "Worker threads of the new one (default: the config's)")
          ->check(CLI::Range(0u, 1024u));
  upgrade->add_option("--timeout", upgradeTimeoutMs, "Milliseconds the new one has to serve")
      ->check(CLI::Range(100u, 600'000u))
      ->capture_default_str();

  std::string checkConfig;
  std::string checkFile;
  auto* chk = app.add_subcommand("check", "Validate a config file: exit 0 if valid, else print every error");
  auto* checkOption = chk->add_option("-c,--config", checkConfig, "Config file (YAML)");
  chk->add_option("file", checkFile, "Config file (YAML), instead of -c")->excludes(checkOption);

  auto* version = app.add_subcommand("version", "Print the version");

  fulcrum::admin::CtlOptions ctlOptions;
  auto* ctl = app.add_subcommand("ctl", "Query and change a running fulcrum through its admin API");
  ctl->add_option("--admin", ctlOptions.admin,
                  "Admin listener [https://]host:port (default: from --config, else 127.0.0.1:9900)");
  ctl->add_option("-c,--config", ctlOptions.config_path, "Read the admin address and token from this config");
  ctl->add_option("--token", ctlOptions.token, "Bearer token (default: the config's, or $FULCRUM_ADMIN_TOKEN)");
  ctl->add_option("--cacert", ctlOptions.cacert,
                  "HTTPS: the CAs the admin's certificate must lead to (default with --config and admin.tls: "
                  "its own certificates, trusted as they are)");
  ctl->add_option("--servername", ctlOptions.servername,
                  "HTTPS: the name the admin's certificate must be for (default: the --admin address)");
  ctl->add_flag("--json", ctlOptions.json, "Print the API's JSON instead of a table");
  ctl->require_subcommand(1);
  struct CtlCommand {
    const char* name;
    const char* help;
    std::vector<const char*> args;
  };
  const std::vector<CtlCommand> commands = {
      {"status", "Servers of every pool: state, weights, connections, requests, last check", {}},
      {"listeners", "Listeners with their connection and request counts", {}},
      {"drain", "Stop new connections to a server; open ones finish", {"pool", "server"}},
      {"enable", "Undo drain and disable", {"pool", "server"}},
      {"disable", "Take a server out of service (maintenance)", {"pool", "server"}},
      {"weight", "Set a server's weight (1..256)", {"pool", "server", "weight"}},
      {"add", "Add a server to a pool", {"pool", "address"}},
      {"remove", "Remove a server from a pool; requests in flight finish", {"pool", "server"}},
      {"reset", "Drop the API changes of a pool or one server: the config file's values apply", {"pool", "server"}},
      {"reload", "Reload the config file and report the result", {}},
  };
  std::vector<std::pair<CLI::App*, const CtlCommand*>> ctlSubs;
  std::string ctlArgs[3];
  for (const auto& c : commands) {
    auto* sub = ctl->add_subcommand(c.name, c.help);
    for (size_t i = 0; i < c.args.size(); ++i) {
      // reset's server is optional (none: the whole pool).
      sub->add_option(c.args[i], ctlArgs[i], c.args[i])->required(std::string(c.name) != "reset" || i == 0);
    }
    if (std::string(c.name) == "add") {
      sub->add_option("--weight", ctlOptions.weight, "Weight (1..256)")->default_val(1);
      sub->add_option("--max-connections", ctlOptions.max_connections, "0 = unlimited");
      sub->add_flag("--backup", ctlOptions.backup, "A backup server");
    }
    ctlSubs.emplace_back(sub, &c);
  }

  fulcrum::watch::WatchOptions watchOptions;
  std::string watchUrl = "http://127.0.0.1:9900/readyz";
  auto* watch = app.add_subcommand(
      "watch", "Watch a running fulcrum (its process and /readyz); tell keepalived (track_file) and/or BIRD (docs/ha.md)");
  watch->add_option("--pid", watchOptions.pid, "The fulcrum process to watch")->required()->check(CLI::Range(1, 1 << 22));
  watch->add_option("--ready", watchUrl, "Its readiness URL (the admin listener's /readyz)")->capture_default_str();
  watch->add_option("--track-file", watchOptions.track_file, "keepalived track_file to write: 0 = ready, 1 = not");
  watch->add_option("--bird-socket", watchOptions.bird_socket,
                    "BIRD's control socket (e.g. /run/bird/bird.ctl): announce the service route only while ready");
  watch->add_option("--bird-protocol", watchOptions.bird_protocol,
                    "The BIRD protocol holding the service route (enabled = announced), e.g. fulcrum_vip");
  watch->add_option("--control-socket", watchOptions.control_socket,
                    "Its control socket (admin.control_socket; by default <config>.sock): after `fulcrum upgrade` "
                    "the watcher follows the new process instead of reading the old one's exit as a death");
  watch->add_option("--interval", watchOptions.interval_ms, "Milliseconds between readiness probes")
      ->check(CLI::Range(10u, 60'000u))
      ->capture_default_str();
  watch->add_option("--timeout", watchOptions.timeout_ms, "Milliseconds a probe may take")
      ->check(CLI::Range(10u, 60'000u))
      ->capture_default_str();
  watch->add_option("--rise", watchOptions.rise, "Passing probes in a row before ready")
      ->check(CLI::Range(1u, 100u))
      ->capture_default_str();
  watch->add_option("--fall", watchOptions.fall, "Failing probes in a row before not ready (a death: at once)")
      ->check(CLI::Range(1u, 100u))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here with 0; every usage error is 2, never CLI11's own codes.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  if (version->parsed()) {
    std::cout << "fulcrum " << FULCRUM_VERSION << "\n";
    return kExitOk;
  }
  if (chk->parsed()) {
    if (checkConfig.empty() && checkFile.empty()) {
      std::cerr << "fulcrum check: which file? Usage: fulcrum check FILE (or -c FILE)\n";
      return kExitUsage;
    }
    return check(checkConfig.empty() ? checkFile : checkConfig);
  }
  if (watch->parsed()) {
    auto target = fulcrum::watch::parseProbeUrl(watchUrl);
    if (!target) {
      std::cerr << "fulcrum watch: " << target.error().message << "\n";
      return kExitUsage;
    }
    watchOptions.target = *target;
    if (watchOptions.track_file.empty() && watchOptions.bird_socket.empty()) {
      std::cerr << "fulcrum watch: nothing to tell: give --track-file (keepalived), --bird-socket and "
                   "--bird-protocol (BIRD), or both\n";
      return kExitUsage;
    }
    if (watchOptions.bird_socket.empty() != watchOptions.bird_protocol.empty()) {
      std::cerr << "fulcrum watch: --bird-socket and --bird-protocol go together\n";
      return kExitUsage;
    }
    if (!watchOptions.bird_protocol.empty() && !fulcrum::watch::validProtocolName(watchOptions.bird_protocol)) {
      std::cerr << "fulcrum watch: --bird-protocol: not a BIRD protocol name (a letter, then letters, digits, _): \""
                << watchOptions.bird_protocol << "\"\n";
      return kExitUsage;
    }
    return fulcrum::watch::runWatch(watchOptions, std::cerr);
  }
  if (upgrade->parsed()) {
    auto loaded = fulcrum::config::loadFile(upgradeOptions.config_path);
    if (!loaded.ok()) {
      for (const auto& d : loaded.errors) {
        std::cerr << d.str() << "\n";
      }
      std::cerr << "fulcrum upgrade: " << upgradeOptions.config_path
                << " is not valid, so no new fulcrum was started; the running one serves on\n";
      return kExitFailure;
    }
    upgradeOptions.control_socket =
        fulcrum::handover::controlSocketPath(loaded.config->admin, upgradeOptions.config_path);
    if (upgradeWorkersOption->count() > 0) {
      upgradeOptions.workers = upgradeWorkers;
    }
    upgradeOptions.timeout = std::chrono::milliseconds(upgradeTimeoutMs);
    return fulcrum::handover::runUpgrade(upgradeOptions, std::cout, std::cerr) == 0 ? kExitOk : kExitFailure;
  }
  if (ctl->parsed()) {
    for (const auto& [sub, c] : ctlSubs) {
      if (sub->parsed()) {
        ctlOptions.command = c->name;
        ctlOptions.args.assign(ctlArgs, ctlArgs + c->args.size());
      }
    }
    return fulcrum::admin::runCtl(ctlOptions, std::cout, std::cerr);
  }
  try {
    fulcrum::server::Options options = runOptions;
    options.config_path = runConfig;
    if (workersOption->count() > 0) {
      options.workers = workers;
    }
    fulcrum::server::Server server(options);
    return server.run() == 0 ? kExitOk : kExitFailure;
  } catch (const std::exception& e) {
    fulcrum::log::error("fatal", {{"error", e.what()}});
    return kExitFailure;
  }
}
