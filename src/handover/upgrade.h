#pragma once
// `fulcrum upgrade`: replaces the running fulcrum of a config by a new binary without
// dropping a connection. It checks that one answers on its control socket, starts the new
// binary (`run --takeover`), which takes the listening sockets and, once it serves, tells the
// old one to drain; this command waits for its report and says what happened. A new binary
// that fails (bad config, crash, too slow) leaves the old one serving; the command says why.
#include <chrono>
#include <optional>
#include <ostream>
#include <string>

namespace fulcrum::handover {

struct UpgradeOptions {
  std::string config_path;     // passed to the new binary as is (relative: to our directory)
  std::string control_socket;  // the running fulcrum's
  std::string binary;          // the new fulcrum; empty = this program (/proc/self/exe)
  std::optional<unsigned> workers;
  std::chrono::milliseconds timeout{30000};  // for the new one to serve
};

// Exit code: 0 the new one serves and the old one drains; 1 failure (the old one serves on).
// The new process's log goes to this process's stderr (it inherits it).
int runUpgrade(const UpgradeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace fulcrum::handover
