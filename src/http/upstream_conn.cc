#include "http/upstream_conn.h"

#include <sys/epoll.h>

#include <algorithm>

#include "net/socket.h"

namespace fulcrum::http {

UpstreamConn::UpstreamConn(upstream::WorkerContext& c, core::Fd fd, std::shared_ptr<upstream::HostState> h)
    : ctx(c), raw(std::move(fd)), in(c.buffers), host(std::move(h)) {
  idle_timer.setCallback([this] {
    if (pool) {
      pool->drop(this);
    }
  });
}

UpstreamConn::~UpstreamConn() { shut(false); }

void UpstreamConn::onIoEvents(uint32_t events) {
  if (owner) {
    owner->onUpstreamEvents(events);
    return;
  }
  if (pool) {
    if (tls && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
      // TLS 1.3 servers may send session tickets (or a key update) after a response: taken
      // in by a read that yields no byte. Data or a close still end the connection.
      uint8_t byte;
      if (tls->read(&byte, 1).status == net::IoStatus::WouldBlock) {
        return;
      }
    }
    // An idle connection has nothing to say: data or a close both end it.
    pool->drop(this);
  }
}

void UpstreamConn::noteReadiness(uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    readable = true;
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    hup = true;
  }
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    writable = true;
  }
}

void UpstreamConn::shut(bool reset) {
  ctx.loop.timers().cancel(idle_timer);
  if (raw.fd() >= 0) {
    if (registered) {
      ctx.loop.remove(raw.fd());
      registered = false;
    }
    if (reset) {
      net::setLingerZero(raw.fd());
    }
    raw.ownedFd().reset();
  }
  in.release();
  owner = nullptr;
  pool = nullptr;
}

void discard(std::unique_ptr<UpstreamConn> conn, bool reset) {
  if (!conn) {
    return;
  }
  conn->shut(reset);
  auto& loop = conn->ctx.loop;
  loop.deferDelete(std::move(conn));
}

std::unique_ptr<UpstreamConn> ConnPool::take(const upstream::HostState* host) {
  auto it = idle_.find(host);
  if (it == idle_.end() || it->second.empty()) {
    return nullptr;
  }
  auto conn = std::move(it->second.back());
  it->second.pop_back();
  if (it->second.empty()) {
    idle_.erase(it);
  }
  ctx_.loop.timers().cancel(conn->idle_timer);
  conn->pool = nullptr;
  return conn;
}

void ConnPool::put(std::unique_ptr<UpstreamConn> conn, uint32_t maxIdle, uint64_t idleTimeoutMs) {
  auto& list = idle_[conn->host.get()];
  if (list.size() >= maxIdle || !conn->in.empty()) {
    if (list.empty()) {
      idle_.erase(conn->host.get());
    }
    discard(std::move(conn), false);
    return;
  }
  conn->owner = nullptr;
  conn->pool = this;
  conn->in.release();
  ctx_.loop.timers().schedule(conn->idle_timer, idleTimeoutMs);
  list.push_back(std::move(conn));
}

void ConnPool::drop(UpstreamConn* conn) {
  auto it = idle_.find(conn->host.get());
  if (it == idle_.end()) {
    return;
  }
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(), [&](const auto& c) { return c.get() == conn; });
  if (pos == list.end()) {
    return;
  }
  auto owned = std::move(*pos);
  list.erase(pos);
  if (list.empty()) {
    idle_.erase(it);
  }
  discard(std::move(owned), false);
}

void ConnPool::closeAll() {
  auto all = std::move(idle_);
  idle_.clear();
  for (auto& [host, list] : all) {
    for (auto& c : list) {
      discard(std::move(c), false);
    }
  }
}

tls::SessionSlot* ConnPool::sessionSlot(const std::shared_ptr<upstream::HostState>& host) {
  Sessions& s = sessions_[host.get()];
  if (!s.slot || s.host.lock() != host) {
    s.host = host;
    s.slot = std::make_unique<tls::SessionSlot>();
  }
  return s.slot.get();
}

size_t ConnPool::idleCount() const {
  size_t n = 0;
  for (const auto& [h, list] : idle_) {
    n += list.size();
  }
  return n;
}

}  // namespace fulcrum::http
