#pragma once
// The watcher (`fulcrum watch`): holds a pidfd on one Fulcrum process, so its death is seen
// the moment it happens (kill -9 included), and probes its readiness (/readyz, which fails
// when a worker's loop is stuck) every `interval_ms`. The verdict goes to keepalived's
// track_file, to BIRD (the service route announced or withdrawn), or both. docs/ha.md
// explains how keepalived and BIRD use it.
#include <sys/types.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "watch/readiness_probe.h"

namespace fulcrum::watch {

struct WatchOptions {
  pid_t pid = 0;
  ProbeTarget target;
  uint32_t interval_ms = 100;
  uint32_t timeout_ms = 100;  // for one probe, connect to answer
  uint32_t rise = 2;          // passing probes in a row before up
  uint32_t fall = 2;          // failing probes in a row before down
  std::string track_file;     // "" = none
  std::string bird_socket;    // "" = no BIRD; else its control socket
  std::string bird_protocol;  // the BIRD protocol holding the service route
  uint32_t bird_reassert_ms = 1000;  // how often the wanted state is repeated to BIRD
  // The fulcrum's control socket ("" = none). When the watched process exits, a live fulcrum
  // answering there with another pid is its successor after `fulcrum upgrade`: the watcher
  // follows it, and the verdict stays as it is. Nobody answering is a death, as without it.
  std::string control_socket;
};

// Exit codes of runWatch.
inline constexpr int kWatchStopped = 0;  // SIGTERM or SIGINT (down: track file, route withdrawn)
inline constexpr int kWatchGone = 1;     // the watched process is gone (down)
inline constexpr int kWatchFailed = 1;   // could not watch (no such process, track file not writable)

// Runs until a signal or the process's death. Logs each change of verdict (with its reason),
// and each change BIRD confirms, to `log`. Needs a track file or a BIRD socket and protocol.
// BIRD may be absent or restart at any time: the watcher reconnects every interval_ms and
// asserts its verdict again. On the way out (death, signal) it waits up to a second for
// BIRD to confirm the withdrawal.
int runWatch(const WatchOptions& options, std::ostream& log);

}  // namespace fulcrum::watch
