#include "server/server.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "config/loader.h"

namespace fulcrum::server {

namespace {
constexpr uint64_t kStopPollMs = 20;

sigset_t handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Each connection costs two fds and more; take all the kernel allows.
void raiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string describe(const config::Config& c) {
  return std::to_string(c.listeners.size()) + " listeners, " + std::to_string(c.pools.size()) + " pools";
}
}  // namespace

void blockSignals() {
  sigset_t set = handledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

Server::Server(Options options) : options_(std::move(options)), stop_poll_([this] { checkStopped(); }) {}

Server::~Server() {
  for (auto& w : workers_) {
    w->forceStop();
    w->join();
  }
}

int Server::run() {
  raiseFdLimit();
  auto loaded = config::loadFile(options_.config_path);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) {
      log::error("config error", {{"error", d.str()}});
    }
    log::error("not started: the config has errors", {{"config", options_.config_path}, {"errors", loaded.errors.size()}});
    return 1;
  }
  log::Level level;
  if (log::parseLevel(loaded.config->log_level, level)) {
    log::setLevel(level);
  }
  worker_count_ = options_.workers ? options_.workers : loaded.config->workers;
  if (worker_count_ == 0) {
    worker_count_ = std::max(1u, std::thread::hardware_concurrency());
  }

  sigset_t set = handledSignals();
  signal_fd_ = core::Fd(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_ || !loop_.add(signal_fd_.get(), EPOLLIN | EPOLLET, &signal_handler_)) {
    log::error("cannot set up signal handling", {{"error", std::strerror(errno)}});
    return 1;
  }

  for (size_t i = 0; i < worker_count_; ++i) {
    workers_.push_back(std::make_unique<Worker>(i));
  }
  upstream::HealthMonitor::Hooks hooks;
  hooks.republish = [this] { republish(); };
  hooks.close_sessions = [this](std::shared_ptr<upstream::HostState> state) {
    for (auto& w : workers_) {
      w->closeSessionsTo(state);
    }
  };
  health_ = std::make_unique<upstream::HealthMonitor>(loop_, std::move(hooks));
  if (auto st = apply(loaded.config); !st) {
    log::error("not started", {{"error", st.message()}});
    return 1;
  }
  for (auto& w : workers_) {
    w->start();
  }
  log::info("fulcrum started", {{"version", FULCRUM_VERSION},
                                {"config", options_.config_path},
                                {"workers", worker_count_},
                                {"pid", static_cast<long>(getpid())}});
  loop_.run();
  for (auto& w : workers_) {
    w->join();
  }
  workers_.clear();
  health_.reset();
  log::info("fulcrum stopped");
  return 0;
}

Status Server::apply(std::shared_ptr<const config::Config> config, bool quiet) {
  auto sockets = listeners_.prepare(*config, worker_count_);
  if (!sockets) {
    return sockets.error();
  }
  auto snap = std::make_shared<Snapshot>();
  snap->version = ++version_;
  snap->config = config;
  uint64_t now = loop_.nowMs();
  std::vector<std::shared_ptr<const upstream::Cluster>> clusters;
  for (const auto& pool : config->pools) {
    auto c = hosts_.build(pool, now, version_ == 1);
    snap->clusters[pool.name] = c;
    clusters.push_back(std::move(c));
  }
  for (const auto& l : config->listeners) {
    Snapshot::ListenerEntry entry{sockets->at(l.name), nullptr, nullptr};
    if (l.protocol == config::Protocol::Http) {
      // Rate-limit buckets and per-client counts outlive the snapshot (kept by name).
      auto& shared = http_state_[l.name];
      if (!shared) {
        shared = std::make_shared<http::SharedListenerState>();
      }
      entry.http = http::buildRuntime(config, l, snap->clusters, shared);
    } else {
      auto rt = std::make_shared<l4::ListenerRuntime>();
      rt->config = config;
      rt->listener = &l;
      rt->cluster = snap->clusters.at(l.pool);
      entry.runtime = std::move(rt);
    }
    snap->listeners.push_back(std::move(entry));
    if (quiet) {
      continue;
    }
    log::info("listener", {{"name", l.name},
                           {"bind", l.bind.text},
                           {"protocol", l.protocol == config::Protocol::Udp    ? "udp"
                                        : l.protocol == config::Protocol::Http ? "http"
                                                                               : "tcp"},
                           {"pool", l.pool},
                           {"routes", l.http.routes.size()}});
  }
  for (auto it = http_state_.begin(); it != http_state_.end();) {
    bool live = false;
    for (const auto& l : config->listeners) {
      live = live || (l.name == it->first && l.protocol == config::Protocol::Http);
    }
    it = live ? std::next(it) : http_state_.erase(it);
  }
  listeners_.commit(*sockets);
  current_ = snap;
  for (auto& w : workers_) {
    w->publish(snap);
  }
  hosts_.prune();
  health_->update(clusters, static_cast<uint64_t>(config->timeouts.drain.count()));
  if (quiet) {
    log::debug("snapshot republished", {{"version", snap->version}});
    return {};
  }
  log::info("config applied", {{"version", snap->version}, {"config", config->source}, {"summary", describe(*config)}});
  return {};
}

void Server::reload() {
  log::info("reload requested", {{"config", options_.config_path}});
  auto loaded = config::loadFile(options_.config_path);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) {
      log::error("config error", {{"error", d.str()}});
    }
    log::error("reload rejected: the running config keeps serving",
               {{"errors", loaded.errors.size()}, {"version", version_}});
    return;
  }
  if (auto st = apply(loaded.config); !st) {
    log::error("reload rejected: the running config keeps serving", {{"error", st.message()}, {"version", version_}});
    return;
  }
  log::Level level;
  if (log::parseLevel(loaded.config->log_level, level)) {
    log::setLevel(level);
  }
}

void Server::republish() {
  // Coalesce: checks and ramps may ask many times in one turn.
  if (republish_pending_ || stopping_) {
    return;
  }
  republish_pending_ = true;
  loop_.post([this] {
    republish_pending_ = false;
    if (current_ && !stopping_) {
      if (auto st = apply(current_->config, true); !st) {
        log::error("republish failed", {{"error", st.message()}});
      }
    }
  });
}

void Server::beginStop(const char* why) {
  if (stopping_) {
    log::warn("second stop signal: closing every connection now");
    for (auto& w : workers_) {
      w->forceStop();
    }
    return;
  }
  stopping_ = true;
  health_->stop();
  uint64_t drain = current_ ? static_cast<uint64_t>(current_->config->timeouts.drain.count()) : 0;
  log::info("stopping: no new connections, open ones may finish", {{"signal", why}, {"drain_ms", drain}});
  for (auto& w : workers_) {
    w->drain(drain);
  }
  // Workers drop their references when they drain; this closes the sockets for good.
  listeners_.clear();
  current_.reset();
  checkStopped();
}

void Server::checkStopped() {
  for (auto& w : workers_) {
    if (!w->finished()) {
      loop_.timers().schedule(stop_poll_, kStopPollMs);
      return;
    }
  }
  loop_.stop();
}

void Server::onSignals() {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
    switch (info.ssi_signo) {
      // Run after this epoll batch: both destroy handlers (checkers, probes) that may
      // still have events queued in it.
      case SIGHUP:
        loop_.post([this] {
          if (!stopping_) {
            reload();
          }
        });
        break;
      case SIGTERM:
        loop_.post([this] { beginStop("SIGTERM"); });
        break;
      case SIGINT:
        loop_.post([this] { beginStop("SIGINT"); });
        break;
      default:
        break;
    }
  }
}

}  // namespace fulcrum::server
