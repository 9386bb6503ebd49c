#pragma once
// AdminServer: a small HTTP/1.1 server on the control thread's loop, for the admin API
// and metrics. One request per connection (Connection: close), bodies up to 1 MiB by
// Content-Length. It is never on a worker's loop, so nothing done here can stall traffic.
//
// Probes (/livez, /readyz) must answer however many idle connections are held open: a
// connection whose request head is not complete is unauthenticated and cheap to open, so
// it gets only Limits::head_timeout_ms, one client address holds at most
// Limits::max_per_client connections, and a newcomer over either cap closes the oldest
// such connection (of that client, else of anyone) instead of being refused.
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "codec/parser.h"
#include "common/result.h"
#include "config/model.h"
#include "core/event_loop.h"
#include "core/fd.h"
#include "core/timer_wheel.h"

namespace fulcrum::admin {

struct Request {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', undecoded
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string peer;   // client address text
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string extra_headers;  // "Name: value\r\n" lines
};

// {"error": message} with the status.
Response errorResponse(int status, std::string_view message);

class AdminServer : public core::IoHandler {
 public:
  using Handler = std::function<Response(const Request&)>;
  struct Limits {
    uint64_t head_timeout_ms = 2000;  // from accept to a complete request head
    size_t max_per_client = 16;       // connections per client IP address
    size_t max_connections = 1024;    // in all (an fd each; the process has more to do)
  };
  // Counters for odd events, since start.
  struct Stats {
    uint64_t head_timeouts = 0;  // closed: no complete request head in time
    uint64_t shed = 0;           // closed before their head to make room for a newcomer
    uint64_t refused = 0;        // newcomers closed at once: every slot busy with a request
  };
  AdminServer(core::EventLoop& loop, Handler handler, Limits limits);
  ~AdminServer();
  // Binds (no SO_REUSEPORT: a second process must fail, not share the port) and listens.
  Status start(const config::SocketAddress& bind);
  uint16_t port() const { return port_; }
  const Stats& stats() const { return stats_; }
  void onIoEvents(uint32_t events) override;

 private:
  struct Conn;
  void accept();
  // Closes the oldest connection still waiting for its head (of `client` if given); false if none.
  bool shedOne(const std::string* client);
  void close(Conn* c);
  void logShedding();

  core::EventLoop& loop_;
  Handler handler_;
  Limits limits_;
  Stats stats_;
  core::Fd listen_fd_;
  uint16_t port_ = 0;
  std::list<std::unique_ptr<Conn>> conns_;  // oldest first
  std::unordered_map<std::string, size_t> per_client_;  // client IP -> connections
  uint64_t last_shed_log_ms_ = 0;
  Stats logged_;  // as of the last log line
};

}  // namespace fulcrum::admin
