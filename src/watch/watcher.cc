#include "watch/watcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/time.h"
#include "core/fd.h"
#include "handover/channel.h"
#include "handover/wire.h"
#include "watch/announcer.h"
#include "watch/bird_control.h"
#include "watch/track_file.h"
#include "watch/verdict.h"

namespace fulcrum::watch {

namespace {

uint64_t nowMs() { return monoMicros() / 1000; }

// The pid of the fulcrum that answers on the control socket at path, if it is not `gone` and
// not stopping: the successor an upgrade left there; else 0. A socket nobody listens on (the
// dead process's) refuses at once, so a death is not delayed.
pid_t successorAt(const std::string& path, pid_t gone) {
  auto channel = handover::Channel::connect(path);
  if (!channel || !channel->send(handover::encodeStatusRequest())) {
    return 0;
  }
  auto reply = channel->receive(std::chrono::milliseconds(200));
  if (!reply) {
    return 0;
  }
  auto m = handover::parseMessage(reply->text);
  if (!m || m->verb != "running" || m->args.size() < 3 || m->args[2] == "stopping") {
    return 0;
  }
  pid_t pid = static_cast<pid_t>(std::atol(m->args[0].c_str()));
  return pid > 0 && pid != gone ? pid : 0;
}

core::Fd openPidfd(pid_t pid) { return core::Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

// The BIRD side: the connection, the announcer, reconnection and the log of what changed.
class BirdLink {
 public:
  BirdLink(const WatchOptions& o, std::ostream& log)
      : control_(o.bird_socket), announcer_(o.bird_protocol, o.bird_reassert_ms), retry_ms_(o.interval_ms), log_(log) {}

  int fd() const { return control_.fd(); }
  void setWanted(bool up) {
    announcer_.setWanted(up);
    pump();
  }
  // Connects when due (not connected, retry time reached).
  void tick() {
    if (!control_.connected() && nowMs() >= next_connect_ms_) {
      next_connect_ms_ = nowMs() + retry_ms_;
      if (Status s = control_.connect(); !s) {
        if (!outage_logged_) {
          say(s.message() + " (retrying every " + std::to_string(retry_ms_) + " ms)");
          outage_logged_ = true;
        }
        return;
      }
    }
    pump();
  }
  // The socket is readable (or hung up).
  void onReadable() {
    bool wasGreeted = control_.greeted();
    std::vector<BirdReply> replies;
    Status s = control_.read(replies);
    if (!wasGreeted && control_.greeted()) {
      outage_logged_ = false;
      announcer_.onConnected();
      say("connected to BIRD at " + control_.path() + "; asserting: route " +
          (announcer_.wanted() ? "announced" : "withdrawn"));
    }
    for (const auto& r : replies) {
      if (std::string line = announcer_.onReply(r, nowMs()); !line.empty()) {
        say(line);
      }
    }
    if (!s) {
      announcer_.onDisconnected();
      say(s.message() + "; reconnecting");
      outage_logged_ = true;
      next_connect_ms_ = nowMs() + retry_ms_;
      return;
    }
    pump();
  }
  // Waits (bounded) until BIRD confirms the wanted state: the last word before exiting.
  void settle(uint64_t limitMs) {
    uint64_t deadline = nowMs() + limitMs;
    while (!announcer_.settled() && control_.connected() && nowMs() < deadline) {
      pump();
      pollfd p{control_.fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(deadline - nowMs())) > 0) {
        onReadable();
      }
    }
  }
  // When the next reconnection or re-assertion is due, for the poll timeout.
  uint64_t dueMs() const { return control_.connected() ? nowMs() + 50 : next_connect_ms_; }

 private:
  void pump() {
    if (!control_.greeted()) {
      return;
    }
    if (std::string cmd = announcer_.next(nowMs()); !cmd.empty()) {
      if (Status s = control_.send(cmd); !s) {
        announcer_.onDisconnected();
        say(s.message() + "; reconnecting");
      }
    }
  }
  void say(const std::string& line) {
    log_ << "fulcrum watch: " << line << "\n";
    log_.flush();
  }

  BirdControl control_;
  Announcer announcer_;
  uint64_t retry_ms_;
  std::ostream& log_;
  uint64_t next_connect_ms_ = 0;
  bool outage_logged_ = false;
};

}  // namespace

int runWatch(const WatchOptions& o, std::ostream& log) {
  std::unique_ptr<BirdLink> bird;
  if (!o.bird_socket.empty()) {
    bird = std::make_unique<BirdLink>(o, log);
    bird->tick();  // withdrawn from the start, as bird.conf's `disabled` also says
  }
  auto writeDown = [&] {
    if (!o.track_file.empty()) {
      (void)writeTrackFile(o.track_file, false);
    }
  };
  // A pidfd becomes readable when the process exits: no polling, no PID reuse race.
  pid_t watched = o.pid;
  core::Fd pidfd = openPidfd(watched);
  if (pidfd.get() < 0) {
    log << "fulcrum watch: cannot watch process " << o.pid << ": " << std::strerror(errno) << "\n";
    writeDown();
    if (bird) {
      bird->settle(1000);
    }
    return kWatchFailed;
  }
  if (!o.track_file.empty()) {
    if (Status s = writeTrackFile(o.track_file, false); !s) {
      log << "fulcrum watch: " << s.message() << "\n";
      return kWatchFailed;
    }
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  core::Fd sigfd(::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK));
  log << "fulcrum watch: watching process " << o.pid << ", readiness http://" << o.target.host_header
      << o.target.path << " every " << o.interval_ms << " ms; ";
  if (!o.track_file.empty()) {
    log << o.track_file << " says down";
  }
  if (bird) {
    log << (o.track_file.empty() ? "" : " and ") << "BIRD protocol " << o.bird_protocol << " (" << o.bird_socket
        << ") stays disabled";
  }
  log << " until it is ready\n";
  log.flush();

  Verdict verdict(o.rise, o.fall);
  // BIRD first: a withdrawal is the one thing that must not wait for a file write.
  auto publish = [&](const char* why) {
    if (bird) {
      bird->setWanted(verdict.up());
    }
    if (!o.track_file.empty()) {
      if (Status s = writeTrackFile(o.track_file, verdict.up()); !s) {
        log << "fulcrum watch: " << s.message() << "\n";
      }
    }
    log << "fulcrum watch: " << (verdict.up() ? "up" : "down") << " (" << why << ")\n";
    log.flush();
  };
  auto leave = [&](const char* why, int code) {
    verdict.onDeath();
    publish(why);
    if (bird) {
      bird->settle(1000);
    }
    return code;
  };
  std::string lastFailure;
  uint64_t nextProbe = nowMs();
  for (;;) {
    if (bird) {
      bird->tick();
    }
    uint64_t now = nowMs();
    uint64_t due = nextProbe;
    if (bird) {
      due = std::min(due, bird->dueMs());
    }
    int wait = due > now ? static_cast<int>(due - now) : 0;
    pollfd fds[3] = {{pidfd.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}, {bird ? bird->fd() : -1, POLLIN, 0}};
    int n = ::poll(fds, 3, wait);
    if (n < 0 && errno != EINTR) {
      log << "fulcrum watch: poll: " << std::strerror(errno) << "\n";
      return leave("watcher failed", kWatchFailed);
    }
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      pid_t next = o.control_socket.empty() ? 0 : successorAt(o.control_socket, watched);
      core::Fd nextFd = next > 0 ? openPidfd(next) : core::Fd();
      if (nextFd.get() < 0) {
        return leave("the process is gone", kWatchGone);
      }
      log << "fulcrum watch: process " << watched << " exited after an upgrade; watching its successor, process "
          << next << " (it answers on " << o.control_socket << ")\n";
      log.flush();
      watched = next;
      pidfd = std::move(nextFd);
      continue;
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      return leave("the watcher was stopped", kWatchStopped);
    }
    if (n > 0 && fds[2].fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      bird->onReadable();
    }
    if (nowMs() < nextProbe) {
      continue;
    }
    nextProbe = nowMs() + o.interval_ms;
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
