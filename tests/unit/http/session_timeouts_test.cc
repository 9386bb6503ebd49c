// HttpSession's timeouts on an EventLoop driven by a ManualClock: the client is one end of a
// socketpair, the clock moves only when the test says, so nothing sleeps.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/frontend.h"
#include "http/session.h"
#include "upstream/worker_context.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

class SessionTimeouts : public ::testing::Test {
 protected:
  SessionTimeouts() : loop(clock), ctx(loop, 0) {
    auto config = std::make_shared<config::Config>();
    config->timeouts.request_head = std::chrono::milliseconds(10'000);
    config->timeouts.keepalive = std::chrono::milliseconds(60'000);
    config::Listener l;
    l.name = "front";
    l.protocol = config::Protocol::Http;
    config::Route ok;
    ok.action = config::RouteAction::Respond;
    ok.status = 200;
    ok.body = "ok\n";
    l.http.routes.push_back(ok);
    config->listeners.push_back(l);
    auto rt = buildRuntime(config, config->listeners[0], {}, std::make_shared<SharedListenerState>());
    rt->stats = std::make_shared<stats::TrafficSet>(1);
    rt->route_stats.push_back(std::make_shared<stats::TrafficSet>(1));
    frontend = std::make_shared<HttpFrontend>(ctx, -1, nullptr);
    frontend->update(rt);
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    peer = fds[1];
    sockaddr_storage addr{};
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (new HttpSession(ctx, frontend, core::Fd(fds[0]), addr))->start();  // owned by the loop (deferred delete)
  }
  ~SessionTimeouts() override {
    ::close(peer);
    for (int i = 0; i < 3; ++i) {
      loop.runOnce(0);  // the session sees the close and is deleted
    }
  }

  void send(const std::string& bytes) { ASSERT_EQ(::write(peer, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  // What the session wrote so far; "<closed>" appended on EOF.
  std::string received() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(peer, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {
        out += "<closed>";
      }
      return out;
    }
  }
  void pass(uint64_t ms) {
    clock.advanceMs(ms);
    loop.runOnce(0);
    loop.runOnce(0);
  }

  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  std::shared_ptr<HttpFrontend> frontend;
  int peer = -1;
};

}  // namespace

TEST_F(SessionTimeouts, AHeadNotCompleteWithinRequestHeadGets408) {
  send("GET / HTTP/1.1\r\nHo");
  pass(0);
  pass(9'999);
  EXPECT_EQ(received(), "") << "not yet: 10 s from the first byte";
  pass(1);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
}

TEST_F(SessionTimeouts, AnIdleKeepAliveConnectionClosesAfterKeepalive) {
  send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  pass(0);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("ok\n"), std::string::npos);
  pass(59'999);
  EXPECT_EQ(received(), "") << "still open";
  pass(1);
  EXPECT_EQ(received(), "<closed>");
}

TEST_F(SessionTimeouts, ANewConnectionThatSendsNothingClosesAfterRequestHead) {
  pass(9'999);
  EXPECT_EQ(received(), "");
  pass(1);
  EXPECT_EQ(received(), "<closed>") << "no request: closed without an answer";
}
