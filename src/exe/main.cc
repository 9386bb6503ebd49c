// fulcrum: command-line entry point. Parses the command line and hands over to the
// server (run), the config loader (check) or prints the version.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "common/log.h"
#include "config/loader.h"
#include "server/server.h"

namespace {

int check(const std::string& path) {
  auto loaded = fulcrum::config::loadFile(path);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) {
      std::cerr << d.str() << "\n";
    }
    std::cerr << path << ": " << loaded.errors.size() << (loaded.errors.size() == 1 ? " error" : " errors")
              << ", the configuration is NOT valid\n";
    return 1;
  }
  const auto& c = *loaded.config;
  std::cout << path << ": the configuration is valid (" << c.listeners.size() << " listeners, " << c.pools.size()
            << " pools)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask and only the control
  // thread's signalfd sees SIGTERM/SIGINT/SIGHUP.
  fulcrum::server::blockSignals();

  CLI::App app{"Fulcrum: a high-availability TCP/UDP load balancer", "fulcrum"};
  app.require_subcommand(1);

  std::string runConfig;
  unsigned workers = 0;
  auto* run = app.add_subcommand("run", "Run in the foreground until SIGTERM/SIGINT; SIGHUP reloads the config");
  run->add_option("-c,--config", runConfig, "Config file (YAML)")->required();
  run->add_option("-w,--workers", workers, "Worker threads (default: from the config, else one per core)")
      ->check(CLI::Range(1u, 1024u));

  std::string checkConfig;
  auto* chk = app.add_subcommand("check", "Validate a config file: exit 0 if valid, else print every error");
  chk->add_option("-c,--config", checkConfig, "Config file (YAML)")->required();

  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) {
    std::cout << "fulcrum " << FULCRUM_VERSION << "\n";
    return 0;
  }
  if (chk->parsed()) {
    return check(checkConfig);
  }
  try {
    fulcrum::server::Server server({runConfig, workers});
    return server.run();
  } catch (const std::exception& e) {
    fulcrum::log::error("fatal", {{"error", e.what()}});
    return 1;
  }
}
