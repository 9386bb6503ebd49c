#include "server/ticket_key_store.h"

#include <algorithm>

#include "common/log.h"

namespace fulcrum::server {

std::shared_ptr<tls::TicketKeys> TicketKeyStore::keysFor(const std::string& listener,
                                                         const config::TlsSessionTickets& cfg, uint64_t nowMs,
                                                         std::string& error) {
  auto it = entries_.find(listener);
  if (cfg.key_file.empty()) {
    if (it == entries_.end()) {
      Entry e;
      e.keys = std::make_shared<tls::TicketKeys>();
      e.cfg = cfg;
      e.rotated_ms = nowMs;
      it = entries_.emplace(listener, std::move(e)).first;
    } else if (!it->second.cfg.key_file.empty()) {
      // From a key file back to our own keys: a new one encrypts now, the file's still decrypt
      // until rotated out.
      it->second.keys->rotate();
      it->second.rotated_ms = nowMs;
      it->second.file = WatchedFiles();
    }
    it->second.cfg = cfg;
    return it->second.keys;
  }
  WatchedFiles watch({cfg.key_file});  // before the read: a change during it is seen later
  std::string why;
  auto keys = tls::readTicketKeyFile(cfg.key_file, why);
  if (!keys) {
    error = cfg.where + ".key_file: " + why;
    return nullptr;
  }
  if (it == entries_.end()) {
    it = entries_.emplace(listener, Entry{std::make_shared<tls::TicketKeys>(), cfg, nowMs, {}}).first;
  }
  it->second.keys->install(std::move(*keys));
  it->second.cfg = cfg;
  it->second.file = std::move(watch);
  return it->second.keys;
}

std::shared_ptr<tls::TicketKeys> TicketKeyStore::current(const std::string& listener) const {
  auto it = entries_.find(listener);
  return it == entries_.end() ? nullptr : it->second.keys;
}

void TicketKeyStore::retain(const std::vector<std::string>& listeners) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (std::find(listeners.begin(), listeners.end(), it->first) == listeners.end()) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

void TicketKeyStore::poll(uint64_t nowMs) {
  for (auto& [name, e] : entries_) {
    if (e.cfg.key_file.empty()) {
      if (nowMs - e.rotated_ms >= static_cast<uint64_t>(e.cfg.rotate.count())) {
        e.keys->rotate();
        e.rotated_ms = nowMs;
        log::info("session ticket key rotated", {{"listener", name},
                                                 {"key", e.keys->keys().front().id()},
                                                 {"keys", e.keys->keys().size()}});
      }
      continue;
    }
    if (!e.file.poll()) {
      continue;
    }
    std::string why;
    auto keys = tls::readTicketKeyFile(e.cfg.key_file, why);
    if (!keys) {
      e.file.rejected();
      log::error("session ticket key file rejected: the keys in use keep serving",
                 {{"listener", name}, {"error", why}});
      continue;
    }
    e.file.read();
    size_t n = keys->size();
    std::string id = keys->front().id();
    e.keys->install(std::move(*keys));
    log::info("session ticket keys read again: the file changed",
              {{"listener", name}, {"file", e.cfg.key_file}, {"key", id}, {"keys", n}});
  }
}

}  // namespace fulcrum::server
