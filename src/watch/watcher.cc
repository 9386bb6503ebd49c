#include "watch/watcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/time.h"
#include "core/fd.h"
#include "watch/track_file.h"
#include "watch/verdict.h"

namespace fulcrum::watch {

int runWatch(const WatchOptions& o, std::ostream& log) {
  // A pidfd becomes readable when the process exits: no polling, no PID reuse race.
  core::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, o.pid, 0)));
  if (pidfd.get() < 0) {
    log << "fulcrum watch: cannot watch process " << o.pid << ": " << std::strerror(errno) << "\n";
    (void)writeTrackFile(o.track_file, false);
    return kWatchFailed;
  }
  if (Status s = writeTrackFile(o.track_file, false); !s) {
    log << "fulcrum watch: " << s.message() << "\n";
    return kWatchFailed;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  core::Fd sigfd(::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK));
  log << "fulcrum watch: watching process " << o.pid << ", readiness http://" << o.target.host_header
      << o.target.path << " every " << o.interval_ms << " ms; " << o.track_file << " says down until it is ready\n";
  log.flush();

  Verdict verdict(o.rise, o.fall);
  auto publish = [&](const char* why) {
    if (Status s = writeTrackFile(o.track_file, verdict.up()); !s) {
      log << "fulcrum watch: " << s.message() << "\n";
    }
    log << "fulcrum watch: " << (verdict.up() ? "up" : "down") << " (" << why << ")\n";
    log.flush();
  };
  std::string lastFailure;
  uint64_t nextProbe = monoMicros() / 1000;
  for (;;) {
    uint64_t now = monoMicros() / 1000;
    int wait = nextProbe > now ? static_cast<int>(nextProbe - now) : 0;
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
    int n = ::poll(fds, sigfd.get() >= 0 ? 2 : 1, wait);
    if (n < 0 && errno != EINTR) {
      log << "fulcrum watch: poll: " << std::strerror(errno) << "\n";
      verdict.onDeath();
      publish("watcher failed");
      return kWatchFailed;
    }
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      verdict.onDeath();
      publish("the process is gone");
      return kWatchGone;
    }
    if (n > 0 && sigfd.get() >= 0 && (fds[1].revents & POLLIN)) {
      verdict.onDeath();
      publish("the watcher was stopped");
      return kWatchStopped;
    }
    if (monoMicros() / 1000 < nextProbe) {
      continue;
    }
    nextProbe = monoMicros() / 1000 + o.interval_ms;
    ProbeOutcome r = probe(o.target, o.timeout_ms);
    if (!r.passed) {
      lastFailure = r.reason;
    }
    if (verdict.onProbe(r.passed)) {
      publish(verdict.up() ? "ready" : ("not ready: " + lastFailure).c_str());
    }
  }
}

}  // namespace fulcrum::watch
