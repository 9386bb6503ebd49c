#include "http/connection_guard.h"

#include <netinet/in.h>

#include "common/log.h"

namespace fulcrum::http {

namespace {

constexpr uint64_t kLogIntervalMs = 1000;

// The client's IP address (without the port): what the per-client cap counts.
std::string clientKey(const sockaddr_storage& peer) {
  if (peer.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
    return std::string(reinterpret_cast<const char*>(&a), sizeof a);
  }
  if (peer.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(peer).sin_addr;
    return std::string(reinterpret_cast<const char*>(&a), sizeof a);
  }
  return {};  // (a Unix socket in tests: one client)
}

}  // namespace

ConnectionGuard::ConnectionGuard(core::EventLoop& loop, Limits limits, std::string_view name)
    : loop_(loop), limits_(limits), message_(std::string(name) + " connections closed before their request head") {}

bool ConnectionGuard::admit(const sockaddr_storage& peer) {
  std::string client = clientKey(peer);
  auto it = per_client_.find(client);
  if (it != per_client_.end() && it->second >= limits_.max_per_client && !shedOne(&client)) {
    ++stats_.refused;
    logShedding();
    return false;
  }
  if (conns_.size() >= limits_.max_connections && !shedOne(nullptr)) {
    ++stats_.refused;
    logShedding();
    return false;
  }
  return true;
}

void ConnectionGuard::add(upstream::Session& session, const sockaddr_storage& peer) {
  conns_.push_back(Entry{&session, clientKey(peer)});
  index_[&session] = std::prev(conns_.end());
  ++per_client_[conns_.back().client];
}

void ConnectionGuard::onHead(const upstream::Session& session) {
  if (auto it = index_.find(&session); it != index_.end()) {
    it->second->waiting = false;
  }
}

void ConnectionGuard::onHeadTimeout() {
  ++stats_.head_timeouts;
  logShedding();
}

void ConnectionGuard::remove(const upstream::Session& session) {
  auto it = index_.find(&session);
  if (it == index_.end()) {
    return;
  }
  auto entry = it->second;
  index_.erase(it);
  if (auto pc = per_client_.find(entry->client); pc != per_client_.end() && --pc->second == 0) {
    per_client_.erase(pc);
  }
  conns_.erase(entry);
}

bool ConnectionGuard::shedOne(const std::string* client) {
  for (auto& e : conns_) {
    if (e.waiting && (client == nullptr || e.client == *client)) {
      ++stats_.shed;
      // close() calls remove(): `e` is gone after it, and so is the loop.
      e.session->close("shed: a newcomer took its place before its request head", false);
      logShedding();
      return true;
    }
  }
  return false;
}

void ConnectionGuard::logShedding() {
  uint64_t now = loop_.nowMs();
  if (logged_once_ && now < last_log_ms_ + kLogIntervalMs) {
    return;
  }
  logged_once_ = true;
  last_log_ms_ = now;
  log::warn(message_, {{"head_timeouts", stats_.head_timeouts - logged_.head_timeouts},
                       {"shed", stats_.shed - logged_.shed},
                       {"refused", stats_.refused - logged_.refused},
                       {"open", conns_.size()}});
  logged_ = stats_;
}

}  // namespace fulcrum::http
