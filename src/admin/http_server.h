#pragma once
// AdminServer: a small HTTP/1.1 server on the control thread's loop, for the admin API
// and metrics. One request per connection (Connection: close), bodies up to 1 MiB by
// Content-Length, 10 s to send a request, at most 64 connections. It is never on a
// worker's loop, so nothing done here can stall traffic.
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

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
  AdminServer(core::EventLoop& loop, Handler handler);
  ~AdminServer();
  // Binds (no SO_REUSEPORT: a second process must fail, not share the port) and listens.
  Status start(const config::SocketAddress& bind);
  uint16_t port() const { return port_; }
  void onIoEvents(uint32_t events) override;

 private:
  struct Conn;
  void accept();
  void close(Conn* c);

  core::EventLoop& loop_;
  Handler handler_;
  core::Fd listen_fd_;
  uint16_t port_ = 0;
  std::list<std::unique_ptr<Conn>> conns_;
};

}  // namespace fulcrum::admin
