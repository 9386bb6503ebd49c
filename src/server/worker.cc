#include "server/worker.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <pthread.h>
#include <unordered_set>

#include "common/log.h"
#include "l4/tcp_session.h"

namespace fulcrum::server {

namespace {
constexpr uint64_t kDrainPollMs = 20;
constexpr uint64_t kLogFlushMs = 100;
}

Worker::Worker(size_t index)
    : index_(index),
      ctx_(loop_, index),
      drain_timer_([this] { checkDrained(); }),
      flush_timer_([this] { flushAccessLog(); }),
      beat_timer_([this] { beat(); }) {}

void Worker::beat() {
  beat_ms_.store(loop_.clock().nowMs(), std::memory_order_relaxed);
  loop_.timers().schedule(beat_timer_, kBeatMs);
}

void Worker::flushAccessLog() {
  if (snapshot_ && snapshot_->access_log) {
    snapshot_->access_log->flush(index_);
    loop_.timers().schedule(flush_timer_, kLogFlushMs);
  }
}

Worker::~Worker() { join(); }

void Worker::start() {
  beat_ms_.store(loop_.clock().nowMs(), std::memory_order_relaxed);
  thread_ = std::thread([this] {
    // Named so an operator (and the stuck-worker test) can find it: "fulcrum-w0", ...
    std::string name = "fulcrum-w" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    beat();
    loop_.run();
    // Leave no frontend or flow behind that refers to this loop.
    stopFrontends();
    if (snapshot_ && snapshot_->access_log) {
      snapshot_->access_log->flush(index_);
    }
    loop_.timers().cancel(flush_timer_);
    loop_.timers().cancel(beat_timer_);
    snapshot_.reset();
    finished_.store(true);
  });
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Worker::publish(std::shared_ptr<const Snapshot> snapshot) {
  loop_.post([this, snapshot = std::move(snapshot)]() mutable { apply(std::move(snapshot)); });
}

void Worker::apply(std::shared_ptr<const Snapshot> snapshot) {
  if (ctx_.draining) {
    return;
  }
  std::unordered_set<const ListenSocketGroup*> live;
  for (const auto& entry : snapshot->listeners) {
    const ListenSocketGroup* group = entry.sockets.get();
    live.insert(group);
    int fd = group->fds[index_].get();
    if (entry.http) {
      // (A listener that changed between tcp and http keeps its socket but not its frontend.)
      if (auto old = tcp_.find(group); old != tcp_.end()) {
        old->second->stop();
        tcp_.erase(old);
      }
      auto& fe = http_[group];
      if (!fe) {
        fe = std::make_shared<http::HttpFrontend>(ctx_, fd, entry.sockets);
      }
      fe->update(entry.http);
      if (!fe->start()) {
        log::error("cannot watch listening socket; this worker will not accept on it",
                   {{"worker", index_}, {"listener", entry.http->listener->name}, {"errno", std::strerror(errno)}});
      }
    } else if (group->protocol != config::Protocol::Udp) {
      if (auto old = http_.find(group); old != http_.end()) {
        old->second->stop();
        http_.erase(old);
      }
      auto& fe = tcp_[group];
      if (!fe) {
        fe = std::make_shared<l4::TcpFrontend>(ctx_, fd, entry.sockets);
      }
      fe->update(entry.runtime);
      if (!fe->start()) {
        log::error("cannot watch listening socket; this worker will not accept on it",
                   {{"worker", index_}, {"listener", entry.runtime->listener->name}, {"errno", std::strerror(errno)}});
      }
    } else {
      auto& fe = udp_[group];
      if (!fe) {
        fe = std::make_unique<l4::UdpFrontend>(ctx_, fd, entry.sockets);
      }
      fe->update(entry.runtime);
      if (!fe->start()) {
        log::error("cannot watch listening socket; this worker will not receive on it",
                   {{"worker", index_}, {"listener", entry.runtime->listener->name}, {"errno", std::strerror(errno)}});
      }
    }
  }
  for (auto it = tcp_.begin(); it != tcp_.end();) {
    if (!live.count(it->first)) {
      it->second->stop(true);
      it = tcp_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = udp_.begin(); it != udp_.end();) {
    if (!live.count(it->first)) {
      it->second->stop();
      it = udp_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = http_.begin(); it != http_.end();) {
    if (!live.count(it->first)) {
      it->second->stop(true);
      it = http_.erase(it);
    } else {
      ++it;
    }
  }
  if (snapshot_ && snapshot_->access_log && snapshot_->access_log != snapshot->access_log) {
    snapshot_->access_log->flush(index_);
  }
  snapshot_ = std::move(snapshot);
  applied_version_.store(snapshot_->version, std::memory_order_release);
  if (snapshot_->access_log && !flush_timer_.armed()) {
    loop_.timers().schedule(flush_timer_, kLogFlushMs);
  }
}

void Worker::stopFrontends(bool takePending) {
  for (auto& [g, fe] : tcp_) {
    fe->stop(takePending);
  }
  tcp_.clear();
  for (auto& [g, fe] : udp_) {
    fe->stop();
  }
  udp_.clear();
  for (auto& [g, fe] : http_) {
    fe->stop(takePending);
  }
  http_.clear();
}

void Worker::closeKeepAlive() {
  loop_.post([this] {
    if (ctx_.draining || ctx_.closing_keepalive) {
      return;  // (a drain closes what is left anyway)
    }
    // Sessions close at their request boundary once told (drain() on a session takes nothing
    // new on it, idle ones close now); the frontends tell new ones as they are accepted.
    ctx_.closing_keepalive = true;
    std::vector<upstream::Session*> all;
    for (upstream::Session* s = ctx_.sessions; s; s = s->next) {
      all.push_back(s);
    }
    for (upstream::Session* s : all) {
      s->drain();
    }
  });
}

void Worker::drain(uint64_t drainMs) {
  loop_.post([this, drainMs] {
    if (ctx_.draining) {
      return;
    }
    ctx_.draining = true;
    stopFrontends(true);
    snapshot_.reset();
    // Idle keep-alive connections close now; busy ones after their current response.
    std::vector<upstream::Session*> all;
    for (upstream::Session* s = ctx_.sessions; s; s = s->next) {
      all.push_back(s);
    }
    for (upstream::Session* s : all) {
      s->drain();
    }
    drain_deadline_ms_ = loop_.nowMs() + drainMs;
    checkDrained();
  });
}

void Worker::checkDrained() {
  if (ctx_.session_count == 0) {
    loop_.stop();
    return;
  }
  if (loop_.nowMs() >= drain_deadline_ms_) {
    log::warn("drain timeout: closing connections", {{"worker", index_}, {"connections", ctx_.session_count}});
    // Reset, not FIN: a stream cut off must not look complete to either peer.
    ctx_.closing_all = true;
    while (ctx_.sessions) {
      ctx_.sessions->close("drain timeout", true);
    }
    loop_.stop();
    return;
  }
  loop_.timers().schedule(drain_timer_, kDrainPollMs);
}

void Worker::forceStop() {
  loop_.post([this] {
    ctx_.draining = true;
    ctx_.closing_all = true;
    stopFrontends();
    while (ctx_.sessions) {
      ctx_.sessions->close("forced stop", true);
    }
    loop_.stop();
  });
}

}  // namespace fulcrum::server

namespace fulcrum::server {

void Worker::withSharedTables(std::function<void(size_t, shared_state::WorkerTables&, uint64_t)> fn) {
  loop_.post([this, fn = std::move(fn)] { fn(index_, ctx_.shared_tables, loop_.nowMs()); });
}

void Worker::closeSessionsTo(std::shared_ptr<upstream::HostState> state) {
  loop_.post([this, state = std::move(state)] {
    // Collect first: closing one can start or close queued sessions and change the list.
    std::vector<upstream::Session*> doomed;
    for (upstream::Session* s = ctx_.sessions; s; s = s->next) {
      if (s->usesHost(state.get())) {
        doomed.push_back(s);
      }
    }
    for (upstream::Session* s : doomed) {
      s->close("server drain timeout", true);  // a no-op if it already closed meanwhile
    }
    size_t closed = doomed.size();
    for (auto& [g, fe] : udp_) {
      closed += fe->removeFlowsTo(state.get());
    }
    if (closed > 0) {
      log::info("closed connections to a drained server", {{"worker", index_}, {"connections", closed}});
    }
  });
}

}  // namespace fulcrum::server
