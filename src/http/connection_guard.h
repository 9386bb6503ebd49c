#pragma once
// ConnectionGuard: keeps a listener reachable however many idle connections a crowd holds
// open (the admin listener, whose /livez and /readyz must answer under pressure). A
// connection whose request head is not complete is unauthenticated and cheap to open, so:
// one client address holds at most max_per_client connections and the listener at most
// max_connections; a newcomer over either cap takes the place of the oldest connection
// still waiting for its head (of that client, else of anyone) instead of being refused.
// The head timeout itself is the session's (timeouts.request_head); the guard counts it.
// One per frontend (one worker's listener), on that worker's thread.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

#include "core/event_loop.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

class ConnectionGuard {
 public:
  struct Limits {
    size_t max_per_client = 16;     // connections per client IP address
    size_t max_connections = 1024;  // in all (an fd each; the process has more to do)
  };
  // Counters for odd events, since start.
  struct Stats {
    uint64_t head_timeouts = 0;  // closed: no complete request head in time
    uint64_t shed = 0;           // closed before their head to make room for a newcomer
    uint64_t refused = 0;        // newcomers closed at once: every connection past its head
  };
  // name: the listener's, in the log line ("<name> connections closed before their request head").
  ConnectionGuard(core::EventLoop& loop, Limits limits, std::string_view name);
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // At accept, before a session exists: makes room for a connection from `peer` (closing the
  // oldest head-waiting one if a cap is reached); false = refuse the newcomer (counted).
  bool admit(const sockaddr_storage& peer);
  // The newcomer admit() let in, now a session, waiting for its head.
  void add(upstream::Session& session, const sockaddr_storage& peer);
  // Its request head is complete: no longer sheddable.
  void onHead(const upstream::Session& session);
  // A session closes for want of a complete head in time (it closes itself).
  void onHeadTimeout();
  // The session closed (any reason); unknown sessions are ignored.
  void remove(const upstream::Session& session);

  const Stats& stats() const { return stats_; }
  size_t open() const { return conns_.size(); }

 private:
  struct Entry {
    upstream::Session* session;
    std::string client;  // clientKey()
    bool waiting = true;  // for its request head
  };
  // Closes the oldest connection still waiting for its head (of `client` if given); false if none.
  bool shedOne(const std::string* client);
  // At most one line a second, with what happened since the last one.
  void logShedding();

  core::EventLoop& loop_;
  Limits limits_;
  std::string message_;
  Stats stats_;
  Stats logged_;  // as of the last log line
  uint64_t last_log_ms_ = 0;
  bool logged_once_ = false;
  std::list<Entry> conns_;  // oldest first
  std::unordered_map<const upstream::Session*, std::list<Entry>::iterator> index_;
  std::unordered_map<std::string, size_t> per_client_;  // client IP -> connections
};

}  // namespace fulcrum::http
