#include "shared_state/sticky_cache.h"

#include <algorithm>

namespace fulcrum::shared_state {

StickyCache::Entry* StickyCache::insert(std::string_view key, uint64_t nowMs) {
  auto it = entries_.find(std::string(key));
  if (it != entries_.end()) {
    return &it->second;
  }
  if (entries_.size() >= kMaxEntries) {
    for (auto e = entries_.begin(); e != entries_.end();) {
      e = e->second.expires_ms <= nowMs && !e->second.report ? entries_.erase(e) : std::next(e);
    }
    if (entries_.size() >= kMaxEntries) {
      entries_.erase(entries_.begin());  // (a touched_ entry left behind is skipped)
    }
  }
  return &entries_.emplace(std::string(key), Entry{}).first->second;
}

void StickyCache::markForReport(const std::string& key, Entry& e) {
  if (!e.report) {
    e.report = true;
    touched_.push_back(key);
  }
}

std::string_view StickyCache::use(std::string_view key, uint64_t nowMs) {
  auto it = entries_.find(std::string(key));
  if (it == entries_.end() || it->second.expires_ms <= nowMs) {
    return {};
  }
  Entry& e = it->second;
  e.expires_ms = nowMs + e.ttl_ms;
  if (nowMs >= e.reported_ms + e.ttl_ms / 4) {
    markForReport(it->first, e);
  }
  return e.server;
}

std::string_view StickyCache::choose(std::string_view key, std::string_view server, bool replace, uint64_t ttlMs,
                                     uint64_t nowMs) {
  Entry* e = insert(key, nowMs);
  e->server.assign(server);
  e->ttl_ms = ttlMs;
  e->expires_ms = nowMs + ttlMs;
  e->replace = e->replace || replace;
  markForReport(std::string(key), *e);
  return e->server;
}

void StickyCache::fill(std::string_view key, std::string_view server, uint64_t ttlMs, uint64_t nowMs) {
  Entry* e = insert(key, nowMs);
  if (e->report && e->replace) {
    return;  // our replacement is on its way; Redis will answer with it
  }
  e->server.assign(server);
  e->ttl_ms = ttlMs;
  e->expires_ms = nowMs + ttlMs;
  e->reported_ms = nowMs;  // Redis has it now
}

void StickyCache::reportAll(uint64_t nowMs) {
  for (auto& [key, e] : entries_) {
    if (e.expires_ms > nowMs) {
      markForReport(key, e);
    }
  }
}

void StickyCache::takeTouched(std::vector<StickyTouch>& out) {
  size_t n = std::min(touched_.size(), kMaxReport);
  for (size_t i = 0; i < n; ++i) {
    std::string& key = touched_[i];
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.report) {
      continue;
    }
    Entry& e = it->second;
    out.push_back(StickyTouch{std::move(key), e.server, e.replace, e.ttl_ms});
    e.report = false;
    e.replace = false;
    e.reported_ms = e.expires_ms - e.ttl_ms;  // the time of the use being reported
  }
  touched_.erase(touched_.begin(), touched_.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace fulcrum::shared_state
