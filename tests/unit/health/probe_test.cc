// Probes against real sockets on loopback: every way a check target can misbehave ends
// in one result with a reason, never a stuck checker.
#include "health/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace fulcrum;
using namespace fulcrum::health;

namespace {

// A listening socket on 127.0.0.1; serve() answers each accepted connection in a thread.
struct Listener {
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd, 16), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  ~Listener() {
    if (server.joinable()) server.join();
    ::close(fd);
  }
  // Accepts one connection, reads a little, sends reply, then closes (unless hold).
  void serve(std::string reply, bool readFirst = true) {
    server = std::thread([this, reply, readFirst] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      timeval tv{2, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (readFirst) {
        [[maybe_unused]] ssize_t n = ::recv(c, buf, sizeof buf, 0);
      }
      if (!reply.empty()) {
        [[maybe_unused]] ssize_t w = ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    });
  }
  int fd;
  sockaddr_in addr{};
  std::thread server;
};

struct Outcome {
  bool done = false;
  CheckResult result;
  std::optional<AgentReport> agent;
};

Outcome run(Probe::Kind kind, const sockaddr_in& addr, const HttpExpect* http, uint32_t timeoutMs = 500) {
  core::EventLoop loop;
  Outcome out;
  Probe probe(loop, kind, reinterpret_cast<const sockaddr*>(&addr), sizeof addr, timeoutMs, http,
              [&](CheckResult r, std::optional<AgentReport> a) {
                out.done = true;
                out.result = std::move(r);
                out.agent = std::move(a);
              });
  probe.start();
  for (int i = 0; i < 200 && !out.done; ++i) {  // bounded: at most ~2 s of 10 ms turns
    loop.runOnce(10);
  }
  return out;
}

}  // namespace

TEST(Probe, TcpConnects) {
  Listener l;
  auto o = run(Probe::Kind::Tcp, l.addr, nullptr);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.result.ok);
}

TEST(Probe, TcpRefused) {
  sockaddr_in addr;
  {
    Listener l;
    addr = l.addr;
  }  // closed: nothing listens there now
  auto o = run(Probe::Kind::Tcp, addr, nullptr);
  ASSERT_TRUE(o.done);
  EXPECT_FALSE(o.result.ok);
  EXPECT_NE(o.result.reason.find("refused"), std::string::npos) << o.result.reason;
}

TEST(Probe, HttpOkAndStatusRanges) {
  HttpExpect http;
  Listener l;
  l.serve("HTTP/1.1 204 No Content\r\n\r\n");
  auto o = run(Probe::Kind::Http, l.addr, &http);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.result.ok) << o.result.reason;
  Listener l2;
  l2.serve("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  auto bad = run(Probe::Kind::Http, l2.addr, &http);
  EXPECT_FALSE(bad.result.ok);
  EXPECT_EQ(bad.result.reason, "status 500");
}

TEST(Probe, HttpBodyMustContain) {
  HttpExpect http;
  http.body_contains = "healthy";
  Listener l;
  l.serve("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy");
  EXPECT_TRUE(run(Probe::Kind::Http, l.addr, &http).result.ok);
  Listener l2;
  l2.serve("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nsick");
  auto o = run(Probe::Kind::Http, l2.addr, &http);
  EXPECT_FALSE(o.result.ok);
  EXPECT_NE(o.result.reason.find("body lacks"), std::string::npos) << o.result.reason;
}

TEST(Probe, GarbageIsAFailureWithAReason) {
  HttpExpect http;
  Listener l;
  l.serve("SSH-2.0-OpenSSH_9.2\r\n");
  auto o = run(Probe::Kind::Http, l.addr, &http);
  ASSERT_TRUE(o.done);
  EXPECT_FALSE(o.result.ok);
  EXPECT_EQ(o.result.reason, "invalid response: invalid status line");
}

TEST(Probe, ClosedAtOnceIsAFailure) {
  HttpExpect http;
  Listener l;
  l.serve("");
  auto o = run(Probe::Kind::Http, l.addr, &http);
  ASSERT_TRUE(o.done);
  EXPECT_FALSE(o.result.ok);
  EXPECT_EQ(o.result.reason, "closed without an answer");
}

TEST(Probe, HangingTargetTimesOut) {
  HttpExpect http;
  Listener l;  // accepts in the kernel, never answers
  auto start = std::chrono::steady_clock::now();
  auto o = run(Probe::Kind::Http, l.addr, &http, 200);
  ASSERT_TRUE(o.done);
  EXPECT_FALSE(o.result.ok);
  EXPECT_EQ(o.result.reason, "timeout after 200ms");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(190));
}

TEST(Probe, AgentAnswer) {
  Listener l;
  l.serve("up 75%\n", false);
  auto o = run(Probe::Kind::Agent, l.addr, nullptr);
  ASSERT_TRUE(o.done);
  ASSERT_TRUE(o.result.ok) << o.result.reason;
  ASSERT_TRUE(o.agent.has_value());
  EXPECT_EQ(o.agent->state, State::Up);
  EXPECT_EQ(o.agent->weight_percent, 75u);
}

TEST(AgentLine, Words) {
  std::string why;
  auto d = parseAgentLine("drain", why);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->drain);
  auto down = parseAgentLine("down#disk full", why);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->state, State::Down);
  auto mix = parseAgentLine("ready,50%", why);
  ASSERT_TRUE(mix);
  EXPECT_EQ(mix->state, State::Up);
  EXPECT_EQ(mix->weight_percent, 50u);
  EXPECT_FALSE(parseAgentLine("hello there", why));
  EXPECT_NE(why.find("not understood"), std::string::npos);
  EXPECT_FALSE(parseAgentLine("150%", why));
  EXPECT_NE(why.find("0% to 100%"), std::string::npos);
}

// The check reads responses with the proxy's codec: the whole head must arrive and be valid.
TEST(JudgeHttp, NeedsMoreUntilTheHeadIsWhole) {
  HttpExpect http;
  bool complete = true;
  judgeHttp("HTTP/1.1 20", false, http, complete);
  EXPECT_FALSE(complete);
  judgeHttp("HTTP/1.1 200 OK\r\n", false, http, complete);
  EXPECT_FALSE(complete);
  auto r = judgeHttp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, http, complete);
  EXPECT_TRUE(complete);
  EXPECT_TRUE(r.ok);
  r = judgeHttp("HTTP/2 200\r\n", false, http, complete);
  EXPECT_TRUE(complete);
  EXPECT_FALSE(r.ok);
}

TEST(JudgeHttp, FindsTheTextInAChunkedBodyAndRefusesSmuggling) {
  HttpExpect http;
  http.body_contains = "ready";
  bool complete = false;
  auto r = judgeHttp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nrea\r\n2\r\ndy\r\n0\r\n\r\n", false,
                     http, complete);
  EXPECT_TRUE(complete);
  EXPECT_TRUE(r.ok) << r.reason;
  r = judgeHttp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nready", false, http,
                complete);
  EXPECT_TRUE(complete);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("invalid response"), std::string::npos) << r.reason;
  r = judgeHttp("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nrea", false, http, complete);
  EXPECT_FALSE(complete);
  r = judgeHttp("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nrea", true, http, complete);
  EXPECT_TRUE(complete);
  EXPECT_FALSE(r.ok);
}
