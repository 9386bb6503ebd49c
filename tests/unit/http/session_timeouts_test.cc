// HttpSession's timeouts on an EventLoop driven by a ManualClock: the client is one end of a
// socketpair, the clock moves only when the test says, so nothing sleeps.
#include <gtest/gtest.h>

#include "session_peer.h"

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
    client.connect(ctx, frontend);
  }
  void send(const std::string& bytes) { client.send(bytes); }
  std::string received() { return client.received(); }
  void pass(uint64_t ms) { client.pass(ms); }

  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  std::shared_ptr<HttpFrontend> frontend;
  test::SessionPeer client{clock, loop};  // (declared last: closed first)
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
