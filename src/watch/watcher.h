#pragma once
// The watcher (`fulcrum watch`): holds a pidfd on one Fulcrum process, so its death is seen
// the moment it happens (kill -9 included), and probes its readiness (/readyz, which fails
// when a worker's loop is stuck) every `interval_ms`. The verdict goes to keepalived's
// track_file. docs/ha.md explains how keepalived uses it.
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
  std::string track_file;
};

// Exit codes of runWatch.
inline constexpr int kWatchStopped = 0;  // SIGTERM or SIGINT (the track file says down)
inline constexpr int kWatchGone = 1;     // the watched process is gone (the track file says down)
inline constexpr int kWatchFailed = 1;   // could not watch (no such process, track file not writable)

// Runs until a signal or the process's death. Logs each change of verdict (with its reason)
// to `log`.
int runWatch(const WatchOptions& options, std::ostream& log);

}  // namespace fulcrum::watch
