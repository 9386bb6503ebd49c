// ConnectionGuard alone with stand-in sessions (closing one removes it, as HttpSession's close
// does), and on a terminal listener's sessions, whose head timeout it counts.
#include "http/connection_guard.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "http/frontend.h"
#include "http/runtime.h"
#include "http/session.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

sockaddr_storage client(uint8_t last) {
  sockaddr_storage addr{};
  auto* in = reinterpret_cast<sockaddr_in*>(&addr);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(0x7f000000u | last);
  in->sin_port = htons(static_cast<uint16_t>(40000 + last));
  return addr;
}

struct FakeSession final : upstream::Session {
  explicit FakeSession(ConnectionGuard& g) : guard(g) {}
  void close(const char* why, bool) override {
    if (!closed) {
      closed = true;
      reason = why;
      guard.remove(*this);
    }
  }
  bool usesHost(const upstream::HostState*) const override { return false; }
  ConnectionGuard& guard;
  bool closed = false;
  std::string reason;
};

class ConnectionGuards : public ::testing::Test {
 protected:
  ConnectionGuards() : loop(clock), guard(loop, ConnectionGuard::Limits{3, 5}, "test") {}
  // A newcomer from 127.0.0.<from>: its session, or null when refused.
  FakeSession* connect(uint8_t from) {
    auto peer = client(from);
    if (!guard.admit(peer)) {
      return nullptr;
    }
    sessions.push_back(std::make_unique<FakeSession>(guard));
    guard.add(*sessions.back(), peer);
    return sessions.back().get();
  }
  core::ManualClock clock;
  core::EventLoop loop;
  ConnectionGuard guard;
  std::vector<std::unique_ptr<FakeSession>> sessions;
};

}  // namespace

TEST_F(ConnectionGuards, ANewcomerOverTheClientCapTakesThePlaceOfThatClientsOldestHeadWaitingConnection) {
  FakeSession* a = connect(1);
  FakeSession* b = connect(1);
  FakeSession* other = connect(2);
  FakeSession* c = connect(1);
  guard.onHead(*a);  // past its head: never shed
  ASSERT_NE(connect(1), nullptr);
  EXPECT_FALSE(a->closed);
  EXPECT_TRUE(b->closed) << "the oldest of that client still waiting for its head";
  EXPECT_FALSE(other->closed) << "another client's connection is not touched";
  EXPECT_FALSE(c->closed);
  EXPECT_EQ(guard.stats().shed, 1u);
  EXPECT_EQ(guard.open(), 4u);
}

TEST_F(ConnectionGuards, ANewcomerIsRefusedOnlyWhenNoneOfItsClientsConnectionsWaitsForAHead) {
  for (int i = 0; i < 3; ++i) {
    guard.onHead(*connect(1));
  }
  EXPECT_EQ(connect(1), nullptr);
  EXPECT_EQ(guard.stats().refused, 1u);
  EXPECT_EQ(guard.stats().shed, 0u);
  EXPECT_NE(connect(2), nullptr) << "another client is still let in";
  // One closes: there is room again.
  sessions.front()->close("done", false);
  EXPECT_NE(connect(1), nullptr);
}

TEST_F(ConnectionGuards, OverTheListenersCapTheOldestHeadWaitingConnectionOfAnyoneGoes) {
  FakeSession* first = connect(1);
  guard.onHead(*first);
  FakeSession* second = connect(2);
  connect(3);
  connect(4);
  connect(5);
  EXPECT_EQ(guard.open(), 5u);
  ASSERT_NE(connect(6), nullptr);
  EXPECT_FALSE(first->closed);
  EXPECT_TRUE(second->closed);
  EXPECT_EQ(guard.open(), 5u);
  EXPECT_EQ(guard.stats().shed, 1u);
}

TEST_F(ConnectionGuards, HeadTimeoutsAreCountedAndUnknownSessionsIgnored) {
  guard.onHeadTimeout();
  guard.onHeadTimeout();
  EXPECT_EQ(guard.stats().head_timeouts, 2u);
  FakeSession stray(guard);
  guard.remove(stray);
  guard.onHead(stray);
  EXPECT_EQ(guard.open(), 0u);
}

namespace {

// A terminal listener (nothing to answer: the head never completes) with a guard.
class GuardedSessions : public ::testing::Test {
 protected:
  GuardedSessions() : loop(clock), ctx(loop, 0) {
    config = std::make_shared<config::Config>();
    config->timeouts.request_head = std::chrono::milliseconds(2'000);
    config::Listener l;
    l.name = "guarded";
    l.protocol = config::Protocol::Http;
    config->listeners.push_back(l);
    frontend = std::make_shared<HttpFrontend>(ctx, -1, nullptr);
    frontend->update(buildTerminalRuntime(config, config->listeners[0], handler));
    frontend->setGuard(std::make_unique<ConnectionGuard>(loop, ConnectionGuard::Limits{2, 10}, "guarded"));
  }
  ~GuardedSessions() override {
    for (int fd : peers) {
      ::close(fd);
    }
    for (int i = 0; i < 3; ++i) {
      loop.runOnce(0);
    }
  }
  // A session as HttpFrontend::onAccepted makes it, from 127.0.0.1; its peer's end.
  int open() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    auto peer = client(1);
    if (!frontend->guard()->admit(peer)) {
      ::close(fds[0]);
      ::close(fds[1]);
      return -1;
    }
    auto* s = new HttpSession(ctx, frontend, core::Fd(fds[0]), peer);
    frontend->guard()->add(*s, peer);
    s->start();
    peers.push_back(fds[1]);
    return fds[1];
  }
  static bool closed(int fd) {
    char c;
    return ::read(fd, &c, 1) == 0;
  }
  void pass(uint64_t ms) {
    clock.advanceMs(ms);
    loop.runOnce(0);
    loop.runOnce(0);
  }
  struct Nothing final : TerminalHandler {
    TerminalResponse handle(const TerminalRequest&) override { return {}; }
  } handler;
  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  std::shared_ptr<config::Config> config;
  std::shared_ptr<HttpFrontend> frontend;
  std::vector<int> peers;
};

}  // namespace

TEST_F(GuardedSessions, HeadTimeoutsAreCountedAndAShedSessionIsClosed) {
  int quiet = open();
  int slow = open();
  ASSERT_TRUE(::write(slow, "GET / HT", 8) == 8);
  pass(0);
  int third = open();  // over the cap of 2: the oldest waiting one (quiet) goes
  pass(0);
  EXPECT_TRUE(closed(quiet));
  EXPECT_FALSE(closed(slow));
  EXPECT_EQ(frontend->guard()->stats().shed, 1u);
  EXPECT_EQ(ctx.session_count, 2u);
  pass(2'000);
  EXPECT_EQ(frontend->guard()->stats().head_timeouts, 2u) << "the silent one and the slow one";
  EXPECT_TRUE(closed(third));
  EXPECT_EQ(ctx.session_count, 1u) << "the slow one lingers after its 408";
  EXPECT_EQ(frontend->guard()->open(), 1u);
}
