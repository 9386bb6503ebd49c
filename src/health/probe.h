#pragma once
// Probe: one active check in flight, on the control thread's event loop. Connects
// (non-blocking) to a server, and for HTTP and agent checks sends the request and reads
// the answer, all bounded by a timeout. It never blocks and always ends with exactly one
// result: a server that hangs, answers garbage or closes at once is a failure with a
// reason, never a stuck checker.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/model.h"
#include "core/event_loop.h"
#include "core/fd.h"
#include "core/timer_wheel.h"
#include "health/state_machine.h"
#include "net/transport.h"

namespace fulcrum::health {

struct HttpExpect {
  std::string method = "GET";
  std::string path = "/";
  std::string host;                               // Host header; empty = the server's address
  std::vector<std::pair<int, int>> statuses{{200, 399}};
  std::string body_contains;                      // empty = not checked
  // TLS to the server (the pool's pools[].tls): makes the client transport over the connected
  // socket (the fd stays the probe's); empty = plain HTTP. Null from it: no memory.
  std::function<std::unique_ptr<net::Transport>(int fd)> tls;
};

// What a backend's agent said about itself ("up 75%", "drain", "down#maintenance").
struct AgentReport {
  std::optional<State> state;
  std::optional<uint32_t> weight_percent;  // 0..100
  bool drain = false;
  std::string text;
};
// Parses one agent line; nullopt (with why) if no word in it is understood.
std::optional<AgentReport> parseAgentLine(std::string_view line, std::string& why);
// Judges an HTTP response head(+body). Pure; exposed for tests.
CheckResult judgeHttp(std::string_view response, bool closed, const HttpExpect& expect, bool& complete);

class Probe : public core::IoHandler, public core::DeferredDeletable {
 public:
  enum class Kind { Tcp, Http, Agent };
  using Done = std::function<void(CheckResult, std::optional<AgentReport>)>;

  Probe(core::EventLoop& loop, Kind kind, const sockaddr* addr, socklen_t len, uint32_t timeoutMs,
        const HttpExpect* http, Done done);
  ~Probe() override;
  // Starts the check; done is called exactly once, possibly before start() returns.
  void start();
  // Stops it without a result (its owner is going away); safe with events still queued.
  void cancel();
  void onIoEvents(uint32_t events) override;

 private:
  void finish(bool ok, std::string reason, std::optional<AgentReport> agent = std::nullopt);
  void onWritable();
  void onReadable();
  // Reads what is there: false when the probe finished (an error).
  bool readSome(bool& closed);

  core::EventLoop& loop_;
  Kind kind_;
  sockaddr_storage addr_{};
  socklen_t len_;
  uint32_t timeout_ms_;
  const HttpExpect* http_;
  Done done_;
  core::Fd fd_;
  std::unique_ptr<net::Transport> tls_;  // HTTP checks of a TLS pool: after the connect
  bool handshaking_ = false;
  core::Timer timer_;
  uint64_t started_ms_ = 0;
  bool connected_ = false;
  bool finished_ = false;
  std::string request_;
  size_t sent_ = 0;
  std::string response_;
};

}  // namespace fulcrum::health
